//! `VerifiedToken` as a handler argument: a token of either use.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;

use super::{
    auth_state::AuthState,
    cognito_claims::{optional, required, verified_token},
};
use crate::{
    rejection::{AuthRejection, RefusalContext},
    verified_token::VerifiedToken,
};

/// Extracts the verified token of either use, as [`CognitoClaims`](crate::CognitoClaims) does
/// for one use: from the layer, or verified here with a verifier from the extensions or the
/// router state.
impl<S: AuthState> FromRequestParts<S> for VerifiedToken {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = RefusalContext::of(&parts.headers, &parts.extensions);
        let token = verified_token(parts, state, None, &context).await?;
        required(token, parts, state, &context)
    }
}

/// `None` for a request without an `Authorization` header; a bad token is still refused, and a
/// route with no verifier at all answers 500.
impl<S: AuthState> OptionalFromRequestParts<S> for VerifiedToken {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let context = RefusalContext::of(&parts.headers, &parts.extensions);
        let token = verified_token(parts, state, None, &context).await?;
        optional(token, parts, state, &context)
    }
}
