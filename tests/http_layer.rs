//! The HTTP behaviour table of `src/rejection.rs`, row by row, through a real axum `Router`
//! driven with `tower::ServiceExt::oneshot`. Keys always come from a `TestIssuer`'s JWKS server
//! on 127.0.0.1.

mod common;

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Extension, Json, Router, body::Body, response::IntoResponse, routing::get};
use axum_cognito::{
    Access, AuthRejection, CognitoAuthLayer, CognitoClaims, CognitoVerifier, DefaultRejection, Id,
    TokenRequirements, TokenUse, VerifiedToken,
    middleware::{CognitoAuth, ResponseFuture},
    test_util::{JwksFault, SigningKey, TestIssuer},
};
use common::{
    Reply, anonymous, b64, bearer, call, payload_text, request, segments, verified_sub, verifier,
    with_token,
};
use http::{
    HeaderValue, Request, StatusCode,
    header::{AUTHORIZATION, CONTENT_TYPE},
};
use serde_json::json;
use tower::{Layer, ServiceExt};

const INVALID_REQUEST: &str = r#"Bearer error="invalid_request""#;
const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;
const INSUFFICIENT_SCOPE: &str = r#"Bearer error="insufficient_scope""#;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// An issuer and a verifier of its pool with every default.
async fn setup() -> (TestIssuer, CognitoVerifier) {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    (issuer, verifier)
}

/// Asserts status, `WWW-Authenticate` and body, naming the case on failure.
fn expect(case: &str, reply: &Reply, status: StatusCode, www: Option<&str>, body: &str) {
    assert_eq!(reply.status, status, "{case}: status; {reply:?}");
    assert_eq!(
        reply.www_authenticate(),
        www,
        "{case}: WWW-Authenticate; {reply:?}"
    );
    assert_eq!(reply.body, body, "{case}: body; {reply:?}");
}

fn expect_ok(case: &str, reply: &Reply, body: &str) {
    expect(case, reply, StatusCode::OK, None, body);
}

fn expect_401(case: &str, reply: &Reply, www: &str) {
    expect(
        case,
        reply,
        StatusCode::UNAUTHORIZED,
        Some(www),
        "Unauthorized",
    );
}

fn expect_403(case: &str, reply: &Reply) {
    expect(
        case,
        reply,
        StatusCode::FORBIDDEN,
        Some(INSUFFICIENT_SCOPE),
        "Forbidden",
    );
}

/// 403 for a scope rule: the challenge names the rule's scopes.
fn expect_403_scope(case: &str, reply: &Reply, scope: &str) {
    let www = format!(r#"{INSUFFICIENT_SCOPE}, scope="{scope}""#);
    expect(case, reply, StatusCode::FORBIDDEN, Some(&www), "Forbidden");
}

/// 503 with a positive `Retry-After` and no `WWW-Authenticate`.
fn expect_503(case: &str, reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{case}: status; {reply:?}"
    );
    assert_eq!(reply.www_authenticate(), None, "{case}: {reply:?}");
    assert_eq!(reply.body, "Service Unavailable", "{case}: {reply:?}");
    let retry_after = reply
        .retry_after()
        .unwrap_or_else(|| panic!("{case}: no Retry-After; {reply:?}"));
    let seconds: u64 = retry_after
        .parse()
        .unwrap_or_else(|_| panic!("{case}: Retry-After {retry_after:?} is not an integer"));
    assert!((1..=60).contains(&seconds), "{case}: Retry-After {seconds}");
}

/// The verbose `WWW-Authenticate` of an `invalid_token` refusal.
fn invalid_token_because(description: &str) -> String {
    format!(r#"Bearer error="invalid_token", error_description="{description}""#)
}

async fn id_sub(claims: CognitoClaims<Id>) -> String {
    claims.sub.clone()
}

async fn access_sub(claims: CognitoClaims<Access>) -> String {
    claims.sub.clone()
}

async fn maybe_id(claims: Option<CognitoClaims<Id>>) -> String {
    claims.map_or_else(|| "none".to_owned(), |c| format!("some:{}", c.sub))
}

async fn maybe_access(claims: Option<CognitoClaims<Access>>) -> String {
    claims.map_or_else(|| "none".to_owned(), |c| format!("some:{}", c.sub))
}

/// Router-wide layer, required mode.
fn required_app(verifier: CognitoVerifier) -> Router {
    Router::new()
        .route("/", get(id_sub))
        .route("/any", get(verified_sub))
        .layer(CognitoAuthLayer::new(verifier))
}

fn verbose_app(verifier: CognitoVerifier) -> Router {
    Router::new()
        .route("/", get(id_sub))
        .layer(CognitoAuthLayer::new(verifier).verbose())
}

/// The same token with its payload re-encoded after `from` was replaced with `to`, and the
/// original signature kept.
fn tamper(token: &str, from: &str, to: &str) -> String {
    let (header, _, signature) = segments(token);
    let json = payload_text(token);
    assert!(json.contains(from), "{json}");
    format!("{header}.{}.{signature}", b64(json.replace(from, to)))
}

// ---------------------------------------------------------------------------------------------
// Router-wide layer, required mode
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn required_no_authorization_header_is_401_bearer() {
    let (_issuer, verifier) = setup().await;
    let app = required_app(verifier);
    for path in ["/", "/any"] {
        let reply = call(&app, anonymous(path)).await;
        expect_401(path, &reply, "Bearer");
        assert_eq!(
            reply.header(CONTENT_TYPE),
            Some("text/plain; charset=utf-8")
        );
    }
}

#[tokio::test]
async fn required_other_scheme_is_invalid_request() {
    let (_issuer, verifier) = setup().await;
    let reply = call(
        &required_app(verifier),
        request("/", &[HeaderValue::from_static("Basic dXNlcjpwYXNz")]),
    )
    .await;
    expect_401("Basic", &reply, INVALID_REQUEST);
}

#[tokio::test]
async fn required_malformed_bearer_is_invalid_request() {
    let (issuer, verifier) = setup().await;
    let app = required_app(verifier.clone());
    let token = issuer.id_token().sign();
    let (head, tail) = token.split_at(20);
    let rows: Vec<(&str, Vec<HeaderValue>)> = vec![
        ("scheme only", vec![HeaderValue::from_static("Bearer")]),
        ("empty token", vec![HeaderValue::from_static("Bearer ")]),
        (
            "two spaces",
            vec![HeaderValue::from_str(&format!("Bearer  {token}")).unwrap()],
        ),
        (
            "space inside the token",
            vec![HeaderValue::from_str(&format!("Bearer {head} {tail}")).unwrap()],
        ),
        (
            "tab inside the token",
            vec![HeaderValue::from_str(&format!("Bearer {head}\t{tail}")).unwrap()],
        ),
        (
            "trailing space",
            vec![HeaderValue::from_str(&format!("Bearer {token} ")).unwrap()],
        ),
        (
            "non-ASCII bytes",
            vec![HeaderValue::from_bytes(format!("Bearer {token}\u{e9}").as_bytes()).unwrap()],
        ),
        (
            "non-ASCII bytes only",
            vec![HeaderValue::from_bytes(b"Bearer \xff\xfe\xfd").unwrap()],
        ),
        ("two valid headers", vec![bearer(&token), bearer(&token)]),
    ];
    for (case, values) in rows {
        let reply = call(&app, request("/", &values)).await;
        expect_401(case, &reply, INVALID_REQUEST);
    }
    // The rows really are refused for their header: the token alone passes.
    let reply = call(&app, with_token("/", &token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

#[tokio::test]
async fn required_scheme_is_case_insensitive() {
    let (issuer, verifier) = setup().await;
    let app = required_app(verifier);
    let token = issuer.id_token().sub("case-user").sign();
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let value = HeaderValue::from_str(&format!("{scheme} {token}")).unwrap();
        let reply = call(&app, request("/", &[value])).await;
        expect_ok(scheme, &reply, "case-user");
    }
}

#[tokio::test]
async fn required_bad_tokens_are_invalid_token_and_terse() {
    let (issuer, verifier) = setup().await;
    let terse = required_app(verifier.clone());
    let verbose = verbose_app(verifier);
    let published_kid = issuer.signing_key().kid().to_owned();
    let rows: Vec<(&str, String, &str)> = vec![
        ("garbage", "abc.def.ghi".to_owned(), "Invalid token header"),
        (
            "expired",
            issuer.access_token().expired().sign(),
            "Token is expired",
        ),
        (
            "expired ID token",
            issuer.id_token().expired().sign(),
            "Token is expired",
        ),
        (
            "changed payload",
            tamper(
                &issuer.id_token().sub("alice").sign(),
                r#""sub":"alice""#,
                r#""sub":"mallory""#,
            ),
            "Invalid signature",
        ),
        (
            "unpublished key under a published kid",
            issuer
                .id_token()
                .signed_with(&SigningKey::generate())
                .header("kid", published_kid.as_str())
                .sign(),
            "Invalid signature",
        ),
        (
            "ID token of another client",
            issuer.id_token().client_id("other").sign(),
            "Invalid 'aud' claim",
        ),
        (
            "access token of another client",
            issuer.access_token().client_id("other").sign(),
            "Invalid 'client_id' claim",
        ),
    ];
    for (case, token, reason) in &rows {
        let reply = call(&terse, with_token("/", token)).await;
        expect_401(case, &reply, INVALID_TOKEN);
        assert!(!reply.body.contains("expired"), "{case}: {reply:?}");

        let reply = call(&verbose, with_token("/", token)).await;
        expect(
            case,
            &reply,
            StatusCode::UNAUTHORIZED,
            Some(&invalid_token_because(reason)),
            reason,
        );
    }
}

#[tokio::test]
async fn required_valid_token_reaches_the_handler_with_its_claims() {
    let (issuer, verifier) = setup().await;
    let app = required_app(verifier);
    let id = issuer.id_token().sub("id-user").sign();
    let access = issuer.access_token().sub("access-user").sign();
    expect_ok(
        "ID token, claims",
        &call(&app, with_token("/", &id)).await,
        "id-user",
    );
    expect_ok(
        "ID token, VerifiedToken",
        &call(&app, with_token("/any", &id)).await,
        "id-user",
    );
    expect_ok(
        "access token, VerifiedToken",
        &call(&app, with_token("/any", &access)).await,
        "access-user",
    );
}

// ---------------------------------------------------------------------------------------------
// Token use per route
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn route_layer_token_use_refuses_the_other_use() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/", get(verified_sub))
        .route_layer(CognitoAuthLayer::new(verifier).token_use(TokenUse::Access));
    let id = issuer.id_token().sub("u").sign();
    let access = issuer.access_token().sub("u").sign();
    expect_401(
        "ID token",
        &call(&app, with_token("/", &id)).await,
        INVALID_TOKEN,
    );
    expect_ok(
        "access token",
        &call(&app, with_token("/", &access)).await,
        "u",
    );
    expect_401("no token", &call(&app, anonymous("/")).await, "Bearer");
}

#[tokio::test]
async fn extractors_alone_refuse_the_other_use() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/access", get(access_sub))
        .route("/id", get(id_sub))
        .layer(axum::Extension(verifier));
    let id = issuer.id_token().sub("id-user").sign();
    let access = issuer.access_token().sub("access-user").sign();
    expect_401(
        "ID token to CognitoClaims<Access>",
        &call(&app, with_token("/access", &id)).await,
        INVALID_TOKEN,
    );
    expect_ok(
        "access token to CognitoClaims<Access>",
        &call(&app, with_token("/access", &access)).await,
        "access-user",
    );
    expect_401(
        "access token to CognitoClaims<Id>",
        &call(&app, with_token("/id", &access)).await,
        INVALID_TOKEN,
    );
    expect_ok(
        "ID token to CognitoClaims<Id>",
        &call(&app, with_token("/id", &id)).await,
        "id-user",
    );
}

#[tokio::test]
async fn layer_without_token_use_and_claims_of_the_other_use_is_401() {
    let (issuer, verifier) = setup().await;
    let app = required_app(verifier);
    let access = issuer.access_token().sub("access-user").sign();
    expect_401(
        "access token to CognitoClaims<Id> behind a layer",
        &call(&app, with_token("/", &access)).await,
        INVALID_TOKEN,
    );
}

// ---------------------------------------------------------------------------------------------
// Groups and scopes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn route_layer_any_group() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/", get(verified_sub))
        .route_layer(CognitoAuthLayer::new(verifier).any_group(["admins"]));
    let readers = issuer.id_token().sub("u").groups(["readers"]).sign();
    let admins = issuer
        .id_token()
        .sub("u")
        .groups(["readers", "admins"])
        .sign();
    let none = issuer.id_token().sub("u").sign();
    expect_403(
        "groups [readers]",
        &call(&app, with_token("/", &readers)).await,
    );
    expect_ok(
        "groups [admins]",
        &call(&app, with_token("/", &admins)).await,
        "u",
    );
    expect_403("no groups", &call(&app, with_token("/", &none)).await);
    expect_401("no token", &call(&app, anonymous("/")).await, "Bearer");
}

#[tokio::test]
async fn route_layer_any_scope() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/", get(verified_sub))
        .route_layer(CognitoAuthLayer::new(verifier).any_scope(["orders/write"]));
    let read = issuer
        .access_token()
        .sub("u")
        .scopes(["orders/read"])
        .sign();
    let write = issuer
        .access_token()
        .sub("u")
        .scopes(["orders/read", "orders/write"])
        .sign();
    let no_scope = issuer.access_token().sub("u").without("scope").sign();
    expect_403_scope(
        "scope orders/read",
        &call(&app, with_token("/", &read)).await,
        "orders/write",
    );
    expect_ok(
        "scope orders/write",
        &call(&app, with_token("/", &write)).await,
        "u",
    );
    let no_scope = call(&app, with_token("/", &no_scope)).await;
    expect_403_scope("no scope", &no_scope, "orders/write");
}

async fn admin_guard(claims: CognitoClaims<Access>) -> Result<String, AuthRejection> {
    claims.require_any_group(["admins"])?;
    Ok(claims.sub.clone())
}

async fn writer_guard(claims: CognitoClaims<Access>) -> Result<String, AuthRejection> {
    claims.require_any_scope(["orders/write"])?;
    Ok(claims.sub.clone())
}

#[tokio::test]
async fn handler_guards_answer_403() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/admin", get(admin_guard))
        .route("/write", get(writer_guard))
        .layer(axum::Extension(verifier));
    let readers = issuer.access_token().sub("u").groups(["readers"]).sign();
    let admins = issuer.access_token().sub("u").groups(["admins"]).sign();
    let writer = issuer
        .access_token()
        .sub("u")
        .scopes(["orders/write"])
        .sign();
    expect_403(
        "guard, groups [readers]",
        &call(&app, with_token("/admin", &readers)).await,
    );
    expect_ok(
        "guard, groups [admins]",
        &call(&app, with_token("/admin", &admins)).await,
        "u",
    );
    expect_403_scope(
        "guard, default scope",
        &call(&app, with_token("/write", &admins)).await,
        "orders/write",
    );
    expect_ok(
        "guard, orders/write",
        &call(&app, with_token("/write", &writer)).await,
        "u",
    );
}

#[tokio::test]
async fn stacked_layers_verify_once_and_check_their_own_rules() {
    let issuer = TestIssuer::start().await;
    // The verifier's own custom check runs once per full verification, never on a recheck.
    let verifications = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&verifications);
    let verifier = issuer
        .verifier_builder()
        .require(
            TokenRequirements::new().custom_check(move |_: &serde_json::Value| {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }),
        )
        .build()
        .await
        .unwrap();
    let app = Router::new()
        .route("/admin", get(verified_sub))
        .route_layer(CognitoAuthLayer::new(verifier.clone()).any_group(["admins"]))
        .route("/open", get(verified_sub))
        .layer(CognitoAuthLayer::new(verifier));
    let readers = issuer.id_token().sub("u").groups(["readers"]).sign();
    let admins = issuer.id_token().sub("u").groups(["admins"]).sign();

    expect_401(
        "/admin without a token",
        &call(&app, anonymous("/admin")).await,
        "Bearer",
    );
    expect_401(
        "/open without a token",
        &call(&app, anonymous("/open")).await,
        "Bearer",
    );
    expect_401(
        "/admin with a garbage token",
        &call(&app, with_token("/admin", "abc.def.ghi")).await,
        INVALID_TOKEN,
    );
    assert_eq!(verifications.load(Ordering::SeqCst), 0);

    expect_403(
        "/admin, groups [readers]",
        &call(&app, with_token("/admin", &readers)).await,
    );
    assert_eq!(verifications.load(Ordering::SeqCst), 1);
    expect_ok(
        "/admin, groups [admins]",
        &call(&app, with_token("/admin", &admins)).await,
        "u",
    );
    assert_eq!(verifications.load(Ordering::SeqCst), 2);
    expect_ok(
        "/open, groups [readers]",
        &call(&app, with_token("/open", &readers)).await,
        "u",
    );
    assert_eq!(verifications.load(Ordering::SeqCst), 3);
}

// ---------------------------------------------------------------------------------------------
// Keys unavailable, unknown key ids
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn keys_never_loaded_is_503() {
    let issuer = TestIssuer::start().await;
    issuer.stop().await;
    let verifier = issuer
        .verifier_builder()
        .build_lazy()
        .expect("lazy verifier");
    let app = required_app(verifier);
    let token = issuer.id_token().sign();
    expect_503(
        "JWKS down since start",
        &call(&app, with_token("/", &token)).await,
    );
    // Still 503 once the background fetch has failed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    expect_503(
        "JWKS down after a failed fetch",
        &call(&app, with_token("/", &token)).await,
    );
    // A request without a token is still the client's fault.
    expect_401("no token", &call(&app, anonymous("/")).await, "Bearer");
}

#[tokio::test]
async fn failed_refetch_for_unknown_kid_is_503_and_known_keys_still_work() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    let app = required_app(verifier);
    let old_key = issuer.signing_key();
    issuer.set_fault(Some(JwksFault::Status(500)));
    issuer.rotate();
    let before = issuer.jwks_requests();
    let token = issuer.id_token().sign();
    expect_503(
        "unknown kid, JWKS 500",
        &call(&app, with_token("/", &token)).await,
    );
    assert_eq!(issuer.jwks_requests(), before + 1);
    // The last good keys are kept.
    let old = issuer.id_token().sub("old").signed_with(&old_key).sign();
    expect_ok("known kid", &call(&app, with_token("/", &old)).await, "old");
}

#[tokio::test]
async fn unknown_kid_refetches_once_through_the_layer() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    let app = required_app(verifier);
    let before = issuer.jwks_requests();
    let kid = issuer.rotate();
    assert_eq!(issuer.signing_key().kid(), kid);
    let token = issuer.id_token().sub("rotated").sign();
    // The handler reads the `VerifiedToken` the layer's async path put in the extensions.
    expect_ok(
        "new key",
        &call(&app, with_token("/any", &token)).await,
        "rotated",
    );
    assert_eq!(issuer.jwks_requests(), before + 1);
    // Now known: no further fetch.
    expect_ok(
        "new key again",
        &call(&app, with_token("/", &token)).await,
        "rotated",
    );
    assert_eq!(issuer.jwks_requests(), before + 1);
}

#[tokio::test]
async fn unknown_kid_after_a_refetch_is_401_without_a_fetch_during_the_cooldown() {
    // The build's own fetch starts no cooldown: a key published right after it is found by
    // one refetch. That refetch starts the default cooldown, so the next new key is not
    // looked for until it has passed.
    let (issuer, verifier) = setup().await;
    let app = verbose_app(verifier);
    let before = issuer.jwks_requests();
    issuer.rotate();
    let token = issuer.id_token().sign();
    assert_eq!(
        call(&app, with_token("/", &token)).await.status,
        StatusCode::OK
    );
    assert_eq!(issuer.jwks_requests(), before + 1);

    issuer.rotate();
    let token = issuer.id_token().sign();
    let reply = call(&app, with_token("/", &token)).await;
    expect(
        "unknown kid in cooldown",
        &reply,
        StatusCode::UNAUTHORIZED,
        Some(&invalid_token_because("Unknown signing key")),
        "Unknown signing key",
    );
    assert_eq!(issuer.jwks_requests(), before + 1);
}

// ---------------------------------------------------------------------------------------------
// Extractors without a layer
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn extractor_with_the_verifier_as_state() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/", get(id_sub))
        .layer(axum::Extension(verifier));
    let token = issuer.id_token().sub("state-user").sign();
    expect_ok(
        "valid ID token",
        &call(&app, with_token("/", &token)).await,
        "state-user",
    );
    expect_401("no header", &call(&app, anonymous("/")).await, "Bearer");
    expect_401(
        "Basic",
        &call(
            &app,
            request("/", &[HeaderValue::from_static("Basic dXNlcjpwYXNz")]),
        )
        .await,
        INVALID_REQUEST,
    );
    expect_401(
        "expired",
        &call(&app, with_token("/", &issuer.id_token().expired().sign())).await,
        INVALID_TOKEN,
    );
}

#[tokio::test]
async fn extractor_with_the_verifier_as_extension() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/", get(id_sub))
        .layer(Extension(verifier));
    let token = issuer.id_token().sub("extension-user").sign();
    expect_ok(
        "valid ID token",
        &call(&app, with_token("/", &token)).await,
        "extension-user",
    );
    expect_401("no header", &call(&app, anonymous("/")).await, "Bearer");
}

/// The fix is named in the rejection's reason (and so in the logs and verbose bodies), never
/// in a terse body (issue 22, finding 12).
#[tokio::test]
async fn extractor_without_layer_or_verifier_is_500_naming_the_fix() {
    let (issuer, _verifier) = setup().await;
    let app: Router = Router::new().route("/", get(id_sub));
    let token = issuer.id_token().sign();
    for (case, request) in [
        ("valid token", with_token("/", &token)),
        ("no header", anonymous("/")),
    ] {
        let reply = call(&app, request).await;
        assert_eq!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{case}: {reply:?}"
        );
        assert_eq!(reply.body, "Internal Server Error", "{case}: {reply:?}");
        assert_eq!(reply.www_authenticate(), None, "{case}: {reply:?}");
    }
    async fn reason(claims: Result<CognitoClaims<Id>, AuthRejection>) -> String {
        claims.map_or_else(|rejection| rejection.reason(), |_| "verified".into())
    }
    let app: Router = Router::new().route("/", get(reason));
    let reply = call(&app, with_token("/", &token)).await;
    assert!(reply.body.contains("CognitoAuthLayer"), "{reply:?}");
}

// ---------------------------------------------------------------------------------------------
// Optional mode
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn optional_layer() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/", get(maybe_id))
        .layer(CognitoAuthLayer::new(verifier).optional());
    let token = issuer.id_token().sub("opt-user").sign();
    expect_ok("no header", &call(&app, anonymous("/")).await, "none");
    expect_401(
        "bad token",
        &call(&app, with_token("/", "abc.def.ghi")).await,
        INVALID_TOKEN,
    );
    expect_401(
        "expired token",
        &call(&app, with_token("/", &issuer.id_token().expired().sign())).await,
        INVALID_TOKEN,
    );
    expect_401(
        "Basic",
        &call(
            &app,
            request("/", &[HeaderValue::from_static("Basic dXNlcjpwYXNz")]),
        )
        .await,
        INVALID_REQUEST,
    );
    expect_ok(
        "valid ID token",
        &call(&app, with_token("/", &token)).await,
        "some:opt-user",
    );
}

#[tokio::test]
async fn optional_extractor_with_the_verifier_as_state() {
    let (issuer, verifier) = setup().await;
    let app = Router::new()
        .route("/", get(maybe_access))
        .layer(axum::Extension(verifier));
    let token = issuer.access_token().sub("opt-user").sign();
    expect_ok("no header", &call(&app, anonymous("/")).await, "none");
    expect_401(
        "bad token",
        &call(&app, with_token("/", "abc.def.ghi")).await,
        INVALID_TOKEN,
    );
    expect_401(
        "ID token to Option<CognitoClaims<Access>>",
        &call(&app, with_token("/", &issuer.id_token().sign())).await,
        INVALID_TOKEN,
    );
    expect_ok(
        "valid access token",
        &call(&app, with_token("/", &token)).await,
        "some:opt-user",
    );
}

// ---------------------------------------------------------------------------------------------
// Verbose and custom rejections
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn verbose_expired_token() {
    let (issuer, verifier) = setup().await;
    let app = verbose_app(verifier);
    let reply = call(&app, with_token("/", &issuer.id_token().expired().sign())).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert!(reply.body.contains("Token is expired"), "{reply:?}");
    assert_eq!(
        reply.www_authenticate(),
        Some(r#"Bearer error="invalid_token", error_description="Token is expired""#)
    );
}

#[tokio::test]
async fn custom_rejection_builds_the_response() {
    let (issuer, verifier) = setup().await;
    let json_errors = |rejection: AuthRejection| {
        (
            rejection.status(),
            Json(json!({ "error": rejection.kind().code() })),
        )
            .into_response()
    };
    let app = Router::new().route("/", get(verified_sub)).route_layer(
        CognitoAuthLayer::new(verifier)
            .any_group(["admins"])
            .on_rejection(json_errors),
    );
    let rows = [
        (
            "expired",
            issuer.id_token().expired().sign(),
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_token"}),
        ),
        (
            "groups [readers]",
            issuer.id_token().groups(["readers"]).sign(),
            StatusCode::FORBIDDEN,
            json!({"error": "insufficient_scope"}),
        ),
    ];
    for (case, token, status, body) in rows {
        let reply = call(&app, with_token("/", &token)).await;
        assert_eq!(reply.status, status, "{case}: {reply:?}");
        assert_eq!(
            reply.header(CONTENT_TYPE),
            Some("application/json"),
            "{case}"
        );
        assert_eq!(reply.www_authenticate(), None, "{case}: {reply:?}");
        let parsed: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON body");
        assert_eq!(parsed, body, "{case}");
    }
    let reply = call(&app, anonymous("/")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, r#"{"error":"missing_token"}"#);
}

// ---------------------------------------------------------------------------------------------
// Any request body
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn layer_is_generic_over_the_request_body() {
    let (issuer, verifier) = setup().await;
    let service = CognitoAuthLayer::new(verifier).layer(tower::service_fn(
        |request: Request<String>| async move {
            let sub = request
                .extensions()
                .get::<VerifiedToken>()
                .map_or("no token", |t| t.sub())
                .to_owned();
            let body = format!("{sub}|{}", request.body());
            Ok::<_, Infallible>(http::Response::new(Body::from(body)))
        },
    ));
    let string_request = |authorization: Option<String>| {
        let mut builder = Request::get("/");
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value);
        }
        builder.body("payload".to_owned()).unwrap()
    };
    let token = issuer.id_token().sub("grpc-user").sign();

    let response = service
        .clone()
        .oneshot(string_request(Some(format!("Bearer {token}"))))
        .await
        .unwrap();
    let reply = Reply::from_response(response).await;
    expect_ok("valid token", &reply, "grpc-user|payload");

    let response = service.oneshot(string_request(None)).await.unwrap();
    expect_401("no token", &Reply::from_response(response).await, "Bearer");
}

#[tokio::test]
async fn generic_body_async_path_passes_the_request_through() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    let service = CognitoAuthLayer::new(verifier).layer(tower::service_fn(
        |request: Request<String>| async move {
            let sub = request
                .extensions()
                .get::<VerifiedToken>()
                .map_or("no token", |t| t.sub())
                .to_owned();
            let body = format!("{sub}|{}", request.body());
            Ok::<_, Infallible>(http::Response::new(Body::from(body)))
        },
    ));
    issuer.rotate();
    let token = issuer.id_token().sub("rotated").sign();
    let request = Request::get("/")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body("payload".to_owned())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    expect_ok(
        "unknown kid, refetched",
        &Reply::from_response(response).await,
        "rotated|payload",
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile headers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn hostile_authorization_values_are_401_never_500() {
    let (_issuer, verifier) = setup().await;
    let apps = [
        ("required layer", required_app(verifier.clone())),
        (
            "optional layer",
            Router::new()
                .route("/", get(maybe_id))
                .layer(CognitoAuthLayer::new(verifier.clone()).optional()),
        ),
        (
            "extractor with state",
            Router::new()
                .route("/", get(id_sub))
                .layer(axum::Extension(verifier.clone())),
        ),
    ];
    let verbose = verbose_app(verifier);
    let huge = "a".repeat(64 * 1024);
    let dotted = "a.".repeat(10_000);
    let rows: Vec<(&str, HeaderValue, &str, &str)> = vec![
        (
            "64 KiB of a",
            bearer(&huge),
            INVALID_TOKEN,
            "Token is too large",
        ),
        (
            "five segments",
            bearer("a.b.c.d.e"),
            INVALID_TOKEN,
            "Token is malformed",
        ),
        (
            "dots only",
            bearer("...."),
            INVALID_TOKEN,
            "Token is malformed",
        ),
        (
            "20,000 dots and letters",
            bearer(&dotted),
            INVALID_TOKEN,
            "Token is too large",
        ),
        (
            "three empty segments",
            bearer(".."),
            INVALID_TOKEN,
            "Token is malformed",
        ),
        (
            "64 KiB of =",
            bearer(&"=".repeat(64 * 1024)),
            INVALID_REQUEST,
            "Malformed Bearer credentials",
        ),
        (
            "64 KiB of non-ASCII",
            HeaderValue::from_bytes(&[0xffu8; 64 * 1024]).unwrap(),
            INVALID_REQUEST,
            "Authorization scheme is not Bearer",
        ),
        (
            "empty value",
            HeaderValue::from_static(""),
            INVALID_REQUEST,
            "Authorization scheme is not Bearer",
        ),
    ];
    for (case, value, www, reason) in &rows {
        for (app_name, app) in &apps {
            let reply = call(app, request("/", std::slice::from_ref(value))).await;
            expect_401(&format!("{case} ({app_name})"), &reply, www);
        }
        let reply = call(&verbose, request("/", std::slice::from_ref(value))).await;
        let code = if *www == INVALID_TOKEN {
            "invalid_token"
        } else {
            "invalid_request"
        };
        let verbose_www = format!(r#"Bearer error="{code}", error_description="{reason}""#);
        expect(
            &format!("{case} (verbose)"),
            &reply,
            StatusCode::UNAUTHORIZED,
            Some(&verbose_www),
            reason,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Auto traits
// ---------------------------------------------------------------------------------------------

#[test]
fn traits() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<CognitoAuthLayer>();
    send_sync::<CognitoAuthLayer<DefaultRejection>>();
    send_sync::<CognitoAuth<axum::routing::Route, DefaultRejection>>();
    send::<ResponseFuture<axum::routing::Route, Body>>();
    send_sync::<CognitoClaims<Id>>();
    send_sync::<CognitoClaims<Access>>();
    send_sync::<AuthRejection>();
    send_sync::<VerifiedToken>();
}
