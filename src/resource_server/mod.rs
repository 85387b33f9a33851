//! OAuth resource servers, MCP servers among them: access tokens bound to the resource (RFC
//! 8707), protected resource metadata (RFC 9728), and sessions bound to their user.
//!
//! The MCP authorization specification (2025-06-18 and later) makes an MCP server an OAuth 2.1
//! resource server; a Cognito user pool can be its authorization server. The pieces are plain
//! axum and tower, for any resource server:
//!
//! - [`TokenRequirements::resource`](crate::TokenRequirements::resource) (also on the
//!   verifier's builder and on the layer): the access token's `aud` must name the resource,
//!   401 `invalid_token` otherwise. `aud` is a string or an array of 1 to 16 strings; anything
//!   else is 401 with [`InvalidClaims`](crate::ErrorKind::InvalidClaims) naming `aud`. A token
//!   without `aud` passes unless `require_audience` is set; an ID token never does (its `aud`
//!   is its app client). The audiences are [`AccessClaims::aud`](crate::AccessClaims::aud).
//! - [`ProtectedResource`]: the metadata document (`resource`, `authorization_servers`,
//!   `scopes_supported`, `bearer_methods_supported`, `resource_name`,
//!   `resource_documentation`), served at its path-suffixed and root well-known paths.
//!   [`CognitoAuthLayer::protected_resource`](crate::CognitoAuthLayer::protected_resource)
//!   requires the resource in `aud` and names the metadata in every 401 and 403 of the layer:
//!   `WWW-Authenticate: Bearer resource_metadata="<url>"` (with `error`, and for a missing
//!   scope `scope="<the rule's scopes>"`), from which a client discovers the pool. Refusals
//!   made below the layer (an extractor, a handler's guard, the session binding's 401) do not
//!   name it: put every rule on the layer.
//! - [`SessionBindingLayer`]: each session (`mcp-session-id`) serves only the user whose token
//!   opened it. Every request is authenticated by its own token; a session id never is.
//!
//! ## Binding access tokens to the resource in the user pool
//!
//! Cognito access tokens carry no `aud` until the pool binds them to resources: with the
//! Essentials or Plus feature plan and managed login, a client that asks for a resource (the
//! `resource` parameter of its authorization and token requests, RFC 8707) gets an access
//! token whose `aud` names it. Until every client does, leave
//! [`require_audience`](crate::TokenRequirements::require_audience) off: tokens without `aud`
//! pass, tokens for another resource never do.
//!
//! ## Sessions: 404, not 403
//!
//! A request on a session opened by another user is answered 404, as an unknown session is:
//! a 403 would confirm to a caller holding someone else's session id that it is live. The
//! MCP client answers a 404 by opening a session of its own. `examples/mcp.rs` is a whole MCP
//! server (`rmcp`, streamable HTTP).
//!
//! ```
//! use axum::{Router, body::Body, http::Request, routing::post};
//! use axum_cognito::{
//!     CognitoAuthLayer, TokenUse,
//!     resource_server::{ProtectedResource, SessionBindingLayer},
//!     test_util::TestIssuer,
//! };
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = TestIssuer::start().await;
//! let verifier = issuer.verifier_builder().build().await.unwrap();
//! let resource = ProtectedResource::new("https://api.example.com/mcp", issuer.issuer())
//!     .unwrap()
//!     .scopes_supported(["mcp/tools"]);
//! let guard = CognitoAuthLayer::new(verifier)
//!     .token_use(TokenUse::Access)
//!     .protected_resource(&resource);
//! let app = Router::new()
//!     .route("/mcp", post(|| async { "tools" })) // the MCP service, e.g. rmcp's
//!     .layer(SessionBindingLayer::new())
//!     .layer(guard)
//!     .merge(resource.router()); // the metadata: no token needed
//!
//! let no_token = Request::post("/mcp").body(Body::empty()).unwrap();
//! let response = app.clone().oneshot(no_token).await.unwrap();
//! assert_eq!(response.status(), 401);
//! assert_eq!(
//!     response.headers()["www-authenticate"],
//!     r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp""#
//! );
//! let token = issuer.access_token().audience("https://api.example.com/mcp").sign();
//! let with_token = Request::post("/mcp")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(Body::empty())
//!     .unwrap();
//! assert_eq!(app.oneshot(with_token).await.unwrap().status(), 200);
//! # }
//! ```

mod metadata;
mod session;

pub use metadata::{ProtectedResource, WELL_KNOWN_PATH};
pub use session::{SessionBinding, SessionBindingLayer, SessionFuture};
