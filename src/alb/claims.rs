//! `AlbClaims<C>`: the load balancer's verified user claims as a handler argument.

use std::ops::Deref;

use axum::extract::FromRequestParts;
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::{token::AlbToken, user_claims::AlbUserClaims};
use crate::{
    error::{Error, ErrorKind},
    rejection::{AuthRejection, RefusalContext, log_rejection},
};

/// The user claims of the `x-amzn-oidc-data` token an [`AlbAuthLayer`](super::AlbAuthLayer)
/// verified, read as [`AlbUserClaims`] or as your own type (`AlbClaims<MyClaims>`), with the
/// load balancer's fields through [`token`](Self::token).
///
/// Claims that do not fit `C`: 401, answered as the layer's renderer would. No layer ran for
/// the route: 500, with a message that names the fix.
///
/// Never read the user from `x-amzn-oidc-identity` instead: the load balancer does not sign
/// it, and anyone who reaches the service around the load balancer can set it.
///
/// ```
/// use axum::{Router, routing::get};
/// use axum_cognito::alb::{AlbAuthLayer, AlbClaims, AlbVerifier};
///
/// #[derive(serde::Deserialize)]
/// struct Employee {
///     sub: String,
///     #[serde(rename = "custom:department")]
///     department: String,
/// }
///
/// async fn department(user: AlbClaims<Employee>) -> String {
///     format!("{} works in {} (via {})", user.sub, user.department, user.token().signer())
/// }
///
/// fn app(verifier: AlbVerifier) -> Router {
///     Router::new()
///         .route("/department", get(department))
///         .layer(AlbAuthLayer::new(verifier))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct AlbClaims<C = AlbUserClaims> {
    claims: C,
    token: AlbToken,
}

impl<C: DeserializeOwned> AlbClaims<C> {
    /// The claims of a token verified elsewhere, read as `C`: for a handler's unit test.
    ///
    /// ```
    /// use axum_cognito::{alb::AlbClaims, test_util::TestAlb};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let alb = TestAlb::start().await;
    /// let verifier = alb.verifier_builder().build().unwrap();
    /// let token = verifier.verify(&alb.token().username("alice").sign()).await.unwrap();
    /// let claims: AlbClaims = AlbClaims::from_verified(token).unwrap();
    /// assert_eq!(claims.username.as_deref(), Some("alice"));
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// 401 when the claims do not fit `C`.
    pub fn from_verified(token: AlbToken) -> Result<Self, AuthRejection> {
        typed(token, &RefusalContext::default())
    }
}

impl<C> AlbClaims<C> {
    /// The claims.
    pub fn into_inner(self) -> C {
        self.claims
    }

    /// The verified token: `signer`, `client`, `iss`, `exp`, the raw claims.
    pub fn token(&self) -> &AlbToken {
        &self.token
    }
}

fn typed<C: DeserializeOwned>(
    token: AlbToken,
    context: &RefusalContext,
) -> Result<AlbClaims<C>, AuthRejection> {
    match token.claims::<C>() {
        Ok(claims) => Ok(AlbClaims { claims, token }),
        Err(_) => {
            let error = Error::new(ErrorKind::InvalidClaims)
                .with_verified_claims(token.claims_json().as_bytes());
            Err(refuse(AuthRejection::from_error(error), context))
        }
    }
}

fn refuse(rejection: AuthRejection, context: &RefusalContext) -> AuthRejection {
    let rejection = rejection.in_context(context);
    log_rejection(&rejection);
    rejection
}

impl<C, S> FromRequestParts<S> for AlbClaims<C>
where
    C: DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let context = RefusalContext::of(parts);
        match parts.extensions.get::<AlbToken>() {
            Some(token) => typed(token.clone(), &context),
            None => Err(refuse(AuthRejection::missing_alb_layer(), &context)),
        }
    }
}

impl<C> Deref for AlbClaims<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.claims
    }
}
