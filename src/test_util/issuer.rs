//! The local issuer: keys, a JWKS server on 127.0.0.1, and token minting.

use std::{
    fmt,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use serde_json::json;
use tokio::{net::TcpSocket, sync::oneshot, task::JoinHandle, time::Sleep};

use super::{SigningKey, TokenBuilder};
use crate::{
    verified_token::VerifiedToken,
    verifier::{CognitoVerifier, CognitoVerifierBuilder, TokenRequirements, UserPool},
};

/// A way for the JWKS endpoint to misbehave, for tests of a failing Cognito.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksFault {
    /// Answer with this status and an empty body.
    Status(u16),
    /// Answer 200 with this body instead of the key set.
    Body(String),
    /// Accept the request and never answer.
    Hang,
    /// Answer 200 with the key set, sent one byte at a time at this rate (at least one a
    /// second).
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

/// A local Cognito user pool: see the [module docs](super).
///
/// ```
/// use axum_cognito::{ErrorKind, test_util::{JwksFault, TestIssuer}};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await;
/// let verifier = issuer.verifier_builder().build().await.unwrap();
/// let old = issuer.access_token().sign();
///
/// issuer.rotate(); // a new signing key; the old one stays published
/// let new = issuer.access_token().sign();
/// assert!(verifier.verify_access(&new).await.is_ok()); // an unknown kid: one refetch
/// assert!(verifier.verify_access(&old).await.is_ok());
/// assert_eq!(issuer.jwks_requests(), 2);
///
/// issuer.set_fault(Some(JwksFault::Status(503))); // the endpoint fails from now on
/// assert_eq!(verifier.refresh().await.unwrap_err().kind(), ErrorKind::KeysUnavailable);
/// assert!(verifier.verify_access(&new).await.is_ok(), "the last good keys stay");
/// # }
/// ```
#[derive(Clone)]
pub struct TestIssuer {
    shared: Arc<Shared>,
}

struct Shared {
    pool_id: String,
    region: String,
    client_id: String,
    addr: SocketAddr,
    state: Mutex<IssuerState>,
    /// Shared with this issuer's replicas: every region serves the same keys.
    keys: Arc<Mutex<PublishedKeys>>,
    jwks_requests: AtomicU64,
    not_modified: AtomicU64,
}

struct PublishedKeys {
    /// Published keys, in JWKS order.
    published: Vec<SigningKey>,
    /// The key new tokens are signed with.
    signer: SigningKey,
}

struct IssuerState {
    fault: Option<JwksFault>,
    cache_control: Option<String>,
    server: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl TestIssuer {
    /// Starts an issuer for pool `us-east-1_TestPool01` and app client `test-client`, with one
    /// key, on an ephemeral port of 127.0.0.1.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (test code only).
    pub async fn start() -> Self {
        Self::start_with("us-east-1_TestPool01", "test-client").await
    }

    /// Starts an issuer for this pool id and app client id.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (test code only).
    pub async fn start_with(pool_id: &str, client_id: &str) -> Self {
        let signer = SigningKey::generate();
        let keys = Arc::new(Mutex::new(PublishedKeys {
            published: vec![signer.clone()],
            signer,
        }));
        let region = pool_id.split_once('_').map_or("us-east-1", |(r, _)| r);
        Self::serving(pool_id, region, client_id, keys)
    }

    /// A replica of this pool in `region` (Cognito Multi-Region Replication), on a port of
    /// its own: it serves the same keys (a rotation shows in every region), has its own
    /// faults, request counter and stop switch, and mints tokens whose `iss` names `region`.
    ///
    /// ```
    /// use axum_cognito::{CognitoVerifier, test_util::{JwksFault, TestIssuer}};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let primary = TestIssuer::start().await;
    /// let replica = primary.replica("us-west-2");
    /// let pool = primary
    ///     .user_pool()
    ///     .replica_regions(["us-west-2"])
    ///     .jwks_urls([primary.jwks_url(), replica.jwks_url()]);
    /// let verifier = CognitoVerifier::builder().user_pool(pool).any_token_use().build().await.unwrap();
    /// assert!(verifier.verify(&replica.access_token().sign()).await.is_ok());
    ///
    /// primary.set_fault(Some(JwksFault::Status(500)));
    /// let new_kid = primary.rotate();
    /// assert!(verifier.verify(&primary.access_token().sign()).await.is_ok(), "learned from the replica");
    /// assert!(verifier.status().pools[0].key_ids.contains(&new_kid));
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (test code only).
    pub fn replica(&self, region: &str) -> Self {
        Self::serving(
            &self.shared.pool_id,
            region,
            &self.shared.client_id,
            Arc::clone(&self.shared.keys),
        )
    }

    fn serving(
        pool_id: &str,
        region: &str,
        client_id: &str,
        keys: Arc<Mutex<PublishedKeys>>,
    ) -> Self {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let issuer = Self {
            shared: Arc::new(Shared {
                pool_id: pool_id.to_owned(),
                region: region.to_owned(),
                client_id: client_id.to_owned(),
                addr,
                state: Mutex::new(IssuerState {
                    fault: None,
                    cache_control: None,
                    server: None,
                }),
                keys,
                jwks_requests: AtomicU64::new(0),
                not_modified: AtomicU64::new(0),
            }),
        };
        issuer.serve(listener);
        issuer
    }

    /// The region in the `iss` of minted tokens: the pool id's, or a replica's.
    pub fn region(&self) -> &str {
        &self.shared.region
    }

    /// The pool id.
    pub fn pool_id(&self) -> &str {
        &self.shared.pool_id
    }

    /// The default app client id of minted tokens.
    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    /// The issuer URL that minted tokens carry: Cognito's, as emulators keep it.
    pub fn issuer(&self) -> String {
        format!(
            "https://cognito-idp.{}.amazonaws.com/{}",
            self.shared.region, self.shared.pool_id
        )
    }

    /// The issuer in Cognito's updated format (`issuer-cognito-idp`).
    pub fn updated_issuer(&self) -> String {
        format!(
            "https://issuer-cognito-idp.{}.amazonaws.com/{}",
            self.shared.region, self.shared.pool_id
        )
    }

    /// The address the JWKS server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://127.0.0.1:PORT/{pool}/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!(
            "http://{}/{}/.well-known/jwks.json",
            self.shared.addr, self.shared.pool_id
        )
    }

    /// This pool for a verifier: its id, its client, and the local JWKS URL.
    pub fn user_pool(&self) -> UserPool {
        UserPool::new(self.pool_id())
            .client_id(self.client_id())
            .jwks_url(self.jwks_url())
    }

    /// A verifier builder for this pool that accepts both token uses, ready to `build()` or to
    /// adjust.
    pub fn verifier_builder(&self) -> CognitoVerifierBuilder {
        CognitoVerifier::builder()
            .user_pool(self.user_pool())
            .any_token_use()
    }

    /// `token` verified with this issuer's published keys, as a handler receives it: for unit
    /// tests of handlers that take a [`VerifiedToken`] or
    /// [`CognitoClaims`](crate::CognitoClaims) (through
    /// [`CognitoClaims::from_verified`](crate::CognitoClaims::from_verified)), with no router.
    ///
    /// # Panics
    ///
    /// When the token does not verify: a test that hands it on wants it valid.
    pub async fn verified_token(&self, token: &str) -> VerifiedToken {
        let pool = UserPool::new(self.pool_id())
            .any_client()
            .jwks_json(self.jwks_json());
        let verifier = CognitoVerifier::builder()
            .user_pool(pool)
            .any_token_use()
            .token_cache_bytes(0)
            .build()
            .await
            .expect("a verifier of the issuer's own keys");
        verifier
            .verify_token(token, &TokenRequirements::new())
            .await
            .unwrap_or_else(|e| panic!("the token does not verify: {e}"))
    }

    /// The JWKS document currently published.
    pub fn jwks_json(&self) -> String {
        jwks_document(&self.keys().published)
    }

    /// An ID token for user `test-user`, valid for an hour; change it with the builder.
    pub fn id_token(&self) -> TokenBuilder {
        TokenBuilder::id(self)
    }

    /// An access token for user `test-user` with scope `aws.cognito.signin.user.admin`.
    pub fn access_token(&self) -> TokenBuilder {
        TokenBuilder::access(self)
    }

    /// A machine-to-machine access token (client credentials grant): `sub` is the client id,
    /// no user name, no groups, scope `default-m2m-resource-server/read`.
    pub fn machine_token(&self) -> TokenBuilder {
        TokenBuilder::machine(self)
    }

    /// The key new tokens are signed with.
    pub fn signing_key(&self) -> SigningKey {
        self.keys().signer.clone()
    }

    /// The key ids published now, in order.
    pub fn published_kids(&self) -> Vec<String> {
        self.keys()
            .published
            .iter()
            .map(|k| k.kid().to_owned())
            .collect()
    }

    /// Publishes a new key and signs new tokens with it; old keys stay published. Returns the
    /// new key id.
    pub fn rotate(&self) -> String {
        let key = SigningKey::generate();
        let kid = key.kid().to_owned();
        let mut keys = self.keys();
        keys.published.push(key.clone());
        keys.signer = key;
        kid
    }

    /// Publishes a new key without signing with it. Returns it.
    pub fn add_key(&self) -> SigningKey {
        let key = SigningKey::generate();
        self.keys().published.push(key.clone());
        key
    }

    /// Publishes `key` as given (for keys with chosen key ids).
    pub fn publish(&self, key: SigningKey) {
        self.keys().published.push(key);
    }

    /// Stops publishing the key `kid`. Tokens already signed with it stay signed with it.
    /// Returns whether it was published.
    pub fn remove_key(&self, kid: &str) -> bool {
        let mut keys = self.keys();
        let before = keys.published.len();
        keys.published.retain(|k| k.kid() != kid);
        keys.published.len() != before
    }

    /// How many JWKS requests the server has received.
    pub fn jwks_requests(&self) -> u64 {
        self.shared.jwks_requests.load(Ordering::SeqCst)
    }

    /// How many of those requests were answered 304 Not Modified: the key set is served with
    /// an `ETag`, and a request whose `If-None-Match` names the current one gets no body.
    pub fn not_modified_responses(&self) -> u64 {
        self.shared.not_modified.load(Ordering::SeqCst)
    }

    /// Makes the JWKS endpoint misbehave (`Some`) or behave again (`None`).
    pub fn set_fault(&self, fault: Option<JwksFault>) {
        self.state().fault = fault;
    }

    /// Sends this `Cache-Control` header with the key set.
    pub fn set_cache_control(&self, value: Option<&str>) {
        self.state().cache_control = value.map(str::to_owned);
    }

    /// Stops the JWKS server: the port refuses connections until [`restart`](Self::restart).
    pub async fn stop(&self) {
        let server = self.state().server.take();
        if let Some((stop, task)) = server {
            let _ = stop.send(());
            // Graceful shutdown closes idle connections; a hanging request is cut off.
            if tokio::time::timeout(Duration::from_secs(1), task)
                .await
                .is_err()
            {
                tracing::debug!("JWKS test server did not stop gracefully");
            }
        }
    }

    /// Serves again on the same port.
    ///
    /// # Panics
    ///
    /// If the port cannot be bound again (test code only).
    pub async fn restart(&self) {
        self.stop().await;
        let mut attempts = 0;
        let listener = loop {
            match bind(self.shared.addr) {
                Ok(listener) => break listener,
                Err(e) if attempts < 50 => {
                    attempts += 1;
                    tracing::debug!(error = %e, "rebinding the JWKS test server");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot bind {} again: {e}", self.shared.addr),
            }
        };
        self.serve(listener);
    }

    fn keys(&self) -> MutexGuard<'_, PublishedKeys> {
        self.shared.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state(&self) -> MutexGuard<'_, IssuerState> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let router = Router::new()
            .route("/{pool}/.well-known/jwks.json", get(serve_jwks))
            .with_state(self.shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = server.await {
                tracing::debug!(error = %e, "JWKS test server ended");
            }
        });
        self.state().server = Some((stop, task));
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

fn jwks_document(keys: &[SigningKey]) -> String {
    json!({ "keys": keys.iter().map(SigningKey::jwk).collect::<Vec<_>>() }).to_string()
}

async fn serve_jwks(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(pool): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    if pool != shared.pool_id {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (fault, cache_control) = {
        let state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        (state.fault.clone(), state.cache_control.clone())
    };
    let body = {
        let keys = shared.keys.lock().unwrap_or_else(|p| p.into_inner());
        jwks_document(&keys.published)
    };
    match fault {
        Some(JwksFault::Status(status)) => StatusCode::from_u16(status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Some(JwksFault::Body(body)) => {
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Some(JwksFault::Hang) => std::future::pending().await,
        Some(JwksFault::Trickle { bytes_per_second }) => json_response(Body::new(Trickle {
            rest: Bytes::from(body),
            interval: Duration::from_secs(1) / bytes_per_second.max(1),
            pause: None,
        })),
        Some(JwksFault::HugeBody {
            bytes,
            content_length,
        }) => json_response(Body::new(Spaces {
            left: bytes,
            declared: content_length,
        })),
        Some(JwksFault::Truncated) => {
            let full = Bytes::from(body);
            json_response(Body::new(CutShort {
                declared: full.len() as u64,
                half: Some(full.slice(..full.len() / 2)),
            }))
        }
        None => {
            let etag = {
                use std::hash::{Hash, Hasher};
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                body.hash(&mut hasher);
                format!("\"{:016x}\"", hasher.finish())
            };
            if headers
                .get(header::IF_NONE_MATCH)
                .is_some_and(|v| v.as_bytes() == etag.as_bytes())
            {
                shared.not_modified.fetch_add(1, Ordering::SeqCst);
                return StatusCode::NOT_MODIFIED.into_response();
            }
            let mut response = (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::ETAG, etag.as_str()),
                ],
                body,
            )
                .into_response();
            if let Some(value) = cache_control.and_then(|v| v.parse().ok()) {
                response.headers_mut().insert(header::CACHE_CONTROL, value);
            }
            response
        }
    }
}

fn json_response(body: Body) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A body sent one byte per `interval`.
struct Trickle {
    rest: Bytes,
    interval: Duration,
    pause: Option<Pin<Box<Sleep>>>,
}

impl http_body::Body for Trickle {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.rest.is_empty() {
            return Poll::Ready(None);
        }
        let interval = this.interval;
        let pause = this
            .pause
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(interval)));
        ready!(pause.as_mut().poll(cx));
        this.pause = None;
        Poll::Ready(Some(Ok(Frame::data(this.rest.split_to(1)))))
    }
}

/// `left` spaces in 64 KiB frames; the length declared up front or not.
pub(super) struct Spaces {
    pub(super) left: u64,
    pub(super) declared: bool,
}

impl http_body::Body for Spaces {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        const FRAME: &[u8] = &[b' '; 64 * 1024];
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(None);
        }
        let len = usize::try_from(this.left).map_or(FRAME.len(), |left| left.min(FRAME.len()));
        this.left -= len as u64;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&FRAME[..len])))))
    }

    fn size_hint(&self) -> SizeHint {
        if self.declared {
            SizeHint::with_exact(self.left)
        } else {
            SizeHint::default()
        }
    }
}

/// Declares `declared` bytes, sends `half`, then fails, which makes the server close the
/// connection mid-body.
struct CutShort {
    declared: u64,
    half: Option<Bytes>,
}

impl http_body::Body for CutShort {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(match self.get_mut().half.take() {
            Some(half) => Ok(Frame::data(half)),
            None => Err(std::io::Error::other("truncated on purpose")),
        }))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.declared)
    }
}

impl fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestIssuer")
            .field("pool_id", &self.shared.pool_id)
            .field("client_id", &self.shared.client_id)
            .field("addr", &self.shared.addr)
            .finish_non_exhaustive()
    }
}
