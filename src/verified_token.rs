//! A token the HTTP layer verified, kept in the request's extensions for the extractors.

use std::{fmt, sync::Arc};

use serde::de::DeserializeOwned;

use crate::{TokenUse, claims::RegisteredClaims};

/// A verified token: its use, subject, user name, and the claims' JSON.
///
/// [`CognitoAuthLayer`](crate::CognitoAuthLayer) puts one in the request extensions; the
/// extractors read their claims from it. Middleware of your own can read it too:
/// `request.extensions().get::<VerifiedToken>()`.
#[derive(Clone)]
pub struct VerifiedToken {
    inner: Arc<Inner>,
}

struct Inner {
    verifier_id: usize,
    token_use: TokenUse,
    sub: Box<str>,
    username: Option<Box<str>>,
    payload: Box<[u8]>,
}

impl VerifiedToken {
    /// Built only after every check passed, so `token_use` and `sub` are present.
    pub(crate) fn new(verifier_id: usize, claims: &RegisteredClaims<'_>, payload: &[u8]) -> Self {
        let token_use = claims
            .token_use
            .as_deref()
            .and_then(TokenUse::from_claim)
            .unwrap_or(TokenUse::Access);
        Self {
            inner: Arc::new(Inner {
                verifier_id,
                token_use,
                sub: claims.sub.as_deref().unwrap_or_default().into(),
                username: claims
                    .cognito_username
                    .as_deref()
                    .or(claims.username.as_deref())
                    .map(Into::into),
                payload: payload.into(),
            }),
        }
    }

    /// ID or access token.
    pub fn token_use(&self) -> TokenUse {
        self.inner.token_use
    }

    /// `sub`.
    pub fn sub(&self) -> &str {
        &self.inner.sub
    }

    /// `cognito:username` of an ID token or `username` of an access token.
    pub fn username(&self) -> Option<&str> {
        self.inner.username.as_deref()
    }

    /// The claims as JSON text.
    pub fn claims_json(&self) -> &str {
        // Decoded from base64 and parsed as JSON by the verifier, so UTF-8.
        std::str::from_utf8(&self.inner.payload).unwrap_or_default()
    }

    /// The claims read as `C`.
    ///
    /// # Errors
    ///
    /// When the claims do not fit `C`.
    pub fn claims<C: DeserializeOwned>(&self) -> Result<C, serde_json::Error> {
        serde_json::from_slice(&self.inner.payload)
    }

    pub(crate) fn payload(&self) -> &[u8] {
        &self.inner.payload
    }

    pub(crate) fn verifier_id(&self) -> usize {
        self.inner.verifier_id
    }
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("token_use", &self.inner.token_use)
            .field("sub", &self.inner.sub)
            .field("username", &self.inner.username)
            .finish_non_exhaustive()
    }
}
