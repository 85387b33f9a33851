//! Hardening III (issue 22): each test shows one finding of the review and failed before its
//! fix. SECURITY.md lists them, with the fix, in one table.

mod common;

use std::time::{Duration, SystemTime};

use axum::{Router, routing::get};
use axum_cognito::{
    Access, CognitoAuthLayer, CognitoClaims, CognitoVerifier, ConfigError, ErrorKind, UserPool,
    revocation::RevocationList, test_util::TestIssuer,
};
use common::{anonymous, call, kind, now, request_with, with_token};
use http::{Method, StatusCode, header::CACHE_CONTROL};

async fn sub(claims: CognitoClaims<Access>) -> String {
    claims.sub.clone()
}

// ---------------------------------------------------------------------------------------------
// Finding 6: a client chooses gRPC rendering on any route
// ---------------------------------------------------------------------------------------------

/// A plain HTTP/1.1 request that says `content-type: application/grpc` is no gRPC call: its
/// refusal is a 401, not a 200 with `grpc-status`. Every refusal says `Cache-Control: no-store`.
#[tokio::test]
async fn a_grpc_content_type_over_http1_is_refused_the_http_way_and_never_cached() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let app = Router::new()
        .route("/orders", get(sub))
        .layer(CognitoAuthLayer::new(verifier));
    let posing = request_with(
        Method::POST,
        "/orders",
        &[("content-type", "application/grpc")],
    );
    let reply = call(&app, posing).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert_eq!(reply.header(CACHE_CONTROL), Some("no-store"));
    assert!(reply.header("grpc-status".parse().unwrap()).is_none());
    let reply = call(&app, anonymous("/orders")).await;
    assert_eq!(reply.header(CACHE_CONTROL), Some("no-store"));
    let expired = issuer.access_token().expired().sign();
    let reply = call(&app, with_token("/orders", &expired)).await;
    assert_eq!(reply.header(CACHE_CONTROL), Some("no-store"));
}

// ---------------------------------------------------------------------------------------------
// Finding 9: a global sign-out misses tokens issued within the clock skew
// ---------------------------------------------------------------------------------------------

/// `revoke_user_before` allows for the leeway: a token whose `iat` is within the leeway after
/// `before` (issued just before the sign-out, by a clock a little ahead of this host's) is
/// revoked too; one issued well after it is not.
#[tokio::test]
async fn a_sign_out_covers_tokens_issued_within_the_leeway_after_it() {
    let issuer = TestIssuer::start().await;
    let list = RevocationList::new(100);
    let verifier = issuer
        .verifier_builder()
        .revocation_list(list.clone())
        .build()
        .await
        .unwrap();
    let before = SystemTime::now() - Duration::from_secs(100);
    list.revoke_user_before("alice", before);
    let issued = |seconds_after: i64| {
        issuer
            .access_token()
            .sub("alice")
            .claim("iat", now() - 100 + seconds_after)
            .sign()
    };
    assert_eq!(kind(verifier.verify_sync(&issued(0))), ErrorKind::Revoked);
    assert_eq!(
        kind(verifier.verify_sync(&issued(30))),
        ErrorKind::Revoked,
        "30 s after, within the 60 s leeway"
    );
    verifier.verify_sync(&issued(90)).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Finding 10: settings without bounds
// ---------------------------------------------------------------------------------------------

fn invalid_setting(error: ConfigError, setting: &str) {
    match &error {
        ConfigError::InvalidSetting(message) => {
            assert!(message.contains(setting), "{message:?} names {setting}")
        }
        other => panic!("{setting}: {other:?}"),
    }
}

/// A leeway over 5 minutes, a refresh floor or an unknown-`kid` cooldown of zero, and a
/// revocation list that can hold nothing are refused at build time, each naming its setting.
#[tokio::test]
async fn settings_out_of_their_bounds_are_refused_by_name() {
    let issuer = TestIssuer::start().await;
    let build = async |builder: axum_cognito::CognitoVerifierBuilder| builder.build().await;
    let cases: [(axum_cognito::CognitoVerifierBuilder, &str); 5] = [
        (
            issuer
                .verifier_builder()
                .leeway(Duration::from_secs(10 * 86_400)),
            "leeway",
        ),
        (
            issuer.verifier_builder().leeway(Duration::from_secs(301)),
            "leeway",
        ),
        (
            issuer
                .verifier_builder()
                .min_refresh_interval(Duration::ZERO),
            "min_refresh_interval",
        ),
        (
            issuer
                .verifier_builder()
                .unknown_kid_cooldown(Duration::ZERO),
            "unknown_kid_cooldown",
        ),
        (
            issuer
                .verifier_builder()
                .revocation_list(RevocationList::new(0)),
            "revocation list",
        ),
    ];
    for (builder, setting) in cases {
        invalid_setting(build(builder).await.unwrap_err(), setting);
    }
    // The bounds themselves are accepted.
    issuer
        .verifier_builder()
        .leeway(Duration::from_secs(300))
        .min_refresh_interval(Duration::from_millis(1))
        .unknown_kid_cooldown(Duration::from_millis(1))
        .revocation_list(RevocationList::with_grace(1, Duration::from_secs(300)))
        .build()
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Finding 12: secrets in URLs and status
// ---------------------------------------------------------------------------------------------

/// A key URL's query (a signature, a token) is never shown: not in the status, not in an
/// error.
#[tokio::test]
async fn a_key_urls_query_is_redacted_in_status_and_errors() {
    let issuer = TestIssuer::start().await;
    let with_query = format!("{}?X-Amz-Signature=secret-sig", issuer.jwks_url());
    let verifier = CognitoVerifier::builder()
        .user_pool(
            UserPool::new(issuer.pool_id())
                .client_id(issuer.client_id())
                .jwks_url(with_query),
        )
        .any_token_use()
        .build()
        .await
        .unwrap();
    let status = format!("{:?}", verifier.status());
    assert!(!status.contains("secret-sig"), "{status}");
    let unreachable = CognitoVerifier::builder()
        .user_pool(
            UserPool::new(issuer.pool_id())
                .client_id(issuer.client_id())
                .jwks_url("http://127.0.0.1:1/jwks.json?token=secret-token"),
        )
        .any_token_use()
        .fetch_timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap_err();
    let shown = format!("{unreachable} {unreachable:?}");
    assert!(!shown.contains("secret-token"), "{shown}");
}

/// A route whose extractor has no verifier answers 500; the hint that names the fix is for
/// the logs and verbose renderers, not for a terse (default) response body.
#[tokio::test]
async fn the_missing_verifier_hint_is_not_in_a_terse_body() {
    let issuer = TestIssuer::start().await;
    let app = Router::new().route("/", get(sub));
    let reply = call(&app, with_token("/", &issuer.access_token().sign())).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!reply.body.contains("CognitoAuthLayer"), "{}", reply.body);
    assert!(!reply.body.contains("Extension"), "{}", reply.body);
}

// ---------------------------------------------------------------------------------------------
// Findings 1 and 8: the pool table and the pool resolver
// ---------------------------------------------------------------------------------------------

/// Tenants a resolver knows, each its own pool; answers after `delay`.
#[derive(Clone, Default)]
struct Tenants {
    pools: std::sync::Arc<std::sync::Mutex<Vec<(String, UserPool)>>>,
    delay: Duration,
    /// Questions asked so far.
    asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Tenants {
    fn enrol(&self, tenant: &TestIssuer) {
        let mut pools = self.pools.lock().unwrap();
        pools.push((tenant.issuer(), tenant.user_pool()));
    }

    fn resolver(&self) -> impl axum_cognito::PoolResolver {
        let tenants = self.clone();
        move |issuer: String| -> axum_cognito::ResolveFuture {
            let tenants = tenants.clone();
            Box::pin(async move {
                tenants
                    .asked
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(tenants.delay).await;
                let pools = tenants.pools.lock().unwrap();
                Ok(pools
                    .iter()
                    .find(|(i, _)| *i == issuer)
                    .map(|(_, p)| p.clone()))
            })
        }
    }
}

async fn tenant(n: u32) -> TestIssuer {
    TestIssuer::start_with(&format!("eu-west-1_Tenant{n:04}"), &format!("client-{n}")).await
}

/// Finding 1: tokens that never verify (forged with another key) naming known tenants do not
/// fill the pool table: a real tenant's valid token is still accepted when they have named as
/// many tenants as `max_pools` allows.
#[tokio::test]
async fn forged_tokens_naming_tenants_do_not_lock_out_a_real_one() {
    let tenants = Tenants::default();
    let mut issuers = Vec::new();
    for n in 0..4 {
        let issuer = tenant(n).await;
        tenants.enrol(&issuer);
        issuers.push(issuer);
    }
    let verifier = CognitoVerifier::builder()
        .without_initial_pools()
        .pool_resolver(tenants.resolver())
        .pool_resolver_rate(100, Duration::from_secs(1))
        .max_pools(3)
        .any_token_use()
        .build()
        .await
        .unwrap();
    let attacker = axum_cognito::test_util::SigningKey::generate();
    for forged_for in &issuers[..3] {
        let forged = forged_for.access_token().signed_with(&attacker).sign();
        assert!(verifier.verify(&forged).await.is_err());
    }
    let real = issuers[3].access_token().sub("real-user").sign();
    let claims = verifier.verify_access(&real).await.unwrap();
    assert_eq!(claims.sub, "real-user");
    assert!(verifier.pool_ids().len() <= 3);
}

/// Finding 8: `remove_pool` while the resolver is answering for the same pool wins: the pool
/// is not added afterwards by the resolution that started before the removal.
#[tokio::test]
async fn a_removal_wins_over_a_resolution_in_flight() {
    let offboarded = tenant(9).await;
    let tenants = Tenants {
        delay: Duration::from_millis(500),
        ..Tenants::default()
    };
    tenants.enrol(&offboarded);
    let verifier = CognitoVerifier::builder()
        .without_initial_pools()
        .pool_resolver(tenants.resolver())
        .any_token_use()
        .build()
        .await
        .unwrap();
    let token = offboarded.access_token().sign();
    let pending = tokio::spawn({
        let verifier = verifier.clone();
        async move { verifier.verify(&token).await }
    });
    // The resolver is answering: the removal comes after the resolution started.
    while tenants.asked.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    verifier.remove_pool(offboarded.pool_id());
    assert!(
        pending.await.unwrap().is_err(),
        "refused: removed meanwhile"
    );
    assert!(verifier.pool_ids().is_empty(), "{:?}", verifier.pool_ids());
}
// ---------------------------------------------------------------------------------------------
// Finding 11: rules scoped to a pool
// ---------------------------------------------------------------------------------------------

/// A tenant pool's own `admins` group does not pass the operator's rule when the rule names
/// the operator's pool; the verified token says which pool it came from.
#[tokio::test]
async fn a_group_rule_scoped_to_a_pool_ignores_other_pools_groups() {
    let operator = tenant(20).await;
    let tenant_pool = tenant(21).await;
    let verifier = operator.verifier_builder().build().await.unwrap();
    verifier.add_pool(tenant_pool.user_pool()).await.unwrap();
    let app = Router::new().route("/admin", get(sub)).layer(
        CognitoAuthLayer::new(verifier.clone()).any_group_in(operator.pool_id(), ["admins"]),
    );
    let tenant_admin = tenant_pool.access_token().groups(["admins"]).sign();
    let operator_admin = operator.access_token().sub("op").groups(["admins"]).sign();
    let operator_user = operator.access_token().groups(["users"]).sign();
    assert_eq!(
        call(&app, with_token("/admin", &tenant_admin)).await.status,
        403
    );
    assert_eq!(
        call(&app, with_token("/admin", &operator_user))
            .await
            .status,
        403
    );
    assert_eq!(
        call(&app, with_token("/admin", &operator_admin))
            .await
            .status,
        200
    );
    let verified =
        axum_cognito::test_util::TestIssuer::verified_token(&tenant_pool, &tenant_admin).await;
    assert_eq!(verified.pool_id(), tenant_pool.pool_id());
}
