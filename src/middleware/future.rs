//! The response future: the inner service's future on the hot path, with no allocation; a
//! boxed verification only when an unknown `kid` needs a key refetch.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use http::{Request, StatusCode};
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::{
    error::Error,
    rejection::{AuthRejection, OnRejection, log_rejection},
};

/// A verification after a key fetch: what it found, as the extensions to add to the request
/// (a [`VerifiedToken`](crate::VerifiedToken), or a load balancer's
/// [`AlbToken`](crate::alb::AlbToken)), so that one future serves every layer.
type Verification = Pin<Box<dyn Future<Output = Result<http::Extensions, Error>> + Send>>;

pin_project! {
    /// The future of [`CognitoAuth`](super::CognitoAuth) and
    /// [`AlbAuth`](crate::alb::AlbAuth): the inner service's own future when
    /// the token was verified without waiting (no allocation), a boxed verification first
    /// only when an unknown `kid` needs a key refetch.
    pub struct ResponseFuture<S, B, R>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B, R>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B, R>
    where
        S: Service<Request<B>>,
    {
        Called { #[pin] future: S::Future },
        Rejected { response: Option<Response> },
        Verifying {
            verification: Verification,
            service: Option<S>,
            request: Option<Request<B>>,
            on_rejection: R,
        },
    }
}

impl<S, B, R> ResponseFuture<S, B, R>
where
    S: Service<Request<B>>,
{
    pub(crate) fn called(future: S::Future) -> Self {
        Self {
            state: State::Called { future },
        }
    }

    pub(crate) fn rejected(response: Response) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }

    pub(crate) fn verifying(
        verification: Verification,
        service: S,
        request: Request<B>,
        on_rejection: R,
    ) -> Self {
        Self {
            state: State::Verifying {
                verification,
                service: Some(service),
                request: Some(request),
                on_rejection,
            },
        }
    }
}

impl<S, B, R, ResBody> Future for ResponseFuture<S, B, R>
where
    S: Service<Request<B>, Response = http::Response<ResBody>>,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
    R: OnRejection,
{
    type Output = Result<Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.state.as_mut().project() {
                StateProj::Called { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(Body::new)));
                }
                StateProj::Rejected { response } => {
                    // Polled again after completion: a caller bug, answered without panicking.
                    let response = response
                        .take()
                        .unwrap_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response());
                    return Poll::Ready(Ok(response));
                }
                StateProj::Verifying {
                    verification,
                    service,
                    request,
                    on_rejection,
                } => {
                    let verified = ready!(verification.as_mut().poll(cx));
                    match (verified, service.take(), request.take()) {
                        (Ok(verified), Some(mut service), Some(mut request)) => {
                            request.extensions_mut().extend(verified);
                            State::Called {
                                future: service.call(request),
                            }
                        }
                        (Err(error), _, request) => {
                            let rejection = AuthRejection::from_error(error);
                            let rejection = match &request {
                                Some(request) => rejection.for_request(request.headers()),
                                None => rejection,
                            };
                            log_rejection(&rejection);
                            State::Rejected {
                                response: Some(on_rejection.on_rejection(rejection)),
                            }
                        }
                        _ => State::Rejected { response: None },
                    }
                }
            };
            this.state.set(next);
        }
    }
}

impl<S, B, R> std::fmt::Debug for ResponseFuture<S, B, R>
where
    S: Service<Request<B>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
