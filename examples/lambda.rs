//! A Lambda function behind API Gateway (`lambda_http::run`) serving the routes and JSON bodies
//! of `examples/server.rs`, configured only from the environment. Needs the `lambda` feature:
//! `cargo build --release --features lambda --example lambda`.
//!
//! | variable | meaning |
//! |---|---|
//! | `COGNITO_USER_POOL_ID` | required, e.g. `eu-west-1_AbC123456` |
//! | `COGNITO_CLIENT_IDS` | required, comma-separated app client ids |
//! | `COGNITO_JWKS_URL` | optional, where to fetch the keys (emulators, tests); `{pool}` stands for the pool id |
//! | `COGNITO_JWKS_FILE` | optional, a JWKS document read at start-up: the first request is verified with it, no network wait; the URL refreshes it later |
//! | `COGNITO_TRUST_API_GATEWAY` | optional, `1`: take the claims of an HTTP API JWT authorizer or a REST API Cognito authorizer from the event ([`axum_cognito::lambda`]); `0` (default): verify every token here |
//!
//! Plus the Lambda runtime's own (`AWS_LAMBDA_RUNTIME_API` and the others it reads). Behind a
//! REST API, set `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH=1`, or `lambda_http` puts the stage in
//! front of every path. Without `COGNITO_JWKS_FILE`, the keys are fetched in the background
//! from start-up, and the first requests wait for them (within the fetch timeout).
//!
//! A missing or malformed variable, or an unreadable key-set file: an init error to the Runtime
//! API (`POST /2018-06-01/runtime/init/error`) whose message names the variable, and exit
//! code 2.
//!
//! Routes: `GET /id` (ID token), `GET /access` (access token), `GET /admin` (access token of
//! the `admins` group, else 403), `GET /whoami` (optional), with the bodies of
//! `examples/server.rs`.

use std::process::ExitCode;

use axum::{Router, routing::get};
use axum_cognito::{CognitoAuthLayer, CognitoVerifier, ConfigError, TokenUse, UserPool};
use serde_json::json;

// Shared with the other examples (examples/common/).
#[path = "common/env.rs"]
mod env;
#[path = "common/routes.rs"]
mod routes;
use env::{pools_and_clients, var};
use routes::{access, admin, id, whoami};

/// The routes, each behind `layer` with its own rules.
pub(crate) fn app(layer: CognitoAuthLayer) -> Router {
    let admins = layer
        .clone()
        .token_use(TokenUse::Access)
        .any_group(["admins"]);
    Router::new()
        .route("/id", get(id).route_layer(layer.clone()))
        .route("/access", get(access).route_layer(layer.clone()))
        .route("/admin", get(admin).route_layer(admins))
        .route("/whoami", get(whoami).route_layer(layer.optional()))
}

/// The layer the environment describes; an error names the variable.
async fn layer() -> Result<CognitoAuthLayer, String> {
    let (pool_id, clients) = pools_and_clients()?;
    let trust = match var("COGNITO_TRUST_API_GATEWAY").as_deref().map(str::trim) {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => return Err(format!("COGNITO_TRUST_API_GATEWAY {other:?} is not 1 or 0")),
    };
    let mut pool = UserPool::new(pool_id.trim()).client_ids(clients);
    if let Some(url) = var("COGNITO_JWKS_URL") {
        pool = pool.jwks_url(url.trim().replace("{pool}", pool_id.trim()));
    }
    let bundled = var("COGNITO_JWKS_FILE");
    if let Some(path) = &bundled {
        pool = (pool.initial_jwks_file(path.trim()))
            .map_err(|e| format!("COGNITO_JWKS_FILE {path:?} cannot be read: {e}"))?;
    }
    let builder = CognitoVerifier::builder().user_pool(pool).any_token_use();
    // With a bundled set nothing is fetched before the first request; without one, the first
    // fetch starts now and the first requests wait for it.
    let verifier = match bundled {
        Some(_) => builder.build().await,
        None => builder.build_lazy(),
    };
    let verifier = verifier.map_err(|e| format!("{}: {e}", variable_of(&e)))?;
    let layer = CognitoAuthLayer::new(verifier);
    Ok(if trust {
        layer.trust_api_gateway()
    } else {
        layer
    })
}

fn variable_of(error: &ConfigError) -> &'static str {
    match error {
        ConfigError::ClientIdsNotSet(_) => "COGNITO_CLIENT_IDS",
        ConfigError::InvalidJwks { .. } => "COGNITO_JWKS_FILE",
        ConfigError::InvalidJwksUrl { .. } | ConfigError::PlainHttpJwksUrl { .. } => {
            "COGNITO_JWKS_URL"
        }
        _ => "COGNITO_USER_POOL_ID",
    }
}

/// Tells the Runtime API why the function cannot start, as `lambda_runtime` reports its own.
async fn report_init_error(message: &str) {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let sent = reqwest::Client::new()
        .post(format!("http://{api}/2018-06-01/runtime/init/error"))
        .header("lambda-runtime-function-error-type", "Runtime.ConfigError")
        .json(&json!({ "errorType": "ConfigError", "errorMessage": message }))
        .send()
        .await;
    if let Err(error) = sent {
        eprintln!("the init error could not be reported: {error}");
    }
}

// One invocation at a time: a single-threaded runtime starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let layer = match layer().await {
        Ok(layer) => layer,
        Err(message) => {
            report_init_error(&message).await;
            eprintln!("configuration error: {message}");
            return ExitCode::from(2);
        }
    };
    match lambda_http::run(app(layer)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
