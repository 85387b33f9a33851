//! Helpers the integration tests share: encoding, hand-made tokens, verifiers, requests through
//! a `Router`, and the reply they get.

// Each test binary compiles this module on its own and uses a different subset of it.
#![allow(dead_code)]

use std::{
    process::Stdio,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{Extension, Router, body::Body, response::Response};
use axum_cognito::{
    CognitoVerifier, Error, ErrorKind, KeyStoreStatus, VerifiedToken,
    test_util::{SigningKey, TestIssuer},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use http::{
    HeaderMap, HeaderValue, Request, StatusCode,
    header::{AUTHORIZATION, HeaderName, RETRY_AFTER, WWW_AUTHENTICATE},
};
use http_body_util::BodyExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

/// Unpadded base64url, as JWTs use it.
pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

/// A token from raw header and payload JSON text, RS256-signed with `key`: duplicate members
/// and odd numbers survive exactly as written.
pub(crate) fn rs256(key: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let signature = key.sign_b64(input.as_bytes());
    format!("{input}.{signature}")
}

/// The three segments of a compact token.
pub(crate) fn segments(token: &str) -> (&str, &str, &str) {
    let mut parts = token.split('.');
    let segments = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    assert!(parts.next().is_none(), "more than three segments");
    segments
}

/// The decoded payload text of a token.
pub(crate) fn payload_text(token: &str) -> String {
    String::from_utf8(URL_SAFE_NO_PAD.decode(segments(token).1).unwrap()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Verifiers
// ---------------------------------------------------------------------------------------------

/// A verifier of the issuer's pool, any token use, every other setting at its default.
pub(crate) async fn verifier(issuer: &TestIssuer) -> CognitoVerifier {
    issuer.verifier_builder().build().await.expect("verifier")
}

/// The error of a verification that must fail.
pub(crate) fn err<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    result.expect_err("the token must be refused")
}

/// The kind of the error of a verification that must fail.
pub(crate) fn kind<T: std::fmt::Debug>(result: Result<T, Error>) -> ErrorKind {
    err(result).kind()
}

/// The only pool's key store status.
pub(crate) fn pool_status(verifier: &CognitoVerifier) -> KeyStoreStatus {
    let mut status = verifier.status();
    assert_eq!(status.pools.len(), 1);
    status.pools.remove(0)
}

/// Polls `check` every 10 ms until it holds (true) or `limit` has passed (false).
pub(crate) async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and replies
// ---------------------------------------------------------------------------------------------

pub(crate) fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("a valid header value")
}

/// `GET path` with these `Authorization` values, in order.
pub(crate) fn request(path: &str, authorization: &[HeaderValue]) -> Request<Body> {
    let mut request = Request::get(path).body(Body::empty()).unwrap();
    for value in authorization {
        request.headers_mut().append(AUTHORIZATION, value.clone());
    }
    request
}

/// `GET path` with `Authorization: Bearer {token}`.
pub(crate) fn with_token(path: &str, token: &str) -> Request<Body> {
    request(path, &[bearer(token)])
}

/// `GET path` without `Authorization`.
pub(crate) fn anonymous(path: &str) -> Request<Body> {
    request(path, &[])
}

/// `method path` with these headers, in order (a name may repeat).
pub(crate) fn request_with(
    method: http::Method,
    path: &str,
    headers: &[(&str, &str)],
) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}

/// `GET path` with these `Cookie` headers, in order.
pub(crate) fn with_cookies(path: &str, cookies: &[&str]) -> Request<Body> {
    let headers: Vec<_> = cookies.iter().map(|cookie| ("cookie", *cookie)).collect();
    request_with(http::Method::GET, path, &headers)
}

/// A response, its body read as text.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) async fn from_response(response: Response) -> Self {
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        Self {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(bytes.to_vec()).expect("a UTF-8 body"),
        }
    }

    /// The one value of `name`, or `None`; two values fail the test.
    pub(crate) fn header(&self, name: HeaderName) -> Option<&str> {
        let mut values = self.headers.get_all(&name).iter();
        let value = values
            .next()
            .map(|v| v.to_str().expect("an ASCII header value"));
        assert!(values.next().is_none(), "more than one {name}: {self:?}");
        value
    }

    pub(crate) fn www_authenticate(&self) -> Option<&str> {
        self.header(WWW_AUTHENTICATE)
    }

    pub(crate) fn retry_after(&self) -> Option<&str> {
        self.header(RETRY_AFTER)
    }
}

/// Runs `request` through `app`.
pub(crate) async fn call(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.expect("infallible");
    Reply::from_response(response).await
}

/// A handler for any token use: the sub of the token a layer verified.
pub(crate) async fn verified_sub(Extension(token): Extension<VerifiedToken>) -> String {
    token.sub().to_owned()
}

// ---------------------------------------------------------------------------------------------
// The example server
// ---------------------------------------------------------------------------------------------

/// The example server, as scripts run it: its path next to this test's binary.
pub(crate) fn server_example() -> std::path::PathBuf {
    example("server")
}

/// The example `name`, built by `cargo test` next to this test's binary.
pub(crate) fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().and_then(|deps| deps.parent()).unwrap();
    debug.join("examples").join(name)
}

/// Runs the server with `env` until it prints its address or exits.
pub(crate) async fn start_server(
    env: &[(&str, String)],
) -> Result<(tokio::process::Child, String), String> {
    start_example("server", env).await
}

/// Runs the example `name` with `env` until it prints its address or exits.
pub(crate) async fn start_example(
    name: &str,
    env: &[(&str, String)],
) -> Result<(tokio::process::Child, String), String> {
    let mut command = tokio::process::Command::new(example(name));
    command
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .spawn()
        .expect("the server example (built by cargo test)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the server starts or exits");
    match line.unwrap() {
        Some(line) => Ok((child, line.trim_start_matches("listening on ").to_owned())),
        None => {
            let output = child.wait_with_output().await.unwrap();
            Err(format!(
                "exit {:?}: {}",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}
