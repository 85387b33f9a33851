//! Pools added and removed on a running verifier, and the pool resolver of a multi-tenant
//! service: real key servers on 127.0.0.1, one per tenant pool.

mod common;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, routing::get};
use axum_cognito::{
    Access, CognitoAuthLayer, CognitoClaims, CognitoVerifier, ConfigError, ErrorKind, TokenUse,
    UserPool,
    test_util::{JwksFault, TestIssuer},
    verifier::ResolveFuture,
};
use common::{call, kind, with_token};
use http::StatusCode;

const FETCH_TIMEOUT: Duration = Duration::from_secs(1);

/// Tenants by issuer, as an application's registry holds them; counts the resolver's calls.
#[derive(Clone, Default)]
struct Registry {
    tenants: Arc<Mutex<HashMap<String, UserPool>>>,
    calls: Arc<AtomicUsize>,
    /// How long each answer takes.
    delay: Arc<Mutex<Duration>>,
    /// Answer with an error instead.
    failing: Arc<Mutex<bool>>,
}

impl Registry {
    fn enrol(&self, tenant: &TestIssuer) {
        self.tenants
            .lock()
            .unwrap()
            .insert(tenant.issuer(), tenant.user_pool());
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn resolver(&self) -> impl Fn(String) -> ResolveFuture + Send + Sync + 'static {
        let registry = self.clone();
        move |issuer: String| {
            let registry = registry.clone();
            Box::pin(async move {
                registry.calls.fetch_add(1, Ordering::SeqCst);
                let delay = *registry.delay.lock().unwrap();
                tokio::time::sleep(delay).await;
                if *registry.failing.lock().unwrap() {
                    return Err("the tenant registry is down".into());
                }
                Ok(registry.tenants.lock().unwrap().get(&issuer).cloned())
            })
        }
    }
}

/// An issuer URL from which `{iss}/.well-known/jwks.json` is `server`'s live JWKS URL: what a
/// verifier that fetched keys from the token's `iss` would ask.
fn trap_issuer(server: &TestIssuer) -> String {
    format!("http://{}/{}", server.addr(), server.pool_id())
}

async fn tenant(n: u32) -> TestIssuer {
    TestIssuer::start_with(&format!("eu-west-1_Tenant{n:04}"), &format!("client-{n}")).await
}

/// A verifier trusting `first` at start, asking `registry` about other issuers.
async fn resolving_verifier(first: &TestIssuer, registry: &Registry) -> CognitoVerifier {
    first
        .verifier_builder()
        .fetch_timeout(FETCH_TIMEOUT)
        .pool_resolver(registry.resolver())
        .pool_resolver_rate(5, Duration::from_secs(1))
        .build()
        .await
        .expect("verifier")
}

#[tokio::test]
async fn an_added_pool_is_trusted_at_once_and_a_removed_one_refused_also_from_the_cache() {
    let first = tenant(1).await;
    let second = tenant(2).await;
    let verifier = first
        .verifier_builder()
        .refresh_interval(Duration::from_millis(200))
        .min_refresh_interval(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    let token = second.access_token().sign();
    assert_eq!(
        kind(verifier.verify_access(&token).await),
        ErrorKind::InvalidIssuer
    );
    assert_eq!(
        second.jwks_requests(),
        0,
        "a foreign issuer never causes a fetch"
    );

    verifier.add_pool(second.user_pool()).await.unwrap();
    assert_eq!(verifier.pool_ids(), [first.pool_id(), second.pool_id()]);
    assert!(verifier.verify_access(&token).await.is_ok());
    assert!(verifier.verify_access(&token).await.is_ok(), "a cache hit");
    assert_eq!(verifier.status().cached_tokens, 1);
    assert_eq!(verifier.status().pools.len(), 2);
    // Its keys are refreshed in the background like the others'.
    let before = second.jwks_requests();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(second.jwks_requests() > before, "the added pool refreshes");

    assert!(verifier.remove_pool(second.pool_id()));
    assert!(!verifier.remove_pool(second.pool_id()), "gone already");
    assert_eq!(
        verifier.status().cached_tokens,
        0,
        "its cached tokens are dropped"
    );
    assert_eq!(
        kind(verifier.verify_access(&token).await),
        ErrorKind::InvalidIssuer
    );
    assert_eq!(
        kind(verifier.verify_access_sync(&token)),
        ErrorKind::InvalidIssuer
    );
    assert_eq!(verifier.pool_ids(), [first.pool_id()]);
    // Its background refresh ends (a fetch in flight may still land).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_removal = second.jwks_requests();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        second.jwks_requests(),
        after_removal,
        "no refresh after removal"
    );
    // The first pool is untouched.
    assert!(
        verifier
            .verify_access(&first.access_token().sign())
            .await
            .is_ok()
    );
}

/// A token cached by a pool stays refused after the pool is removed and added again with other
/// keys: a cache entry belongs to the pool that verified it.
#[tokio::test]
async fn a_pool_added_again_does_not_trust_the_old_pools_cached_tokens() {
    let first = tenant(3).await;
    let second = tenant(4).await;
    let verifier = common::verifier(&first).await;
    verifier.add_pool(second.user_pool()).await.unwrap();
    let token = second.access_token().sign();
    assert!(verifier.verify_access(&token).await.is_ok());
    verifier.remove_pool(second.pool_id());
    // The same pool id, served by another key server with other keys.
    let impostor = TestIssuer::start_with(second.pool_id(), second.client_id()).await;
    verifier.add_pool(impostor.user_pool()).await.unwrap();
    assert_eq!(
        kind(verifier.verify_access(&token).await),
        ErrorKind::UnknownKeyId
    );
}

#[tokio::test]
async fn adding_a_pool_checks_it_against_the_others_and_loads_its_keys_first() {
    let first = tenant(5).await;
    let verifier = first
        .verifier_builder()
        .fetch_timeout(FETCH_TIMEOUT)
        .max_pools(2)
        .build()
        .await
        .unwrap();
    let again = verifier.add_pool(first.user_pool()).await.unwrap_err();
    assert!(
        matches!(again, ConfigError::DuplicateUserPool(_)),
        "{again}"
    );
    let same_issuer = UserPool::new("eu-west-1_Other")
        .any_client()
        .issuer(first.issuer())
        .jwks_url(first.jwks_url());
    let error = verifier.add_pool(same_issuer).await.unwrap_err();
    assert!(matches!(error, ConfigError::DuplicateIssuer(_)), "{error}");
    let invalid = verifier
        .add_pool(UserPool::new("not a pool").any_client())
        .await;
    assert!(matches!(invalid, Err(ConfigError::InvalidUserPoolId(_))));

    let down = tenant(6).await;
    down.set_fault(Some(JwksFault::Status(500)));
    let error = verifier.add_pool(down.user_pool()).await.unwrap_err();
    assert!(matches!(error, ConfigError::InitialFetch { .. }), "{error}");
    assert_eq!(
        verifier.pool_ids(),
        [first.pool_id()],
        "not added without keys"
    );

    verifier
        .add_pool(tenant(7).await.user_pool())
        .await
        .unwrap();
    let full = verifier
        .add_pool(tenant(8).await.user_pool())
        .await
        .unwrap_err();
    assert!(matches!(full, ConfigError::TooManyPools(2)), "{full}");
}

#[tokio::test]
async fn the_resolver_adds_the_pools_the_registry_knows_and_refuses_others_without_a_fetch() {
    let first = tenant(10).await;
    let known = tenant(11).await;
    let unknown = tenant(12).await;
    let registry = Registry::default();
    registry.enrol(&known);
    let verifier = resolving_verifier(&first, &registry).await;

    assert!(
        verifier
            .verify_access(&known.access_token().sign())
            .await
            .is_ok()
    );
    assert_eq!(registry.calls(), 1);
    assert!(verifier.verify_id(&known.id_token().sign()).await.is_ok());
    assert_eq!(registry.calls(), 1, "a known pool needs no call");
    assert!(verifier.pool_ids().contains(&known.pool_id().to_owned()));

    let refused = unknown.access_token().sign();
    assert_eq!(
        kind(verifier.verify_access(&refused).await),
        ErrorKind::InvalidIssuer
    );
    assert_eq!(
        kind(verifier.verify_access(&refused).await),
        ErrorKind::InvalidIssuer
    );
    assert_eq!(registry.calls(), 2, "a refusal is remembered");
    assert_eq!(
        unknown.jwks_requests(),
        0,
        "a refused issuer is never fetched from"
    );

    // The synchronous path never calls the resolver.
    let third = tenant(13).await;
    registry.enrol(&third);
    assert_eq!(
        kind(verifier.verify_access_sync(&third.access_token().sign())),
        ErrorKind::InvalidIssuer
    );
    assert_eq!(registry.calls(), 2);

    // A registry that answers with a pool that does not accept the issuer asked about.
    let liar = tenant(14).await;
    registry
        .tenants
        .lock()
        .unwrap()
        .insert(liar.issuer(), first.user_pool());
    assert_eq!(
        kind(verifier.verify_access(&liar.access_token().sign()).await),
        ErrorKind::InvalidIssuer
    );
    assert_eq!(liar.jwks_requests(), 0);
}

/// 2,000 concurrent tokens naming random issuers: at most the documented number of resolver
/// calls (`calls + calls × seconds / per`), no key fetch, and a known pool's tokens answered
/// meanwhile. 300 concurrent tokens of one new tenant share one call.
#[tokio::test]
async fn a_flood_of_unknown_issuers_causes_a_bounded_number_of_resolver_calls() {
    let first = tenant(20).await;
    let registry = Registry::default();
    *registry.delay.lock().unwrap() = Duration::from_millis(50);
    let verifier = resolving_verifier(&first, &registry).await;
    let trap = tenant(22).await;
    let key = first.signing_key();
    let started = Instant::now();
    let flood: Vec<_> = (0..2_000)
        .map(|i| {
            // Every tenth names a live key server as its `iss`, the others random pools.
            let issuer = if i % 10 == 0 {
                trap_issuer(&trap)
            } else {
                format!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Random{i}")
            };
            let token = first
                .access_token()
                .issuer(&issuer)
                .signed_with(&key)
                .sign();
            let verifier = verifier.clone();
            tokio::spawn(async move { verifier.verify_access(&token).await.map(|_| ()) })
        })
        .collect();
    let good = first.access_token().sign();
    for _ in 0..20 {
        assert!(
            verifier.verify_access(&good).await.is_ok(),
            "known pools keep working"
        );
    }
    for task in flood {
        // Refused by the resolver (401), or past its rate (503: maybe a tenant, retry later).
        let kind = kind(task.await.unwrap());
        assert!(
            matches!(kind, ErrorKind::InvalidIssuer | ErrorKind::KeysUnavailable),
            "{kind:?}"
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    let bound = 5.0 + 5.0 * seconds;
    assert!(
        (registry.calls() as f64) <= bound.ceil(),
        "{} calls in {seconds:.2} s, bound {bound:.1}",
        registry.calls()
    );
    assert_eq!(verifier.pool_ids(), [first.pool_id()]);
    assert_eq!(first.jwks_requests(), 1, "no fetch for any refused issuer");
    assert_eq!(
        trap.jwks_requests(),
        0,
        "nothing fetched from a token's iss"
    );

    // One new tenant, many concurrent tokens: one call, every token accepted.
    tokio::time::sleep(Duration::from_secs(1)).await; // the bucket refills
    let newcomer = tenant(21).await;
    registry.enrol(&newcomer);
    let calls_before = registry.calls();
    let token = newcomer.access_token().sign();
    let same: Vec<_> = (0..300)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), token.clone());
            tokio::spawn(async move { verifier.verify_access(&token).await.map(|_| ()) })
        })
        .collect();
    for task in same {
        task.await.unwrap().unwrap();
    }
    assert_eq!(registry.calls(), calls_before + 1, "one shared call");
    assert_eq!(newcomer.jwks_requests(), 1, "one first fetch");
}

/// A resolver that fails or hangs answers 503 within its bound, and is asked again later.
#[tokio::test]
async fn a_failing_or_hanging_resolver_answers_503_and_is_asked_again() {
    let first = tenant(30).await;
    let later = tenant(31).await;
    let registry = Registry::default();
    registry.enrol(&later);
    let verifier = resolving_verifier(&first, &registry).await;
    let token = later.access_token().sign();

    *registry.failing.lock().unwrap() = true;
    assert_eq!(
        kind(verifier.verify_access(&token).await),
        ErrorKind::KeysUnavailable
    );
    *registry.failing.lock().unwrap() = false;

    *registry.delay.lock().unwrap() = Duration::from_secs(30);
    let started = Instant::now();
    assert_eq!(
        kind(verifier.verify_access(&token).await),
        ErrorKind::KeysUnavailable
    );
    assert!(
        started.elapsed() < FETCH_TIMEOUT * 2,
        "bounded by the fetch timeout"
    );

    *registry.delay.lock().unwrap() = Duration::ZERO;
    assert!(
        verifier.verify_access(&token).await.is_ok(),
        "asked again, and added"
    );
    assert_eq!(registry.calls(), 3);
}

/// The layer's path: a token of a pool the resolver adds gets through, and a verifier with no
/// pool at start works as a purely multi-tenant one.
#[tokio::test]
async fn the_layer_verifies_tokens_of_resolved_pools() {
    async fn sub(claims: CognitoClaims<Access>) -> String {
        claims.sub.clone()
    }
    let known = tenant(40).await;
    let registry = Registry::default();
    registry.enrol(&known);
    let verifier = CognitoVerifier::builder()
        .without_initial_pools()
        .pool_resolver(registry.resolver())
        .token_use(TokenUse::Access)
        .build()
        .await
        .unwrap();
    assert!(verifier.is_usable(), "no pool yet, nothing unusable");
    let app = Router::new()
        .route("/me", get(sub))
        .layer(CognitoAuthLayer::new(verifier.clone()));
    let reply = call(
        &app,
        with_token("/me", &known.access_token().sub("u-1").sign()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, "u-1");
    let stranger = tenant(41).await;
    let reply = call(&app, with_token("/me", &stranger.access_token().sign())).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let none = CognitoVerifier::builder()
        .token_use(TokenUse::Access)
        .build()
        .await;
    assert!(matches!(none, Err(ConfigError::NoUserPool)));
}
