//! A router served on a port of 127.0.0.1 that can be stopped and served again on the same
//! port, and the body its faults answer with.

use std::{
    io,
    iter::Peekable,
    net::SocketAddr,
    pin::Pin,
    sync::{Mutex, MutexGuard, PoisonError},
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::Router;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::{net::TcpSocket, sync::oneshot, task::JoinHandle, time::Sleep};

/// The server of a test issuer or load balancer.
pub(super) struct LocalServer {
    pub(super) addr: SocketAddr,
    router: Router,
    running: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl LocalServer {
    /// Serves `router` on an ephemeral port.
    pub(super) fn start(router: Router) -> Self {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind 127.0.0.1:0");
        let server = Self {
            addr: listener.local_addr().expect("local address"),
            router,
            running: Mutex::default(),
        };
        server.serve(listener);
        server
    }

    /// Stops serving: the port refuses connections until [`restart`](Self::restart).
    pub(super) async fn stop(&self) {
        let running = lock(&self.running).take();
        if let Some((stop, task)) = running {
            let _ = stop.send(());
            // Graceful shutdown closes idle connections; a hanging request is cut off.
            let stopped = tokio::time::timeout(Duration::from_secs(1), task).await;
            if stopped.is_err() {
                tracing::debug!("test server did not stop gracefully");
            }
        }
    }

    /// Serves again on the same port, once the system lets it be bound again.
    pub(super) async fn restart(&self) {
        self.stop().await;
        let mut attempts = 0;
        let listener = loop {
            match bind(self.addr) {
                Ok(listener) => break listener,
                Err(e) if attempts < 50 => {
                    attempts += 1;
                    tracing::debug!(error = %e, "rebinding the test server");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot bind {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
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

/// Locks `mutex`, poisoned or not: a test that panicked holding it must not fail the next.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn bind(addr: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

/// A response body that misbehaves on purpose: its frames sent one per `pause` (at once
/// without), and `length` declared up front (chunked without) whether or not they add up to it.
pub(super) struct FaultyBody {
    frames: Peekable<Frames>,
    length: Option<u64>,
    pause: Option<Duration>,
    /// The pause under way before the next frame.
    sleep: Option<Pin<Box<Sleep>>>,
}

/// The frames of a [`FaultyBody`] still to send, made as they are sent.
type Frames = Box<dyn Iterator<Item = io::Result<Bytes>> + Send>;

impl FaultyBody {
    /// `body`, one byte per `interval`.
    pub(super) fn trickle(body: Bytes, interval: Duration) -> Self {
        let bytes = (0..body.len()).map(move |i| Ok(body.slice(i..=i)));
        Self::new(Box::new(bytes), None, Some(interval))
    }

    /// `len` spaces in 64 KiB frames, never held in memory; `len` declared up front or not.
    pub(super) fn spaces(len: u64, declared: bool) -> Self {
        const FRAME: &[u8] = &[b' '; 64 * 1024];
        let frames = (0..len).step_by(FRAME.len()).map(move |sent| {
            let size =
                usize::try_from(len - sent).map_or(FRAME.len(), |left| left.min(FRAME.len()));
            Ok(Bytes::from_static(&FRAME[..size]))
        });
        Self::new(Box::new(frames), declared.then_some(len), None)
    }

    /// Declares `body`'s length, sends its first half, then fails, which makes the server close
    /// the connection mid-body.
    pub(super) fn cut_short(body: Bytes) -> Self {
        let half = body.slice(..body.len() / 2);
        let frames = [Ok(half), Err(io::Error::other("truncated on purpose"))];
        Self::new(Box::new(frames.into_iter()), Some(body.len() as u64), None)
    }

    fn new(frames: Frames, length: Option<u64>, pause: Option<Duration>) -> Self {
        Self {
            frames: frames.peekable(),
            length,
            pause,
            sleep: None,
        }
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
        if let (Some(pause), Some(_)) = (this.pause, this.frames.peek()) {
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(pause)));
            ready!(sleep.as_mut().poll(cx));
            this.sleep = None;
        }
        Poll::Ready(this.frames.next().map(|frame| frame.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        self.length
            .map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}
