//! A protected API for a real user pool (or an emulator), configured only from the
//! environment so that scripts can drive it.
//!
//! | variable | meaning |
//! |---|---|
//! | `COGNITO_USER_POOL_ID` | required, e.g. `eu-west-1_AbC123456`; several pools comma-separated |
//! | `COGNITO_CLIENT_IDS` | required, comma-separated app client ids (of any of the pools) |
//! | `COGNITO_REGION` | optional, overrides the region read from the pool id |
//! | `COGNITO_JWKS_URL` | optional, where to fetch the keys (emulators); `{pool}` stands for the pool id, `{region}` for each of the pool's regions (primary first: one location per region, failing over in turn) |
//! | `COGNITO_REPLICA_REGIONS` | optional, comma-separated regions every pool is replicated to: their tokens are accepted, their endpoints serve the keys when the primary's is down |
//! | `COGNITO_REFRESH_SECS` | optional, background refresh interval in seconds (default 600) |
//! | `BIND_ADDR` | optional, default `127.0.0.1:3000` |
//! | `ALB_ARNS` | optional, comma-separated load balancer ARNs; when set, `GET /alb` verifies `x-amzn-oidc-data` (needs the crate's `alb` feature: without it, setting it is a configuration error) |
//! | `ALB_CLIENT_IDS` | required with `ALB_ARNS`, comma-separated app client ids (the tokens' `client`) |
//! | `ALB_KEYS_URL` | optional, where to fetch the load balancer keys; `{kid}` stands for the key id, e.g. `http://127.0.0.1:9000/{kid}` |
//! | `COGNITO_REVOCATION` | optional: `getuser` asks Cognito's `GetUser` whether an access token was revoked; `none` (the default) does not |
//! | `COGNITO_IDP_ENDPOINT` | optional, with `getuser`: the endpoint to call instead of `https://cognito-idp.{region}.amazonaws.com/` (e.g. `http://127.0.0.1:5000` for moto) |
//! | `COGNITO_REVOCATION_TTL_SECS` | optional, with `getuser`: how long a `GetUser` answer is reused, in seconds (default 60) |
//! | `COGNITO_REVOCATION_FAILURE` | optional, with `getuser`: `closed` (default: 503 when Cognito cannot be asked) or `open` (accept) |
//! | `COGNITO_REVOCATION_REDIS` | optional, `redis://host:port[/db]`: the revocation list of `POST /revocations` is shared with every server given the same Redis (needs the crate's `redis` feature: without it, setting it is a configuration error) |
//! | `RUST_LOG` | optional, the log filter (`tracing_subscriber`'s syntax; default `info`) |
//!
//! A missing or malformed variable: a message naming it and exit code 2 (also for several
//! pools with a `COGNITO_JWKS_URL` that lacks `{pool}`: every pool would trust the others'
//! keys). Keys that cannot be loaded: exit code 1. `/healthz` never shows credentials of a
//! JWKS URL (`user:password@` is redacted by the crate). `listening on ADDR` is printed once the keys are loaded and the socket bound.
//!
//! Routes: `GET /id` (ID token), `GET /access` (access token), `GET /admin` (access token of
//! the `admins` group, else 403), `GET /whoami` (optional auth), `GET /healthz` (a summary for
//! probes, no authentication: `{"usable", "cached_tokens", "pools": [{"user_pool_id", "usable",
//! "keys_loaded", "key_set_age_secs", "consecutive_failures"}]}`; 503 when the keys are
//! unusable), `GET /healthz/detail` (the whole key store status, each key location's URL and
//! last error included: an access token of the `admins` group, else 401 / 403), `GET /metrics`
//! (the crate's metrics in the Prometheus text format), `POST /revocations` (an access token of
//! the `admins` group, else 401 / 403; body `{"jti": "...", "exp": <unix seconds>}` revokes one
//! token until its expiry, `{"sub": "...", "before": <unix seconds>}` that user's tokens issued
//! at or before it; 204, or 400 for a malformed body, which changes nothing). The list is this
//! process's own, or shared through `COGNITO_REVOCATION_REDIS`: then the server catches up with
//! the revocations in force before it listens (or, Redis unreachable, after about 8 s without
//! them), and `/healthz` has `"revocation_redis": {"connected": bool}`. With `ALB_ARNS`: `GET /alb` answers
//! `{"sub","email","username","signer","client"}` for a valid `x-amzn-oidc-data` token, 401 for
//! a missing or bad one, 503 when its key cannot be fetched.

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use axum::{
    Extension, Json, Router,
    body::Bytes,
    http::StatusCode,
    routing::{get, post},
};
use axum_cognito::{
    CognitoAuthLayer, CognitoVerifier, ConfigError, TokenUse, UserPool,
    revocation::{FailurePolicy, GetUserCheck, RevocationList, Revoked},
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{Value, json};

// Shared with the other examples (examples/common/).
#[path = "common/env.rs"]
mod env;
#[path = "common/routes.rs"]
mod routes;
#[path = "common/startup.rs"]
mod startup;
use env::{pools_and_clients, var};
use routes::{access, admin, id, whoami};
use startup::{build, listen};

#[cfg(feature = "alb")]
async fn alb(user: axum_cognito::AlbClaims) -> Json<Value> {
    Json(json!({
        "sub": user.sub,
        "email": user.email,
        "username": user.username,
        "signer": user.token().signer(),
        "client": user.token().client(),
    }))
}

/// The body of `POST /revocations`.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Revocation {
    Token(TokenRevocation),
    User(UserRevocation),
}

/// One token, by its `jti`, until its expiry.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRevocation {
    jti: String,
    exp: u64,
}

/// A user's tokens issued at or before `before`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRevocation {
    sub: String,
    before: u64,
}

/// `POST /revocations`, for the `admins` group: 204, 400 for a malformed body.
async fn revoke(Extension(list): Extension<RevocationList>, body: Bytes) -> StatusCode {
    let at = |secs: u64| std::time::UNIX_EPOCH + Duration::from_secs(secs);
    let revoked = match serde_json::from_slice(&body) {
        Ok(Revocation::Token(t)) if valid_id(&t.jti) => list.revoke_jti(&t.jti, at(t.exp)),
        Ok(Revocation::User(u)) if valid_id(&u.sub) => {
            list.revoke_user_before(&u.sub, at(u.before))
        }
        _ => return StatusCode::BAD_REQUEST,
    };
    match revoked {
        Revoked::NotAddedFull => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::NO_CONTENT,
    }
}

/// A `jti` or `sub` of at most 1 KiB.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 1024
}

/// 200 when the keys are usable, else 503.
fn health_code(usable: bool) -> StatusCode {
    if usable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// `GET /healthz`: what a probe needs, nothing an unauthenticated caller should read (key URLs,
/// errors).
async fn healthz(
    Extension(verifier): Extension<CognitoVerifier>,
    Extension(list): Extension<RevocationList>,
) -> (StatusCode, Json<Value>) {
    let status = verifier.status();
    let now = std::time::SystemTime::now();
    let pools: Vec<Value> = status
        .pools
        .iter()
        .map(|pool| {
            json!({
                "user_pool_id": pool.user_pool_id,
                "usable": pool.usable,
                "keys_loaded": pool.keys_loaded,
                "key_set_age_secs": pool
                    .last_refresh
                    .and_then(|at| now.duration_since(at).ok())
                    .map(|age| age.as_secs()),
                "consecutive_failures": pool.consecutive_failures,
            })
        })
        .collect();
    let summary = json!({
        "usable": status.usable,
        "cached_tokens": status.cached_tokens,
        "pools": pools,
    });
    #[cfg(feature = "redis")]
    let summary = match list.redis_status() {
        Some(redis) => {
            let mut summary = summary;
            summary["revocation_redis"] = json!({ "connected": redis.connected });
            summary
        }
        None => summary,
    };
    #[cfg(not(feature = "redis"))]
    let _ = list;
    (health_code(status.usable), Json(summary))
}

/// `GET /healthz/detail`, for the `admins` group: the whole status.
async fn healthz_detail(
    Extension(verifier): Extension<CognitoVerifier>,
) -> (StatusCode, Json<Value>) {
    let status = verifier.status();
    (health_code(status.usable), Json(json!(status)))
}

/// The router, with `verifier` as its state so the extractors verify by themselves.
fn app(verifier: CognitoVerifier, revocations: RevocationList) -> Router {
    let admins = CognitoAuthLayer::new(verifier.clone())
        .token_use(TokenUse::Access)
        .any_group(["admins"]);
    Router::new()
        .route("/admin", get(admin))
        .route("/healthz/detail", get(healthz_detail))
        .route("/revocations", post(revoke))
        .route_layer(admins)
        .route("/id", get(id))
        .route("/access", get(access))
        .route("/whoami", get(whoami))
        .route("/healthz", get(healthz))
        .layer(Extension(verifier))
        .layer(Extension(revocations))
}

/// `GET /metrics`: what the recorder installed at start-up holds, as Prometheus text.
fn metrics_route(handle: PrometheusHandle) -> Router {
    Router::new().route("/metrics", get(move || async move { handle.render() }))
}

/// The `GetUser` revocation check the environment asks for, if any.
fn revocation_settings() -> Result<Option<GetUserCheck>, String> {
    match var("COGNITO_REVOCATION").as_deref().map(str::trim) {
        None | Some("none") => return Ok(None),
        Some("getuser") => {}
        Some(other) => {
            return Err(format!(
                "COGNITO_REVOCATION {other:?} is not one of getuser, none"
            ));
        }
    }
    let mut check = GetUserCheck::new();
    if let Some(endpoint) = var("COGNITO_IDP_ENDPOINT") {
        check = check.endpoint(endpoint.trim());
    }
    if let Some(value) = var("COGNITO_REVOCATION_TTL_SECS") {
        match value.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => check = check.ttl(Duration::from_secs(secs)),
            _ => {
                return Err(format!(
                    "COGNITO_REVOCATION_TTL_SECS {value:?} is not a positive number of seconds"
                ));
            }
        }
    }
    match var("COGNITO_REVOCATION_FAILURE").as_deref().map(str::trim) {
        None | Some("closed") => {}
        Some("open") => check = check.failure_policy(FailurePolicy::FailOpen),
        Some(other) => {
            return Err(format!(
                "COGNITO_REVOCATION_FAILURE {other:?} is not one of closed, open"
            ));
        }
    }
    Ok(Some(check))
}

/// The revocation list of `POST /revocations`, shared through `COGNITO_REVOCATION_REDIS` if set:
/// caught up with the revocations in force before the server listens.
#[cfg(feature = "redis")]
async fn revocation_list() -> Result<RevocationList, String> {
    let list = RevocationList::default();
    let Some(url) = var("COGNITO_REVOCATION_REDIS") else {
        return Ok(list);
    };
    let status = axum_cognito::revocation::RedisSync::new(url.trim())
        .start(&list)
        .await
        .map_err(|e| format!("COGNITO_REVOCATION_REDIS: {e}"))?;
    if !status.connected {
        tracing::warn!(
            "Redis unreachable: serving with this server's own revocations until it is back"
        );
    }
    Ok(list)
}

/// Without the `redis` feature the list is this server's own: `COGNITO_REVOCATION_REDIS` is a
/// mistake.
#[cfg(not(feature = "redis"))]
async fn revocation_list() -> Result<RevocationList, String> {
    match var("COGNITO_REVOCATION_REDIS") {
        Some(_) => Err(
            "COGNITO_REVOCATION_REDIS: this build has no Redis support (the crate's `redis` feature)"
                .into(),
        ),
        None => Ok(RevocationList::default()),
    }
}

struct Settings {
    pools: Vec<UserPool>,
    bind: SocketAddr,
    refresh: Option<Duration>,
    /// `GET /alb`, with its layer, when `ALB_ARNS` is set.
    alb: Option<Router>,
}

/// A comma-separated list of non-empty values.
#[cfg(feature = "alb")]
fn list(name: &str, value: &str) -> Result<Vec<String>, String> {
    let items: Vec<String> = value.split(',').map(|v| v.trim().to_owned()).collect();
    if items.iter().any(String::is_empty) {
        return Err(format!("{name} has an empty entry"));
    }
    Ok(items)
}

/// `GET /alb` behind the load balancer verifier of `ALB_ARNS`, `ALB_CLIENT_IDS` and
/// `ALB_KEYS_URL`; `None` without `ALB_ARNS`.
#[cfg(feature = "alb")]
fn alb_settings(var: impl Fn(&str) -> Option<String>) -> Result<Option<Router>, String> {
    use axum_cognito::{AlbAuthLayer, AlbVerifier};
    let Some(arns) = var("ALB_ARNS") else {
        return Ok(None);
    };
    let arns = list("ALB_ARNS", &arns)?;
    let clients = var("ALB_CLIENT_IDS")
        .ok_or("ALB_CLIENT_IDS is required with ALB_ARNS (comma-separated app client ids)")?;
    let mut builder = AlbVerifier::builder()
        .load_balancers(arns)
        .client_ids(list("ALB_CLIENT_IDS", &clients)?);
    if let Some(url) = var("ALB_KEYS_URL") {
        builder = builder.key_url(url.trim());
    }
    let verifier = builder.build().map_err(|e| {
        let variable = match e {
            ConfigError::AlbClientIdsNotSet => "ALB_CLIENT_IDS",
            ConfigError::InvalidKeyUrl(_)
            | ConfigError::PlainHttpKeyUrl(_)
            | ConfigError::NoKeyUrl(_)
            | ConfigError::HttpClient(_) => "ALB_KEYS_URL",
            _ => "ALB_ARNS",
        };
        format!("{variable}: {e}")
    })?;
    Ok(Some(
        Router::new()
            .route("/alb", get(alb))
            .layer(AlbAuthLayer::new(verifier)),
    ))
}

/// Without the `alb` feature there is no `GET /alb`: `ALB_ARNS` is a mistake.
#[cfg(not(feature = "alb"))]
fn alb_settings(var: impl Fn(&str) -> Option<String>) -> Result<Option<Router>, String> {
    match var("ALB_ARNS") {
        Some(_) => Err(
            "ALB_ARNS: this build has no load balancer support (the crate's `alb` feature)".into(),
        ),
        None => Ok(None),
    }
}

fn settings() -> Result<Settings, String> {
    let (pool_id, clients) = pools_and_clients()?;
    let region = var("COGNITO_REGION");
    let jwks_url = var("COGNITO_JWKS_URL");
    let replica_regions = replica_regions(var("COGNITO_REPLICA_REGIONS"))?;
    let ids: Vec<&str> = pool_id.split(',').map(str::trim).collect();
    if ids.len() > 1
        && jwks_url
            .as_deref()
            .is_some_and(|url| !url.contains("{pool}"))
    {
        return Err(
            "COGNITO_JWKS_URL must contain {pool} when COGNITO_USER_POOL_ID names several pools: \
             otherwise every pool would trust the others' keys"
                .into(),
        );
    }
    let mut pools = Vec::new();
    for id in ids {
        let mut pool = UserPool::new(id).client_ids(clients.iter().cloned());
        if let Some(region) = &region {
            pool = pool.region(region.trim());
        }
        if let Some(url) = &jwks_url {
            pool = pool.jwks_url(url.trim().replace("{pool}", id));
        }
        // Pools of different regions: each is replicated to the listed regions but its own.
        let own_region = pool.region_name().to_owned();
        let replicas = replica_regions
            .iter()
            .filter(|r| **r != own_region)
            .cloned();
        pools.push(pool.replica_regions(replicas));
    }
    let bind = match var("BIND_ADDR") {
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| format!("BIND_ADDR {value:?} is not an address like 127.0.0.1:3000"))?,
        None => SocketAddr::from(([127, 0, 0, 1], 3000)),
    };
    let refresh = match var("COGNITO_REFRESH_SECS") {
        Some(value) => match value.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => Some(Duration::from_secs(secs)),
            _ => {
                return Err(format!(
                    "COGNITO_REFRESH_SECS {value:?} is not a positive number of seconds"
                ));
            }
        },
        None => None,
    };
    let alb = alb_settings(var)?;
    Ok(Settings {
        pools,
        bind,
        refresh,
        alb,
    })
}

/// `COGNITO_REPLICA_REGIONS`: comma-separated region names.
fn replica_regions(value: Option<String>) -> Result<Vec<String>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let regions: Vec<String> = value.split(',').map(|r| r.trim().to_owned()).collect();
    let valid = |r: &String| {
        !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    match regions.iter().find(|r| !valid(r)) {
        Some(bad) => Err(format!(
            "COGNITO_REPLICA_REGIONS has {bad:?}, which is not a region name like eu-central-1"
        )),
        None => Ok(regions),
    }
}

/// The environment variable a configuration error came from.
fn variable_of(error: &ConfigError) -> &'static str {
    match error {
        ConfigError::ClientIdsNotSet(_) => "COGNITO_CLIENT_IDS",
        ConfigError::InvalidJwksUrl { .. }
        | ConfigError::PlainHttpJwksUrl { .. }
        | ConfigError::InvalidJwks { .. }
        | ConfigError::HttpClient(_) => "COGNITO_JWKS_URL",
        ConfigError::InvalidSetting(message) if message.contains("GetUser") => {
            "COGNITO_IDP_ENDPOINT"
        }
        ConfigError::InvalidSetting(_) => "COGNITO_REFRESH_SECS",
        ConfigError::InvalidReplicaRegion { .. } => "COGNITO_REPLICA_REGIONS",
        ConfigError::InvalidUserPoolId(_) if var("COGNITO_REGION").is_some() => {
            "COGNITO_USER_POOL_ID or COGNITO_REGION"
        }
        _ => "COGNITO_USER_POOL_ID",
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let settings = match settings() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let get_user = match revocation_settings() {
        Ok(check) => check,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let metrics = match PrometheusBuilder::new().install_recorder() {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("error: cannot install the metrics recorder: {e}");
            return ExitCode::FAILURE;
        }
    };
    let revocations = match revocation_list().await {
        Ok(list) => list,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let mut builder = CognitoVerifier::builder()
        .any_token_use()
        .revocation_list(revocations.clone());
    for pool in settings.pools {
        builder = builder.user_pool(pool);
    }
    if let Some(interval) = settings.refresh {
        builder = builder
            .refresh_interval(interval)
            .min_refresh_interval(interval);
    }
    if let Some(check) = get_user {
        builder = builder.get_user_check(check);
    }
    let verifier = match build(builder, variable_of).await {
        Ok(verifier) => verifier,
        Err(code) => return code,
    };
    let listener = match listen(settings.bind).await {
        Ok(listener) => listener,
        Err(code) => return code,
    };
    let mut app = app(verifier, revocations).merge(metrics_route(metrics));
    if let Some(alb) = settings.alb {
        app = app.merge(alb);
    }
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
