//! The service: reads the Bearer token, verifies it, and calls the inner service or refuses.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use super::{
    future::ResponseFuture,
    layer::{AuthConfig, CognitoAuthLayer, Presence},
};
use crate::{
    rejection::{
        AuthRejection, DefaultRejection, LayerRenderer, OnRejection, log_accepted, log_rejection,
    },
    token_source::FoundToken,
    verified_token::VerifiedToken,
    verifier::{CognitoVerifier, FirstPass, Later},
};

/// The middleware service made by [`CognitoAuthLayer`]: verifies the request's token, then
/// calls the inner service or answers the refusal.
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
pub struct CognitoAuth<S, R = DefaultRejection> {
    inner: S,
    config: Arc<AuthConfig>,
    on_rejection: R,
    /// `on_rejection` for what is refused after the layer (extractors, handler guards); `None`
    /// for the terse default, which they use anyway, so the common case carries nothing.
    renderer: Option<Arc<dyn OnRejection>>,
}

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

impl<S, R: OnRejection + Clone> CognitoAuth<S, R> {
    pub(crate) fn from_parts(inner: S, config: Arc<AuthConfig>, on_rejection: R) -> Self {
        let renderer = LayerRenderer::of(&on_rejection);
        Self {
            inner,
            config,
            on_rejection,
            renderer,
        }
    }
}

impl<S, R> CognitoAuth<S, R> {
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

/// Left in the extensions of a request an optional layer let through without a token: the
/// extractors behind it know that a layer ran, with which verifier, and that it found no
/// token where it was told to look, so they do not look elsewhere.
#[derive(Clone)]
pub(crate) struct PassedWithoutToken(pub(crate) CognitoVerifier);

/// What the synchronous part of a call decided.
enum Decision {
    Pass(Option<VerifiedToken>),
    Refuse(AuthRejection),
    /// The `kid` is unknown, the issuer is one the pool resolver may know, or only Cognito's
    /// `GetUser` can tell whether the token was revoked: go on asynchronously from where the
    /// first pass stopped (a refetch, the resolver, or the question to Cognito).
    Later(String, Later),
}

impl<S, R, B, ResBody> Service<Request<B>> for CognitoAuth<S, R>
where
    S: Service<Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
    R: OnRejection + Clone,
{
    type Response = axum::response::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S, B, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let config = &*self.config;
        let decision = decide(config, &request);
        if let (Decision::Pass(_) | Decision::Later(..), Some(renderer)) =
            (&decision, &self.renderer)
        {
            request
                .extensions_mut()
                .insert(LayerRenderer(Arc::clone(renderer)));
        }
        match decision {
            Decision::Pass(verified) => {
                // The extractors read a verified token; only a request let through without one
                // needs the verifier, so that they know a layer ran (and answer 401, not 500).
                if let Some(verified) = verified {
                    request.extensions_mut().insert(verified);
                } else {
                    request
                        .extensions_mut()
                        .insert(PassedWithoutToken(config.verifier.clone()));
                }
                ResponseFuture::called(self.inner.call(request))
            }
            Decision::Refuse(rejection) => {
                let rejection = rejection.for_request(request.headers());
                log_rejection(&rejection);
                ResponseFuture::rejected(self.on_rejection.on_rejection(rejection))
            }
            Decision::Later(token, later) => {
                // The ready service goes into the future; a clone stays for the next call.
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                let config = Arc::clone(&self.config);
                let verification = Box::pin(async move {
                    let verified = config
                        .verifier
                        .verify_token_later(&token, &config.requirements, later)
                        .await?;
                    log_accepted(&verified);
                    let mut extensions = http::Extensions::new();
                    extensions.insert(verified);
                    Ok(extensions)
                });
                ResponseFuture::verifying(verification, ready, request, self.on_rejection.clone())
            }
        }
    }
}

fn decide<B>(config: &AuthConfig, request: &Request<B>) -> Decision {
    // A layer further out with the same verifier already verified this request's token: only
    // this layer's own rules remain.
    if let Some(verified) = request.extensions().get::<VerifiedToken>()
        && verified.verifier_id() == config.verifier.id()
    {
        return match CognitoVerifier::recheck(verified, &config.requirements) {
            Ok(()) => Decision::Pass(None),
            Err(error) => Decision::Refuse(AuthRejection::from_error(error)),
        };
    }
    match config.source.find(request.headers(), request.uri()) {
        FoundToken::Absent if config.presence == Presence::Optional => Decision::Pass(None),
        FoundToken::Absent => Decision::Refuse(AuthRejection::missing_token()),
        FoundToken::Invalid(problem) => Decision::Refuse(AuthRejection::invalid_request(problem)),
        FoundToken::Present(token) => match config
            .verifier
            .verify_token_now(token, &config.requirements)
        {
            FirstPass::Done(Ok(verified)) => {
                log_accepted(&verified);
                Decision::Pass(Some(verified))
            }
            FirstPass::Done(Err(error)) => Decision::Refuse(AuthRejection::from_error(error)),
            FirstPass::Later(later) => Decision::Later(token.to_owned(), later),
        },
    }
}

impl<S: std::fmt::Debug, R> std::fmt::Debug for CognitoAuth<S, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoAuth")
            .field("inner", &self.inner)
            .field("verifier", &self.config.verifier)
            .field("presence", &self.config.presence)
            .finish_non_exhaustive()
    }
}
