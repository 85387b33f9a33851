//! A token family: the algorithms one kind of token may be signed with.
//!
//! User-pool tokens (ID and access) are one family: `alg` must be RS256, and their keys are
//! RSA keys from the pool's JWKS. The load balancer's `x-amzn-oidc-data` (feature `alb`) is
//! another: ES256 with P-256 keys. Both headers go through the same first checks
//! (`compact_token::algorithm_and_kid`, reading the family instead of a constant) and the
//! same splitter (with the family's padding); the load balancer's header then reads the
//! members only it has (`alb/header.rs`).

use crate::algorithm::Algorithm;

/// What a family's tokens may be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenFamily {
    /// The `alg` values accepted; any other is refused before a key is looked up.
    pub(crate) algorithms: &'static [Algorithm],
}

impl TokenFamily {
    /// The algorithm a header names, when this family accepts it.
    pub(crate) fn algorithm(&self, alg: &str) -> Option<Algorithm> {
        Algorithm::from_name(alg).filter(|a| self.algorithms.contains(a))
    }
}

/// Cognito user-pool ID and access tokens: RS256 only, the only algorithm Cognito signs with.
pub(crate) const USER_POOL: TokenFamily = TokenFamily {
    algorithms: &[Algorithm::Rs256],
};

#[cfg(feature = "alb")]
/// An Application Load Balancer's `x-amzn-oidc-data`: ES256 only, with P-256 keys fetched per
/// `kid`.
pub(crate) const ALB: TokenFamily = TokenFamily {
    algorithms: &[Algorithm::Es256],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_pool_tokens_are_rs256_only() {
        assert_eq!(USER_POOL.algorithm("RS256"), Some(Algorithm::Rs256));
        for other in ["RS384", "PS256", "ES256", "HS256", "none", "rs256"] {
            assert_eq!(USER_POOL.algorithm(other), None, "{other}");
        }
    }

    #[cfg(feature = "alb")]
    #[test]
    fn alb_tokens_are_es256_only() {
        assert_eq!(ALB.algorithm("ES256"), Some(Algorithm::Es256));
        for other in ["RS256", "ES384", "HS256", "none", "es256", ""] {
            assert_eq!(ALB.algorithm(other), None, "{other}");
        }
    }
}
