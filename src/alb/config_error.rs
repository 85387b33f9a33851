//! Why a load balancer verifier could not be built.

/// Why an [`AlbVerifier`](super::AlbVerifier) could not be built, named with the setting it
/// concerns.
///
/// ```
/// use axum_cognito::alb::{AlbConfigError, AlbVerifier};
///
/// let error = AlbVerifier::builder()
///     .load_balancer("not an ARN")
///     .client_id("c")
///     .build()
///     .unwrap_err();
/// assert!(matches!(error, AlbConfigError::InvalidArn(_)));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlbConfigError {
    /// No load balancer ARN was given.
    #[error("no load balancer configured")]
    NoLoadBalancer,
    /// An ARN is not an application load balancer's
    /// (`arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{id}`).
    #[error(
        "invalid load balancer ARN {0:?}: expected arn:aws:elasticloadbalancing:{{region}}:{{account}}:loadbalancer/app/{{name}}/{{id}}"
    )]
    InvalidArn(String),
    /// No app client id was given, or an empty one.
    #[error("set the allowed app client ids (the `client` of the tokens), none empty")]
    ClientIdsNotSet,
    /// An ARN of a partition whose key location is not known (China), without a
    /// [`key_url`](super::AlbVerifierBuilder::key_url).
    #[error("load balancer {0}: no known key location for its partition; set key_url")]
    NoKeyUrl(String),
    /// The key URL is not an absolute http(s) URL with `{kid}` in its path.
    #[error("invalid key URL {0:?}: expected an http(s) URL with {{kid}} in its path")]
    InvalidKeyUrl(String),
    /// An `http://` key URL to a host other than this machine, without
    /// [`allow_plain_http_keys`](super::AlbVerifierBuilder::allow_plain_http_keys).
    #[error(
        "key URL {0:?} is plain http to another host; use https, or call allow_plain_http_keys()"
    )]
    PlainHttpKeyUrl(String),
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    InvalidSetting(&'static str),
    /// The HTTP client could not be created.
    #[error("HTTP client: {0}")]
    HttpClient(String),
}
