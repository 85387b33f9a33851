//! The response future: the inner service's own future when the first pass decided (no
//! allocation), one boxed future when a network step comes first.

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

/// The network step and then the inner service: a key fetch, the pool resolver or Cognito's
/// `GetUser`, then the call or the refusal.
type AfterNetwork<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>;

pin_project! {
    /// The future of [`AuthService`](super::AuthService): the inner service's own future when
    /// the token was decided without waiting (no allocation), a boxed one only when a network
    /// step (a key refetch, the pool resolver, `GetUser`) comes first.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    pub(super) enum State<S, B>
    where
        S: Service<Request<B>>,
    {
        Called { #[pin] future: S::Future },
        Rejected { response: Option<Response> },
        AfterNetwork { future: AfterNetwork<S::Error> },
    }
}

impl<S: Service<Request<B>>, B> From<State<S, B>> for ResponseFuture<S, B> {
    fn from(state: State<S, B>) -> Self {
        Self { state }
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = http::Response<ResBody>>,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called { future } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(response.map(Body::new)))
            }
            // Polled again after completion: a caller bug, answered without panicking.
            StateProj::Rejected { response } => Poll::Ready(Ok(response
                .take()
                .unwrap_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response()))),
            StateProj::AfterNetwork { future } => future.as_mut().poll(cx),
        }
    }
}

impl<S, B> std::fmt::Debug for ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
