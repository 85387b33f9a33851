//! ID token or access token: the `token_use` claim, and the marker types [`Id`] and [`Access`]
//! that name one in a type (`CognitoClaims<Id>`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::claims::{AccessClaims, IdClaims};

/// The `token_use` claim of a Cognito token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TokenUse {
    /// An ID token (`"token_use": "id"`): who the user is, for the app client in `aud`.
    #[serde(rename = "id")]
    Id,
    /// An access token (`"token_use": "access"`): what the caller may do, with `scope` and
    /// `client_id`.
    #[serde(rename = "access")]
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

/// A token use named as a type, with the claims type that fits it.
///
/// Implemented by [`Id`] and [`Access`]; sealed.
pub trait TokenKind: sealed::Sealed + Send + Sync + 'static {
    /// The `token_use` this type stands for.
    const TOKEN_USE: TokenUse;
    /// The crate's typed claims for this token use.
    type Claims: serde::de::DeserializeOwned + Send + Sync + 'static;
}

/// Marker type for an ID token, as in `CognitoClaims<Id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Id;

/// Marker type for an access token, as in `CognitoClaims<Access>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Access;

impl TokenKind for Id {
    const TOKEN_USE: TokenUse = TokenUse::Id;
    type Claims = IdClaims;
}

impl TokenKind for Access {
    const TOKEN_USE: TokenUse = TokenUse::Access;
    type Claims = AccessClaims;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Id {}
    impl Sealed for super::Access {}
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
