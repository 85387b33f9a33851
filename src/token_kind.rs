//! The marker types [`Id`] and [`Access`] that name a token use in a type, as in
//! `CognitoClaims<Id>`, with the claims type that fits each.

use crate::{
    claims::{AccessClaims, IdClaims},
    token_use::TokenUse,
};

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
    fn markers_name_their_use() {
        assert_eq!(Id::TOKEN_USE, TokenUse::Id);
        assert_eq!(Access::TOKEN_USE, TokenUse::Access);
    }
}
