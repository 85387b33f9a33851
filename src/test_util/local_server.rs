//! A key document served on a port of 127.0.0.1: counted, with an `ETag`, misbehaving on
//! purpose when told to, and able to stop and to serve again on the same port.

use crate::lock::lock;
use std::{
    hash::{BuildHasher, BuildHasherDefault, DefaultHasher},
    io,
    iter::Peekable,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{AppendHeaders, IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::{net::TcpSocket, sync::oneshot, task::JoinHandle, time::Interval};

/// A way for a key endpoint to misbehave, for tests of a failing Cognito: the JWKS endpoint
/// of a [`TestIssuer`](super::TestIssuer), or the key endpoint of a `TestAlb` (feature `alb`),
/// whose faults are these under the name `AlbKeyFault`. "The key set" below is what the
/// endpoint serves: the JWKS, or the load balancer's PEM key.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksFault {
    /// Answer with this status and an empty body.
    Status(u16),
    /// Answer 200 with this body instead of the key set.
    Body(String),
    /// Accept the request and never answer.
    Hang,
    /// Answer `302 Found` with this `Location`.
    Redirect(String),
    /// Answer 200 with the key set, sent one byte at a time at this rate (at least one a
    /// second, at most 10⁹).
    Trickle {
        /// Bytes sent per second.
        bytes_per_second: u32,
    },
    /// Answer 200 with a body of `bytes` spaces, streamed without holding it in memory. With
    /// `content_length`, its length is declared up front; without, it is sent chunked, so
    /// only counting the bytes received can stop it.
    HugeBody {
        /// The body's length.
        bytes: u64,
        /// Whether `Content-Length` declares it.
        content_length: bool,
    },
    /// Answer 200 declaring the key set's full length, send its first half, then close the
    /// connection.
    Truncated,
}

/// The server of a test issuer or load balancer.
#[derive(Debug)]
pub(super) struct LocalServer {
    pub(super) addr: SocketAddr,
    pub(super) endpoint: Arc<Endpoint>,
    router: Router,
    running: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

/// The counters and switches of the served endpoint.
#[derive(Debug, Default)]
pub(super) struct Endpoint {
    content_type: &'static str,
    pub(super) requests: AtomicU64,
    /// Requests answered 304 Not Modified.
    pub(super) not_modified: AtomicU64,
    pub(super) fault: Mutex<Option<JwksFault>>,
    /// Parsed when set: a value that is no header value is never sent.
    pub(super) cache_control: Mutex<Option<HeaderValue>>,
}

/// The document served for the path parameter of the route, `None` for a 404.
type Documents = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

impl LocalServer {
    /// Serves `documents` as `content_type` at `route` (with one path parameter) on an
    /// ephemeral port.
    pub(super) fn start(
        route: &str,
        content_type: &'static str,
        documents: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        let endpoint = Arc::new(Endpoint {
            content_type,
            ..Endpoint::default()
        });
        let documents: Documents = Arc::new(documents);
        let router = Router::new()
            .route(route, get(answer))
            .with_state((Arc::clone(&endpoint), documents));
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind 127.0.0.1:0");
        let server = Self {
            addr: listener.local_addr().expect("local address"),
            endpoint,
            router,
            running: Mutex::default(),
        };
        server.serve(listener);
        server
    }

    /// Stops serving: the port refuses connections until [`restart`](Self::restart).
    pub(super) async fn stop(&self) {
        let Some((stop, task)) = lock(&self.running).take() else {
            return;
        };
        let _ = stop.send(());
        // Graceful shutdown closes idle connections; a hanging request is cut off.
        let stopped = tokio::time::timeout(Duration::from_secs(1), task).await;
        if stopped.is_err() {
            tracing::debug!("test server did not stop gracefully");
        }
    }

    /// Serves again on the same port, once the system lets it be bound again.
    pub(super) async fn restart(&self) {
        self.stop().await;
        for attempt in 1.. {
            match bind(self.addr) {
                Ok(listener) => return self.serve(listener),
                Err(e) if attempt < 50 => {
                    tracing::debug!(error = %e, "rebinding the test server");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot bind {} again: {e}", self.addr),
            }
        }
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (stop, stopped) = oneshot::channel::<()>();
        let server =
            axum::serve(listener, self.router.clone()).with_graceful_shutdown(async move {
                // Only `stop` ends the server: one dropped with its last handle would fail the
                // verifiers a test still holds.
                if stopped.await.is_err() {
                    std::future::pending::<()>().await;
                }
            });
        let task = tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::debug!(error = %e, "test server ended");
            }
        });
        *lock(&self.running) = Some((stop, task));
    }
}

/// The document, or the fault's answer when one is set.
async fn answer(
    State((endpoint, documents)): State<(Arc<Endpoint>, Documents)>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    endpoint.requests.fetch_add(1, Ordering::SeqCst);
    let Some(fault) = lock(&endpoint.fault).clone() else {
        return endpoint.serve(documents(&name), &headers);
    };
    let document = Bytes::from(documents(&name).unwrap_or_default());
    let body = match fault {
        JwksFault::Status(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return status.into_response();
        }
        JwksFault::Redirect(location) => {
            return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
        }
        JwksFault::Hang => std::future::pending().await,
        JwksFault::Body(body) => Body::from(body),
        JwksFault::Trickle { bytes_per_second } => FaultyBody::trickle(document, bytes_per_second),
        JwksFault::HugeBody {
            bytes,
            content_length,
        } => FaultyBody::spaces(bytes, content_length),
        JwksFault::Truncated => FaultyBody::cut_short(document),
    };
    let content_type = [(header::CONTENT_TYPE, endpoint.content_type)];
    (content_type, body).into_response()
}

impl Endpoint {
    /// `document` with its `ETag` and `Cache-Control`, or 304 when `If-None-Match` names it.
    fn serve(&self, document: Option<String>, headers: &HeaderMap) -> Response {
        let Some(document) = document else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(&document);
        let etag = format!("\"{hash:016x}\"");
        if headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == etag.as_bytes())
        {
            self.not_modified.fetch_add(1, Ordering::SeqCst);
            return StatusCode::NOT_MODIFIED.into_response();
        }
        let cache_control = lock(&self.cache_control).clone();
        let cache_control = AppendHeaders(cache_control.map(|v| (header::CACHE_CONTROL, v)));
        let headers = [
            (header::CONTENT_TYPE, self.content_type),
            (header::ETAG, &etag),
        ];
        (headers, cache_control, document).into_response()
    }
}

fn bind(addr: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

/// A response body that misbehaves on purpose: its frames sent one per tick of `pace` (at
/// once without), and `length` declared up front (chunked without) whether or not they add up
/// to it.
struct FaultyBody {
    frames: Peekable<Frames>,
    length: Option<u64>,
    pace: Option<Interval>,
}

/// The frames of a [`FaultyBody`] still to send, made as they are sent.
type Frames = Box<dyn Iterator<Item = io::Result<Bytes>> + Send>;

impl FaultyBody {
    /// `body`, `bytes_per_second` (at least one, at most 10⁹: an interval is never zero).
    fn trickle(body: Bytes, bytes_per_second: u32) -> Body {
        let interval = Duration::from_secs(1) / bytes_per_second.clamp(1, 1_000_000_000);
        let bytes = (0..body.len()).map(move |i| Ok(body.slice(i..=i)));
        Self::body(Box::new(bytes), None, Some(interval))
    }

    /// `len` spaces in 64 KiB frames, never held in memory; `len` declared up front or not.
    fn spaces(len: u64, declared: bool) -> Body {
        const FRAME: &[u8] = &[b' '; 64 * 1024];
        let frames = (0..len).step_by(FRAME.len()).map(move |sent| {
            let size =
                usize::try_from(len - sent).map_or(FRAME.len(), |left| left.min(FRAME.len()));
            Ok(Bytes::from_static(&FRAME[..size]))
        });
        Self::body(Box::new(frames), declared.then_some(len), None)
    }

    /// Declares `body`'s length, sends its first half, then fails, which makes the server close
    /// the connection mid-body.
    fn cut_short(body: Bytes) -> Body {
        let half = body.slice(..body.len() / 2);
        let frames = [Ok(half), Err(io::Error::other("truncated on purpose"))];
        Self::body(Box::new(frames.into_iter()), Some(body.len() as u64), None)
    }

    fn body(frames: Frames, length: Option<u64>, pace: Option<Duration>) -> Body {
        Body::new(Self {
            frames: frames.peekable(),
            length,
            pace: pace.map(tokio::time::interval),
        })
    }
}

impl http_body::Body for FaultyBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if let (Some(pace), Some(_)) = (&mut this.pace, this.frames.peek()) {
            ready!(pace.poll_tick(cx));
        }
        Poll::Ready(this.frames.next().map(|frame| frame.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        self.length
            .map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}
