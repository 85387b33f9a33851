//! The server `scripts/bench-http.sh` loads: a local issuer, its tokens written to files, and
//! the same trivial route bare and behind the layer.
//!
//! ```sh
//! cargo run --release --example bench_server -- OUT_DIR ADDR WORKERS TOKENS
//! ```
//!
//! Writes into `OUT_DIR`: `jwks_url`, `issuer`, `pool_id`, `client_id`, `token` (one valid
//! access token, about 1.2 KB, as Cognito's hosted UI issues them) and `tokens` (`TOKENS`
//! distinct valid access tokens of the same shape, one a line; minting takes about 1 ms each
//! per core). Then serves on `ADDR` (`127.0.0.1:0` picks a port) with `WORKERS` Tokio worker
//! threads, and prints `listening on ADDR`:
//!
//! - `GET /bare`: the handler alone;
//! - `GET /protected`: the same handler behind [`CognitoAuthLayer`] (default verifier: cache
//!   on, 16 MiB);
//! - `GET /claims`: behind the layer, with a `CognitoClaims<Access>` handler argument;
//! - `GET /uncached`: the handler behind a layer whose verifier has the token cache off, so
//!   that every request is verified in full (as jwt-authorizer verifies every request).
//!
//! The issuer's JWKS is served on another loopback port of the same process, for peers that
//! verify the same tokens. Runs until killed.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, thread};

use axum::{Router, routing::get};
use axum_cognito::{
    Access, CognitoAuthLayer, CognitoClaims, CognitoVerifier, test_util::TestIssuer,
};

/// The shape of a hosted-UI access token: user, groups, OAuth scopes.
fn access_token(issuer: &TestIssuer) -> String {
    issuer
        .access_token()
        .username("8f1c2a6e-3b7d-4e59-a0c4-9d2e7b6f1a35")
        .groups(["us-east-1_TestPool01_Google", "admins", "billing-readers"])
        .scopes([
            "aws.cognito.signin.user.admin",
            "phone",
            "openid",
            "profile",
            "email",
        ])
        .sign()
}

/// `count` distinct tokens (each has its own `sub`, `jti` and signature), minted on every core.
fn mint(issuer: &TestIssuer, count: usize) -> Vec<String> {
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    thread::scope(|scope| {
        let minting: Vec<_> = (0..threads)
            .map(|i| {
                let share = count / threads + usize::from(i < count % threads);
                scope.spawn(move || (0..share).map(|_| access_token(issuer)).collect::<Vec<_>>())
            })
            .collect();
        minting
            .into_iter()
            .flat_map(|t| t.join().expect("a minting thread"))
            .collect()
    })
}

async fn ok() -> &'static str {
    "ok"
}

async fn with_claims(caller: CognitoClaims<Access>) -> &'static str {
    // Read a claim, as a handler would.
    if caller.username.is_some() {
        "ok"
    } else {
        "m2m"
    }
}

struct Args {
    out: PathBuf,
    addr: SocketAddr,
    workers: usize,
    tokens: usize,
}

fn args() -> Option<Args> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, addr, workers, tokens] = &args[..] else {
        return None;
    };
    Some(Args {
        out: out.into(),
        addr: addr.parse().ok()?,
        workers: workers.parse().ok()?,
        tokens: tokens.parse().ok()?,
    })
}

fn main() -> ExitCode {
    let Some(args) = args() else {
        eprintln!("usage: bench_server OUT_DIR ADDR WORKERS TOKENS");
        return ExitCode::from(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.max(1))
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench_server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let issuer = TestIssuer::start().await;
    let verifier = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .any_token_use()
        .build()
        .await?;

    let minted = {
        let issuer = issuer.clone();
        tokio::task::spawn_blocking(move || mint(&issuer, args.tokens)).await?
    };
    std::fs::create_dir_all(&args.out)?;
    let write = |name: &str, text: String| std::fs::write(args.out.join(name), text + "\n");
    write("jwks_url", issuer.jwks_url())?;
    write("issuer", issuer.issuer())?;
    write("pool_id", issuer.pool_id().to_owned())?;
    write("client_id", issuer.client_id().to_owned())?;
    write("token", access_token(&issuer))?;
    write("tokens", minted.join("\n"))?;

    // The same checks with the token cache off: every request verified in full.
    let uncached = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .any_token_use()
        .token_cache_bytes(0)
        .build()
        .await?;
    let every_request_verified = Router::new()
        .route("/uncached", get(ok))
        .route_layer(CognitoAuthLayer::new(uncached));
    let app = Router::new()
        .route("/protected", get(ok))
        .route("/claims", get(with_claims))
        .route_layer(CognitoAuthLayer::new(verifier))
        .merge(every_request_verified)
        .route("/bare", get(ok));
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
