//! Binds each session to the user whose token opened it.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, ready},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use http::{HeaderName, Method, Request, StatusCode};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::{lock::lock, rejection::AuthRejection, verified_token::VerifiedToken};

/// Binds each session (`mcp-session-id`) to the user whose token opened it: a request on
/// that session with another user's token is answered 404, as an unknown session is.
///
/// Goes *inside* the [`CognitoAuthLayer`](crate::CognitoAuthLayer) (added before it with
/// `.layer(..)`), around the service that hands out sessions. A response that opens a session
/// (carries the header on a request without one) binds it to the token's pool and `sub`; a
/// request naming a session is let through only with a token of that user, else it gets 404
/// and never reaches the service. A `DELETE` that succeeds, or a 404 of the service, forgets
/// the session. So does [`idle_timeout`](Self::idle_timeout) without a request (default one
/// hour); at [`max_sessions`](Self::max_sessions) (default 10,000) the idle ones are
/// forgotten, then the least recently used. A forgotten session is refused as unknown (404),
/// and the client opens a new one. A request without a verified token is refused (401).
///
/// ```
/// use axum::{Router, routing::post};
/// use axum_cognito::{CognitoAuthLayer, resource_server::SessionBindingLayer, test_util::TestIssuer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await;
/// let verifier = issuer.verifier_builder().build().await.unwrap();
/// let sessions = SessionBindingLayer::new().max_sessions(1_000);
/// let app: Router = Router::new()
///     .route("/mcp", post(|| async { "a session's answer" }))
///     .layer(sessions.clone()) // inner: runs second, with the verified token
///     .layer(CognitoAuthLayer::new(verifier)); // outer: runs first
/// assert_eq!(sessions.bound_sessions(), 0);
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SessionBindingLayer {
    sessions: Arc<Sessions>,
}

struct Sessions {
    header: HeaderName,
    max_sessions: usize,
    idle_timeout: Duration,
    bound: Mutex<HashMap<Box<str>, Bound>>,
}

struct Bound {
    owner: Owner,
    last_used: Instant,
}

/// Who opened a session: the token's pool and `sub` (a `sub` is unique within its pool).
#[derive(PartialEq, Eq)]
struct Owner(Box<str>, Box<str>);

impl Owner {
    fn of(token: &VerifiedToken) -> Self {
        Self(token.pool_id().into(), token.sub().into())
    }
}

impl Default for SessionBindingLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionBindingLayer {
    /// Sessions named by `mcp-session-id`, at most 10,000, forgotten after an idle hour.
    pub fn new() -> Self {
        Self {
            sessions: Arc::new(Sessions {
                header: HeaderName::from_static("mcp-session-id"),
                max_sessions: 10_000,
                idle_timeout: Duration::from_secs(3600),
                bound: Mutex::default(),
            }),
        }
    }

    fn with(self, change: impl FnOnce(&mut Sessions)) -> Self {
        let s = &self.sessions;
        let mut sessions = Sessions {
            header: s.header.clone(),
            bound: Mutex::default(),
            ..**s
        };
        change(&mut sessions);
        Self {
            sessions: Arc::new(sessions),
        }
    }

    /// The header that names a session, for a protocol other than MCP.
    pub fn header(self, header: HeaderName) -> Self {
        self.with(|s| s.header = header)
    }

    /// The most sessions kept (at least 1).
    pub fn max_sessions(self, max_sessions: usize) -> Self {
        self.with(|s| s.max_sessions = max_sessions.max(1))
    }

    /// How long a session without a request is kept.
    pub fn idle_timeout(self, idle_timeout: Duration) -> Self {
        self.with(|s| s.idle_timeout = idle_timeout)
    }

    /// How many sessions are bound now (idle ones not yet forgotten included).
    pub fn bound_sessions(&self) -> usize {
        lock(&self.sessions.bound).len()
    }
}

/// Without the sessions: their ids are not for logs.
impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("header", &self.header)
            .field("max_sessions", &self.max_sessions)
            .field("idle_timeout", &self.idle_timeout)
            .field("bound", &lock(&self.bound).len())
            .finish()
    }
}

impl Sessions {
    /// True when `id` is bound to `owner` and not idle too long; marks it used.
    fn use_as(&self, id: &str, owner: &Owner) -> bool {
        let mut bound = lock(&self.bound);
        let now = Instant::now();
        match bound.get_mut(id) {
            Some(b) if now.duration_since(b.last_used) > self.idle_timeout => {
                bound.remove(id);
                false
            }
            Some(b) if b.owner == *owner => {
                b.last_used = now;
                true
            }
            _ => false,
        }
    }

    fn bind(&self, id: &str, owner: Owner) {
        let mut bound = lock(&self.bound);
        let now = Instant::now();
        if bound.len() >= self.max_sessions && !bound.contains_key(id) {
            bound.retain(|_, b| now.duration_since(b.last_used) <= self.idle_timeout);
            let oldest = bound.iter().min_by_key(|(_, b)| b.last_used);
            if let Some(oldest) = oldest.filter(|_| bound.len() >= self.max_sessions) {
                let oldest = oldest.0.clone();
                bound.remove(&oldest);
            }
        }
        let last_used = now;
        bound.insert(id.into(), Bound { owner, last_used });
    }

    fn forget(&self, id: &str) {
        lock(&self.bound).remove(id);
    }
}

impl<S> Layer<S> for SessionBindingLayer {
    type Service = SessionBinding<S>;

    fn layer(&self, inner: S) -> SessionBinding<S> {
        SessionBinding {
            inner,
            sessions: Arc::clone(&self.sessions),
        }
    }
}

/// The service of a [`SessionBindingLayer`], around the service that hands out sessions.
///
/// ```
/// use axum_cognito::resource_server::{SessionBinding, SessionBindingLayer};
/// use tower::{Layer, service_fn};
///
/// let mcp = service_fn(|_: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// });
/// let bound: SessionBinding<_> = SessionBindingLayer::new().layer(mcp);
/// ```
#[derive(Debug, Clone)]
pub struct SessionBinding<S> {
    inner: S,
    sessions: Arc<Sessions>,
}

impl<S, B, ResBody> Service<Request<B>> for SessionBinding<S>
where
    S: Service<Request<B>, Response = http::Response<ResBody>> + Clone,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = SessionFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let Some(owner) = request.extensions().get::<VerifiedToken>().map(Owner::of) else {
            return SessionFuture::refused(AuthRejection::missing_token().into_response());
        };
        let session = match request.headers().get(&self.sessions.header) {
            None => None,
            Some(id) => match id.to_str() {
                Ok(id) if self.sessions.use_as(id, &owner) => Some(id.into()),
                _ => return SessionFuture::refused(unknown_session()),
            },
        };
        let after = After {
            sessions: Arc::clone(&self.sessions),
            owner,
            session,
            delete: request.method() == Method::DELETE,
        };
        // The ready service is called; a clone stays for the next call.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        SessionFuture {
            state: State::Called {
                future: ready.call(request),
                after: Some(after),
            },
        }
    }
}

/// What the response settles: a session it opens is bound, a session it closes forgotten.
struct After {
    sessions: Arc<Sessions>,
    owner: Owner,
    session: Option<Box<str>>,
    delete: bool,
}

impl After {
    fn settle<T>(self, response: &http::Response<T>) {
        let status = response.status();
        match self.session {
            None if status.is_success() => {
                let opened = response.headers().get(&self.sessions.header);
                if let Some(id) = opened.and_then(|id| id.to_str().ok()) {
                    self.sessions.bind(id, self.owner);
                }
            }
            Some(id) if status == StatusCode::NOT_FOUND || (self.delete && status.is_success()) => {
                self.sessions.forget(&id);
            }
            _ => {}
        }
    }
}

fn unknown_session() -> Response {
    (StatusCode::NOT_FOUND, "session not found").into_response()
}

pin_project! {
    /// The response future of [`SessionBinding`].
    pub struct SessionFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Called { #[pin] future: F, after: Option<After> },
        Refused { response: Option<Response> },
    }
}

impl<F> SessionFuture<F> {
    fn refused(response: Response) -> Self {
        let response = Some(response);
        Self {
            state: State::Refused { response },
        }
    }
}

impl<F, ResBody, E> Future for SessionFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called { future, after } => {
                let response = ready!(future.poll(cx))?;
                if let Some(after) = after.take() {
                    after.settle(&response);
                }
                Poll::Ready(Ok(response.map(Body::new)))
            }
            // Polled again after completion: a caller bug, answered without panicking.
            StateProj::Refused { response } => Poll::Ready(Ok(response
                .take()
                .unwrap_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response()))),
        }
    }
}

impl<F> std::fmt::Debug for SessionFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionFuture").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(sub: &str) -> Owner {
        Owner("pool".into(), sub.into())
    }

    #[test]
    fn a_session_serves_its_owner_only() {
        let layer = SessionBindingLayer::new();
        let sessions = &layer.sessions;
        sessions.bind("s1", owner("alice"));
        assert!(sessions.use_as("s1", &owner("alice")));
        assert!(!sessions.use_as("s1", &owner("mallory")));
        assert!(!sessions.use_as("s1", &Owner("other pool".into(), "alice".into())));
        assert!(!sessions.use_as("unknown", &owner("alice")));
        // Refusing another user does not unbind the owner.
        assert!(sessions.use_as("s1", &owner("alice")));
        sessions.forget("s1");
        assert!(!sessions.use_as("s1", &owner("alice")));
    }

    #[test]
    fn bounded_and_idle_sessions_are_forgotten() {
        let layer = SessionBindingLayer::new().max_sessions(2);
        let sessions = &layer.sessions;
        sessions.bind("s1", owner("a"));
        std::thread::sleep(Duration::from_millis(2));
        sessions.bind("s2", owner("b"));
        assert!(sessions.use_as("s1", &owner("a"))); // s2 is now the least recently used
        sessions.bind("s3", owner("c"));
        assert_eq!(layer.bound_sessions(), 2);
        assert!(!sessions.use_as("s2", &owner("b")));
        assert!(sessions.use_as("s1", &owner("a")) && sessions.use_as("s3", &owner("c")));

        let idle = SessionBindingLayer::new().idle_timeout(Duration::ZERO);
        idle.sessions.bind("s1", owner("a"));
        std::thread::sleep(Duration::from_millis(2));
        assert!(!idle.sessions.use_as("s1", &owner("a")));
        assert_eq!(idle.bound_sessions(), 0);
    }
}
