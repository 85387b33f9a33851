//! The service: reads `x-amzn-oidc-data`, verifies it, and calls the inner service or refuses.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use http::{HeaderMap, HeaderName, Request};
use tower_service::Service;

use super::{
    access_token::{access_only, access_token, check_now, same_user},
    checks::AlbCheck,
    layer::AlbAuthConfig,
    token::AlbToken,
};
use crate::{
    error::Error,
    middleware::ResponseFuture,
    rejection::{AuthRejection, DefaultRejection, LayerRenderer, OnRejection, log_rejection},
    token_source::TokenProblem,
    verified_token::VerifiedToken,
    verifier::pipeline::Now,
};

/// The header the load balancer puts its signed token in.
pub(crate) const ALB_DATA_HEADER: HeaderName = HeaderName::from_static("x-amzn-oidc-data");

/// The middleware service made by [`AlbAuthLayer`](super::AlbAuthLayer).
///
/// ```
/// use axum_cognito::{alb::AlbAuthLayer, test_util::TestAlb};
/// use tower::{Layer, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let alb = TestAlb::start().await;
/// let inner = service_fn(|_: http::Request<axum::body::Body>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
/// });
/// let service = AlbAuthLayer::new(alb.verifier_builder().build().unwrap()).layer(inner);
/// let _inner = service.get_ref();
/// # }
/// ```
#[derive(Clone)]
pub struct AlbAuth<S, R = DefaultRejection> {
    inner: S,
    config: Arc<AlbAuthConfig>,
    on_rejection: R,
    /// `on_rejection` for what the extractor refuses after the layer; `None` for the terse
    /// default.
    renderer: Option<Arc<dyn OnRejection>>,
}

impl<S, R: OnRejection + Clone> AlbAuth<S, R> {
    pub(super) fn from_parts(inner: S, config: Arc<AlbAuthConfig>, on_rejection: R) -> Self {
        let renderer = LayerRenderer::of(&on_rejection);
        Self {
            inner,
            config,
            on_rejection,
            renderer,
        }
    }
}

impl<S, R> AlbAuth<S, R> {
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

/// What the synchronous part of a call decided.
enum Decision {
    /// Let through; with the tokens to add, unless a layer further out already did.
    Pass(Option<(AlbToken, Option<VerifiedToken>)>),
    Refuse(AuthRejection),
    /// A key is not known yet: fetch it, then verify the ALB token (and the access token,
    /// when the layer asks for it).
    Fetch {
        token: String,
        access: Option<Result<String, Error>>,
    },
}

impl<S, R, B, ResBody> Service<Request<B>> for AlbAuth<S, R>
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
        let decision = decide(&self.config, &request);
        if let (Decision::Pass(_) | Decision::Fetch { .. }, Some(renderer)) =
            (&decision, &self.renderer)
        {
            request
                .extensions_mut()
                .insert(LayerRenderer(Arc::clone(renderer)));
        }
        match decision {
            Decision::Pass(verified) => {
                if let Some((verified, access)) = verified {
                    log_accepted(&verified);
                    request.extensions_mut().insert(verified);
                    if let Some(access) = access {
                        request.extensions_mut().insert(access);
                    }
                }
                ResponseFuture::called(self.inner.call(request))
            }
            Decision::Refuse(rejection) => {
                let rejection = rejection.for_request(request.headers());
                log_rejection(&rejection);
                ResponseFuture::rejected(self.on_rejection.on_rejection(rejection))
            }
            Decision::Fetch { token, access } => {
                // The ready service goes into the future; a clone stays for the next call.
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                let config = Arc::clone(&self.config);
                let verification = Box::pin(async move {
                    let verified = config.verifier.verify(&token).await?;
                    AlbCheck::run_all(&config.checks, &verified)?;
                    let mut extensions = http::Extensions::new();
                    if let (Some(verifier), Some(access)) = (&config.access, access) {
                        let access = verifier.verify_token(&access?, &access_only()).await?;
                        extensions.insert(same_user(&verified, access)?);
                    }
                    log_accepted(&verified);
                    extensions.insert(verified);
                    Ok(extensions)
                });
                ResponseFuture::verifying(verification, ready, request, self.on_rejection.clone())
            }
        }
    }
}

fn decide<B>(config: &AlbAuthConfig, request: &Request<B>) -> Decision {
    // A layer further out with the same verifier verified this request's token: only this
    // layer's own checks remain.
    // An access token this layer requires is checked here even then, unless a layer further
    // out already bound one of the same verifier to this user.
    if let Some(verified) = request.extensions().get::<AlbToken>()
        && verified.verifier_id() == config.verifier.id()
    {
        if let Err(error) = AlbCheck::run_all(&config.checks, verified) {
            return Decision::Refuse(AuthRejection::from_error(error));
        }
        let Some(access_verifier) = &config.access else {
            return Decision::Pass(None);
        };
        let bound = request
            .extensions()
            .get::<VerifiedToken>()
            .is_some_and(|access| {
                access.verifier_id() == access_verifier.id() && access.sub() == verified.sub()
            });
        if bound {
            return Decision::Pass(None);
        }
        return match check_now(access_verifier, request.headers(), verified) {
            Some(Ok(access)) => Decision::Pass(Some((verified.clone(), Some(access)))),
            Some(Err(error)) => Decision::Refuse(AuthRejection::from_error(error)),
            // The access token's key needs a refetch: verify both again on the async path
            // (the ALB token from its cache).
            None => match find_token(request.headers()) {
                Ok(Some(token)) => Decision::Fetch {
                    token: token.to_owned(),
                    access: Some(access_token(request.headers()).map(str::to_owned)),
                },
                _ => Decision::Refuse(AuthRejection::missing_token()),
            },
        };
    }
    let token = match find_token(request.headers()) {
        Ok(Some(token)) => token,
        Ok(None) => return Decision::Refuse(AuthRejection::missing_token()),
        Err(problem) => return Decision::Refuse(AuthRejection::invalid_request(problem)),
    };
    let fetch = || Decision::Fetch {
        token: token.to_owned(),
        access: config
            .access
            .as_ref()
            .map(|_| access_token(request.headers()).map(str::to_owned)),
    };
    let verified = match config.verifier.attempt(token, Now::read()) {
        Ok(result) => result
            .and_then(|verified| AlbCheck::run_all(&config.checks, &verified).map(|()| verified)),
        Err(_) => return fetch(),
    };
    let verified = match verified {
        Ok(verified) => verified,
        Err(error) => return Decision::Refuse(AuthRejection::from_error(error)),
    };
    let Some(access_verifier) = &config.access else {
        return Decision::Pass(Some((verified, None)));
    };
    match check_now(access_verifier, request.headers(), &verified) {
        Some(Ok(access)) => Decision::Pass(Some((verified, Some(access)))),
        Some(Err(error)) => Decision::Refuse(AuthRejection::from_error(error)),
        None => fetch(),
    }
}

/// The one `x-amzn-oidc-data` value: none, or visible ASCII. Its shape is the verifier's to
/// check (the padded segments are no token68).
fn find_token(headers: &HeaderMap) -> Result<Option<&str>, TokenProblem> {
    let mut values = headers.get_all(&ALB_DATA_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(TokenProblem::Repeated);
    }
    match value.to_str() {
        Ok(token) if !token.is_empty() && !token.contains(' ') => Ok(Some(token)),
        _ => Err(TokenProblem::Malformed),
    }
}

fn log_accepted(token: &AlbToken) {
    tracing::debug!(
        sub = token.sub(),
        signer = token.signer(),
        "alb: token accepted"
    );
}

impl<S: std::fmt::Debug, R> std::fmt::Debug for AlbAuth<S, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlbAuth")
            .field("inner", &self.inner)
            .field("verifier", &self.config.verifier)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_one_header_value() {
        let mut headers = HeaderMap::new();
        assert_eq!(find_token(&headers), Ok(None));
        headers.insert(&ALB_DATA_HEADER, HeaderValue::from_static("e30=.e30=.e30="));
        assert_eq!(find_token(&headers), Ok(Some("e30=.e30=.e30=")));
        headers.append(&ALB_DATA_HEADER, HeaderValue::from_static("x"));
        assert_eq!(find_token(&headers), Err(TokenProblem::Repeated));
        for value in [&b""[..], b"Bearer e30=.e30=.e30=", b"\xe9"] {
            let mut headers = HeaderMap::new();
            headers.insert(&ALB_DATA_HEADER, HeaderValue::from_bytes(value).unwrap());
            assert_eq!(
                find_token(&headers),
                Err(TokenProblem::Malformed),
                "{value:?}"
            );
        }
    }
}
