//! The layer in front of a real tonic server on 127.0.0.1, called by a real tonic client over
//! HTTP/2: refusals of gRPC requests must be gRPC statuses (`grpc-status` 16, 7 or 14 with a
//! percent-encoded `grpc-message`, HTTP 200, `content-type: application/grpc`), not HTTP 401,
//! 403 or 503 with a text body, which a gRPC client reads as a corrupt message frame.
//!
//! The server is `tonic_health`'s `grpc.health.v1.Health` service, which needs no code
//! generation. Keys come from a `TestIssuer`'s JWKS server.

mod common;

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use axum_cognito::{
    CognitoAuthLayer,
    test_util::{SigningKey, TestIssuer},
};
use bytes::{Buf, BufMut, Bytes};
use common::{segments, verifier};
use http::{HeaderMap, StatusCode, header::CONTENT_TYPE, uri::PathAndQuery};
use http_body_util::BodyExt;
use tokio::{net::TcpListener, task::JoinHandle};
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    server::NamedService,
    service::LayerExt,
    transport::{Channel, Endpoint, Server, server::TcpIncoming},
};
use tonic_health::pb::{
    HealthCheckRequest,
    health_check_response::ServingStatus,
    health_client::HealthClient,
    health_server::{Health, HealthServer},
};
use tower::ServiceExt;

/// The service the health checks ask about; the reporter marks it as serving.
const SERVICE: &str = "cognito.test.Orders";

/// The path of `grpc.health.v1.Health/Check`.
const CHECK: &str = "/grpc.health.v1.Health/Check";

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/// A gRPC server on 127.0.0.1, stopped on drop.
struct Running {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    /// Runs the server future `serve` makes for a listener on a fresh port of 127.0.0.1.
    async fn start<F>(serve: impl FnOnce(TcpIncoming) -> F) -> Self
    where
        F: Future<Output = Result<(), tonic::transport::Error>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let server = serve(TcpIncoming::from(listener));
        let task = tokio::spawn(async move { server.await.expect("gRPC server") });
        Self { addr, task }
    }

    /// An HTTP/2 channel to the server.
    async fn channel(&self) -> Channel {
        Endpoint::from_shared(format!("http://{}", self.addr))
            .expect("endpoint")
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("connect to the gRPC server")
    }

    /// `grpc.health.v1.Health/Check` for [`SERVICE`], with `authorization: Bearer <token>`
    /// metadata when there is a token.
    async fn check(&self, token: Option<&str>) -> Result<ServingStatus, Status> {
        let mut client = HealthClient::new(self.channel().await);
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: SERVICE.into(),
        });
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().expect("ASCII metadata");
            request.metadata_mut().insert("authorization", value);
        }
        client
            .check(request)
            .await
            .map(|response| response.into_inner().status())
    }
}

/// The health service, with [`SERVICE`] marked as serving.
async fn health_service() -> HealthServer<impl Health> {
    let (reporter, server) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(SERVICE, tonic_health::ServingStatus::Serving)
        .await;
    server
}

/// The health service with `layer` applied server-wide, by `Server::builder().layer(..)`.
async fn serve_behind(layer: CognitoAuthLayer) -> Running {
    let health = health_service().await;
    Running::start(move |incoming| {
        Server::builder()
            .layer(layer)
            .serve_with_incoming(health, incoming)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------

/// The call passed and the health service answered "serving".
fn expect_serving(case: &str, result: Result<ServingStatus, Status>) {
    match result {
        Ok(status) => assert_eq!(status, ServingStatus::Serving, "{case}"),
        Err(status) => panic!("{case}: expected the call to pass, got {status:?}"),
    }
}

/// The call was refused with `code`; returns the status.
fn expect_refused(case: &str, result: Result<ServingStatus, Status>, code: Code) -> Status {
    match result {
        Ok(status) => panic!("{case}: expected {code:?}, the call passed with {status:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "{case}: {status:?}");
            status
        }
    }
}

/// The status explains itself and holds no part of `token`, in its message or its metadata.
fn expect_token_free(case: &str, status: &Status, token: Option<&str>) {
    assert!(
        !status.message().trim().is_empty(),
        "{case}: empty grpc-message; {status:?}"
    );
    let Some(token) = token else { return };
    let (header, payload, signature) = segments(token);
    let metadata = format!("{:?}", status.metadata());
    for (part, text) in [
        ("token", token),
        ("header", header),
        ("payload", payload),
        ("signature", signature),
    ] {
        assert!(
            !status.message().contains(text),
            "{case}: grpc-message holds the token's {part}; {status:?}"
        );
        assert!(
            !metadata.contains(text),
            "{case}: metadata holds the token's {part}; {status:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Refusals and passes through the tonic client
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn missing_token_is_unauthenticated() {
    let issuer = TestIssuer::start().await;
    let server = serve_behind(CognitoAuthLayer::new(verifier(&issuer).await)).await;
    expect_refused("no token", server.check(None).await, Code::Unauthenticated);
}

#[tokio::test]
async fn valid_token_reaches_the_health_service() {
    let issuer = TestIssuer::start().await;
    let server = serve_behind(CognitoAuthLayer::new(verifier(&issuer).await)).await;
    let access = issuer.access_token().sign();
    expect_serving("access token", server.check(Some(&access)).await);
    let id = issuer.id_token().sign();
    expect_serving("ID token", server.check(Some(&id)).await);
}

#[tokio::test]
async fn expired_token_is_unauthenticated() {
    let issuer = TestIssuer::start().await;
    let server = serve_behind(CognitoAuthLayer::new(verifier(&issuer).await)).await;
    let expired = issuer.access_token().expired().sign();
    expect_refused(
        "expired token",
        server.check(Some(&expired)).await,
        Code::Unauthenticated,
    );
    let foreign = issuer
        .access_token()
        .signed_with(&SigningKey::generate())
        .sign();
    expect_refused(
        "token signed with an unpublished key",
        server.check(Some(&foreign)).await,
        Code::Unauthenticated,
    );
    // The server is still fine with a good token after the refusals.
    let valid = issuer.access_token().sign();
    expect_serving("valid token", server.check(Some(&valid)).await);
}

#[tokio::test]
async fn missing_group_is_permission_denied_and_the_group_passes() {
    let issuer = TestIssuer::start().await;
    let layer = CognitoAuthLayer::new(verifier(&issuer).await).any_group(["admins"]);
    let server = serve_behind(layer).await;

    let no_groups = issuer.access_token().sign();
    expect_refused(
        "no groups",
        server.check(Some(&no_groups)).await,
        Code::PermissionDenied,
    );
    let other_group = issuer.access_token().groups(["readers"]).sign();
    expect_refused(
        "another group",
        server.check(Some(&other_group)).await,
        Code::PermissionDenied,
    );
    let admin = issuer.access_token().groups(["readers", "admins"]).sign();
    expect_serving("admins", server.check(Some(&admin)).await);
    // Still a missing token, not a missing group.
    expect_refused("no token", server.check(None).await, Code::Unauthenticated);
}

#[tokio::test]
async fn keys_never_loaded_is_unavailable() {
    let issuer = TestIssuer::start().await;
    issuer.stop().await;
    let verifier = issuer
        .verifier_builder()
        .build_lazy()
        .expect("lazy verifier");
    let server = serve_behind(CognitoAuthLayer::new(verifier)).await;
    let token = issuer.access_token().sign();

    expect_refused(
        "JWKS down since start",
        server.check(Some(&token)).await,
        Code::Unavailable,
    );
    // Still unavailable once the background fetch has failed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status = expect_refused(
        "JWKS down after a failed fetch",
        server.check(Some(&token)).await,
        Code::Unavailable,
    );
    expect_token_free("JWKS down", &status, Some(&token));
    // A request without a token is still the client's fault.
    expect_refused("no token", server.check(None).await, Code::Unauthenticated);
}

#[tokio::test]
async fn grpc_message_is_set_and_holds_no_token_text() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let expired = issuer.access_token().expired().sign();
    let foreign = issuer
        .access_token()
        .signed_with(&SigningKey::generate())
        .sign();
    let wrong_issuer = issuer
        .access_token()
        .issuer("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other")
        .sign();
    let no_group = issuer.access_token().sign();

    for (mode, layer) in [
        ("terse", CognitoAuthLayer::new(verifier.clone())),
        ("verbose", CognitoAuthLayer::new(verifier.clone()).verbose()),
    ] {
        let server = serve_behind(layer.any_group(["admins"])).await;
        let cases = [
            ("no token", None, Code::Unauthenticated),
            ("expired", Some(&expired), Code::Unauthenticated),
            ("unpublished key", Some(&foreign), Code::Unauthenticated),
            ("wrong issuer", Some(&wrong_issuer), Code::Unauthenticated),
            ("no group", Some(&no_group), Code::PermissionDenied),
        ];
        for (what, token, code) in cases {
            let case = format!("{mode}, {what}");
            let token = token.map(String::as_str);
            let status = expect_refused(&case, server.check(token).await, code);
            expect_token_free(&case, &status, token);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The refusal on the wire
// ---------------------------------------------------------------------------------------------

/// What came back from a hand-made request over the channel.
#[derive(Debug)]
struct WireReply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    trailers: Option<HeaderMap>,
}

/// A `Check` for the overall health (an empty request message) with this `content-type`,
/// sent over HTTP/2 by the tonic channel, read as plain HTTP.
async fn raw_check(server: &Running, content_type: &str, token: Option<&str>) -> WireReply {
    // One uncompressed frame holding the empty message: flag 0, length 0.
    let frame = Bytes::from_static(&[0, 0, 0, 0, 0]);
    let mut request = http::Request::post(CHECK)
        .header(CONTENT_TYPE, content_type)
        .header("te", "trailers");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(tonic::body::Body::new(http_body_util::Full::new(frame)))
        .expect("request");
    let response = server
        .channel()
        .await
        .oneshot(request)
        .await
        .expect("HTTP/2 exchange");
    let (parts, body) = response.into_parts();
    let collected = body.collect().await.expect("response body");
    let trailers = collected.trailers().cloned();
    WireReply {
        status: parts.status,
        headers: parts.headers,
        body: collected.to_bytes(),
        trailers,
    }
}

/// A gRPC "Trailers-Only" refusal: HTTP 200, `application/grpc`, `grpc-status` and a
/// percent-encoded `grpc-message` in the headers, and no message.
fn expect_trailers_only(case: &str, reply: &WireReply, code: Code) {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{case}: HTTP status; {reply:?}"
    );
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("{case}: no {name} header; {reply:?}"))
            .to_str()
            .unwrap_or_else(|_| panic!("{case}: {name} is not visible ASCII; {reply:?}"))
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/grpc", "{case}");
    assert_eq!(
        header("grpc-status"),
        (code as i32).to_string(),
        "{case}: grpc-status; {reply:?}"
    );
    // Percent-encoded as the gRPC spec says: printable ASCII, `%` only before two hex digits.
    let message = header("grpc-message");
    assert!(!message.trim().is_empty(), "{case}: empty grpc-message");
    let bytes = message.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        assert!(
            (0x20..=0x7e).contains(&byte),
            "{case}: grpc-message byte {byte:#x} is not percent-encoded: {message:?}"
        );
        if byte == b'%' {
            let escape = bytes.get(i + 1..i + 3);
            assert!(
                escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
                "{case}: bad percent escape in grpc-message {message:?}"
            );
        }
    }
    assert!(
        reply.body.is_empty(),
        "{case}: a refusal carries no message; {reply:?}"
    );
}

#[tokio::test]
async fn refusals_are_trailers_only_grpc_responses() {
    let issuer = TestIssuer::start().await;
    let layer = CognitoAuthLayer::new(verifier(&issuer).await).any_group(["admins"]);
    let server = serve_behind(layer).await;
    let expired = issuer.access_token().expired().sign();
    let no_group = issuer.access_token().sign();

    for content_type in ["application/grpc", "application/grpc+proto"] {
        let reply = raw_check(&server, content_type, None).await;
        expect_trailers_only(
            &format!("{content_type}, no token"),
            &reply,
            Code::Unauthenticated,
        );
        let reply = raw_check(&server, content_type, Some(&expired)).await;
        expect_trailers_only(
            &format!("{content_type}, expired"),
            &reply,
            Code::Unauthenticated,
        );
        let reply = raw_check(&server, content_type, Some(&no_group)).await;
        expect_trailers_only(
            &format!("{content_type}, no group"),
            &reply,
            Code::PermissionDenied,
        );
    }

    // The same path passes with the group: a normal gRPC reply, status in the trailers.
    let admin = issuer.access_token().groups(["admins"]).sign();
    let reply = raw_check(&server, "application/grpc", Some(&admin)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(!reply.body.is_empty(), "a health reply: {reply:?}");
    let trailers = reply.trailers.as_ref().expect("trailers");
    assert_eq!(trailers.get("grpc-status").unwrap(), "0", "{reply:?}");
}

#[tokio::test]
async fn keys_unavailable_on_the_wire_is_grpc_status_14() {
    let issuer = TestIssuer::start().await;
    issuer.stop().await;
    let verifier = issuer
        .verifier_builder()
        .build_lazy()
        .expect("lazy verifier");
    let server = serve_behind(CognitoAuthLayer::new(verifier)).await;
    let token = issuer.access_token().sign();
    let reply = raw_check(&server, "application/grpc", Some(&token)).await;
    expect_trailers_only("JWKS down", &reply, Code::Unavailable);
}

#[tokio::test]
async fn non_grpc_requests_keep_http_refusals() {
    let issuer = TestIssuer::start().await;
    let server = serve_behind(CognitoAuthLayer::new(verifier(&issuer).await)).await;
    // Not gRPC: plain HTTP statuses, as before.
    for content_type in ["application/json", "text/plain"] {
        let reply = raw_check(&server, content_type, None).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{content_type}: {reply:?}"
        );
        assert!(
            reply.headers.get("grpc-status").is_none(),
            "{content_type}: {reply:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// One protected service among others
// ---------------------------------------------------------------------------------------------

/// Raw bytes as gRPC messages, so that a second service needs no protobuf code.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        *self
    }

    fn decoder(&mut self) -> Self {
        *self
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// `test.Echo`: every unary call answers its request, with no authentication.
#[derive(Debug, Clone, Copy)]
struct EchoServer;

impl NamedService for EchoServer {
    const NAME: &'static str = "test.Echo";
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<B> tower::Service<http::Request<B>> for EchoServer
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        Box::pin(async move {
            let echo = tower::service_fn(|request: tonic::Request<Bytes>| async move {
                Ok::<_, Status>(tonic::Response::new(request.into_inner()))
            });
            Ok(tonic::server::Grpc::new(RawCodec)
                .unary(echo, request)
                .await)
        })
    }
}

/// `test.Echo/Say`, optionally with a Bearer token.
async fn echo(server: &Running, token: Option<&str>) -> Result<Bytes, Status> {
    let mut grpc = tonic::client::Grpc::new(server.channel().await);
    grpc.ready()
        .await
        .map_err(|e| Status::unknown(e.to_string()))?;
    let mut request = tonic::Request::new(Bytes::from_static(b"ping"));
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("ASCII metadata");
        request.metadata_mut().insert("authorization", value);
    }
    let path = PathAndQuery::from_static("/test.Echo/Say");
    grpc.unary(request, path, RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

/// The name tonic routes a service by.
fn service_name<S: NamedService>(_: &S) -> &'static str {
    S::NAME
}

/// Compiles only if `service` meets the bounds of tonic's `Server::add_service`,
/// `Router::add_service` and `Routes::add_service` (the `router` feature).
fn assert_add_service_bounds<S>(_: &S)
where
    S: tower::Service<http::Request<tonic::body::Body>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Response: axum::response::IntoResponse,
    S::Future: Send + 'static,
{
}

/// Protects one service of a server: `tonic::service::LayerExt::named_layer` wraps the layer's
/// service in `tonic::service::Layered`, which keeps the inner service's `NamedService` name,
/// so `add_service` takes it next to services that need no token.
#[tokio::test]
async fn only_the_layered_service_needs_a_token() {
    let issuer = TestIssuer::start().await;
    let auth = CognitoAuthLayer::new(verifier(&issuer).await);
    let protected = auth.named_layer(health_service().await);
    assert_eq!(service_name(&protected), "grpc.health.v1.Health");
    assert_add_service_bounds(&protected);
    assert_add_service_bounds(&EchoServer);

    let server = Running::start(move |incoming| {
        Server::builder()
            .add_service(protected)
            .add_service(EchoServer)
            .serve_with_incoming(incoming)
    })
    .await;

    // The protected service.
    expect_refused(
        "health, no token",
        server.check(None).await,
        Code::Unauthenticated,
    );
    let expired = issuer.access_token().expired().sign();
    expect_refused(
        "health, expired",
        server.check(Some(&expired)).await,
        Code::Unauthenticated,
    );
    let valid = issuer.access_token().sign();
    expect_serving("health, valid token", server.check(Some(&valid)).await);

    // The other service: no layer, so no token needed and a bad one is not looked at.
    assert_eq!(echo(&server, None).await.expect("echo, no token"), "ping");
    assert_eq!(
        echo(&server, Some(&expired)).await.expect("echo, expired"),
        "ping"
    );
}
