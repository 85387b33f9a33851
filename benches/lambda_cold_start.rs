//! Cold start of `examples/lambda.rs`: from spawning the process to the Runtime API receiving
//! its first verified response, with and without a bundled key set, the Runtime API and the
//! key endpoint on 127.0.0.1.
//!
//! `cargo bench --features lambda --bench lambda_cold_start` (it builds the example in release
//! first). Each start verifies an access token in the function (no authorizer).

#[path = "../tests/common/runtime_api.rs"]
mod runtime_api;

use std::time::{Duration, Instant};

use axum_cognito::test_util::{ApiGatewayEvent, TestIssuer};
use runtime_api::{Posted, RuntimeApi};

/// Starts measured per case.
const STARTS: usize = 20;

/// One start: spawn, queue one event, wait for its response.
async fn start(
    api: &mut RuntimeApi,
    env: &[(&str, String)],
    event: &serde_json::Value,
) -> Duration {
    api.invoke("1", event.clone());
    let started = Instant::now();
    let mut function = api.function(env).spawn().expect("the lambda example runs");
    let posted = tokio::time::timeout(Duration::from_secs(30), api.posted.recv()).await;
    let elapsed = started.elapsed();
    match posted {
        Ok(Some(Posted::Response(_, response))) => assert_eq!(response["statusCode"], 200),
        other => panic!("no response: {other:?}"),
    }
    function.kill().await.unwrap();
    elapsed
}

fn build_example() {
    let status = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--features",
            "lambda",
            "--example",
            "lambda",
        ])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the lambda example builds");
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo test --benches` lists targets; nothing to list here.
    }
    build_example();
    let issuer = TestIssuer::start().await;
    let dir = std::env::temp_dir().join(format!("axum-cognito-cold-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwks.json");
    std::fs::write(&file, issuer.jwks_json()).unwrap();
    let token = issuer.access_token().sign();
    let event =
        issuer.api_gateway_event(ApiGatewayEvent::HttpNoAuthorizer, "GET", "/access", &token);
    let base = vec![
        ("COGNITO_USER_POOL_ID", issuer.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", issuer.client_id().to_owned()),
        ("COGNITO_JWKS_URL", issuer.jwks_url()),
    ];
    let mut bundled = base.clone();
    bundled.push(("COGNITO_JWKS_FILE", file.display().to_string()));
    let mut api = RuntimeApi::start().await;
    for (name, env) in [
        ("bundled key set (COGNITO_JWKS_FILE)", &bundled),
        ("keys fetched from 127.0.0.1", &base),
    ] {
        start(&mut api, env, &event).await; // warm the page cache
        let mut times = Vec::with_capacity(STARTS);
        for _ in 0..STARTS {
            times.push(start(&mut api, env, &event).await);
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name}: median {:.1} ms, min {:.1} ms, max {:.1} ms ({STARTS} starts)",
            ms(times[STARTS / 2]),
            ms(times[0]),
            ms(times[STARTS - 1]),
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}
