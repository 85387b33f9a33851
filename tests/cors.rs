//! CORS in front of the layer, with tower-http's `CorsLayer`: the order that works (CORS
//! outermost, so that it answers preflights, which carry no credentials, and adds its headers
//! to the layer's refusals) and the order that does not.

mod common;

use axum::{Router, routing::get};
use axum_cognito::{CognitoAuthLayer, CognitoVerifier, test_util::TestIssuer};
use common::{Reply, call, request_with, verifier};
use http::{
    HeaderValue, Method, StatusCode,
    header::{ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION},
};
use tower_http::cors::CorsLayer;

const ORIGIN: &str = "https://app.example.com";

async fn setup() -> (TestIssuer, CognitoVerifier) {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    (issuer, verifier)
}

fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(HeaderValue::from_static(ORIGIN))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([AUTHORIZATION])
}

/// What a browser sends before a cross-origin `GET` with an `Authorization` header: no
/// credentials.
async fn preflight(app: &Router) -> Reply {
    let headers = [
        ("origin", ORIGIN),
        ("access-control-request-method", "GET"),
        ("access-control-request-headers", "authorization"),
    ];
    call(app, request_with(Method::OPTIONS, "/orders", &headers)).await
}

/// The cross-origin `GET` itself, with this `Authorization` value if any.
async fn get_orders(app: &Router, authorization: Option<&str>) -> Reply {
    let mut headers = vec![("origin", ORIGIN)];
    headers.extend(authorization.map(|value| ("authorization", value)));
    call(app, request_with(Method::GET, "/orders", &headers)).await
}

#[tokio::test]
async fn cors_outside_the_layer_answers_preflights_and_labels_every_response() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .layer(CognitoAuthLayer::new(verifier))
        .layer(cors());

    let reply = preflight(&app).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
    assert_eq!(reply.header(ACCESS_CONTROL_ALLOW_METHODS), Some("GET,POST"));
    assert_eq!(reply.www_authenticate(), None, "{reply:?}");

    let bearer = format!("Bearer {}", issuer.access_token().sign());
    let reply = get_orders(&app, Some(&bearer)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.body, "orders");
    assert_eq!(reply.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));

    // The refusal carries the CORS headers too, so that the page can read the 401.
    let reply = get_orders(&app, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert_eq!(reply.www_authenticate(), Some("Bearer"));
    assert_eq!(reply.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
}

/// The wrong order: with the layer outside CORS, the preflight reaches the layer first, and a
/// preflight never carries credentials, so the browser gets a 401 without CORS headers and
/// never sends the real request.
#[tokio::test]
async fn the_layer_outside_cors_refuses_the_preflight() {
    let (_issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .layer(cors())
        .layer(CognitoAuthLayer::new(verifier));

    let reply = preflight(&app).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert_eq!(reply.www_authenticate(), Some("Bearer"));
    assert_eq!(reply.header(ACCESS_CONTROL_ALLOW_ORIGIN), None, "{reply:?}");
}
