//! `CognitoClaims<Id>` / `CognitoClaims<Access>`: the verified claims as a handler argument.

use std::{fmt, marker::PhantomData, ops::Deref};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::auth_state::AuthState;
use crate::{
    error::{Error, ErrorKind},
    middleware::PassedWithoutToken,
    rejection::{AuthRejection, RefusalContext, log_accepted, log_rejection},
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
    /// How a guard's refusal answers: as the layer the request passed through would.
    context: RefusalContext,
    token_use: PhantomData<fn() -> U>,
}

impl<U: TokenKind, C: DeserializeOwned + 'static> CognitoClaims<U, C> {
    /// The claims of a token verified elsewhere, read as `C`: for a handler's unit test (see
    /// [`TestIssuer::verified_token`](crate::test_util::TestIssuer::verified_token), feature
    /// `test-util`), or a token passed on from another extractor.
    ///
    /// ```
    /// use axum_cognito::{Access, CognitoClaims, test_util::TestIssuer};
    ///
    /// async fn orders(caller: CognitoClaims<Access>) -> String {
    ///     format!("orders of {}", caller.username.as_deref().unwrap_or("?"))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let issuer = TestIssuer::start().await;
    /// let token = issuer.verified_token(&issuer.access_token().username("alice").sign()).await;
    /// let claims = CognitoClaims::<Access>::from_verified(token).unwrap();
    /// assert_eq!(orders(claims).await, "orders of alice"); // no HTTP, no router
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// 401 when the token is of the other use or its claims do not fit `C`.
    pub fn from_verified(token: VerifiedToken) -> Result<Self, AuthRejection> {
        typed(token, RefusalContext::default())
    }
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
        CognitoVerifier::recheck(&self.token, &requirements).map_err(|e| reject(e, &self.context))
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
            context: self.context.clone(),
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

fn reject(error: Error, context: &RefusalContext) -> AuthRejection {
    refuse(AuthRejection::from_error(error), context)
}

fn refuse(rejection: AuthRejection, context: &RefusalContext) -> AuthRejection {
    let rejection = rejection.in_context(context);
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
pub(crate) async fn verified_token<S: AuthState>(
    parts: &mut Parts,
    state: &S,
    token_use: Option<TokenUse>,
    context: &RefusalContext,
) -> Result<Option<VerifiedToken>, AuthRejection> {
    let own = own_verifier(parts, state);
    if let Some(token) = parts.extensions.get::<VerifiedToken>()
        && own
            .as_ref()
            .is_none_or(|verifier| verifier.id() == token.verifier_id())
    {
        return Ok(Some(token.clone()));
    }
    // A layer of this verifier found no token where it looks (its token source): none here.
    if let (Some(passed), Some(own)) = (parts.extensions.get::<PassedWithoutToken>(), &own)
        && passed.0.id() == own.id()
    {
        return Ok(None);
    }
    let token = match AuthorizationBearer.find(&parts.headers, &parts.uri) {
        FoundToken::Absent => return Ok(None),
        FoundToken::Invalid(problem) => {
            return Err(refuse(AuthRejection::invalid_request(problem), context));
        }
        FoundToken::Present(token) => token.to_owned(),
    };
    let Some(verifier) = own else {
        return Err(refuse(AuthRejection::missing_verifier(), context));
    };
    let requirements = match token_use {
        Some(token_use) => TokenRequirements::new().token_use(token_use),
        None => TokenRequirements::new(),
    };
    let verified = verifier
        .verify_token(&token, &requirements)
        .await
        .map_err(|e| reject(e, context))?;
    log_accepted(&verified);
    // A second extractor in the same handler reuses it.
    parts.extensions.insert(verified.clone());
    Ok(Some(verified))
}

/// The verifier of this extractor: the router state's, else the extensions' (an
/// `Extension(verifier)`, or the one of an optional layer that let the request through).
fn own_verifier<S: AuthState>(parts: &Parts, state: &S) -> Option<CognitoVerifier> {
    state
        .verifier()
        .or_else(|| parts.extensions.get::<CognitoVerifier>().cloned())
        .or_else(|| {
            parts
                .extensions
                .get::<PassedWithoutToken>()
                .map(|passed| passed.0.clone())
        })
}

fn has_verifier<S: AuthState>(parts: &Parts, state: &S) -> bool {
    own_verifier(parts, state).is_some()
}

/// The token, or the refusal for a request without one: 401, or 500 when the route has no
/// verifier at all, so that a misconfigured route says so.
pub(crate) fn required<S: AuthState>(
    token: Option<VerifiedToken>,
    parts: &Parts,
    state: &S,
    context: &RefusalContext,
) -> Result<VerifiedToken, AuthRejection> {
    match token {
        Some(token) => Ok(token),
        None if has_verifier(parts, state) => Err(refuse(AuthRejection::missing_token(), context)),
        None => Err(refuse(AuthRejection::missing_verifier(), context)),
    }
}

/// The token if any; a request without one passes, unless the route has no verifier at all
/// (500, so that a misconfigured route says so even to anonymous requests).
pub(crate) fn optional<S: AuthState>(
    token: Option<VerifiedToken>,
    parts: &Parts,
    state: &S,
    context: &RefusalContext,
) -> Result<Option<VerifiedToken>, AuthRejection> {
    match token {
        None if !has_verifier(parts, state) => {
            Err(refuse(AuthRejection::missing_verifier(), context))
        }
        token => Ok(token),
    }
}

pub(crate) fn typed<U: TokenKind, C: DeserializeOwned + 'static>(
    token: VerifiedToken,
    context: RefusalContext,
) -> Result<CognitoClaims<U, C>, AuthRejection> {
    if token.token_use() != U::TOKEN_USE {
        let error = Error::new(ErrorKind::InvalidTokenUse).with_verified_claims(token.payload());
        return Err(reject(error, &context));
    }
    // The crate's own claims types are read once per token (a cached token's are reused).
    let claims = token.claims_as::<C>().map_err(|_| {
        let error = Error::new(ErrorKind::InvalidClaims).with_verified_claims(token.payload());
        reject(error, &context)
    })?;
    Ok(CognitoClaims {
        claims,
        token,
        context,
        token_use: PhantomData,
    })
}

impl<U, C, S> FromRequestParts<S> for CognitoClaims<U, C>
where
    U: TokenKind,
    C: DeserializeOwned + Send + Sync + 'static,
    S: AuthState,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = RefusalContext::of(&parts.headers, &parts.extensions);
        let token = verified_token(parts, state, Some(U::TOKEN_USE), &context).await?;
        typed(required(token, parts, state, &context)?, context)
    }
}

impl<U, C, S> OptionalFromRequestParts<S> for CognitoClaims<U, C>
where
    U: TokenKind,
    C: DeserializeOwned + Send + Sync + 'static,
    S: AuthState,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let context = RefusalContext::of(&parts.headers, &parts.extensions);
        let token = verified_token(parts, state, Some(U::TOKEN_USE), &context).await?;
        optional(token, parts, state, &context)?
            .map(|token| typed(token, context))
            .transpose()
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
