//! Why a verifier could not be built: one error for every builder of the crate.

use crate::jwks::JwksError;

/// Why a verifier could not be built: a mistake in the configuration, named with the setting,
/// pool or load balancer it concerns, or keys that could not be loaded at start.
///
/// ```
/// use axum_cognito::{CognitoVerifier, ConfigError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let error = CognitoVerifier::builder()
///     .user_pool("not a pool id")
///     .any_client()
///     .any_token_use()
///     .build()
///     .await
///     .unwrap_err();
/// assert!(matches!(error, ConfigError::InvalidUserPoolId(_)));
/// # }
/// ```
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A Redis URL for the shared revocation list does not parse (credentials not shown).
    #[error("invalid Redis URL {url}: {reason}")]
    InvalidRedisUrl {
        /// The URL, its user and password replaced by `***`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The revocation list is already shared through Redis.
    #[error("this revocation list is already shared through Redis")]
    RevocationListShared,
    /// No user pool was added.
    #[error("no user pool configured")]
    NoUserPool,
    /// A pool id is not of the form `{region}_{alphanumerics}`.
    #[error("invalid user pool id {0:?}: expected {{region}}_{{alphanumerics}}")]
    InvalidUserPoolId(String),
    /// A replica region is not a region name, or repeats the pool's region or another replica.
    #[error("user pool {pool}: invalid replica region {region:?}")]
    InvalidReplicaRegion {
        /// The pool.
        pool: String,
        /// The region as given.
        region: String,
    },
    /// The verifier holds [`max_pools`](crate::CognitoVerifierBuilder::max_pools) pools
    /// already, every one proven (given at build, added with `add_pool`, or resolved and
    /// verified a token): an unproven one would have made room.
    #[error("the verifier holds {0} user pools, its maximum")]
    TooManyPools(usize),
    /// The same pool was added twice.
    #[error("user pool {0} is configured twice")]
    DuplicateUserPool(String),
    /// Two pools accept the same issuer, so each would trust the other's tokens.
    #[error("issuer {0} is accepted by two user pools")]
    DuplicateIssuer(String),
    /// A pool has neither client ids nor an explicit `any_client()`.
    #[error(
        "user pool {0}: set the allowed app client ids, or call any_client() to accept every client"
    )]
    ClientIdsNotSet(String),
    /// A pool names clients of its own and the builder names some too: the builder's would be
    /// ignored for that pool.
    #[error(
        "user pool {0} names its own client ids, which replace the builder's: give them in one place"
    )]
    ClientIdsIgnored(String),
    /// The accepted token use was not chosen.
    #[error(
        "choose the accepted token use: token_use(TokenUse::Id), token_use(TokenUse::Access) or any_token_use()"
    )]
    TokenUseNotSet,
    /// A protected resource's identifier is not an absolute `http(s)` URI without query or
    /// fragment (RFC 8707, RFC 9728).
    #[error(
        "invalid protected resource {0:?}: expected an absolute http(s) URI without query or fragment"
    )]
    InvalidResource(String),
    /// A JWKS URL is not an absolute http(s) URL.
    #[error("user pool {pool}: invalid JWKS URL {url:?}")]
    InvalidJwksUrl {
        /// The pool.
        pool: String,
        /// The URL.
        url: String,
    },
    /// An `http://` JWKS URL to a host other than this machine, without
    /// [`allow_plain_http_jwks`](crate::CognitoVerifierBuilder::allow_plain_http_jwks).
    #[error(
        "user pool {pool}: JWKS URL {url:?} is plain http to another host; use https, or call allow_plain_http_jwks()"
    )]
    PlainHttpJwksUrl {
        /// The pool.
        pool: String,
        /// The URL, without credentials.
        url: String,
    },
    /// A JWKS given in memory could not be used.
    #[error("user pool {pool}: {source}")]
    InvalidJwks {
        /// The pool.
        pool: String,
        /// What is wrong with it.
        source: JwksError,
    },
    /// The first fetch of a pool's keys failed (use `build_lazy` to start without keys).
    #[error("user pool {pool}: could not load the signing keys: {source}")]
    InitialFetch {
        /// The pool.
        pool: String,
        /// Why the fetch failed.
        source: JwksError,
    },
    /// No load balancer ARN was given to a load balancer verifier.
    #[error("no load balancer configured")]
    NoLoadBalancer,
    /// An ARN is not an application load balancer's
    /// (`arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{id}`).
    #[error(
        "invalid load balancer ARN {0:?}: expected arn:aws:elasticloadbalancing:{{region}}:{{account}}:loadbalancer/app/{{name}}/{{id}}"
    )]
    InvalidArn(String),
    /// A load balancer verifier has no app client id, or an empty one.
    #[error("set the load balancer's app client ids (the `client` of its tokens), none empty")]
    AlbClientIdsNotSet,
    /// An ARN of a partition whose key location is not known (China), without a key URL.
    #[error("load balancer {0}: no known key location for its partition; set key_url")]
    NoKeyUrl(String),
    /// A load balancer key URL is not an absolute http(s) URL with `{kid}` in its path.
    #[error("invalid key URL {0:?}: expected an http(s) URL with {{kid}} in its path")]
    InvalidKeyUrl(String),
    /// An `http://` load balancer key URL to a host other than this machine, without
    /// `allow_plain_http_keys()`.
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
    /// `build_lazy` was called outside a Tokio runtime.
    #[error("build_lazy must be called within a Tokio runtime")]
    NoRuntime,
}
