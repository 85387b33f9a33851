//! The one middleware service: asks its [`Authenticator`] about each request, then calls the
//! inner service or answers the refusal.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use axum::body::Body;
use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use super::{
    authenticator::{Authenticator, Decision},
    future::{ResponseFuture, State},
    layer::{CognitoAuthLayer, UserPoolAuth},
};
use crate::{
    rejection::{AuthRejection, DefaultRejection, LayerRenderer, OnRejection, log_rejection},
    verifier::CognitoVerifier,
};

/// The middleware service of every layer of the crate: [`CognitoAuth`] for
/// [`CognitoAuthLayer`], `AlbAuth` for the load balancer's `AlbAuthLayer`. `A` is the token
/// family's authentication; `R` renders refusals.
///
/// ```
/// use axum_cognito::{middleware::CognitoAuth, test_util::TestIssuer};
/// use tower::service_fn;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await;
/// let verifier = issuer.verifier_builder().build().await.unwrap();
/// let inner = service_fn(|_: http::Request<axum::body::Body>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
/// });
/// let service = CognitoAuth::new(inner, verifier);
/// let _inner = service.get_ref();
/// # }
/// ```
#[derive(Clone)]
pub struct AuthService<S, A, R = DefaultRejection> {
    inner: S,
    auth: Arc<A>,
    on_rejection: R,
    /// `on_rejection` for what is refused after the layer (extractors, handler guards); `None`
    /// for the terse default, which they use anyway, so the common case carries nothing.
    renderer: Option<Arc<dyn OnRejection>>,
}

/// The service of [`CognitoAuthLayer`]: verifies the request's Cognito token.
pub type CognitoAuth<S, R = DefaultRejection> = AuthService<S, UserPoolAuth, R>;

impl<S> CognitoAuth<S> {
    /// Wraps `inner`, requiring a valid token of `verifier`, with the default rejections.
    pub fn new(inner: S, verifier: CognitoVerifier) -> Self {
        CognitoAuthLayer::new(verifier).layer(inner)
    }

    /// The layer that wraps services with `verifier`: [`CognitoAuthLayer::new`].
    pub fn layer(verifier: CognitoVerifier) -> CognitoAuthLayer {
        CognitoAuthLayer::new(verifier)
    }
}

impl<S, A, R: OnRejection + Clone> AuthService<S, A, R> {
    pub(crate) fn from_parts(inner: S, auth: Arc<A>, on_rejection: R) -> Self {
        let renderer = LayerRenderer::of(&on_rejection);
        Self {
            inner,
            auth,
            on_rejection,
            renderer,
        }
    }
}

impl<S, A, R> AuthService<S, A, R> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, A, R, B, ResBody> Service<Request<B>> for AuthService<S, A, R>
where
    S: Service<Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    A: Authenticator,
    B: Send + 'static,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
    R: OnRejection + Clone,
{
    type Response = axum::response::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let decision = self
            .auth
            .first_pass(request.headers(), request.uri(), request.extensions());
        if let (Decision::Pass(_) | Decision::Later(_), Some(renderer)) =
            (&decision, &self.renderer)
        {
            request
                .extensions_mut()
                .insert(LayerRenderer(Arc::clone(renderer)));
        }
        match decision {
            Decision::Pass(verified) => {
                self.auth.admit(verified, request.extensions_mut());
                State::Called {
                    future: self.inner.call(request),
                }
                .into()
            }
            Decision::Refuse(rejection) => {
                let rejection = self.auth.refused(rejection.for_request(&request));
                log_rejection(&rejection);
                let response = Some(self.on_rejection.on_rejection(rejection));
                State::Rejected { response }.into()
            }
            Decision::Later(pending) => {
                // The ready service goes into the future; a clone stays for the next call.
                let clone = self.inner.clone();
                let mut ready = std::mem::replace(&mut self.inner, clone);
                let (auth, on_rejection) = (Arc::clone(&self.auth), self.on_rejection.clone());
                let future = Box::pin(async move {
                    match auth.go_on(pending).await {
                        Ok(verified) => {
                            auth.admit(verified, request.extensions_mut());
                            Ok(ready.call(request).await?.map(Body::new))
                        }
                        Err(error) => {
                            let rejection = AuthRejection::from_error(error).for_request(&request);
                            let rejection = auth.refused(rejection);
                            log_rejection(&rejection);
                            Ok(on_rejection.on_rejection(rejection))
                        }
                    }
                });
                State::AfterNetwork { future }.into()
            }
        }
    }
}

impl<S: std::fmt::Debug, A: std::fmt::Debug, R> std::fmt::Debug for AuthService<S, A, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("inner", &self.inner)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}
