//! `CognitoClaims<Id>` / `CognitoClaims<Access>`: the verified claims as a handler argument.

use std::{any::Any, fmt, marker::PhantomData, ops::Deref};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::{
    error::{Error, ErrorKind},
    rejection::{AuthRejection, log_accepted, log_rejection},
    token_kind::TokenKind,
    token_source::{AuthorizationBearer, FoundToken, TokenSource},
    token_use::TokenUse,
    verified_token::VerifiedToken,
    verifier::{CognitoVerifier, TokenRequirements},
};

/// The verified claims of an ID token (`CognitoClaims<Id>`) or an access token
/// (`CognitoClaims<Access>`), read as the crate's [`IdClaims`](crate::IdClaims) /
/// [`AccessClaims`](crate::AccessClaims) or as your own type (`CognitoClaims<Id, MyClaims>`).
///
/// Where a [`CognitoAuthLayer`](crate::CognitoAuthLayer) ran, the claims come from the token it
/// verified. Where none ran, the extractor verifies the Bearer token itself with a
/// [`CognitoVerifier`] found in the request extensions (`.layer(Extension(verifier))`) or
/// used as the router's state (`.with_state(verifier)`), so a handler argument alone protects
/// a route. A token of the other use is refused with 401. Neither a layer nor a verifier: 500
/// with a message that names the fix.
///
/// `Option<CognitoClaims<..>>` gives `None` when the request has no `Authorization` header; a
/// bad token is still refused with 401.
///
/// ```
/// use axum::{Router, routing::get};
/// use axum_cognito::{Access, CognitoClaims, CognitoVerifier, Id};
///
/// async fn profile(claims: CognitoClaims<Id>) -> String {
///     format!("{} <{}>", claims.username, claims.email.as_deref().unwrap_or("-"))
/// }
///
/// async fn admin(claims: CognitoClaims<Access>) -> Result<&'static str, axum_cognito::AuthRejection> {
///     claims.require_any_group(["admins"])?;
///     Ok("welcome, admin")
/// }
///
/// async fn greeting(claims: Option<CognitoClaims<Id>>) -> String {
///     match claims {
///         Some(claims) => format!("hello {}", claims.username),
///         None => "hello stranger".into(),
///     }
/// }
///
/// fn app(verifier: CognitoVerifier) -> Router {
///     Router::new()
///         .route("/profile", get(profile))
///         .route("/admin", get(admin))
///         .route("/", get(greeting))
///         .with_state(verifier)
/// }
/// ```
pub struct CognitoClaims<U: TokenKind, C = <U as TokenKind>::Claims> {
    claims: C,
    token: VerifiedToken,
    token_use: PhantomData<fn() -> U>,
}

impl<U: TokenKind, C> CognitoClaims<U, C> {
    /// The claims.
    pub fn into_inner(self) -> C {
        self.claims
    }

    /// The verified token: use, subject, user name, raw claims.
    pub fn token(&self) -> &VerifiedToken {
        &self.token
    }

    /// A guard for handlers: 403 unless `cognito:groups` holds at least one of `groups`.
    ///
    /// # Errors
    ///
    /// An [`AuthRejection`] answering 403.
    pub fn require_any_group<I, S>(&self, groups: I) -> Result<(), AuthRejection>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.guard(TokenRequirements::new().any_group(groups))
    }

    /// A guard for handlers: 403 unless `scope` holds at least one of `scopes`.
    ///
    /// # Errors
    ///
    /// An [`AuthRejection`] answering 403.
    pub fn require_any_scope<I, S>(&self, scopes: I) -> Result<(), AuthRejection>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.guard(TokenRequirements::new().any_scope(scopes))
    }

    fn guard(&self, requirements: TokenRequirements) -> Result<(), AuthRejection> {
        CognitoVerifier::recheck(&self.token, &requirements).map_err(reject)
    }
}

impl<U: TokenKind, C> Deref for CognitoClaims<U, C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.claims
    }
}

impl<U: TokenKind, C: Clone> Clone for CognitoClaims<U, C> {
    fn clone(&self) -> Self {
        Self {
            claims: self.claims.clone(),
            token: self.token.clone(),
            token_use: PhantomData,
        }
    }
}

impl<U: TokenKind, C: fmt::Debug> fmt::Debug for CognitoClaims<U, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoClaims")
            .field("token_use", &U::TOKEN_USE)
            .field("claims", &self.claims)
            .finish()
    }
}

fn reject(error: Error) -> AuthRejection {
    let rejection = AuthRejection::from_error(error);
    log_rejection(&rejection);
    rejection
}

/// The token this request carries, verified by this extractor's verifier. `None` when the
/// request has no token.
///
/// The extractor's own verifier is the router state's (the most specific: a nested router's
/// `.with_state(verifier)`), else one in the extensions (`Extension(verifier)`, or the one an
/// optional layer passed an anonymous request with). A token already verified in this request
/// is taken only when no verifier of its own is found (a layer alone protects the route) or
/// when that verifier verified it; a token of another verifier is verified again, never
/// accepted as it is.
pub(crate) async fn verified_token<S: Send + Sync + 'static>(
    parts: &mut Parts,
    state: &S,
    token_use: Option<TokenUse>,
) -> Result<Option<VerifiedToken>, AuthRejection> {
    let own = own_verifier(parts, state);
    if let Some(token) = parts.extensions.get::<VerifiedToken>()
        && own.is_none_or(|verifier| verifier.id() == token.verifier_id())
    {
        return Ok(Some(token.clone()));
    }
    let token = match AuthorizationBearer.find(&parts.headers, &parts.uri) {
        FoundToken::Absent => return Ok(None),
        FoundToken::Invalid(problem) => {
            let rejection = AuthRejection::invalid_request(problem);
            log_rejection(&rejection);
            return Err(rejection);
        }
        FoundToken::Present(token) => token.to_owned(),
    };
    let Some(verifier) = own.cloned() else {
        return Err(missing_verifier());
    };
    let requirements = match token_use {
        Some(token_use) => TokenRequirements::new().token_use(token_use),
        None => TokenRequirements::new(),
    };
    let verified = verifier
        .verify_token(&token, &requirements)
        .await
        .map_err(reject)?;
    log_accepted(&verified);
    // A second extractor in the same handler reuses it.
    parts.extensions.insert(verified.clone());
    Ok(Some(verified))
}

/// The verifier of this extractor: the router state's, else the extensions'.
fn own_verifier<'p, S: Send + Sync + 'static>(
    parts: &'p Parts,
    state: &'p S,
) -> Option<&'p CognitoVerifier> {
    (state as &dyn Any)
        .downcast_ref::<CognitoVerifier>()
        .or_else(|| parts.extensions.get::<CognitoVerifier>())
}

fn has_verifier<S: Send + Sync + 'static>(parts: &Parts, state: &S) -> bool {
    own_verifier(parts, state).is_some()
}

fn missing_verifier() -> AuthRejection {
    let rejection = AuthRejection::missing_verifier();
    log_rejection(&rejection);
    rejection
}

/// The token, or the refusal for a request without one: 401, or 500 when the route has no
/// verifier at all, so that a misconfigured route says so.
pub(crate) fn required<S: Send + Sync + 'static>(
    token: Option<VerifiedToken>,
    parts: &Parts,
    state: &S,
) -> Result<VerifiedToken, AuthRejection> {
    match token {
        Some(token) => Ok(token),
        None if has_verifier(parts, state) => {
            let rejection = AuthRejection::missing_token();
            log_rejection(&rejection);
            Err(rejection)
        }
        None => Err(missing_verifier()),
    }
}

/// The token if any; a request without one passes, unless the route has no verifier at all
/// (500, so that a misconfigured route says so even to anonymous requests).
pub(crate) fn optional<S: Send + Sync + 'static>(
    token: Option<VerifiedToken>,
    parts: &Parts,
    state: &S,
) -> Result<Option<VerifiedToken>, AuthRejection> {
    match token {
        None if !has_verifier(parts, state) => Err(missing_verifier()),
        token => Ok(token),
    }
}

fn claims_of<U: TokenKind, C: DeserializeOwned + 'static>(
    token: VerifiedToken,
) -> Result<CognitoClaims<U, C>, AuthRejection> {
    if token.token_use() != U::TOKEN_USE {
        return Err(reject(
            Error::new(ErrorKind::InvalidTokenUse).with_verified_claims(token.payload()),
        ));
    }
    // The crate's own claims types are read once per token (a cached token's are reused).
    let claims = token.claims_as::<C>().map_err(|_| {
        reject(Error::new(ErrorKind::InvalidClaims).with_verified_claims(token.payload()))
    })?;
    Ok(CognitoClaims {
        claims,
        token,
        token_use: PhantomData,
    })
}

impl<U, C, S> FromRequestParts<S> for CognitoClaims<U, C>
where
    U: TokenKind,
    C: DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + 'static,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = verified_token(parts, state, Some(U::TOKEN_USE)).await?;
        claims_of(required(token, parts, state)?)
    }
}

impl<U, C, S> OptionalFromRequestParts<S> for CognitoClaims<U, C>
where
    U: TokenKind,
    C: DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + 'static,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let token = verified_token(parts, state, Some(U::TOKEN_USE)).await?;
        optional(token, parts, state)?.map(claims_of).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        claims::{AccessClaims, IdClaims},
        token_kind::{Access, Id},
    };

    #[test]
    fn traits() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<CognitoClaims<Id>>();
        assert_send_sync::<CognitoClaims<Access>>();
        let _: Option<CognitoClaims<Id, IdClaims>> = None;
        let _: Option<CognitoClaims<Access, AccessClaims>> = None;
    }
}
