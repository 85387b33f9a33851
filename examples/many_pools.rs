//! What a verifier of many pools costs: resident memory and time to set up 1,000 pools
//! (a multi-tenant service at `max_pools`), each with its own key store and background task.
//!
//! `cargo run --release --example many_pools` (the key URLs point at a closed local port, so
//! the first fetches fail at once and are retried later; nothing leaves the machine).

use std::time::{Duration, Instant};

use axum_cognito::{CognitoVerifier, UserPool};

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS"))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    const POOLS: usize = 1_000;
    let before = resident_kib();
    let started = Instant::now();
    let mut builder = CognitoVerifier::builder()
        .any_token_use()
        .any_client()
        .max_pools(POOLS)
        .retry_backoff(Duration::from_secs(600), Duration::from_secs(600));
    for i in 0..POOLS {
        let pool = UserPool::new(format!("eu-west-1_Tenant{i:04}")).jwks_url(format!(
            "https://127.0.0.1:9/eu-west-1_Tenant{i:04}/.well-known/jwks.json"
        ));
        builder = builder.user_pool(pool);
    }
    let verifier = builder.build_lazy().expect("valid configuration");
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "{POOLS} pools: set up in {took:?}, {} KiB more resident after their first fetches",
        resident_kib().saturating_sub(before)
    );
    assert_eq!(verifier.pool_ids().len(), POOLS);
}
