//! AWS Lambda behind API Gateway without AWS: the example's router fed API Gateway events
//! through `lambda_http`'s own conversion, and the built function against a Lambda Runtime API
//! served here on 127.0.0.1.

#[path = "common/runtime_api.rs"]
mod runtime_api;

// The example's own router (its `main` is not called here).
#[path = "../examples/lambda.rs"]
#[allow(dead_code)]
mod example;

use std::time::Duration;

use axum::{Router, http::StatusCode};
use axum_cognito::{
    CognitoAuthLayer, CognitoVerifier,
    test_util::{ApiGatewayEvent, TestIssuer},
};
use http_body_util::BodyExt;
use runtime_api::{Posted, RuntimeApi};
use serde_json::{Value, json};
use tower::ServiceExt;

use ApiGatewayEvent::{HttpJwtAuthorizer, HttpNoAuthorizer, RestCognitoAuthorizer};

async fn send(app: &Router, event: &Value) -> (StatusCode, Value) {
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn trusting_app(issuer: &TestIssuer) -> Router {
    let verifier = issuer.verifier_builder().build().await.unwrap();
    example::app(CognitoAuthLayer::new(verifier).trust_api_gateway())
}

/// The claims an authorizer verified reach the handlers as the same types, strings read back
/// (numbers, `[a b]` and `a,b` group lists, REST dates), under the same rules.
#[tokio::test]
async fn authorizer_claims_reach_the_same_extractors_under_the_same_rules() {
    let issuer = TestIssuer::start().await;
    let app = trusting_app(&issuer).await;
    let event =
        |shape, path: &str, token: &str| issuer.api_gateway_event(shape, "GET", path, token);

    let root = issuer
        .access_token()
        .username("root")
        .groups(["admins", "ops"])
        .sign();
    let (status, body) = send(&app, &event(HttpJwtAuthorizer, "/admin", &root)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["admin"], true);
    assert_eq!(body["username"], "root");
    let (status, body) = send(&app, &event(HttpJwtAuthorizer, "/access", &root)).await;
    assert_eq!(
        (status, &body["groups"]),
        (StatusCode::OK, &json!(["admins", "ops"]))
    );

    let alice = issuer
        .access_token()
        .username("alice")
        .groups(["readers"])
        .sign();
    assert_eq!(
        send(&app, &event(HttpJwtAuthorizer, "/admin", &alice))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // An HTTP API JWT authorizer lets an ID token through; the route wants an access token.
    let id_token = issuer.id_token().username("bob").groups(["a", "b"]).sign();
    assert_eq!(
        send(&app, &event(HttpJwtAuthorizer, "/access", &id_token))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = send(&app, &event(HttpJwtAuthorizer, "/id", &id_token)).await;
    assert_eq!(
        (status, &body["groups"], &body["username"]),
        (StatusCode::OK, &json!(["a", "b"]), &json!("bob"))
    );
    // The layer's own rule (`/admin`: access tokens only), before any extractor.
    let admin_id_token = issuer.id_token().groups(["admins"]).sign();
    for shape in [HttpJwtAuthorizer, RestCognitoAuthorizer] {
        let (status, _) = send(&app, &event(shape, "/admin", &admin_id_token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    // REST: `exp` and `iat` as dates, groups comma-separated.
    let (status, body) = send(&app, &event(RestCognitoAuthorizer, "/id", &id_token)).await;
    assert_eq!(
        (status, &body["groups"]),
        (StatusCode::OK, &json!(["a", "b"]))
    );
    let rest = event(RestCognitoAuthorizer, "/id", &id_token);
    let exp = rest["requestContext"]["authorizer"]["claims"]["exp"]
        .as_str()
        .unwrap();
    assert!(
        exp.contains(" UTC ") && exp.parse::<i64>().is_err(),
        "a date: {exp}"
    );
    let (status, body) = send(&app, &event(RestCognitoAuthorizer, "/admin", &root)).await;
    assert_eq!((status, &body["admin"]), (StatusCode::OK, &json!(true)));

    // The checks after the signature's: exp again, the app client, a configured pool.
    let expired = issuer.access_token().expired().sign();
    let other_client = issuer.access_token().client_id("someone-else").sign();
    let other_pool = issuer
        .access_token()
        .issuer("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Elsewhere")
        .sign();
    for token in [&expired, &other_client, &other_pool] {
        for shape in [HttpJwtAuthorizer, RestCognitoAuthorizer] {
            let (status, _) = send(&app, &event(shape, "/access", token)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    // `whoami` is optional: the claims still count.
    let (status, body) = send(&app, &event(HttpJwtAuthorizer, "/whoami", &alice)).await;
    assert_eq!(
        (status, &body["authenticated"]),
        (StatusCode::OK, &json!(true))
    );
}

/// Claims of the wrong shape are a 401; an authorizer of another kind is not read as Cognito
/// claims; without `trust_api_gateway` the claims are ignored.
#[tokio::test]
async fn bad_claims_and_other_authorizers_are_refused() {
    let issuer = TestIssuer::start().await;
    let app = trusting_app(&issuer).await;
    let root = issuer.access_token().groups(["admins"]).sign();
    let claims = |event: &mut Value| event["requestContext"]["authorizer"]["jwt"]["claims"].take();

    for (name, bad) in [("exp", "soon"), ("cognito:groups", "[admins"), ("exp", "")] {
        let mut event = issuer.api_gateway_event(HttpJwtAuthorizer, "GET", "/admin", &root);
        event["requestContext"]["authorizer"]["jwt"]["claims"][name] = json!(bad);
        assert_eq!(
            send(&app, &event).await.0,
            StatusCode::UNAUTHORIZED,
            "{name} = {bad:?}"
        );
    }
    let mut event = issuer.api_gateway_event(RestCognitoAuthorizer, "GET", "/admin", &root);
    event["requestContext"]["authorizer"]["claims"]["exp"] = json!("Tue Apr 04 18:39:39 CET 2023");
    assert_eq!(send(&app, &event).await.0, StatusCode::UNAUTHORIZED);

    // A Lambda authorizer's context (HTTP API), an IAM one, and a REST Lambda authorizer's,
    // each holding valid-looking claims, with no token: nothing is read, nothing verified.
    let mut event = issuer.api_gateway_event(HttpJwtAuthorizer, "GET", "/admin", &root);
    let valid = claims(&mut event);
    event["headers"] = json!({});
    for authorizer in [
        json!({"lambda": {"claims": valid.clone()}}),
        json!({"lambda": valid.clone()}),
        json!({"iam": {"accessKey": "AKIA", "accountId": "1", "callerId": "x", "userArn": "arn", "userId": "u"}}),
    ] {
        event["requestContext"]["authorizer"] = authorizer;
        assert_eq!(send(&app, &event).await.0, StatusCode::UNAUTHORIZED);
    }
    let mut event = issuer.api_gateway_event(RestCognitoAuthorizer, "GET", "/admin", &root);
    event["headers"] = json!({});
    event["multiValueHeaders"] = json!({});
    let mut fields = valid.as_object().unwrap().clone();
    fields.insert("principalId".into(), json!("user"));
    event["requestContext"]["authorizer"] = Value::Object(fields.clone());
    assert_eq!(send(&app, &event).await.0, StatusCode::UNAUTHORIZED);
    fields.insert("claims".into(), json!("not an object"));
    event["requestContext"]["authorizer"] = Value::Object(fields);
    assert_eq!(send(&app, &event).await.0, StatusCode::UNAUTHORIZED);

    // Without `trust_api_gateway`, authorizer claims beside a token the function cannot verify
    // are not trusted.
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let verifying = example::app(CognitoAuthLayer::new(verifier));
    let mut event = issuer.api_gateway_event(HttpJwtAuthorizer, "GET", "/admin", &root);
    event["headers"]["authorization"] = json!("Bearer x.y.z");
    assert_eq!(send(&verifying, &event).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(&app, &event).await.0,
        StatusCode::OK,
        "the trusting layer reads the claims"
    );
}

/// Without authorizer claims, the token is verified in the function: a valid one passes, one
/// signed by other keys does not.
#[tokio::test]
async fn a_request_without_authorizer_claims_is_verified_in_the_function() {
    let issuer = TestIssuer::start().await;
    let app = trusting_app(&issuer).await;
    let token = issuer.access_token().groups(["admins"]).sign();
    let event = issuer.api_gateway_event(HttpNoAuthorizer, "GET", "/admin", &token);
    assert_eq!(send(&app, &event).await.0, StatusCode::OK);

    let impostor = TestIssuer::start_with(issuer.pool_id(), issuer.client_id()).await;
    let forged = impostor.access_token().groups(["admins"]).sign();
    let event = issuer.api_gateway_event(HttpNoAuthorizer, "GET", "/admin", &forged);
    assert_eq!(send(&app, &event).await.0, StatusCode::UNAUTHORIZED);
}

/// Revocation and the application's checks apply to authorizer claims too.
#[tokio::test]
async fn revoked_authorizer_claims_are_refused() {
    let issuer = TestIssuer::start().await;
    let verifier: CognitoVerifier = issuer
        .verifier_builder()
        .revocation_check(|token: &axum_cognito::VerifiedToken| token.sub() == "mallory")
        .build()
        .await
        .unwrap();
    let app = example::app(CognitoAuthLayer::new(verifier).trust_api_gateway());
    let mallory = issuer.access_token().sub("mallory").sign();
    let alice = issuer.access_token().sub("alice").sign();
    let event = |token: &str| issuer.api_gateway_event(HttpJwtAuthorizer, "GET", "/access", token);
    assert_eq!(
        send(&app, &event(&mallory)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send(&app, &event(&alice)).await.0, StatusCode::OK);
}

/// The next `n` answers the function posted.
async fn answers(api: &mut RuntimeApi, n: usize) -> Vec<Posted> {
    let mut posted = Vec::new();
    while posted.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(30), api.posted.recv()).await;
        posted.push(next.expect("the function answered").unwrap());
    }
    posted
}

fn response(posted: &Posted) -> (&str, u64, Value) {
    match posted {
        Posted::Response(id, response) => {
            let body = response["body"].as_str().unwrap_or("null");
            (
                id,
                response["statusCode"].as_u64().unwrap(),
                serde_json::from_str(body).unwrap_or(Value::Null),
            )
        }
        other => panic!("not a response: {other:?}"),
    }
}

/// The built function, against the Runtime API: events in, responses out, in order.
#[tokio::test]
async fn the_function_serves_events_from_the_runtime_api() {
    let issuer = TestIssuer::start().await;
    let mut api = RuntimeApi::start().await;
    let env = [
        ("COGNITO_USER_POOL_ID", issuer.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", issuer.client_id().to_owned()),
        ("COGNITO_JWKS_URL", issuer.jwks_url()),
        ("COGNITO_TRUST_API_GATEWAY", "1".to_owned()),
    ];
    let mut function = api.function(&env).spawn().unwrap();
    let root = issuer
        .access_token()
        .username("root")
        .groups(["admins"])
        .sign();
    let id_token = issuer.id_token().username("bob").sign();
    api.invoke(
        "1",
        issuer.api_gateway_event(HttpJwtAuthorizer, "GET", "/admin", &root),
    );
    api.invoke(
        "2",
        issuer.api_gateway_event(HttpNoAuthorizer, "GET", "/id", &id_token),
    );
    api.invoke(
        "3",
        issuer.api_gateway_event(RestCognitoAuthorizer, "GET", "/id", &id_token),
    );
    api.invoke(
        "4",
        issuer.api_gateway_event(HttpJwtAuthorizer, "GET", "/access", &id_token),
    );
    api.invoke(
        "5",
        issuer.api_gateway_event(HttpNoAuthorizer, "GET", "/whoami", "x.y.z"),
    );
    let posted = answers(&mut api, 5).await;
    let (id, status, body) = response(&posted[0]);
    assert_eq!(
        (id, status, &body["admin"], &body["username"]),
        ("1", 200, &json!(true), &json!("root"))
    );
    for (posted, id) in posted[1..3].iter().zip(["2", "3"]) {
        let (got, status, body) = response(posted);
        assert_eq!((got, status, &body["username"]), (id, 200, &json!("bob")));
    }
    assert_eq!(response(&posted[3]).1, 401);
    assert_eq!(response(&posted[4]).1, 401);
    function.kill().await.unwrap();
}

/// With a bundled key set, the first request is verified while the key URL answers nothing.
#[tokio::test]
async fn a_bundled_key_set_needs_no_network() {
    let issuer = TestIssuer::start().await;
    let dir = std::env::temp_dir().join(format!("axum-cognito-lambda-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwks.json");
    std::fs::write(&file, issuer.jwks_json()).unwrap();
    let mut api = RuntimeApi::start().await;
    let env = [
        ("COGNITO_USER_POOL_ID", issuer.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", issuer.client_id().to_owned()),
        // Nothing listens on port 1.
        (
            "COGNITO_JWKS_URL",
            "http://127.0.0.1:1/jwks.json".to_owned(),
        ),
        ("COGNITO_JWKS_FILE", file.display().to_string()),
    ];
    let mut function = api.function(&env).spawn().unwrap();
    let token = issuer.access_token().sign();
    api.invoke(
        "1",
        issuer.api_gateway_event(HttpNoAuthorizer, "GET", "/access", &token),
    );
    assert_eq!(response(&answers(&mut api, 1).await[0]).1, 200);
    function.kill().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

/// A missing or malformed variable is an init error naming it, and the process exits non-zero.
#[tokio::test]
async fn configuration_errors_are_init_errors_naming_the_variable() {
    let issuer = TestIssuer::start().await;
    let dir = std::env::temp_dir().join(format!("axum-cognito-lambda-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_jwks = dir.join("not-jwks.json");
    std::fs::write(&not_jwks, "{\"keys\": 1}").unwrap();
    let good = [
        ("COGNITO_USER_POOL_ID", issuer.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", issuer.client_id().to_owned()),
        ("COGNITO_JWKS_URL", issuer.jwks_url()),
    ];
    let cases: [(&str, Option<String>); 5] = [
        ("COGNITO_USER_POOL_ID", None),
        ("COGNITO_CLIENT_IDS", None),
        (
            "COGNITO_JWKS_FILE",
            Some(dir.join("missing.json").display().to_string()),
        ),
        ("COGNITO_JWKS_FILE", Some(not_jwks.display().to_string())),
        ("COGNITO_TRUST_API_GATEWAY", Some("yes".into())),
    ];
    for (variable, value) in cases {
        let mut api = RuntimeApi::start().await;
        let mut env: Vec<(&str, String)> = good
            .iter()
            .filter(|(n, _)| *n != variable)
            .cloned()
            .collect();
        if let Some(value) = value {
            env.push((variable, value));
        }
        let status = api.function(&env).status().await.unwrap();
        assert!(!status.success(), "{variable}: exit {status}");
        match &answers(&mut api, 1).await[0] {
            Posted::InitError(error) => {
                let message = error["errorMessage"].as_str().unwrap();
                assert!(message.contains(variable), "{variable}: {message}");
            }
            other => panic!("{variable}: {other:?}"),
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// An access token bound to several resources reaches the function with its `aud` flattened as
/// `[a b]`: read back as the list, it passes a `resource` rule that one of them names, and fails
/// one that none names. A malformed claim's refusal names the claim.
#[tokio::test]
async fn authorizer_audiences_and_malformed_claims_by_name() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let guarded = |resource: &str| {
        let layer = CognitoAuthLayer::new(verifier.clone())
            .trust_api_gateway()
            .resource(resource)
            .verbose();
        Router::new()
            .route("/", axum::routing::get(|| async { "ok" }))
            .layer(layer)
    };
    let bound = issuer
        .access_token()
        .claim(
            "aud",
            json!(["https://a.example/mcp", "https://b.example/mcp"]),
        )
        .sign();
    let event = issuer.api_gateway_event(HttpJwtAuthorizer, "GET", "/", &bound);
    assert_eq!(
        event["requestContext"]["authorizer"]["jwt"]["claims"]["aud"],
        "[https://a.example/mcp https://b.example/mcp]",
        "as an HTTP API writes it"
    );
    let challenge = async |app: Router, event: &Value| {
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let header = response.headers().get("www-authenticate").cloned();
        (
            response.status(),
            header.map(|h| h.to_str().unwrap().to_owned()),
        )
    };
    let (status, _) = challenge(guarded("https://b.example/mcp"), &event).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = challenge(guarded("https://c.example/mcp"), &event).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let mut malformed = event.clone();
    malformed["requestContext"]["authorizer"]["jwt"]["claims"]["exp"] = json!("soon");
    let (status, header) = challenge(guarded("https://b.example/mcp"), &malformed).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        header.unwrap().contains("'exp'"),
        "the refusal names the claim"
    );
}
