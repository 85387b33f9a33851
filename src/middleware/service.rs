//! The service: reads the Bearer token, verifies it, and calls the inner service or refuses.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use http::Request;
use tower_service::Service;

use super::{ResponseFuture, layer::AuthConfig, log_accepted, log_rejection};
use crate::{
    AuthRejection, CognitoVerifier, OnRejection, VerifiedToken,
    bearer::{BearerToken, bearer_token},
};

/// The middleware service made by [`CognitoAuthLayer`](super::CognitoAuthLayer).
#[derive(Clone)]
pub struct CognitoAuth<S, R> {
    pub(crate) inner: S,
    pub(crate) config: Arc<AuthConfig>,
    pub(crate) on_rejection: R,
}

/// What the synchronous part of a call decided.
enum Decision {
    Pass(Option<VerifiedToken>),
    Refuse(AuthRejection),
    /// The `kid` is unknown: verify again after a refetch, asynchronously.
    Refetch(String),
}

impl<S, R, B, ResBody> Service<Request<B>> for CognitoAuth<S, R>
where
    S: Service<Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
    R: OnRejection,
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
        match decision {
            Decision::Pass(verified) => {
                // The extractors read a verified token; only a request let through without one
                // needs the verifier, so that they know a layer ran (and answer 401, not 500).
                if let Some(verified) = verified {
                    request.extensions_mut().insert(verified);
                } else {
                    request.extensions_mut().insert(config.verifier.clone());
                }
                ResponseFuture::called(self.inner.call(request))
            }
            Decision::Refuse(rejection) => {
                log_rejection(&rejection);
                ResponseFuture::rejected(self.on_rejection.on_rejection(rejection))
            }
            Decision::Refetch(token) => {
                // The ready service goes into the future; a clone stays for the next call.
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                let config = Arc::clone(&self.config);
                let verification = Box::pin(async move {
                    config
                        .verifier
                        .verify_token(&token, &config.requirements)
                        .await
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
    match bearer_token(request.headers()) {
        BearerToken::Absent if config.optional => Decision::Pass(None),
        BearerToken::Absent => Decision::Refuse(AuthRejection::missing_token()),
        BearerToken::Invalid(problem) => Decision::Refuse(AuthRejection::bearer(problem)),
        BearerToken::Present(token) => match config
            .verifier
            .verify_token_now(token, &config.requirements)
        {
            Some(Ok(verified)) => {
                log_accepted(&verified);
                Decision::Pass(Some(verified))
            }
            Some(Err(error)) => Decision::Refuse(AuthRejection::from_error(error)),
            None => Decision::Refetch(token.to_owned()),
        },
    }
}

impl<S: std::fmt::Debug, R> std::fmt::Debug for CognitoAuth<S, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoAuth")
            .field("inner", &self.inner)
            .field("verifier", &self.config.verifier)
            .field("optional", &self.config.optional)
            .finish_non_exhaustive()
    }
}
