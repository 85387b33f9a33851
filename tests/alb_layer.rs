//! The axum face of load balancer tokens: the layer and `AlbClaims` through a real `Router`,
//! typed custom claims, custom checks, the pluggable rejection, the verified-token cache, and
//! the server example's `/alb` route driven by `ALB_*` variables.

mod common;

use std::time::Duration;

use axum::{Json, Router, response::IntoResponse, routing::get};
use axum_cognito::{
    AuthRejection, ErrorKind,
    alb::{AlbAuthLayer, AlbClaims, AlbUserClaims},
    test_util::{AlbKeyFault, TestAlb, TestIssuer},
};
use common::{call, request_with, start_server};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

fn alb_request(path: &str, token: &str) -> http::Request<axum::body::Body> {
    request_with(http::Method::GET, path, &[("x-amzn-oidc-data", token)])
}

async fn me(user: AlbClaims) -> Json<Value> {
    Json(json!({
        "sub": user.sub,
        "email": user.email,
        "username": user.username,
        "signer": user.token().signer(),
        "client": user.token().client(),
    }))
}

#[tokio::test]
async fn the_happy_path_gives_the_handler_the_claims() {
    let alb = TestAlb::start().await;
    let verifier = alb.verifier_builder().build().unwrap();
    let app = Router::new()
        .route("/me", get(me))
        .layer(AlbAuthLayer::new(verifier.clone()));
    let token = alb
        .token()
        .sub("u-1")
        .email("a@example.com")
        .username("alice")
        .sign();
    let reply = call(&app, alb_request("/me", &token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        body,
        json!({"sub": "u-1", "email": "a@example.com", "username": "alice",
               "signer": alb.arn(), "client": alb.client_id()})
    );
    // The second time from the verified-token cache: no fetch, same answer.
    assert_eq!(verifier.cached_tokens(), 1);
    let again = call(&app, alb_request("/me", &token)).await;
    assert_eq!(again.body, reply.body);
    assert_eq!(alb.key_requests(), 1);
}

#[tokio::test]
async fn a_cached_token_still_expires() {
    let alb = TestAlb::start().await;
    // No leeway, and a token that expires in a second.
    let verifier = alb
        .verifier_builder()
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let exp = common::now() + 1;
    let token = alb.token().header("exp", exp).sign();
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(verifier.cached_tokens(), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let error = verifier.verify(&token).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Expired);
    assert!(error.verified_claims_json().is_some());
    assert_eq!(verifier.cached_tokens(), 0);
}

#[derive(Debug, Deserialize)]
struct Employee {
    sub: String,
    #[serde(rename = "custom:department")]
    department: String,
}

#[tokio::test]
async fn typed_claims_and_custom_checks() {
    let alb = TestAlb::start().await;
    let verifier = alb.verifier_builder().build().unwrap();
    async fn department(user: AlbClaims<Employee>) -> String {
        format!("{}:{}", user.sub, user.department)
    }
    let staff_only = AlbAuthLayer::new(verifier.clone()).custom_check_forbidden(
        |user: &AlbUserClaims| match user.email.as_deref() {
            Some(email) if email.ends_with("@example.com") => Ok(()),
            _ => Err("not staff".into()),
        },
    );
    let no_bots = AlbAuthLayer::new(verifier.clone())
        .custom_check(|user: &AlbUserClaims| {
            if user.username.as_deref() == Some("bot") {
                Err("bots are not users".into())
            } else {
                Ok(())
            }
        })
        .verbose();
    let app = Router::new()
        .route("/department", get(department))
        .route("/staff", get(|| async { "staff" }).route_layer(staff_only))
        .route("/humans", get(|| async { "human" }).route_layer(no_bots))
        .layer(AlbAuthLayer::new(verifier));

    let engineer = alb
        .token()
        .sub("u-1")
        .claim("custom:department", "eng")
        .sign();
    let reply = call(&app, alb_request("/department", &engineer)).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "u-1:eng")
    );
    // Claims that do not fit the handler's type: 401.
    let plain = alb.token().sign();
    let reply = call(&app, alb_request("/department", &plain)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    assert_eq!(
        call(&app, alb_request("/staff", &plain)).await.status,
        StatusCode::OK
    );
    let outsider = alb.token().email("eve@attacker.example").sign();
    let reply = call(&app, alb_request("/staff", &outsider)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.www_authenticate(),
        Some("Bearer error=\"insufficient_scope\"")
    );

    let bot = alb.token().username("bot").sign();
    let reply = call(&app, alb_request("/humans", &bot)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.contains("bots are not users"), "{reply:?}");
    assert_eq!(
        call(&app, alb_request("/humans", &plain)).await.status,
        StatusCode::OK
    );
    // Stacked layers and routes share one key cache: one key fetch in all.
    assert_eq!(alb.key_requests(), 1);
}

#[tokio::test]
async fn refusals_go_through_the_renderer() {
    let alb = TestAlb::start().await;
    let verifier = alb
        .verifier_builder()
        .fetch_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let layer = AlbAuthLayer::new(verifier).on_rejection(|rejection: AuthRejection| {
        let body =
            json!({ "error": rejection.kind().code(), "status": rejection.status().as_u16() });
        (rejection.status(), Json(body)).into_response()
    });
    async fn typed(_: AlbClaims<Employee>) -> &'static str {
        "typed"
    }
    let app = Router::new().route("/", get(typed)).layer(layer);
    let json_of = |body: &str| serde_json::from_str::<Value>(body).unwrap();

    let reply = call(&app, request_with(http::Method::GET, "/", &[])).await;
    assert_eq!(
        json_of(&reply.body),
        json!({"error": "missing_token", "status": 401})
    );
    let reply = call(&app, alb_request("/", &alb.token().expired().sign())).await;
    assert_eq!(
        json_of(&reply.body),
        json!({"error": "invalid_token", "status": 401})
    );
    // The extractor's refusal (claims not of its type) renders the same way.
    let reply = call(&app, alb_request("/", &alb.token().sign())).await;
    assert_eq!(
        json_of(&reply.body),
        json!({"error": "invalid_token", "status": 401})
    );
    alb.set_fault(Some(AlbKeyFault::Status(500)));
    alb.rotate();
    let reply = call(&app, alb_request("/", &alb.token().sign())).await;
    assert_eq!(
        json_of(&reply.body),
        json!({"error": "temporarily_unavailable", "status": 503})
    );
}

/// 500, with the fix named in the rejection's reason (the logs, verbose bodies), not in a
/// terse body (issue 22, finding 12).
#[tokio::test]
async fn the_extractor_without_a_layer_says_what_is_missing() {
    let alb = TestAlb::start().await;
    let app = Router::new().route("/", get(me));
    let reply = call(&app, alb_request("/", &alb.token().sign())).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.body, "Internal Server Error", "{reply:?}");
    async fn reason(claims: Result<AlbClaims, axum_cognito::AuthRejection>) -> String {
        claims.map_or_else(|rejection| rejection.reason(), |_| "verified".into())
    }
    let app = Router::new().route("/", get(reason));
    let reply = call(&app, alb_request("/", &alb.token().sign())).await;
    assert!(reply.body.contains("AlbAuthLayer"), "{reply:?}");
}

// ---------------------------------------------------------------------------------------------
// The server example
// ---------------------------------------------------------------------------------------------

fn cognito_env(issuer: &TestIssuer) -> Vec<(&'static str, String)> {
    vec![
        ("COGNITO_USER_POOL_ID", issuer.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", issuer.client_id().to_owned()),
        ("COGNITO_JWKS_URL", issuer.jwks_url()),
    ]
}

#[tokio::test]
async fn the_server_answers_alb_tokens_on_alb() {
    let issuer = TestIssuer::start().await;
    let alb = TestAlb::start().await;
    let mut env = cognito_env(&issuer);
    env.extend([
        ("ALB_ARNS", format!("{}, arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/b/0123456789abcdef", alb.arn())),
        ("ALB_CLIENT_IDS", format!("other,{}", alb.client_id())),
        ("ALB_KEYS_URL", alb.key_url()),
    ]);
    let (mut server, addr) = start_server(&env).await.unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = async |headers: &[(&str, &str)]| {
        let mut request = client.get(format!("http://{addr}/alb"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    };
    let token = alb
        .token()
        .sub("u-9")
        .email("u9@example.com")
        .username("nine")
        .sign();
    let (status, body) = get(&[("x-amzn-oidc-data", &token)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"sub": "u-9", "email": "u9@example.com", "username": "nine",
               "signer": alb.arn(), "client": alb.client_id()})
    );
    assert_eq!(get(&[]).await.0, 401);
    assert_eq!(get(&[("x-amzn-oidc-identity", "u-9")]).await.0, 401);
    assert_eq!(
        get(&[("x-amzn-oidc-data", &alb.token().expired().sign())])
            .await
            .0,
        401
    );
    alb.set_fault(Some(AlbKeyFault::Status(500)));
    alb.rotate();
    assert_eq!(
        get(&[("x-amzn-oidc-data", &alb.token().sign())]).await.0,
        503
    );
    // The user-pool routes work as before.
    let access = client
        .get(format!("http://{addr}/access"))
        .bearer_auth(issuer.access_token().sign())
        .send()
        .await
        .unwrap();
    assert_eq!(access.status(), 200);
    server.kill().await.unwrap();
}

#[tokio::test]
async fn the_server_without_alb_arns_has_no_alb_route() {
    let issuer = TestIssuer::start().await;
    let (mut server, addr) = start_server(&cognito_env(&issuer)).await.unwrap();
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://{addr}/alb"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    server.kill().await.unwrap();
}

#[tokio::test]
async fn every_alb_configuration_error_names_its_variable() {
    let issuer = TestIssuer::start().await;
    let alb = TestAlb::start().await;
    let arn = alb.arn().to_owned();
    let cases: [(&str, Vec<(&'static str, String)>); 6] = [
        (
            "ALB_ARNS",
            vec![
                ("ALB_ARNS", "not-an-arn".into()),
                ("ALB_CLIENT_IDS", "c".into()),
            ],
        ),
        (
            "ALB_ARNS",
            vec![
                ("ALB_ARNS", format!("{arn},,{arn}")),
                ("ALB_CLIENT_IDS", "c".into()),
            ],
        ),
        ("ALB_CLIENT_IDS", vec![("ALB_ARNS", arn.clone())]),
        (
            "ALB_CLIENT_IDS",
            vec![("ALB_ARNS", arn.clone()), ("ALB_CLIENT_IDS", "a,,b".into())],
        ),
        (
            "ALB_KEYS_URL",
            vec![
                ("ALB_ARNS", arn.clone()),
                ("ALB_CLIENT_IDS", "c".into()),
                ("ALB_KEYS_URL", "http://127.0.0.1:9/no-kid".into()),
            ],
        ),
        (
            "ALB_KEYS_URL",
            vec![
                ("ALB_ARNS", arn.clone()),
                ("ALB_CLIENT_IDS", "c".into()),
                ("ALB_KEYS_URL", "http://keys.example/{kid}".into()),
            ],
        ),
    ];
    for (variable, alb_env) in cases {
        let env = [cognito_env(&issuer), alb_env].concat();
        let error = start_server(&env).await.expect_err("refused");
        assert!(error.starts_with("exit Some(2)"), "{variable}: {error}");
        assert!(error.contains(variable), "{variable}: {error}");
    }
}

// ---------------------------------------------------------------------------------------------
// The cross-check of x-amzn-oidc-accesstoken
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_access_token_is_verified_and_must_be_the_same_users() {
    use axum_cognito::{Access, CognitoClaims};

    let issuer = TestIssuer::start().await;
    // No unknown-kid cooldown: the forged token's refetch must not hide the key added later.
    let pool = issuer
        .verifier_builder()
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    let alb = TestAlb::start().await;
    let verifier = alb.verifier_builder().build().unwrap();
    async fn groups(user: AlbClaims, access: CognitoClaims<Access>) -> String {
        format!("{} {:?}", user.sub, access.groups)
    }
    let app = Router::new()
        .route("/", get(groups))
        .layer(AlbAuthLayer::new(verifier).access_token(pool));
    let send = async |data: &str, access: Option<&str>| {
        let mut headers = vec![("x-amzn-oidc-data", data)];
        if let Some(access) = access {
            headers.push(("x-amzn-oidc-accesstoken", access));
        }
        call(&app, request_with(http::Method::GET, "/", &headers)).await
    };
    let data = alb.token().sub("u-1").sign();
    let access = issuer.access_token().sub("u-1").groups(["admins"]).sign();

    let reply = send(&data, Some(&access)).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "u-1 [\"admins\"]")
    );
    let someone_else = issuer.access_token().sub("u-2").groups(["admins"]).sign();
    assert_eq!(
        send(&data, Some(&someone_else)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send(&data, None).await.status, StatusCode::UNAUTHORIZED);
    let id_token = issuer.id_token().sub("u-1").sign();
    assert_eq!(
        send(&data, Some(&id_token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let attacker = TestIssuer::start_with(issuer.pool_id(), issuer.client_id()).await;
    let forged = attacker.access_token().sub("u-1").sign();
    assert_eq!(
        send(&data, Some(&forged)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // New keys on both sides: the fetching path checks the same.
    alb.rotate();
    issuer.rotate();
    let data = alb.token().sub("u-1").sign();
    let access = issuer.access_token().sub("u-1").groups(["ops"]).sign();
    let reply = send(&data, Some(&access)).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "u-1 [\"ops\"]")
    );
    alb.rotate();
    let data = alb.token().sub("u-1").sign();
    let other = issuer.access_token().sub("u-3").sign();
    assert_eq!(
        send(&data, Some(&other)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// A verifier of `issuer`'s pool for its app client (the load balancer's) and another app.
async fn pool_of_two_apps(issuer: &TestIssuer) -> axum_cognito::CognitoVerifier {
    axum_cognito::CognitoVerifier::builder()
        .user_pool(
            axum_cognito::UserPool::new(issuer.pool_id())
                .client_ids([issuer.client_id(), "another-app"])
                .jwks_url(issuer.jwks_url()),
        )
        .any_token_use()
        .build()
        .await
        .unwrap()
}

/// The access token must be of the load balancer's app client, not only of the same user; and
/// an inner layer that requires it checks it even when a layer further out verified the ALB
/// token already.
#[tokio::test]
async fn the_access_token_is_of_the_load_balancers_client_and_inner_layers_check_it() {
    let issuer = TestIssuer::start().await;
    let pool = pool_of_two_apps(&issuer).await;
    let alb = TestAlb::start().await;
    assert_eq!(alb.client_id(), issuer.client_id());
    let verifier = alb.verifier_builder().build().unwrap();
    let app = Router::new()
        .route("/open", get(|| async { "open" }))
        .route(
            "/bound",
            get(|| async { "bound" })
                .route_layer(AlbAuthLayer::new(verifier.clone()).access_token(pool)),
        )
        .layer(AlbAuthLayer::new(verifier));
    let send = async |path: &str, access: Option<&str>| {
        let data = alb.token().sub("u-1").sign();
        let mut headers = vec![("x-amzn-oidc-data", data.as_str())];
        if let Some(access) = access {
            headers.push(("x-amzn-oidc-accesstoken", access));
        }
        call(&app, request_with(http::Method::GET, path, &headers))
            .await
            .status
    };
    let own = issuer.access_token().sub("u-1").sign();
    let other_client = issuer
        .access_token()
        .sub("u-1")
        .client_id("another-app")
        .sign();
    assert_eq!(send("/open", None).await, StatusCode::OK);
    assert_eq!(send("/bound", Some(&own)).await, StatusCode::OK);
    assert_eq!(
        send("/bound", None).await,
        StatusCode::UNAUTHORIZED,
        "the inner layer asks for it"
    );
    assert_eq!(
        send("/bound", Some(&other_client)).await,
        StatusCode::UNAUTHORIZED
    );
}

/// Issue 22, finding 5: an inner `access_token(pool)` layer takes a token a layer further out
/// verified with the same pool verifier only when it is what the inner layer would have
/// accepted itself: an access token of the load balancer's client, of the same user. An ID
/// token, or another app's access token, of the same `sub` binds nothing.
#[tokio::test]
async fn an_inner_layer_binds_only_an_access_token_of_the_load_balancers_client() {
    use axum_cognito::CognitoAuthLayer;

    let issuer = TestIssuer::start().await;
    let pool = pool_of_two_apps(&issuer).await;
    let alb = TestAlb::start().await;
    let verifier = alb.verifier_builder().build().unwrap();
    let app = Router::new()
        .route(
            "/bound",
            get(|| async { "bound" })
                .route_layer(AlbAuthLayer::new(verifier.clone()).access_token(pool.clone())),
        )
        .layer(CognitoAuthLayer::new(pool))
        .layer(AlbAuthLayer::new(verifier));
    let send = async |bearer: &str| {
        let data = alb.token().sub("u-1").sign();
        let bearer = format!("Bearer {bearer}");
        let headers = [
            ("x-amzn-oidc-data", data.as_str()),
            ("authorization", bearer.as_str()),
        ];
        call(&app, request_with(http::Method::GET, "/bound", &headers))
            .await
            .status
    };
    let id_token = issuer.id_token().sub("u-1").sign();
    let other_app = issuer
        .access_token()
        .sub("u-1")
        .client_id("another-app")
        .sign();
    assert_eq!(
        send(&id_token).await,
        StatusCode::UNAUTHORIZED,
        "an ID token"
    );
    assert_eq!(
        send(&other_app).await,
        StatusCode::UNAUTHORIZED,
        "another app's"
    );
    let own = issuer.access_token().sub("u-1").sign();
    assert_eq!(
        send(&own).await,
        StatusCode::OK,
        "the load balancer's client's"
    );
}
