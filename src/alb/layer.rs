//! The layer: the verifier, the route's custom checks, and how refusals answer.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use tower_layer::Layer;

use super::{checks::AlbCheck, service::AlbAuth, verifier::AlbVerifier};
use crate::{
    error::ErrorKind,
    rejection::{DefaultRejection, OnRejection},
    verifier::CognitoVerifier,
};

/// Verifies the `x-amzn-oidc-data` header of every request (the raw token, no `Bearer`) and
/// puts an [`AlbToken`](super::AlbToken) in its extensions for
/// [`AlbClaims`](super::AlbClaims).
///
/// It answers as [`CognitoAuthLayer`](crate::CognitoAuthLayer) does, through the same
/// [`OnRejection`] seam: 401 for no header, two headers or a bad token, 403 when a
/// [`custom_check_forbidden`](Self::custom_check_forbidden) fails, 503 (`Retry-After`) when
/// the token's key cannot be fetched. Stacked layers with the same verifier verify the token
/// once; the inner ones only run their own checks.
///
/// ```
/// use axum::{Router, body::Body, http::Request, routing::get};
/// use axum_cognito::{alb::{AlbAuthLayer, AlbClaims}, test_util::TestAlb};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let alb = TestAlb::start().await;
/// let verifier = alb.verifier_builder().build().unwrap();
/// async fn me(user: AlbClaims) -> String {
///     user.email.clone().unwrap_or_default()
/// }
/// let app = Router::new().route("/me", get(me)).layer(AlbAuthLayer::new(verifier));
///
/// let token = alb.token().email("a@example.com").sign();
/// let request = Request::get("/me").header("x-amzn-oidc-data", token).body(Body::empty()).unwrap();
/// assert_eq!(app.clone().oneshot(request).await.unwrap().status(), 200);
/// let request = Request::get("/me").body(Body::empty()).unwrap();
/// assert_eq!(app.oneshot(request).await.unwrap().status(), 401);
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct AlbAuthLayer<R = DefaultRejection> {
    pub(super) config: Arc<AlbAuthConfig>,
    pub(super) on_rejection: R,
}

pub(super) struct AlbAuthConfig {
    pub(super) verifier: AlbVerifier,
    pub(super) checks: Vec<AlbCheck>,
    /// Verifies `x-amzn-oidc-accesstoken` too, when set.
    pub(super) access: Option<CognitoVerifier>,
}

impl AlbAuthLayer {
    /// A layer that requires a valid token of `verifier`.
    pub fn new(verifier: AlbVerifier) -> Self {
        Self {
            config: Arc::new(AlbAuthConfig {
                verifier,
                checks: Vec::new(),
                access: None,
            }),
            on_rejection: DefaultRejection::terse(),
        }
    }

    /// Verbose rejections: bodies and `error_description` say which check failed.
    pub fn verbose(self) -> Self {
        self.on_rejection(DefaultRejection::verbose())
    }
}

impl<R> AlbAuthLayer<R> {
    fn with_config(self, change: impl FnOnce(&mut AlbAuthConfig)) -> Self {
        let mut config = AlbAuthConfig {
            verifier: self.config.verifier.clone(),
            checks: self.config.checks.clone(),
            access: self.config.access.clone(),
        };
        change(&mut config);
        Self {
            config: Arc::new(config),
            on_rejection: self.on_rejection,
        }
    }

    fn with_check(self, check: AlbCheck) -> Self {
        self.with_config(|c| c.checks.push(check))
    }

    /// Also requires `x-amzn-oidc-accesstoken`, the Cognito access token the load balancer
    /// forwards unsigned: it must be a valid access token of `verifier` whose `sub` is the
    /// ALB token's (401 otherwise). It is then in the request extensions as a
    /// [`VerifiedToken`](crate::VerifiedToken), so the user's groups and scopes are at hand
    /// (`CognitoClaims<Access>` takes it when no verifier of its own is found).
    ///
    /// ```
    /// use axum_cognito::{alb::{AlbAuthLayer, AlbVerifier}, CognitoVerifier};
    ///
    /// fn with_groups(alb: AlbVerifier, pool: CognitoVerifier) -> AlbAuthLayer {
    ///     AlbAuthLayer::new(alb).access_token(pool)
    /// }
    /// ```
    pub fn access_token(self, verifier: CognitoVerifier) -> Self {
        self.with_config(|c| c.access = Some(verifier))
    }

    /// A check of the user claims read as `C`: `Err` refuses the request with 401
    /// ([`CustomCheck`](ErrorKind::CustomCheck)), its message kept in the error (shown only
    /// by verbose renderers). Claims that do not fit `C` fail it.
    pub fn custom_check<C, F>(self, check: F) -> Self
    where
        C: DeserializeOwned,
        F: Fn(&C) -> Result<(), String> + Send + Sync + 'static,
    {
        self.with_check(AlbCheck::new(ErrorKind::CustomCheck, check))
    }

    /// As [`custom_check`](Self::custom_check), but a failure is 403
    /// ([`Forbidden`](ErrorKind::Forbidden)): the user is known, but not allowed here.
    ///
    /// ```
    /// use axum_cognito::alb::{AlbAuthLayer, AlbUserClaims, AlbVerifier};
    ///
    /// fn staff_only(verifier: AlbVerifier) -> AlbAuthLayer {
    ///     AlbAuthLayer::new(verifier).custom_check_forbidden(|user: &AlbUserClaims| {
    ///         match user.email.as_deref() {
    ///             Some(email) if email.ends_with("@example.com") => Ok(()),
    ///             _ => Err("not staff".into()),
    ///         }
    ///     })
    /// }
    /// ```
    pub fn custom_check_forbidden<C, F>(self, check: F) -> Self
    where
        C: DeserializeOwned,
        F: Fn(&C) -> Result<(), String> + Send + Sync + 'static,
    {
        self.with_check(AlbCheck::new(ErrorKind::Forbidden, check))
    }

    /// Builds refusals with `on_rejection` instead of the default responses.
    pub fn on_rejection<R2: OnRejection + Clone>(self, on_rejection: R2) -> AlbAuthLayer<R2> {
        AlbAuthLayer {
            config: self.config,
            on_rejection,
        }
    }
}

impl<S, R: OnRejection + Clone> Layer<S> for AlbAuthLayer<R> {
    type Service = AlbAuth<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        AlbAuth::from_parts(inner, self.config.clone(), self.on_rejection.clone())
    }
}

impl<R> std::fmt::Debug for AlbAuthLayer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlbAuthLayer")
            .field("verifier", &self.config.verifier)
            .field("checks", &self.config.checks)
            .field("access", &self.config.access)
            .finish_non_exhaustive()
    }
}
