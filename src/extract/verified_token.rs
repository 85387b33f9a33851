//! `VerifiedToken` as a handler argument: a token of either use.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;

use super::request_token::{optional_token, required_token};
use crate::{rejection::AuthRejection, verified_token::VerifiedToken};

/// Extracts the verified token of either use, as [`CognitoClaims`](crate::CognitoClaims) does
/// for one use: from the layer, or verified here with the verifier in the extensions.
impl<S: Send + Sync> FromRequestParts<S> for VerifiedToken {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(required_token(parts, None).await?.0)
    }
}

/// `None` for a request without an `Authorization` header; a bad token is still refused, and a
/// route with no verifier at all answers 500.
impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifiedToken {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(optional_token(parts, None).await?.map(|(token, _)| token))
    }
}
