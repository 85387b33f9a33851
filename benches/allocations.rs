//! Heap allocations per verification path, counted with dhat's allocator (issue 15 asks for 0
//! per cache hit through `verify_sync` / `verify_access`, and at most the one the request
//! extensions need through the layer).
//!
//! ```sh
//! cargo bench --bench allocations
//! ```
//!
//! Each path runs 1,000 times after a warm-up; the figure is allocations (blocks) per call.
//! The router rows count a whole `oneshot` request, so the layer's own share is its row minus
//! `router/bare`.

use std::hint::black_box;

use axum::{Router, body::Body, http::Request, routing::get};
use axum_cognito::{Access, CognitoAuthLayer, CognitoClaims, test_util::TestIssuer};
use tower::ServiceExt;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const CALLS: u64 = 1_000;

/// Allocations per call of `operation`, after one warm-up call.
fn per_call(mut operation: impl FnMut()) -> f64 {
    operation();
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..CALLS {
        operation();
    }
    let after = dhat::HeapStats::get().total_blocks;
    (after - before) as f64 / CALLS as f64
}

async fn ok() -> &'static str {
    "ok"
}

async fn with_claims(caller: CognitoClaims<Access>) -> &'static str {
    black_box(&caller);
    "ok"
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let (issuer, cached, uncached) = runtime.block_on(async {
        let issuer = TestIssuer::start().await;
        let cached = issuer.verifier_builder().build().await.expect("verifier");
        let uncached = issuer
            .verifier_builder()
            .token_cache_bytes(0)
            .build()
            .await
            .expect("verifier");
        (issuer, cached, uncached)
    });
    let token = issuer
        .access_token()
        .groups(["us-east-1_TestPool01_Google", "admins", "billing-readers"])
        .scopes([
            "aws.cognito.signin.user.admin",
            "phone",
            "openid",
            "profile",
            "email",
        ])
        .sign();

    let mut rows: Vec<(&str, f64)> = Vec::new();
    rows.push((
        "cache_hit/verify_sync",
        per_call(|| {
            black_box(cached.verify_sync(&token).expect("valid"));
        }),
    ));
    rows.push((
        "cache_hit/verify_access_sync",
        per_call(|| {
            black_box(cached.verify_access_sync(&token).expect("valid"));
        }),
    ));
    rows.push((
        "cache_hit/verify_access",
        per_call(|| {
            black_box(
                runtime
                    .block_on(cached.verify_access(&token))
                    .expect("valid"),
            );
        }),
    ));
    rows.push((
        "uncached/verify_access_sync",
        per_call(|| {
            black_box(uncached.verify_access_sync(&token).expect("valid"));
        }),
    ));

    let authorization = format!("Bearer {token}");
    let request = || {
        Request::get("/")
            .header("authorization", authorization.as_str())
            .body(Body::empty())
            .expect("a request")
    };
    let routes = [
        ("router/bare", Router::new().route("/", get(ok))),
        // A layer that does nothing: what the router's own wrapping of a layered route costs.
        (
            "router/noop_layer",
            Router::new()
                .route("/", get(ok))
                .layer(tower::layer::layer_fn(|inner| inner)),
        ),
        (
            "router/layer",
            Router::new()
                .route("/", get(ok))
                .layer(CognitoAuthLayer::new(cached.clone())),
        ),
        (
            "router/layer_and_extractor",
            Router::new()
                .route("/", get(with_claims))
                .layer(CognitoAuthLayer::new(cached.clone())),
        ),
    ];
    for (name, app) in routes {
        rows.push((
            name,
            per_call(|| {
                let response = runtime
                    .block_on(app.clone().oneshot(request()))
                    .expect("infallible");
                assert_eq!(response.status(), 200);
            }),
        ));
    }

    // The layer around a plain tower service, without the router's own boxing of each layered
    // route: what the layer itself allocates.
    let plain = tower::service_fn(|_: Request<Body>| async {
        Ok::<_, std::convert::Infallible>(axum::response::Response::new(Body::empty()))
    });
    let layered = tower::Layer::layer(&CognitoAuthLayer::new(cached.clone()), plain);
    rows.push((
        "service/bare",
        per_call(|| {
            let response = runtime
                .block_on(plain.oneshot(request()))
                .expect("infallible");
            assert_eq!(response.status(), 200);
        }),
    ));
    rows.push((
        "service/layer",
        per_call(|| {
            let response = runtime
                .block_on(layered.clone().oneshot(request()))
                .expect("infallible");
            assert_eq!(response.status(), 200);
        }),
    ));

    println!("\nallocations per call ({CALLS} calls each)");
    for (name, count) in &rows {
        println!("  {name:<32} {count:>8.2}");
    }
    let bare = rows
        .iter()
        .find(|(n, _)| *n == "router/bare")
        .map_or(0.0, |r| r.1);
    for (name, count) in rows
        .iter()
        .filter(|(n, _)| n.starts_with("router/") && *n != "router/bare")
    {
        println!("  {name:<32} {:>+8.2} over router/bare", count - bare);
    }
    let service = |name: &str| rows.iter().find(|(n, _)| *n == name).map_or(0.0, |r| r.1);
    println!(
        "  {:<32} {:>+8.2} over service/bare",
        "service/layer",
        service("service/layer") - service("service/bare")
    );
}
