//! The crate in the shapes axum apps have: an app state of their own, one error shape for
//! what the layer and the extractors refuse, handler guards, either-use claims, and handlers
//! tested without HTTP.

mod common;

use axum::{
    Extension, Json, Router,
    response::{IntoResponse, Response},
    routing::get,
};
use axum_cognito::{
    Access, AuthRejection, CognitoAuthLayer, CognitoClaims, CognitoVerifier, DefaultRejection, Id,
    IdClaims, TokenRequirements, extract::EitherClaims, test_util::TestIssuer,
};
use common::{anonymous, call, with_token};
use http::{StatusCode, header::CONTENT_TYPE};

#[derive(Clone)]
struct AppState {
    name: &'static str,
}

async fn access_sub(caller: CognitoClaims<Access>) -> String {
    caller.sub.clone()
}

/// The extractors find their verifier one way, in the request extensions: the app's state is
/// its own, whatever its type.
#[tokio::test]
async fn an_app_state_of_its_own_and_the_verifier_in_an_extension() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let app =
        Router::new()
            .route("/", get(access_sub))
            .route(
                "/name",
                get(
                    |axum::extract::State(state): axum::extract::State<AppState>| async move {
                        state.name
                    },
                ),
            )
            .layer(Extension(verifier))
            .with_state(AppState { name: "shop" });
    let token = issuer.access_token().sub("alice").sign();
    let reply = call(&app, with_token("/", &token)).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "alice")
    );
    assert_eq!(call(&app, anonymous("/")).await.status, 401, "not 500");
    assert_eq!(call(&app, anonymous("/name")).await.body, "shop");
}

#[derive(Clone)]
struct StateWithoutVerifier;

#[tokio::test]
async fn a_state_without_a_verifier_works_behind_a_layer() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let app = Router::new()
        .route("/", get(access_sub))
        .layer(CognitoAuthLayer::new(verifier))
        .with_state(StateWithoutVerifier);
    assert_eq!(
        call(&app, with_token("/", &issuer.access_token().sign()))
            .await
            .status,
        200
    );
    assert_eq!(call(&app, anonymous("/")).await.status, 401);
    // The extractor alone, without a layer and a verifier: a configuration error, said so.
    let bare = Router::new()
        .route("/", get(access_sub))
        .with_state(StateWithoutVerifier);
    // A verifier in the state is not one of the extractor's: still a configuration error.
    let in_state = Router::new()
        .route("/", get(access_sub))
        .with_state(verifier_of(&issuer).await);
    let reply = call(&in_state, with_token("/", &issuer.access_token().sign())).await;
    assert_eq!(reply.status, 500);
    let reply = call(&bare, with_token("/", &issuer.access_token().sign())).await;
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.body, "Internal Server Error",
        "the hint is for the logs"
    );
}

async fn verifier_of(issuer: &TestIssuer) -> CognitoVerifier {
    issuer.verifier_builder().build().await.unwrap()
}

fn json_errors(rejection: AuthRejection) -> Response {
    let body = Json(serde_json::json!({ "error": rejection.kind().code() }));
    (rejection.status(), body).into_response()
}

async fn admin(caller: CognitoClaims<Access>) -> Result<&'static str, AuthRejection> {
    caller.require_any_group(["admins"])?;
    Ok("admin")
}

async fn profile(user: CognitoClaims<Id>) -> String {
    user.username.clone()
}

#[tokio::test]
async fn the_layers_renderer_also_renders_what_extractors_and_guards_refuse() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let app = Router::new()
        .route("/profile", get(profile))
        .route("/admin", get(admin))
        .layer(CognitoAuthLayer::new(verifier).on_rejection(json_errors));
    let json = |reply: &common::Reply| {
        assert_eq!(
            reply.header(CONTENT_TYPE),
            Some("application/json"),
            "{reply:?}"
        );
        serde_json::from_str::<serde_json::Value>(&reply.body).unwrap()["error"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The layer refuses.
    let reply = call(&app, anonymous("/profile")).await;
    assert_eq!(
        (reply.status, json(&reply).as_str()),
        (StatusCode::UNAUTHORIZED, "missing_token")
    );
    // The extractor refuses an access token where an ID token is wanted.
    let reply = call(&app, with_token("/profile", &issuer.access_token().sign())).await;
    assert_eq!(
        (reply.status, json(&reply).as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    // The handler's guard refuses.
    let reply = call(&app, with_token("/admin", &issuer.access_token().sign())).await;
    assert_eq!(
        (reply.status, json(&reply).as_str()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    let admin = issuer.access_token().groups(["admins"]).sign();
    assert_eq!(call(&app, with_token("/admin", &admin)).await.body, "admin");
}

#[tokio::test]
async fn without_a_layer_the_extractors_answer_the_default_way() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let app = Router::new()
        .route("/profile", get(profile))
        .layer(Extension(verifier));
    let reply = call(&app, with_token("/profile", &issuer.access_token().sign())).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header(CONTENT_TYPE),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.body, "Unauthorized");
    assert_eq!(
        reply.www_authenticate(),
        Some("Bearer error=\"invalid_token\"")
    );
}

#[tokio::test]
async fn a_verbose_problem_json_layer_shapes_extractor_refusals_too() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let app = Router::new().route("/profile", get(profile)).layer(
        CognitoAuthLayer::new(verifier).on_rejection(DefaultRejection::verbose().problem_json()),
    );
    let reply = call(&app, with_token("/profile", &issuer.access_token().sign())).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header(CONTENT_TYPE), Some("application/problem+json"));
    let problem: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(problem["status"], 401);
    assert_eq!(problem["title"], "Unauthorized");
    assert_eq!(problem["detail"], "Invalid 'token_use' claim");
    assert!(
        reply
            .www_authenticate()
            .unwrap()
            .contains("error_description=\"Invalid 'token_use' claim\""),
        "{reply:?}"
    );
}

#[tokio::test]
async fn a_custom_check_can_forbid_with_403() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let acme_only =
        TokenRequirements::new().custom_check_forbidden(|claims: &IdClaims| {
            match claims.custom.get("tenant").map(String::as_str) {
                Some("acme") => Ok(()),
                _ => Err("another tenant".into()),
            }
        });
    let app = Router::new()
        .route("/profile", get(profile))
        .layer(CognitoAuthLayer::new(verifier).require(acme_only));
    let acme = issuer.id_token().custom("tenant", "acme").sign();
    let other = issuer.id_token().custom("tenant", "globex").sign();
    assert_eq!(call(&app, with_token("/profile", &acme)).await.status, 200);
    let reply = call(&app, with_token("/profile", &other)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.www_authenticate(),
        Some("Bearer error=\"insufficient_scope\"")
    );
}

#[tokio::test]
async fn either_claims_branch_on_the_tokens_use() {
    async fn whoami(claims: EitherClaims) -> String {
        match claims {
            EitherClaims::Id(user) => format!("id {}", user.username),
            EitherClaims::Access(caller) => format!("access {}", caller.sub),
        }
    }
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let app = Router::new()
        .route("/", get(whoami))
        .route(
            "/maybe",
            get(|claims: Option<EitherClaims>| async move { claims.is_some().to_string() }),
        )
        .layer(Extension(verifier));
    let id = issuer.id_token().username("alice").sign();
    let access = issuer.access_token().sub("s-1").sign();
    assert_eq!(call(&app, with_token("/", &id)).await.body, "id alice");
    assert_eq!(
        call(&app, with_token("/", &access)).await.body,
        "access s-1"
    );
    assert_eq!(call(&app, anonymous("/")).await.status, 401);
    assert_eq!(call(&app, anonymous("/maybe")).await.body, "false");
    assert_eq!(call(&app, with_token("/maybe", "x.y.z")).await.status, 401);
}

#[tokio::test]
async fn verified_tokens_list_their_groups_and_scopes() {
    let issuer = TestIssuer::start().await;
    let token = issuer
        .verified_token(
            &issuer
                .access_token()
                .groups(["admins", "ops"])
                .scopes(["orders/read", "orders/write"])
                .sign(),
        )
        .await;
    assert_eq!(token.groups().collect::<Vec<_>>(), ["admins", "ops"]);
    assert_eq!(
        token.scopes().collect::<Vec<_>>(),
        ["orders/read", "orders/write"]
    );
    let machine = issuer.verified_token(&issuer.machine_token().sign()).await;
    assert_eq!(machine.groups().len(), 0);
}

#[tokio::test]
async fn handlers_are_testable_without_http() {
    let issuer = TestIssuer::start().await;
    let token = issuer
        .verified_token(&issuer.access_token().groups(["admins"]).sign())
        .await;
    let claims = CognitoClaims::<Access>::from_verified(token.clone()).unwrap();
    assert_eq!(admin(claims).await.unwrap(), "admin");
    let plain = issuer.verified_token(&issuer.access_token().sign()).await;
    let claims = CognitoClaims::<Access>::from_verified(plain).unwrap();
    assert_eq!(admin(claims).await.unwrap_err().status(), 403);
    // A token of the other use does not make ID claims.
    assert_eq!(
        CognitoClaims::<Id>::from_verified(token)
            .unwrap_err()
            .status(),
        401
    );
}
