//! `EitherClaims`: the typed claims of a token of either use, for a handler that branches on it.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;

use super::{
    cognito_claims::{CognitoClaims, typed},
    request_token::{optional_token, required_token},
};
use crate::{
    rejection::{AuthRejection, RefusalContext},
    token_kind::{Access, Id},
    token_use::TokenUse,
    verified_token::VerifiedToken,
};

/// The claims of an ID token or of an access token, typed, as a handler argument: the same
/// sources and refusals as [`CognitoClaims`], for a verifier that accepts both uses.
///
/// ```
/// use axum_cognito::extract::EitherClaims;
///
/// async fn whoami(claims: EitherClaims) -> String {
///     match claims {
///         EitherClaims::Id(user) => format!("user {}", user.username),
///         EitherClaims::Access(caller) if caller.is_machine_to_machine() => {
///             format!("machine {}", caller.client_id)
///         }
///         EitherClaims::Access(caller) => format!("caller {}", caller.sub),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // boxing would cost an allocation per request
pub enum EitherClaims {
    /// An ID token.
    Id(CognitoClaims<Id>),
    /// An access token.
    Access(CognitoClaims<Access>),
}

impl EitherClaims {
    /// The verified token.
    pub fn token(&self) -> &VerifiedToken {
        match self {
            Self::Id(claims) => claims.token(),
            Self::Access(claims) => claims.token(),
        }
    }

    fn of(token: VerifiedToken, context: RefusalContext) -> Result<Self, AuthRejection> {
        Ok(match token.token_use() {
            TokenUse::Id => Self::Id(typed(token, context)?),
            TokenUse::Access => Self::Access(typed(token, context)?),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for EitherClaims {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (token, context) = required_token(parts, None).await?;
        Self::of(token, context)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for EitherClaims {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let token = optional_token(parts, None).await?;
        token
            .map(|(token, context)| Self::of(token, context))
            .transpose()
    }
}
