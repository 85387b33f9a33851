//! The places around the verifier that an audit found open: a token taken from another
//! verifier, a key store wedged by a fetch that died, configuration and environment that change
//! whom the crate trusts. Each test failed before its fix.

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Extension, Router, routing::get};
use axum_cognito::{
    Access, CognitoAuthLayer, CognitoClaims, CognitoVerifier, ConfigError, UserPool, VerifiedToken,
    test_util::{JwksFault, TestIssuer},
};
use common::{anonymous, call, start_server, with_token};
use http::StatusCode;

async fn sub(claims: CognitoClaims<Access>) -> String {
    claims.sub.clone()
}

// ---------------------------------------------------------------------------------------------
// 1. A token verified by one verifier is never taken by another
// ---------------------------------------------------------------------------------------------

/// A customer pool and a staff pool, each with its own verifier.
async fn two_pools() -> (TestIssuer, TestIssuer, CognitoVerifier, CognitoVerifier) {
    let customers = TestIssuer::start_with("eu-west-1_Customers", "shop").await;
    let staff = TestIssuer::start_with("eu-west-1_Staff", "backoffice").await;
    let customer_verifier = customers.verifier_builder().build().await.unwrap();
    let staff_verifier = staff.verifier_builder().build().await.unwrap();
    (customers, staff, customer_verifier, staff_verifier)
}

#[tokio::test]
async fn a_nested_router_with_its_own_verifier_does_not_take_the_outer_layers_token() {
    let (customers, staff, customer_verifier, staff_verifier) = two_pools().await;
    let staff_routes = Router::new()
        .route("/orders", get(sub))
        .layer(axum::Extension(staff_verifier));
    let app = Router::new()
        .route("/shop", get(sub))
        .nest("/staff", staff_routes)
        .layer(CognitoAuthLayer::new(customer_verifier).optional());

    let customer = customers.access_token().sub("customer-1").sign();
    let employee = staff.access_token().sub("employee-1").sign();
    let reply = call(&app, with_token("/shop", &customer)).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "customer-1")
    );
    // The outer layer verified the customer's token; the staff extractor verifies it again with
    // the staff verifier, which does not trust the customer pool.
    let reply = call(&app, with_token("/staff/orders", &customer)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert_eq!(call(&app, anonymous("/staff/orders")).await.status, 401);
    // A staff token is no token of the optional customer layer's pools: it passes on, and the
    // staff router's own verifier takes it (issue 22, finding 13).
    let reply = call(&app, with_token("/staff/orders", &employee)).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "employee-1")
    );
}

/// Issue 22, finding 13: an optional layer passes a token whose issuer none of its pools accept
/// on to the routes below, unverified and without claims; there, only a verifier that trusts
/// its issuer lets it in. Its own pools' bad tokens are still refused at the layer.
#[tokio::test]
async fn an_optional_layer_passes_a_foreign_token_on_unverified() {
    let (customers, staff, customer_verifier, staff_verifier) = two_pools().await;
    async fn maybe(claims: Option<CognitoClaims<Access>>) -> String {
        claims.map_or("anonymous".into(), |c| c.sub.clone())
    }
    let app = Router::new()
        .route("/shop", get(sub))
        .route("/maybe", get(maybe))
        .nest(
            "/staff",
            Router::new()
                .route("/orders", get(sub))
                .layer(Extension(staff_verifier)),
        )
        .layer(CognitoAuthLayer::new(customer_verifier).optional());
    let employee = staff.access_token().sub("employee-1").sign();
    assert_eq!(
        call(&app, with_token("/staff/orders", &employee))
            .await
            .status,
        200
    );
    // Below the layer, a customer route does not trust the staff pool: 401, for an optional
    // extractor too (a token was sent, and it is not one of theirs).
    assert_eq!(call(&app, with_token("/shop", &employee)).await.status, 401);
    assert_eq!(
        call(&app, with_token("/maybe", &employee)).await.status,
        401
    );
    assert_eq!(call(&app, anonymous("/maybe")).await.body, "anonymous");
    // A token of the layer's own pool that fails is refused at the layer, wherever it goes.
    let expired = customers.access_token().expired().sign();
    assert_eq!(
        call(&app, with_token("/staff/orders", &expired))
            .await
            .status,
        401
    );
    let customer = customers.access_token().sub("customer-1").sign();
    assert_eq!(
        call(&app, with_token("/maybe", &customer)).await.body,
        "customer-1"
    );
    assert_eq!(
        call(&app, with_token("/staff/orders", &customer))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn an_extension_verifier_does_not_take_a_token_of_another_layer() {
    let (customers, _staff, customer_verifier, staff_verifier) = two_pools().await;
    let app = Router::new()
        .route("/orders", get(sub))
        .layer(Extension(staff_verifier))
        .layer(CognitoAuthLayer::new(customer_verifier));
    let customer = customers.access_token().sign();
    assert_eq!(
        call(&app, with_token("/orders", &customer)).await.status,
        401
    );
}

#[tokio::test]
async fn stacked_layers_of_different_verifiers_each_verify() {
    let (customers, _staff, customer_verifier, staff_verifier) = two_pools().await;
    let app = Router::new()
        .route(
            "/orders",
            get(|token: VerifiedToken| async move { token.sub().to_owned() }),
        )
        .layer(CognitoAuthLayer::new(staff_verifier))
        .layer(CognitoAuthLayer::new(customer_verifier));
    let customer = customers.access_token().sign();
    assert_eq!(
        call(&app, with_token("/orders", &customer)).await.status,
        401
    );
}

/// A verifier's identity is not an address: a verifier built after another was dropped never
/// takes the dropped one's tokens as its own.
#[tokio::test]
async fn a_later_verifier_never_takes_a_dropped_verifiers_token() {
    let issuer = TestIssuer::start().await;
    let token = issuer.access_token().sign();
    for _ in 0..20 {
        let stolen: Arc<Mutex<Option<VerifiedToken>>> = Arc::default();
        {
            let first = issuer.verifier_builder().build().await.unwrap();
            let keep = stolen.clone();
            let app = Router::new()
                .route(
                    "/",
                    get(move |token: VerifiedToken| async move {
                        *keep.lock().unwrap() = Some(token);
                    }),
                )
                .layer(CognitoAuthLayer::new(first));
            assert_eq!(call(&app, with_token("/", &token)).await.status, 200);
        }
        let stolen = stolen.lock().unwrap().take().unwrap();
        // Built the same way right after: its allocation may land where the first one's was.
        let second = issuer.verifier_builder().build().await.unwrap();
        let app = Router::new()
            .route("/", get(|| async { "in" }))
            .layer(CognitoAuthLayer::new(second))
            .layer(Extension(stolen));
        assert_eq!(call(&app, anonymous("/")).await.status, 401);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. A fetch that dies never wedges the key store
// ---------------------------------------------------------------------------------------------

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The issuer serves from a runtime of its own, which outlives the verifier's runtimes.
fn issuer_on_its_own_runtime() -> (tokio::runtime::Runtime, TestIssuer) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let issuer = runtime.block_on(TestIssuer::start());
    (runtime, issuer)
}

#[test]
fn a_fetch_cancelled_with_its_runtime_does_not_wedge_the_store() {
    let (_issuer_runtime, issuer) = issuer_on_its_own_runtime();
    issuer.set_fault(Some(JwksFault::Hang));
    let first = runtime();
    let verifier = first.block_on(async {
        let verifier = issuer.verifier_builder().build_lazy().unwrap();
        // The background task's first fetch is now hanging on the issuer.
        assert!(
            common::eventually(Duration::from_secs(5), async || issuer.jwks_requests() >= 1).await
        );
        verifier
    });
    drop(first); // cancels the fetch in flight
    issuer.set_fault(None);
    let second = runtime();
    second.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), verifier.refresh())
            .await
            .expect("a refresh that ends")
            .expect("a refresh that does not join the cancelled fetch");
        assert!(verifier.is_usable());
        assert!(verifier.verify_sync(&issuer.access_token().sign()).is_ok());
    });
}

#[test]
fn a_verifier_whose_runtime_was_dropped_refreshes_on_the_next() {
    let (_issuer_runtime, issuer) = issuer_on_its_own_runtime();
    let first = runtime();
    let verifier = first.block_on(async {
        issuer
            .verifier_builder()
            .refresh_interval(Duration::from_millis(100))
            .min_refresh_interval(Duration::from_millis(100))
            .build()
            .await
            .unwrap()
    });
    assert!(verifier.status().pools[0].refreshing_in_background);
    drop(first); // the background task goes with it
    let status = verifier.status();
    assert!(
        !status.pools[0].refreshing_in_background,
        "the status says so"
    );
    let fetches = status.pools[0].fetches;
    let second = runtime();
    second.block_on(async {
        // A verification needs the keys: it starts the refresh again on this runtime.
        assert!(verifier.verify_sync(&issuer.access_token().sign()).is_ok());
        let refreshed = common::eventually(Duration::from_secs(5), async || {
            verifier.status().pools[0].fetches >= fetches + 3
        })
        .await;
        assert!(refreshed, "{:?}", verifier.status());
        assert!(verifier.status().pools[0].refreshing_in_background);
    });
}

#[tokio::test]
async fn a_hundred_failures_with_unbounded_backoff_then_recovery() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer
        .verifier_builder()
        .retry_backoff(Duration::from_secs(1), Duration::MAX)
        .build()
        .await
        .unwrap();
    issuer.set_fault(Some(JwksFault::Status(500)));
    for _ in 0..100 {
        assert!(verifier.refresh().await.is_err());
    }
    assert_eq!(verifier.status().pools[0].consecutive_failures, 100);
    issuer.set_fault(None);
    verifier.refresh().await.unwrap();
    assert_eq!(verifier.status().pools[0].consecutive_failures, 0);
    assert!(verifier.verify_sync(&issuer.access_token().sign()).is_ok());
}

#[tokio::test]
async fn timeouts_and_backoff_out_of_range_are_refused() {
    let issuer = TestIssuer::start().await;
    for (setting, builder) in [
        (
            "fetch_timeout",
            issuer.verifier_builder().fetch_timeout(Duration::MAX),
        ),
        (
            "first retry over the longest",
            issuer
                .verifier_builder()
                .retry_backoff(Duration::from_secs(1 << 63), Duration::from_secs(60)),
        ),
    ] {
        let result = builder.build().await;
        assert!(
            matches!(result, Err(ConfigError::InvalidSetting(_))),
            "{setting}: {result:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Configuration and environment that change whom the crate trusts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_pools_accepting_one_issuer_are_refused() {
    let a = TestIssuer::start_with("eu-west-1_PoolA", "a").await;
    let b = TestIssuer::start_with("eu-west-1_PoolB", "b").await;
    let shared = "https://issuer.example/shared";
    let result = CognitoVerifier::builder()
        .user_pool(a.user_pool().issuer(shared))
        .user_pool(b.user_pool().issuer(shared))
        .any_token_use()
        .build()
        .await;
    assert!(
        matches!(&result, Err(ConfigError::DuplicateIssuer(issuer)) if issuer == shared),
        "{result:?}"
    );
}

#[tokio::test]
async fn plain_http_jwks_urls_are_for_loopback_hosts_only() {
    let pool = |url: &str| UserPool::new("eu-west-1_PoolA").any_client().jwks_url(url);
    for url in [
        "http://keys.example/jwks.json",
        "http://10.0.0.1/jwks.json",
        "http://user:secret@keys.example/jwks.json",
    ] {
        let result = CognitoVerifier::builder()
            .user_pool(pool(url))
            .any_token_use()
            .build_lazy();
        match result {
            Err(ConfigError::PlainHttpJwksUrl { url: shown, .. }) => {
                assert!(!shown.contains("secret"), "{shown}");
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    for url in [
        "http://127.0.0.1:9/jwks.json",
        "http://127.8.9.10:9/jwks.json",
        "http://[::1]:9/jwks.json",
        "http://localhost:9/jwks.json",
        "https://keys.example/jwks.json",
    ] {
        let result = CognitoVerifier::builder()
            .user_pool(pool(url))
            .any_token_use()
            .build_lazy();
        assert!(result.is_ok(), "{url}: {result:?}");
    }
    let allowed = CognitoVerifier::builder()
        .user_pool(pool("http://keys.example/jwks.json"))
        .any_token_use()
        .allow_plain_http_jwks()
        .build_lazy();
    assert!(allowed.is_ok(), "{allowed:?}");
}

#[tokio::test]
async fn the_status_never_shows_jwks_credentials() {
    let issuer = TestIssuer::start().await;
    let url = issuer
        .jwks_url()
        .replacen("http://", "http://alice:s3cret@", 1);
    let verifier = CognitoVerifier::builder()
        .user_pool(UserPool::new(issuer.pool_id()).any_client().jwks_url(url))
        .any_token_use()
        .build()
        .await
        .unwrap();
    let status = serde_json::to_string(&verifier.status()).unwrap();
    assert!(
        !status.contains("s3cret") && !status.contains("alice"),
        "{status}"
    );
    issuer.stop().await;
    let error = verifier.refresh().await.unwrap_err();
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(!cause.contains("s3cret"), "{cause}");
    let status = serde_json::to_string(&verifier.status()).unwrap();
    assert!(!status.contains("s3cret"), "{status}");
}

/// `HTTP_PROXY` in the environment does not decide who serves the keys: an attacker's proxy
/// that answers every request with its own key set is not used.
#[tokio::test]
async fn the_environments_proxy_is_not_used_for_the_keys() {
    let issuer = TestIssuer::start().await;
    // The attacker's "proxy": the same pool id and client, other keys, answering any path.
    let attacker = TestIssuer::start_with(issuer.pool_id(), issuer.client_id()).await;
    let proxy = format!("http://{}", attacker.addr());
    let (mut server, addr) = start_server(&[
        ("COGNITO_USER_POOL_ID", issuer.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", issuer.client_id().to_owned()),
        ("COGNITO_JWKS_URL", issuer.jwks_url()),
        ("HTTP_PROXY", proxy.clone()),
        ("http_proxy", proxy.clone()),
        ("ALL_PROXY", proxy),
    ])
    .await
    .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = async |token: &str| {
        client
            .get(format!("http://{addr}/access"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(get(&attacker.access_token().sign()).await, 401);
    assert_eq!(get(&issuer.access_token().sign()).await, 200);
    assert_eq!(attacker.jwks_requests(), 0, "the proxy was never asked");
    server.kill().await.unwrap();
}

#[tokio::test]
async fn an_explicit_proxy_is_used() {
    let issuer = TestIssuer::start().await;
    let proxy = TestIssuer::start_with(issuer.pool_id(), issuer.client_id()).await;
    let verifier = issuer
        .verifier_builder()
        .proxy(format!("http://{}", proxy.addr()))
        .build()
        .await
        .unwrap();
    assert!(proxy.jwks_requests() >= 1);
    assert!(verifier.verify_sync(&proxy.access_token().sign()).is_ok());
}

#[tokio::test]
async fn the_server_refuses_several_pools_sharing_one_jwks_url() {
    let issuer = TestIssuer::start().await;
    let result = start_server(&[
        (
            "COGNITO_USER_POOL_ID",
            "eu-west-1_PoolA,eu-west-1_PoolB".into(),
        ),
        ("COGNITO_CLIENT_IDS", "c".into()),
        ("COGNITO_JWKS_URL", issuer.jwks_url()),
    ])
    .await;
    let error = result.expect_err("refused");
    assert!(error.starts_with("exit Some(2)"), "{error}");
    assert!(
        error.contains("COGNITO_JWKS_URL") && error.contains("{pool}"),
        "{error}"
    );
}

#[tokio::test]
async fn every_server_configuration_error_names_its_variable() {
    let issuer = TestIssuer::start().await;
    let base = |pool: &str, clients: &str, url: String| {
        vec![
            ("COGNITO_USER_POOL_ID", pool.to_owned()),
            ("COGNITO_CLIENT_IDS", clients.to_owned()),
            ("COGNITO_JWKS_URL", url),
        ]
    };
    let cases = [
        (
            "COGNITO_USER_POOL_ID",
            base("not-a-pool", "c", issuer.jwks_url()),
        ),
        (
            "COGNITO_CLIENT_IDS",
            base(issuer.pool_id(), "a,,b", issuer.jwks_url()),
        ),
        (
            "COGNITO_JWKS_URL",
            base(issuer.pool_id(), "c", "ftp://x/{pool}".into()),
        ),
        (
            "COGNITO_JWKS_URL",
            base(issuer.pool_id(), "c", "http://keys.example/{pool}".into()),
        ),
        (
            "COGNITO_REFRESH_SECS",
            [
                base(issuer.pool_id(), "c", issuer.jwks_url()),
                vec![("COGNITO_REFRESH_SECS", "0".into())],
            ]
            .concat(),
        ),
        (
            "COGNITO_USER_POOL_ID",
            base(
                &format!("{0},{0}", issuer.pool_id()),
                "c",
                issuer.jwks_url(),
            ),
        ),
    ];
    for (variable, env) in cases {
        let error = start_server(&env).await.expect_err("refused");
        assert!(error.starts_with("exit Some(2)"), "{variable}: {error}");
        assert!(error.contains(variable), "{variable}: {error}");
    }
}

#[tokio::test]
async fn the_servers_healthz_shows_no_credentials() {
    let issuer = TestIssuer::start().await;
    let url = format!(
        "{}?X-Amz-Signature=secret-sig",
        issuer
            .jwks_url()
            .replacen("http://", "http://alice:s3cret@", 1)
    );
    let (mut server, addr) = start_server(&[
        ("COGNITO_USER_POOL_ID", issuer.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", issuer.client_id().to_owned()),
        ("COGNITO_JWKS_URL", url),
    ])
    .await
    .unwrap();
    let get = async |path: &str, token: Option<String>| {
        let mut request = reqwest::Client::new().get(format!("http://{addr}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    // The summary, for anyone: no URL at all (issue 22, finding 12).
    let (status, body) = get("/healthz", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("keys_loaded") && !body.contains("jwks_url"),
        "{body}"
    );
    // The detail, for the admins group only: the URL without its credentials or query.
    assert_eq!(get("/healthz/detail", None).await.0, 401);
    let user = issuer.access_token().sign();
    assert_eq!(get("/healthz/detail", Some(user)).await.0, 403);
    let admin = issuer.access_token().groups(["admins"]).sign();
    let (status, body) = get("/healthz/detail", Some(admin)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("jwks_url") && !body.contains("s3cret") && !body.contains("secret-sig"),
        "{body}"
    );
    server.kill().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// 4. What a custom check's failure may say
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_custom_checks_type_error_quotes_no_claim_value() {
    #[derive(serde::Deserialize)]
    struct Tenant {
        #[allow(dead_code)]
        tenant_id: u64,
    }
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let rules =
        axum_cognito::TokenRequirements::new().custom_check(|_: &Tenant| Ok::<(), String>(()));
    let app = Router::new()
        .route("/", get(|| async { "in" }))
        .layer(CognitoAuthLayer::new(verifier).require(rules).verbose());
    let token = issuer
        .access_token()
        .claim("tenant_id", "alice@example.com")
        .sign();
    let reply = call(&app, with_token("/", &token)).await;
    assert_eq!(reply.status, 401);
    let shown = format!("{} {:?}", reply.body, reply.www_authenticate());
    assert!(shown.contains("Custom claims check failed"), "{shown}");
    assert!(!shown.contains("alice"), "{shown}");
}
