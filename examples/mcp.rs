//! An MCP server whose users sign in with a Cognito user pool: `rmcp`'s streamable HTTP
//! service at `/mcp`, behind the layer, with one tool, `whoami`, that answers the caller's
//! `{"sub", "username", "scope"}` as JSON text. Access tokens only. Configured from the
//! environment:
//!
//! | variable | meaning |
//! |---|---|
//! | `COGNITO_USER_POOL_ID` | required, e.g. `eu-west-1_AbC123456`; several pools comma-separated |
//! | `COGNITO_CLIENT_IDS` | required, comma-separated app client ids |
//! | `COGNITO_JWKS_URL` | optional, where to fetch the keys (emulators); `{pool}` stands for the pool id |
//! | `MCP_RESOURCE` | required, the server's canonical URI, e.g. `https://mcp.example.com/mcp`: the metadata's `resource`, the `aud` access tokens must name (a token without `aud` passes unless `MCP_REQUIRE_AUDIENCE=1`), and the base of the metadata URL |
//! | `MCP_REQUIRE_AUDIENCE` | optional, `1`: a token without `aud` is refused (401); `0` (the default) lets it through |
//! | `MCP_REQUIRED_SCOPE` | optional, a scope every token must hold (403 `insufficient_scope` without it), listed in `scopes_supported` |
//! | `BIND_ADDR` | optional, default `127.0.0.1:3000` |
//! | `RUST_LOG` | optional, the log filter (default `info`) |
//!
//! A missing or malformed variable: a message naming it and exit code 2. Keys that cannot be
//! loaded: exit code 1. `listening on ADDR` is printed once the keys are loaded and the socket
//! bound. The RFC 9728 metadata is at `/.well-known/oauth-protected-resource` and at that path
//! followed by `MCP_RESOURCE`'s path, without a token; every 401 and 403 names it in
//! `WWW-Authenticate`. Each MCP session answers only the user who opened it (404 to others);
//! see the crate's `resource_server` module.

use std::{net::SocketAddr, process::ExitCode, sync::Arc};

use axum::Router;
use axum_cognito::{
    CognitoAuthLayer, CognitoVerifier, ConfigError, TokenUse, UserPool, VerifiedToken,
    resource_server::{ProtectedResource, SessionBindingLayer},
};
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
        PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    },
    service::RequestContext,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use serde_json::json;

// Shared with the other examples (examples/common/).
#[path = "common/env.rs"]
mod env;
#[path = "common/startup.rs"]
mod startup;
use env::{pools_and_clients, var};
use startup::{build, listen};

/// The environment variable a configuration error came from.
fn variable_of(error: &ConfigError) -> &'static str {
    match error {
        ConfigError::ClientIdsNotSet(_) => "COGNITO_CLIENT_IDS",
        ConfigError::InvalidJwksUrl { .. } | ConfigError::PlainHttpJwksUrl { .. } => {
            "COGNITO_JWKS_URL"
        }
        _ => "COGNITO_USER_POOL_ID",
    }
}

/// The MCP server: one tool.
#[derive(Debug, Clone)]
struct Whoami;

impl ServerHandler for Whoami {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let no_arguments = json!({ "type": "object", "properties": {} });
        let schema = no_arguments.as_object().cloned().unwrap_or_default();
        let whoami = Tool::new("whoami", "The caller: sub, username and scope", schema);
        Ok(ListToolsResult::with_all_items(vec![whoami]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name != "whoami" {
            return Err(ErrorData::invalid_params("no such tool", None));
        }
        // rmcp hands the tool the parts of the HTTP request that carried the call, where the
        // layer put the token it verified for this very request.
        let parts = context.extensions.get::<http::request::Parts>();
        let token = parts
            .and_then(|parts| parts.extensions.get::<VerifiedToken>())
            .ok_or_else(|| ErrorData::internal_error("no verified token", None))?;
        let caller = json!({
            "sub": token.sub(),
            "username": token.username(),
            "scope": token.scopes().collect::<Vec<_>>().join(" "),
        });
        Ok(CallToolResult::success(vec![ContentBlock::text(caller.to_string())]).into())
    }
}

struct Settings {
    pools: Vec<UserPool>,
    resource: ProtectedResource,
    require_audience: bool,
    scope: Option<String>,
    bind: SocketAddr,
}

fn settings() -> Result<Settings, String> {
    let (pool_ids, clients) = pools_and_clients()?;
    let jwks_url = var("COGNITO_JWKS_URL");
    let ids: Vec<&str> = pool_ids.split(',').map(str::trim).collect();
    if ids.len() > 1
        && jwks_url
            .as_deref()
            .is_some_and(|url| !url.contains("{pool}"))
    {
        return Err("COGNITO_JWKS_URL must contain {pool} when there are several pools".into());
    }
    let pools: Vec<UserPool> = ids
        .iter()
        .map(|id| {
            let pool = UserPool::new(*id).client_ids(clients.iter().cloned());
            match &jwks_url {
                Some(url) => pool.jwks_url(url.trim().replace("{pool}", id)),
                None => pool,
            }
        })
        .collect();
    // Each pool's issuer is an authorization server of the resource.
    let mut issuers = pools
        .iter()
        .filter_map(|pool| pool.issuers().into_iter().next());
    let uri = var("MCP_RESOURCE")
        .ok_or("MCP_RESOURCE is required (the server's URI, e.g. https://mcp.example.com/mcp)")?;
    let mut resource = ProtectedResource::new(uri.trim(), issuers.next().unwrap_or_default())
        .map_err(|e| format!("MCP_RESOURCE: {e}"))?;
    for issuer in issuers {
        resource = resource.authorization_server(issuer);
    }
    let require_audience = match var("MCP_REQUIRE_AUDIENCE").as_deref().map(str::trim) {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => return Err(format!("MCP_REQUIRE_AUDIENCE {other:?} is not 1 or 0")),
    };
    let scope = var("MCP_REQUIRED_SCOPE").map(|scope| scope.trim().to_owned());
    if scope
        .as_deref()
        .is_some_and(|scope| scope.contains(char::is_whitespace))
    {
        return Err("MCP_REQUIRED_SCOPE is one scope, without spaces".into());
    }
    if let Some(scope) = &scope {
        resource = resource.scopes_supported([scope.clone()]);
    }
    let bind = match var("BIND_ADDR") {
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| format!("BIND_ADDR {value:?} is not an address like 127.0.0.1:3000"))?,
        None => SocketAddr::from(([127, 0, 0, 1], 3000)),
    };
    Ok(Settings {
        pools,
        resource,
        require_audience,
        scope,
        bind,
    })
}

/// The MCP service at `/mcp`, its sessions bound to their users, behind the layer; the
/// metadata beside it, open to all.
fn app(verifier: CognitoVerifier, settings: &Settings) -> Router {
    // rmcp accepts only the hosts it is told (DNS rebinding): loopback and the resource's.
    let host = settings.resource.resource().parse::<http::Uri>().ok();
    let hosts = ["localhost", "127.0.0.1", "::1"].map(str::to_owned);
    let hosts = hosts
        .into_iter()
        .chain(host.and_then(|uri| uri.host().map(str::to_owned)));
    let config = StreamableHttpServerConfig::default().with_allowed_hosts(hosts);
    let sessions = Arc::new(LocalSessionManager::default());
    let mcp = StreamableHttpService::new(|| Ok(Whoami), sessions, config);
    let mut guard = CognitoAuthLayer::new(verifier).protected_resource(&settings.resource);
    if settings.require_audience {
        guard = guard.require_audience();
    }
    if let Some(scope) = &settings.scope {
        guard = guard.any_scope([scope.clone()]);
    }
    Router::new()
        .nest_service("/mcp", mcp)
        .layer(SessionBindingLayer::new())
        .layer(guard)
        .merge(settings.resource.router())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let settings = match settings() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let mut builder = CognitoVerifier::builder().token_use(TokenUse::Access);
    for pool in settings.pools.iter().cloned() {
        builder = builder.user_pool(pool);
    }
    let verifier = match build(builder, variable_of).await {
        Ok(verifier) => verifier,
        Err(code) => return code,
    };
    let listener = match listen(settings.bind).await {
        Ok(listener) => listener,
        Err(code) => return code,
    };
    if let Err(e) = axum::serve(listener, app(verifier, &settings)).await {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
