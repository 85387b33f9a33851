//! Where the token comes from, through a real axum `Router`: a cookie, another header, a query
//! parameter on a WebSocket route, and several sources that must agree. The size cap and the
//! checks of the token apply whatever the source. Keys come from a `TestIssuer`'s JWKS server
//! on 127.0.0.1.

mod common;

use axum::{Router, routing::get};
use axum_cognito::{
    CognitoAuthLayer, CognitoVerifier,
    defaults::DEFAULT_MAX_TOKEN_BYTES,
    test_util::TestIssuer,
    token_source::{AuthorizationBearer, Cookie, Header, QueryParameter, Sources, TokenSource},
};
use common::{
    Reply, anonymous, call, request_with, verified_sub, verifier, with_cookies, with_token,
};
use http::{Method, StatusCode};

const MISSING: &str = "Bearer";
const INVALID_REQUEST: &str = r#"Bearer error="invalid_request""#;
const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn setup() -> (TestIssuer, CognitoVerifier) {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    (issuer, verifier)
}

/// `/` answering the verified sub, behind a layer reading `source`.
fn app(verifier: &CognitoVerifier, source: impl TokenSource) -> Router {
    Router::new()
        .route("/", get(verified_sub))
        .layer(CognitoAuthLayer::new(verifier.clone()).token_source(source))
}

/// The same, with verbose rejections: the body names the problem.
fn verbose_app(verifier: &CognitoVerifier, source: impl TokenSource) -> Router {
    Router::new().route("/", get(verified_sub)).layer(
        CognitoAuthLayer::new(verifier.clone())
            .verbose()
            .token_source(source),
    )
}

fn cookie(name: &str) -> Cookie {
    Cookie::named(name).expect("a valid cookie name")
}

fn expect_ok(case: &str, reply: &Reply, sub: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{case}: {reply:?}");
    assert_eq!(reply.body, sub, "{case}: {reply:?}");
}

fn expect_401(case: &str, reply: &Reply, www: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}: {reply:?}");
    assert_eq!(reply.www_authenticate(), Some(www), "{case}: {reply:?}");
}

/// A signed token of the issuer's pool, over the default size cap.
fn oversized_token(issuer: &TestIssuer) -> String {
    let token = issuer
        .id_token()
        .claim("padding", "x".repeat(DEFAULT_MAX_TOKEN_BYTES))
        .sign();
    assert!(token.len() > DEFAULT_MAX_TOKEN_BYTES);
    token
}

// ---------------------------------------------------------------------------------------------
// One source
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_cookie_source_reads_the_cookie_and_nothing_else() {
    let (issuer, verifier) = setup().await;
    let app = app(&verifier, cookie("id_token"));
    let token = issuer.id_token().sub("cookie-user").sign();
    let other = issuer.id_token().sub("other-user").sign();

    let cases = [
        ("alone", vec![format!("id_token={token}")]),
        (
            "among others",
            vec![format!(
                "theme=dark; xid_token={other}; id_token={token}; lang=en"
            )],
        ),
        (
            "in a second Cookie header",
            vec!["theme=dark".to_owned(), format!("id_token={token}")],
        ),
        ("quoted", vec![format!("id_token=\"{token}\"")]),
    ];
    for (case, cookies) in &cases {
        let cookies: Vec<&str> = cookies.iter().map(String::as_str).collect();
        expect_ok(
            case,
            &call(&app, with_cookies("/", &cookies)).await,
            "cookie-user",
        );
    }

    // The cookie source does not read Authorization: that token counts as no token at all.
    expect_401(
        "Authorization only",
        &call(&app, with_token("/", &token)).await,
        MISSING,
    );
    expect_401("nothing", &call(&app, anonymous("/")).await, MISSING);
    let similar = format!("xid_token={token}; id_token2={token}");
    expect_401(
        "similar names",
        &call(&app, with_cookies("/", &[&similar])).await,
        MISSING,
    );

    let refused = [
        ("empty", "id_token=".to_owned()),
        ("not token68", "id_token=a,b".to_owned()),
        ("twice", format!("id_token={token}; id_token={token}")),
    ];
    for (case, value) in &refused {
        let reply = call(&app, with_cookies("/", &[value])).await;
        expect_401(case, &reply, INVALID_REQUEST);
    }
}

#[tokio::test]
async fn an_optional_cookie_layer_passes_requests_without_the_cookie_only() {
    let (issuer, verifier) = setup().await;
    let app = Router::new().route("/", get(|| async { "anyone" })).layer(
        CognitoAuthLayer::new(verifier)
            .optional()
            .token_source(cookie("id_token")),
    );
    let reply = call(&app, with_cookies("/", &["theme=dark"])).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let token = issuer.id_token().sign();
    let reply = call(&app, with_cookies("/", &[&format!("id_token={token}")])).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let reply = call(&app, with_cookies("/", &["id_token=not a token"])).await;
    expect_401("malformed cookie", &reply, INVALID_REQUEST);
}

/// Behind an optional cookie layer, a request without the cookie has no claims, even with an
/// `Authorization` header the layer was not told to read.
#[tokio::test]
async fn extractors_behind_an_optional_layer_do_not_look_elsewhere() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route(
            "/",
            get(|claims: Option<axum_cognito::VerifiedToken>| async move {
                claims.map_or("anonymous".to_owned(), |t| t.sub().to_owned())
            }),
        )
        .layer(
            CognitoAuthLayer::new(verifier)
                .optional()
                .token_source(cookie("id_token")),
        );
    let token = issuer.access_token().sub("from-header").sign();
    let reply = call(&app, common::with_token("/", &token)).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "anonymous")
    );
    let reply = call(&app, common::request("/", &[common::bearer("x")])).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "anonymous")
    );
    let cookie_token = issuer.access_token().sub("from-cookie").sign();
    let reply = call(
        &app,
        with_cookies("/", &[&format!("id_token={cookie_token}")]),
    )
    .await;
    assert_eq!(reply.body, "from-cookie");
}

#[tokio::test]
async fn a_header_source_reads_a_bare_token_in_its_header() {
    let (issuer, verifier) = setup().await;
    let app = app(&verifier, Header::named("X-Id-Token").unwrap());
    let token = issuer.id_token().sub("header-user").sign();
    let get = |headers: &[(&str, &str)]| request_with(Method::GET, "/", headers);

    expect_ok(
        "x-id-token",
        &call(&app, get(&[("x-id-token", &token)])).await,
        "header-user",
    );
    expect_401(
        "Authorization only",
        &call(&app, with_token("/", &token)).await,
        MISSING,
    );
    let bearer = format!("Bearer {token}");
    let refused = [
        ("with a scheme", vec![("x-id-token", bearer.as_str())]),
        (
            "twice",
            vec![
                ("x-id-token", token.as_str()),
                ("x-id-token", token.as_str()),
            ],
        ),
        ("empty", vec![("x-id-token", "")]),
    ];
    for (case, headers) in &refused {
        expect_401(case, &call(&app, get(headers)).await, INVALID_REQUEST);
    }
}

#[tokio::test]
async fn a_query_source_on_the_websocket_route_alone() {
    let (issuer, verifier) = setup().await;
    let query = QueryParameter::named("access_token").unwrap();
    let app = Router::new()
        .route(
            "/ws",
            get(verified_sub)
                .route_layer(CognitoAuthLayer::new(verifier.clone()).token_source(query)),
        )
        .route(
            "/api",
            get(verified_sub).route_layer(CognitoAuthLayer::new(verifier)),
        );
    let token = issuer.access_token().sub("socket-user").sign();
    let get = |path: &str| request_with(Method::GET, path, &[]);

    let ws = format!("/ws?room=1&access_token={token}");
    expect_ok("query on /ws", &call(&app, get(&ws)).await, "socket-user");
    expect_401("no query", &call(&app, get("/ws")).await, MISSING);
    expect_401(
        "header on /ws",
        &call(&app, with_token("/ws", &token)).await,
        MISSING,
    );
    let twice = format!("/ws?access_token={token}&access_token={token}");
    expect_401("twice", &call(&app, get(&twice)).await, INVALID_REQUEST);
    let encoded = format!("/ws?access_token={}", token.replace('.', "%2E"));
    expect_401(
        "percent-encoded",
        &call(&app, get(&encoded)).await,
        INVALID_REQUEST,
    );
    let encoded_name = format!("/ws?access%5Ftoken={token}");
    expect_401(
        "encoded name",
        &call(&app, get(&encoded_name)).await,
        INVALID_REQUEST,
    );

    // Other routes keep the header and ignore the query.
    expect_ok(
        "header on /api",
        &call(&app, with_token("/api", &token)).await,
        "socket-user",
    );
    let api = format!("/api?access_token={token}");
    expect_401("query on /api", &call(&app, get(&api)).await, MISSING);
}

// ---------------------------------------------------------------------------------------------
// Several sources
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn combined_sources_take_either_and_refuse_disagreement() {
    let (issuer, verifier) = setup().await;
    let app = app(
        &verifier,
        Sources::new(AuthorizationBearer).or(cookie("id_token")),
    );
    let token = issuer.id_token().sub("either-user").sign();
    let other = issuer.id_token().sub("other-user").sign();
    let bearer = format!("Bearer {token}");
    let in_cookie = format!("id_token={token}");
    let other_cookie = format!("id_token={other}");
    let get = |headers: &[(&str, &str)]| request_with(Method::GET, "/", headers);

    let accepted: [(&str, &[(&str, &str)]); 3] = [
        ("header only", &[("authorization", &bearer)]),
        ("cookie only", &[("cookie", &in_cookie)]),
        (
            "the same token in both",
            &[("authorization", &bearer), ("cookie", &in_cookie)],
        ),
    ];
    for (case, headers) in accepted {
        expect_ok(case, &call(&app, get(headers)).await, "either-user");
    }
    expect_401("neither", &call(&app, anonymous("/")).await, MISSING);

    // Two valid tokens of two users: neither is chosen.
    let conflict = [
        ("authorization", bearer.as_str()),
        ("cookie", &other_cookie),
    ];
    expect_401(
        "conflict",
        &call(&app, get(&conflict)).await,
        INVALID_REQUEST,
    );
    // A malformed credential in one source is refused even beside a good token.
    let malformed = [
        ("authorization", "Bearer not a token"),
        ("cookie", &in_cookie),
    ];
    expect_401(
        "malformed header",
        &call(&app, get(&malformed)).await,
        INVALID_REQUEST,
    );

    let verbose = verbose_app(
        &verifier,
        Sources::new(AuthorizationBearer).or(cookie("id_token")),
    );
    let reply = call(&verbose, get(&conflict)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert_eq!(reply.body, "Different tokens in two places", "{reply:?}");
}

#[tokio::test]
async fn the_order_of_sources_names_the_problem_reported() {
    let (_issuer, verifier) = setup().await;
    let bearer_first = verbose_app(
        &verifier,
        Sources::new(AuthorizationBearer).or(cookie("id_token")),
    );
    let cookie_first = verbose_app(
        &verifier,
        Sources::new(cookie("id_token")).or(AuthorizationBearer),
    );
    // Both sources have a problem: another scheme, and the cookie twice.
    let headers = [
        ("authorization", "Basic dXNlcjpwYXNz"),
        ("cookie", "id_token=a.b.c; id_token=a.b.c"),
    ];
    let get = || request_with(Method::GET, "/", &headers);

    let reply = call(&bearer_first, get()).await;
    expect_401(
        "bearer first",
        &reply,
        r#"Bearer error="invalid_request", error_description="Authorization scheme is not Bearer""#,
    );
    assert_eq!(reply.body, "Authorization scheme is not Bearer");
    let reply = call(&cookie_first, get()).await;
    expect_401(
        "cookie first",
        &reply,
        r#"Bearer error="invalid_request", error_description="Credentials given more than once""#,
    );
    assert_eq!(reply.body, "Credentials given more than once");
}

// ---------------------------------------------------------------------------------------------
// The checks of the token, whatever the source
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_size_cap_applies_to_every_source() {
    let (issuer, verifier) = setup().await;
    let token = oversized_token(&issuer);

    let in_cookie = call(
        &verbose_app(&verifier, cookie("id_token")),
        with_cookies("/", &[&format!("id_token={token}")]),
    )
    .await;
    let in_header = call(
        &verbose_app(&verifier, Header::named("x-id-token").unwrap()),
        request_with(Method::GET, "/", &[("x-id-token", &token)]),
    )
    .await;
    let in_query = call(
        &verbose_app(&verifier, QueryParameter::named("access_token").unwrap()),
        request_with(Method::GET, &format!("/?access_token={token}"), &[]),
    )
    .await;
    for (case, reply) in [
        ("cookie", in_cookie),
        ("header", in_header),
        ("query", in_query),
    ] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}: {reply:?}");
        assert_eq!(reply.body, "Token is too large", "{case}: {reply:?}");
    }
    // Terse, the same refusal.
    let reply = call(
        &app(&verifier, cookie("id_token")),
        with_cookies("/", &[&format!("id_token={token}")]),
    )
    .await;
    expect_401("terse cookie", &reply, INVALID_TOKEN);
}

#[tokio::test]
async fn a_token_of_another_pool_in_a_cookie_is_refused() {
    let (_issuer, verifier) = setup().await;
    let stranger = TestIssuer::start_with("us-east-1_OtherPool9", "test-client").await;
    let token = stranger.id_token().sign();
    let reply = call(
        &app(&verifier, cookie("id_token")),
        with_cookies("/", &[&format!("id_token={token}")]),
    )
    .await;
    expect_401("another pool", &reply, INVALID_TOKEN);
}

#[tokio::test]
async fn a_forged_token_in_a_cookie_is_refused() {
    let (issuer, verifier) = setup().await;
    let token = issuer.id_token().sign();
    let (signed, _signature) = token.rsplit_once('.').unwrap();
    let forged = format!("{signed}.AAAA");
    let reply = call(
        &app(&verifier, cookie("id_token")),
        with_cookies("/", &[&format!("id_token={forged}")]),
    )
    .await;
    expect_401("forged", &reply, INVALID_TOKEN);
}
