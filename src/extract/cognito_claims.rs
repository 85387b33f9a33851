//! `CognitoClaims<Id>` / `CognitoClaims<Access>`: the verified claims as a handler argument.

use std::{fmt, marker::PhantomData, ops::Deref, sync::Arc};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::request_token::{optional_token, reject, required_token};
use crate::{
    error::{Error, ErrorKind},
    rejection::{AuthRejection, RefusalContext},
    token_kind::TokenKind,
    verified_token::VerifiedToken,
    verifier::{CognitoVerifier, TokenRequirements},
};

/// The verified claims of an ID token (`CognitoClaims<Id>`) or an access token
/// (`CognitoClaims<Access>`), read as the crate's [`IdClaims`](crate::IdClaims) /
/// [`AccessClaims`](crate::AccessClaims) or as your own type (`CognitoClaims<Id, MyClaims>`).
///
/// Where a [`CognitoAuthLayer`](crate::CognitoAuthLayer) ran, the claims come from the token it
/// verified. Where none ran, the extractor verifies the Bearer token itself with the
/// [`CognitoVerifier`] found in the request extensions (`.layer(Extension(verifier))`), so a
/// handler argument alone protects a route. The router's state is yours: the extractors work
/// with any. A token of the other use is refused with 401. Neither a layer nor a verifier: 500
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
///         .layer(axum::Extension(verifier))
/// }
/// ```
pub struct CognitoClaims<U: TokenKind, C = <U as TokenKind>::Claims> {
    /// Shared with the verified token (and its cache entry): no copy per request.
    claims: Arc<C>,
    token: VerifiedToken,
    /// How a guard's refusal answers: as the layer the request passed through would.
    context: RefusalContext,
    token_use: PhantomData<fn() -> U>,
}

impl<U: TokenKind, C: DeserializeOwned + Send + Sync + 'static> CognitoClaims<U, C> {
    /// The claims of a token verified elsewhere, read as `C`: for a handler's unit test (see
    /// `TestIssuer::verified_token`, feature
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
    /// The claims, shared with the verified token: a cache hit hands out the claims read when
    /// the token was first verified, without copying them.
    pub fn into_inner(self) -> Arc<C> {
        self.claims
    }

    /// The claims, owned: moved out when nothing else shares them, else cloned.
    pub fn into_owned(self) -> C
    where
        C: Clone,
    {
        Arc::unwrap_or_clone(self.claims)
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

impl<U: TokenKind, C> Clone for CognitoClaims<U, C> {
    fn clone(&self) -> Self {
        Self {
            claims: Arc::clone(&self.claims),
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

pub(crate) fn typed<U: TokenKind, C: DeserializeOwned + Send + Sync + 'static>(
    token: VerifiedToken,
    context: RefusalContext,
) -> Result<CognitoClaims<U, C>, AuthRejection> {
    if token.token_use() != U::TOKEN_USE {
        let error = Error::new(ErrorKind::InvalidTokenUse).with_verified_claims(token.payload());
        return Err(reject(error, &context));
    }
    // The crate's own claims types were read with the token; a type of the caller's is read
    // once per token (a cached token's are reused).
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
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (token, context) = required_token(parts, Some(U::TOKEN_USE)).await?;
        typed(token, context)
    }
}

impl<U, C, S> OptionalFromRequestParts<S> for CognitoClaims<U, C>
where
    U: TokenKind,
    C: DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let token = optional_token(parts, Some(U::TOKEN_USE)).await?;
        token
            .map(|(token, context)| typed(token, context))
            .transpose()
    }
}
