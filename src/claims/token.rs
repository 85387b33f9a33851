//! Either token's claims, for verifiers that accept both token uses.

use serde::{Deserialize, Deserializer, Serialize, de::Error as _};

use super::{AccessClaims, IdClaims};
use crate::token_use::TokenUse;

/// The claims of a verified ID or access token, told apart by `token_use`.
///
/// Exhaustive, as [`TokenUse`] is: a user pool issues these two uses and no other.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // boxing would cost an allocation per verification
pub enum TokenClaims {
    /// An ID token.
    Id(IdClaims),
    /// An access token.
    Access(AccessClaims),
}

impl TokenClaims {
    /// `sub`: the user's (or, for machine-to-machine tokens, the client's) identifier.
    pub fn sub(&self) -> &str {
        match self {
            Self::Id(c) => &c.sub,
            Self::Access(c) => &c.sub,
        }
    }

    /// Which token this is.
    pub fn token_use(&self) -> TokenUse {
        match self {
            Self::Id(_) => TokenUse::Id,
            Self::Access(_) => TokenUse::Access,
        }
    }

    /// The user name (`cognito:username` or `username`); `None` for machine-to-machine tokens.
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Id(c) => Some(&c.username),
            Self::Access(c) => c.username.as_deref(),
        }
    }

    /// `cognito:groups`; empty when absent.
    pub fn groups(&self) -> &[String] {
        match self {
            Self::Id(c) => &c.groups,
            Self::Access(c) => &c.groups,
        }
    }

    /// The app client: `aud` of an ID token, `client_id` of an access token.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Id(c) => &c.aud,
            Self::Access(c) => &c.client_id,
        }
    }

    /// `exp`.
    pub fn exp(&self) -> i64 {
        match self {
            Self::Id(c) => c.exp,
            Self::Access(c) => c.exp,
        }
    }
}

impl<'de> Deserialize<'de> for TokenClaims {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let token_use = value
            .get("token_use")
            .and_then(|v| v.as_str())
            .and_then(TokenUse::from_claim);
        match token_use {
            Some(TokenUse::Id) => IdClaims::deserialize(value)
                .map(Self::Id)
                .map_err(D::Error::custom),
            Some(TokenUse::Access) => AccessClaims::deserialize(value)
                .map(Self::Access)
                .map_err(D::Error::custom),
            None => Err(D::Error::custom(
                "token_use is neither \"id\" nor \"access\"",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatches_on_token_use() {
        let id: TokenClaims = serde_json::from_str(
            r#"{"sub":"s","iss":"i","aud":"a","token_use":"id","exp":1,"cognito:username":"u"}"#,
        )
        .unwrap();
        assert_eq!(id.token_use(), TokenUse::Id);
        assert_eq!(id.client_id(), "a");
        assert_eq!(id.username(), Some("u"));
        let access: TokenClaims = serde_json::from_str(
            r#"{"sub":"s","iss":"i","client_id":"c","token_use":"access","exp":1}"#,
        )
        .unwrap();
        assert_eq!(access.token_use(), TokenUse::Access);
        assert_eq!(access.client_id(), "c");
        assert!(serde_json::from_str::<TokenClaims>(r#"{"sub":"s","token_use":"ID"}"#).is_err());
    }
}
