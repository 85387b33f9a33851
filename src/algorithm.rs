//! Signature algorithms: which a token family accepts, and what a key must be to verify one.
//!
//! This is the seam for new token families. User-pool tokens are RS256 with RSA keys from a
//! JWKS, and nothing else is accepted for them. A family signed otherwise (an Application Load
//! Balancer's ES256 tokens with P-256 keys) adds a variant here, the key parsing for it next to
//! the RSA key's (`src/jwks/key.rs`), and a token family (`src/token_family.rs`) that names it;
//! the header check, the key lookup and the signature step stay as they are.

use std::fmt;

/// A JWS signature algorithm the crate verifies.
///
/// `#[non_exhaustive]`: algorithms are added as token families are. A key is bound to one
/// algorithm when it is loaded, and a token verifies only with a key of the algorithm its
/// header names, so a key of one family can never check a signature of another.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a 2048- to 8192-bit RSA key: Cognito user-pool
    /// tokens.
    Rs256,
    /// ECDSA with P-256 and SHA-256, the signature the raw 64-byte `r || s` (RFC 7518
    /// section 3.4): an Application Load Balancer's `x-amzn-oidc-data` tokens.
    Es256,
}

impl Algorithm {
    /// The `alg` header value, such as `"RS256"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    /// The algorithm named by an `alg` header value: exact and case-sensitive, as RFC 7518
    /// writes the names.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }

    /// The largest signature of this algorithm, in bytes (an 8192-bit RSA signature; the
    /// fixed 64 bytes of ES256).
    pub(crate) fn max_signature_bytes(self) -> usize {
        match self {
            Self::Rs256 => 1024,
            Self::Es256 => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_exact() {
        assert_eq!(Algorithm::from_name("RS256"), Some(Algorithm::Rs256));
        assert_eq!(Algorithm::Rs256.name(), "RS256");
        assert_eq!(Algorithm::from_name("ES256"), Some(Algorithm::Es256));
        assert_eq!(Algorithm::Es256.name(), "ES256");
        for other in ["rs256", "es256", "RS384", "ES384", "none", "HS256", ""] {
            assert_eq!(Algorithm::from_name(other), None, "{other}");
        }
    }
}
