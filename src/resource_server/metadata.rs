//! The RFC 9728 metadata document of a protected resource, and the routes that serve it.

use axum::{Router, response::Response, routing::get};
use http::{HeaderValue, Uri, header};
use serde::Serialize;

use crate::config_error::ConfigError;

/// The well-known path of protected resource metadata (RFC 9728).
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// A protected resource: its identifier (the `aud` its access tokens carry) and its RFC 9728
/// metadata, served by [`router`](Self::router) and named in the challenges of a layer made
/// with [`CognitoAuthLayer::protected_resource`](crate::CognitoAuthLayer::protected_resource).
///
/// ```
/// use axum::{body::Body, http::Request};
/// use axum_cognito::resource_server::ProtectedResource;
/// use http_body_util::BodyExt;
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let resource = ProtectedResource::new(
///     "https://api.example.com/mcp",
///     "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123456",
/// )
/// .unwrap()
/// .scopes_supported(["mcp/tools"])
/// .resource_name("Example tools");
/// assert_eq!(
///     resource.metadata_url(),
///     "https://api.example.com/.well-known/oauth-protected-resource/mcp"
/// );
///
/// let request = Request::get("/.well-known/oauth-protected-resource/mcp").body(Body::empty());
/// let response = resource.router::<()>().oneshot(request.unwrap()).await.unwrap();
/// let body = response.into_body().collect().await.unwrap().to_bytes();
/// let document: serde_json::Value = serde_json::from_slice(&body).unwrap();
/// assert_eq!(document["resource"], "https://api.example.com/mcp");
/// assert_eq!(document["scopes_supported"][0], "mcp/tools");
/// assert_eq!(document["bearer_methods_supported"][0], "header");
/// assert!(ProtectedResource::new("/mcp", "https://issuer").is_err());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ProtectedResource {
    metadata: Metadata,
    /// The well-known path with the resource's path appended (the root form when it has none).
    path: String,
    metadata_url: String,
}

#[derive(Debug, Clone, Serialize)]
struct Metadata {
    resource: String,
    authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes_supported: Vec<String>,
    bearer_methods_supported: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<String>,
}

impl ProtectedResource {
    /// The resource `resource` (its canonical URI: what clients ask tokens for, and what the
    /// tokens' `aud` then names), whose tokens `authorization_server` issues: a user pool's
    /// issuer, `https://cognito-idp.{region}.amazonaws.com/{user pool id}`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidResource`] when `resource` is not an absolute `http(s)` URI, or
    /// has a query or a fragment.
    pub fn new(
        resource: impl Into<String>,
        authorization_server: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let resource = resource.into();
        let uri = resource
            .parse::<Uri>()
            .ok()
            .filter(|uri| {
                matches!(uri.scheme_str(), Some("https" | "http"))
                    && uri.authority().is_some()
                    && uri.query().is_none()
                    && !resource.contains('#')
            })
            .ok_or_else(|| ConfigError::InvalidResource(resource.clone()))?;
        let path = format!("{WELL_KNOWN_PATH}{}", uri.path().trim_end_matches('/'));
        let (scheme, authority) = (uri.scheme_str().unwrap_or_default(), uri.authority());
        let metadata_url = format!("{scheme}://{}{path}", authority.map_or("", |a| a.as_str()));
        Ok(Self {
            metadata: Metadata {
                resource,
                authorization_servers: vec![authorization_server.into()],
                scopes_supported: Vec::new(),
                bearer_methods_supported: ["header"],
                resource_name: None,
                resource_documentation: None,
            },
            path,
            metadata_url,
        })
    }

    /// Another authorization server (another user pool's issuer).
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.metadata.authorization_servers.push(issuer.into());
        self
    }

    /// The scopes clients may ask for (`scopes_supported`).
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.metadata.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A name for people (`resource_name`).
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.metadata.resource_name = Some(name.into());
        self
    }

    /// A page for developers (`resource_documentation`).
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.metadata.resource_documentation = Some(url.into());
        self
    }

    /// The resource's identifier, as given.
    pub fn resource(&self) -> &str {
        &self.metadata.resource
    }

    /// Where the metadata is: the well-known path inserted between the resource's host and
    /// its path (RFC 9728, section 3.1).
    pub fn metadata_url(&self) -> &str {
        &self.metadata_url
    }

    /// The metadata document, as JSON.
    pub fn metadata_json(&self) -> String {
        serde_json::to_string(&self.metadata).unwrap_or_default()
    }

    /// Routes that answer `GET` on the metadata's path and on the root form
    /// (`/.well-known/oauth-protected-resource`), with no authentication: merge them into
    /// the app outside the layer that guards the resource.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let document = bytes::Bytes::from(self.metadata_json());
        let serve = get(move || {
            let document = document.clone();
            async move {
                let mut response = Response::new(axum::body::Body::from(document));
                let json = HeaderValue::from_static("application/json");
                response.headers_mut().insert(header::CONTENT_TYPE, json);
                response
            }
        });
        let router = Router::new().route(WELL_KNOWN_PATH, serve.clone());
        if self.path == WELL_KNOWN_PATH {
            router
        } else {
            router.route(&self.path, serve)
        }
    }
}
