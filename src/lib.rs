#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Modules in dependency order, one group per level, lowest first: a module imports only from
// its own group's lower modules and the groups above it.

// Errors, token use, algorithms, token families, loopback URLs, and the metrics of them all.
mod algorithm;
mod budget;
mod byte_scan;
mod error;
mod json;
mod lock;
mod loopback;
mod metrics;
mod rate_limited_log;
mod single_flight;
mod token_family;
mod token_use;

// Claims, and the marker types that name a claims type.
pub mod claims;
mod token_kind;

// Keys: defaults, the JWKS store, the compact token and its signature; the configuration
// error and the limits every builder shares.
mod compact_token;
mod config_error;
pub mod defaults;
pub mod jwks;
mod limits;

// What a verification found, the cache of it, and revocation.
pub mod revocation;
mod token_cache;
mod verified_token;

// The verifier and its pipeline.
pub mod verifier;

// HTTP: where tokens come from, how refusals answer, the middleware, the extractors.
pub mod extract;
pub mod middleware;
pub mod rejection;
pub mod resource_server;
pub mod token_source;

// Load balancer tokens: their keys, verifier, layer and extractor (over all of the above).
#[cfg(feature = "alb")]
#[cfg_attr(docsrs, doc(cfg(feature = "alb")))]
pub mod alb;

// AWS Lambda behind API Gateway: the claims its authorizer verified (over the verifier).
#[cfg(feature = "lambda")]
#[cfg_attr(docsrs, doc(cfg(feature = "lambda")))]
pub mod lambda;

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;

#[cfg(feature = "alb")]
pub use alb::{AlbAuthLayer, AlbClaims, AlbVerifier};
pub use algorithm::Algorithm;
pub use claims::{AccessClaims, IdClaims, TokenClaims};
pub use config_error::ConfigError;
pub use error::{Error, ErrorKind};
pub use extract::CognitoClaims;
pub use jwks::{JwksError, KeyLocationStatus, KeyStoreStatus};
pub use middleware::CognitoAuthLayer;
pub use rejection::{AuthRejection, DefaultRejection, OnRejection, RejectionKind};
pub use token_kind::{Access, Id, TokenKind};
pub use token_use::TokenUse;
pub use verified_token::VerifiedToken;
pub use verifier::{
    CognitoVerifier, CognitoVerifierBuilder, PoolResolver, ResolveError, ResolveFuture,
    TokenRequirements, UserPool, VerifierStatus,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The handles users keep in state and share across tasks.
    #[test]
    fn public_types_are_send_and_sync() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<CognitoVerifier>();
        shared::<CognitoClaims<Id>>();
        shared::<CognitoClaims<Access>>();
        shared::<VerifiedToken>();
        shared::<Error>();
        #[cfg(feature = "alb")]
        {
            shared::<AlbVerifier>();
            shared::<AlbClaims>();
            shared::<alb::AlbToken>();
        }
    }
}
