//! ID token or access token: the `token_use` claim.
//!
//! The marker types that name a token use in a type (`CognitoClaims<Id>`) live in
//! [`token_kind`](crate::token_kind), after the claims types they point to.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `token_use` claim of a Cognito token.
///
/// Not `#[non_exhaustive]`, on purpose: Cognito user pools issue exactly these two token uses,
/// and a `match` on them should stay exhaustive. Tokens of other families (load balancer
/// tokens) are told apart by their verifier, not by a third variant here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenUse {
    /// An ID token (`"token_use": "id"`): who the user is, for the app client in `aud`.
    Id,
    /// An access token (`"token_use": "access"`): what the caller may do, with `scope` and
    /// `client_id`.
    Access,
}

impl TokenUse {
    /// The claim's value: `"id"` or `"access"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Access => "access",
        }
    }

    /// Parses the claim's value. Exact and case-sensitive, as Cognito writes it.
    pub fn from_claim(value: &str) -> Option<Self> {
        match value {
            "id" => Some(Self::Id),
            "access" => Some(Self::Access),
            _ => None,
        }
    }
}

impl fmt::Display for TokenUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_values_are_exact() {
        assert_eq!(TokenUse::from_claim("id"), Some(TokenUse::Id));
        assert_eq!(TokenUse::from_claim("access"), Some(TokenUse::Access));
        assert_eq!(TokenUse::from_claim("ID"), None);
        assert_eq!(TokenUse::from_claim("Access"), None);
        assert_eq!(TokenUse::from_claim(""), None);
    }
}
