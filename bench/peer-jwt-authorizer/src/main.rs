//! `GET /protected` behind jwt-authorizer 0.15, verifying tokens against a JWKS URL, with the
//! same trivial handler as `examples/bench_server.rs`.
//!
//! Usage: `peer-jwt-authorizer JWKS_URL ISSUER ADDR WORKERS`. Prints `listening on ADDR` once
//! serving.

use jwt_authorizer::{Authorizer, IntoLayer, JwtAuthorizer, RegisteredClaims, Validation};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [jwks_url, issuer, addr, workers] = &args[..] else {
        eprintln!("usage: peer-jwt-authorizer JWKS_URL ISSUER ADDR WORKERS");
        std::process::exit(2);
    };
    let workers: usize = workers.parse().expect("WORKERS is a number");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(serve(jwks_url, issuer, addr));
}

async fn serve(jwks_url: &str, issuer: &str, addr: &str) {
    // Cognito access tokens carry `client_id`, not `aud`: the issuer and the expiry are checked.
    let authorizer: Authorizer<RegisteredClaims> = JwtAuthorizer::from_jwks_url(jwks_url)
        .validation(Validation::new().iss(&[issuer]))
        .build()
        .await
        .expect("an authorizer");
    let app = axum::Router::new()
        .route("/protected", axum::routing::get(|| async { "ok" }))
        .layer(authorizer.into_layer());
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    println!(
        "listening on {}",
        listener.local_addr().expect("an address")
    );
    axum::serve(listener, app).await.expect("serve");
}
