//! A failing Cognito: the JWKS endpoint answers errors, garbage, too much, too slowly or not at
//! all, or publishes keys that must not be trusted. For each: tokens of known keys keep
//! verifying (through a real `Router` with `CognitoAuthLayer`, and straight to the verifier),
//! a request that needs a refetch never waits longer than the fetch timeout, and
//! `verifier.status()` says what went wrong.
//!
//! Covered elsewhere: a hang on the first fetch (`tests/key_store.rs`,
//! `build_fails_when_the_first_fetch_fails`), a refused connection and recovery
//! (`an_outage_keeps_the_last_good_keys`), staleness (`stale_keys_are_not_trusted`), retry
//! backoff (`failed_fetches_are_retried_with_backoff`).

mod common;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use aws_lc_rs::digest;
use axum::{Router, body::Body, extract::State, response::Response, routing::get};
use axum_cognito::{
    CognitoAuthLayer, CognitoVerifier, ConfigError, JwksError, KeyStoreStatus, TokenUse, UserPool,
    defaults::DEFAULT_MAX_JWKS_BYTES,
    test_util::{JwksFault, SigningKey, TestIssuer},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{Reply, b64, call, eventually, pool_status, with_token};
use http::{
    StatusCode,
    header::{CONTENT_ENCODING, CONTENT_TYPE, LOCATION},
};
use serde_json::{Value, json};

/// Short enough for a quick suite, long enough for a loaded machine to fetch a healthy set.
const TIMEOUT: Duration = Duration::from_millis(1500);
/// What a request may wait beyond the timeout: scheduling on a busy machine.
const MARGIN: Duration = Duration::from_secs(1);
const FIFTY_MB: u64 = 50 * 1024 * 1024;

/// The shortest unknown-`kid` cooldown (a builder refuses zero).
const COOLDOWN: Duration = Duration::from_nanos(1);

/// Waits until a refetch for an unknown `kid` is allowed again.
async fn after_the_cooldown() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// An issuer, a verifier that loaded its first key, and tokens of that key (`known`) and of a
/// key published after the build (`unknown`, found only by a refetch).
struct Harness {
    issuer: TestIssuer,
    verifier: CognitoVerifier,
    app: Router,
    known: String,
    known_kid: String,
    unknown: String,
}

impl Harness {
    async fn start() -> Self {
        let issuer = TestIssuer::start().await;
        let pool = issuer.user_pool();
        Self::with_pool(issuer, pool).await
    }

    /// The harness for `issuer`'s tokens, its keys fetched as `pool` says.
    async fn with_pool(issuer: TestIssuer, pool: UserPool) -> Self {
        let verifier = CognitoVerifier::builder()
            .user_pool(pool)
            .token_use(TokenUse::Access)
            .fetch_timeout(TIMEOUT)
            // Every unknown kid refetches once the shortest cooldown has passed, so each
            // request below meets the fault itself.
            .unknown_kid_cooldown(COOLDOWN)
            // No background retry between the steps of a test.
            .retry_backoff(Duration::from_secs(600), Duration::from_secs(600))
            .build()
            .await
            .unwrap();
        let app = Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(CognitoAuthLayer::new(verifier.clone()));
        let known = issuer.access_token().sign();
        let known_kid = issuer.signing_key().kid().to_owned();
        issuer.rotate();
        let unknown = issuer.access_token().sign();
        Self {
            issuer,
            verifier,
            app,
            known,
            known_kid,
            unknown,
        }
    }

    fn status(&self) -> KeyStoreStatus {
        pool_status(&self.verifier)
    }

    async fn expect_known_key_verifies(&self, case: &str) {
        let reply = call(&self.app, with_token("/", &self.known)).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{case}: known key via the layer"
        );
        assert!(
            self.verifier.verify(&self.known).await.is_ok(),
            "{case}: known key via the verifier"
        );
        assert!(self.verifier.verify_sync(&self.known).is_ok(), "{case}");
    }

    /// After the fault is gone, the key published during it is found by one refetch.
    async fn expect_recovery(&self, case: &str) {
        self.issuer.set_fault(None);
        after_the_cooldown().await;
        let reply = call(&self.app, with_token("/", &self.unknown)).await;
        assert_eq!(reply.status, StatusCode::OK, "{case}: after recovery");
        let status = self.status();
        assert_eq!(status.consecutive_failures, 0, "{case}");
        assert_eq!(status.keys_loaded, 2, "{case}");
    }
}

/// The reply to a request with `token`, and how long it took.
async fn timed_call(app: &Router, token: &str) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = call(app, with_token("/", token)).await;
    (reply, started.elapsed())
}

/// Polls until the issuer has received more than `count` JWKS requests (within 5 s).
async fn fetch_reached(issuer: &TestIssuer, count: u64) {
    let reached = async || issuer.jwks_requests() > count;
    assert!(
        eventually(Duration::from_secs(5), reached).await,
        "no fetch reached the endpoint"
    );
}

/// The fault makes every fetch fail. A request with the new key's kid starts a refetch and
/// gets 503 within the timeout; a known key passes at once, while that refetch is still
/// running; the last good keys stay in use; the status names the failure. Then the endpoint
/// recovers.
async fn a_failing_fetch(case: &str, fault: JwksFault, last_error: &str) -> Harness {
    let h = Harness::start().await;
    let slow = matches!(fault, JwksFault::Hang | JwksFault::Trickle { .. });
    h.issuer.set_fault(Some(fault));
    let requests = h.issuer.jwks_requests();

    let waiting = tokio::spawn({
        let (app, token) = (h.app.clone(), h.unknown.clone());
        async move { timed_call(&app, &token).await }
    });
    fetch_reached(&h.issuer, requests).await;
    h.expect_known_key_verifies(case).await;
    if slow {
        assert!(
            !waiting.is_finished(),
            "{case}: the known key waited for the fetch"
        );
    }
    let (reply, waited) = waiting.await.unwrap();
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{case}");
    assert!(reply.retry_after().is_some(), "{case}: no Retry-After");
    assert!(waited < TIMEOUT + MARGIN, "{case}: waited {waited:?}");
    if slow {
        assert!(waited >= TIMEOUT, "{case}: cut off early");
    }

    // The verifier alone: the same bound, the fetch error as the source.
    after_the_cooldown().await;
    let started = Instant::now();
    let error = h.verifier.verify(&h.unknown).await.unwrap_err();
    assert!(started.elapsed() < TIMEOUT + MARGIN, "{case}");
    assert!(error.is_unavailable(), "{case}: {error:?}");
    let source = std::error::Error::source(&error)
        .and_then(|s| s.downcast_ref::<JwksError>())
        .unwrap_or_else(|| panic!("{case}: no JWKS error behind {error:?}"));
    assert!(source.to_string().contains(last_error), "{case}: {source}");

    h.expect_known_key_verifies(case).await;
    let status = h.status();
    assert!(status.usable, "{case}: the last good keys are usable");
    assert_eq!(status.key_ids, std::slice::from_ref(&h.known_kid), "{case}");
    let reported = status.last_error.unwrap_or_default();
    assert!(
        reported.contains(last_error),
        "{case}: last_error {reported:?}"
    );
    assert!(status.consecutive_failures >= 2, "{case}");
    assert!(status.last_error_at.is_some(), "{case}");
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_500() {
    let h = a_failing_fetch(
        "500",
        JwksFault::Status(500),
        "JWKS endpoint answered HTTP 500",
    )
    .await;
    h.expect_recovery("500").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_404() {
    let h = a_failing_fetch(
        "404",
        JwksFault::Status(404),
        "JWKS endpoint answered HTTP 404",
    )
    .await;
    h.expect_recovery("404").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page() {
    let page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>";
    let h = a_failing_fetch(
        "HTML",
        JwksFault::Body(page.into()),
        "JWKS is not valid: expected value at line 1 column 1",
    )
    .await;
    h.expect_recovery("HTML").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_json() {
    let issuer = TestIssuer::start().await;
    let document = issuer.jwks_json();
    let half = document[..document.len() / 2].to_owned();
    let h = a_failing_fetch(
        "truncated JSON",
        JwksFault::Body(half),
        "JWKS is not valid: EOF while parsing",
    )
    .await;
    h.expect_recovery("truncated JSON").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closed_mid_body() {
    let h = a_failing_fetch("cut short", JwksFault::Truncated, "JWKS request failed").await;
    h.expect_recovery("cut short").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_body_with_its_length_declared() {
    let fault = JwksFault::HugeBody {
        bytes: FIFTY_MB,
        content_length: true,
    };
    let h = a_failing_fetch("50 MB", fault, "JWKS response exceeds 65536 bytes").await;
    h.expect_recovery("50 MB").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_body_chunked() {
    let fault = JwksFault::HugeBody {
        bytes: FIFTY_MB,
        content_length: false,
    };
    let h = a_failing_fetch("50 MB chunked", fault, "JWKS response exceeds 65536 bytes").await;
    h.expect_recovery("50 MB chunked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_at_all() {
    let h = a_failing_fetch("hang", JwksFault::Hang, "JWKS fetch timed out").await;
    h.expect_recovery("hang").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_one_byte_a_second() {
    let fault = JwksFault::Trickle {
        bytes_per_second: 1,
    };
    let h = a_failing_fetch("trickle", fault, "JWKS fetch timed out").await;
    h.expect_recovery("trickle").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_fetch_that_trickles_fails_the_build_within_the_timeout() {
    let issuer = TestIssuer::start().await;
    issuer.set_fault(Some(JwksFault::Trickle {
        bytes_per_second: 1,
    }));
    let started = Instant::now();
    let built = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .token_use(TokenUse::Access)
        .fetch_timeout(TIMEOUT)
        .build()
        .await;
    let waited = started.elapsed();
    assert!(
        matches!(
            &built,
            Err(ConfigError::InitialFetch {
                source: JwksError::Timeout(_),
                ..
            })
        ),
        "{built:?}"
    );
    assert!(waited >= TIMEOUT && waited < TIMEOUT + MARGIN, "{waited:?}");
}

// ---------------------------------------------------------------------------------------------
// Keys that must not be trusted
// ---------------------------------------------------------------------------------------------

/// A JWK with a 1024-bit modulus: an odd 128-byte number with its top bit set. aws-lc-rs
/// cannot generate keys this small, and no signature is needed: the key must be skipped.
fn jwk_1024(kid: &str) -> Value {
    let mut n = vec![0xa5u8; 128];
    n[0] |= 0x80;
    n[127] |= 1;
    json!({"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig", "n": b64(n), "e": "AQAB"})
}

/// A JWK with a real 2048-bit modulus and an exponent of 1.
fn jwk_exponent_1(kid: &str) -> (Value, usize) {
    let key = SigningKey::generate();
    let mut jwk = key.jwk();
    jwk["kid"] = json!(kid);
    jwk["e"] = json!(b64([1u8]));
    let modulus_len = URL_SAFE_NO_PAD
        .decode(jwk["n"].as_str().unwrap())
        .unwrap()
        .len();
    (jwk, modulus_len)
}

/// The forgery an exponent of 1 allows: with `s^1 mod n = s`, the PKCS#1 v1.5 encoding of the
/// message's digest is its own signature, made without any private key.
fn forged_with_exponent_1(issuer: &TestIssuer, kid: &str, modulus_len: usize) -> String {
    const SHA256_DIGEST_INFO: &[u8] = &[
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let header = json!({"kid": kid, "alg": "RS256"}).to_string();
    let claims = Value::Object(issuer.access_token().claims().clone()).to_string();
    let input = format!("{}.{}", b64(header), b64(claims));
    let hash = digest::digest(&digest::SHA256, input.as_bytes());
    let tail = [SHA256_DIGEST_INFO, hash.as_ref()].concat();
    let mut encoded = vec![0x00, 0x01];
    encoded.resize(modulus_len - tail.len() - 1, 0xff);
    encoded.push(0x00);
    encoded.extend_from_slice(&tail);
    format!("{input}.{}", b64(encoded))
}

fn document(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// The status lists a skipped key for each of `reasons` (substrings).
fn expect_skipped(case: &str, status: &KeyStoreStatus, reasons: &[&str]) {
    assert_eq!(
        status.skipped_keys.len(),
        reasons.len(),
        "{case}: {:?}",
        status.skipped_keys
    );
    for reason in reasons {
        assert!(
            status.skipped_keys.iter().any(|s| s.contains(reason)),
            "{case}: no {reason:?} in {:?}",
            status.skipped_keys
        );
    }
}

/// A set of only unusable keys fails the fetch: the last good keys stay.
async fn only_unusable_keys(case: &str, keys: &[Value], reasons: &[&str]) {
    let message = format!("JWKS has no usable RS256 key ({} skipped)", keys.len());
    let h = a_failing_fetch(case, JwksFault::Body(document(keys)), &message).await;
    expect_skipped(case, &h.status(), reasons);
    h.expect_recovery(case).await;
    expect_skipped(case, &h.status(), &[]);
}

/// Unusable keys next to the good one: the set loads without them. A token naming one of them
/// is refused (401, not 503: the fetch worked) at once.
async fn unusable_keys_beside_good_ones(case: &str, keys: &[Value], reasons: &[&str]) -> Harness {
    let h = Harness::start().await;
    let known = h
        .issuer
        .jwks_json()
        .parse::<Value>()
        .unwrap()
        .get("keys")
        .and_then(|keys| keys.get(0).cloned())
        .unwrap();
    assert_eq!(known["kid"], h.known_kid);
    let mut published = vec![known];
    published.extend_from_slice(keys);
    h.issuer
        .set_fault(Some(JwksFault::Body(document(&published))));
    let (reply, waited) = timed_call(&h.app, &h.unknown).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}");
    assert!(waited < TIMEOUT + MARGIN, "{case}");
    h.expect_known_key_verifies(case).await;
    let status = h.status();
    assert!(status.usable, "{case}");
    assert_eq!(status.key_ids, std::slice::from_ref(&h.known_kid), "{case}");
    assert_eq!(status.last_error, None, "{case}");
    expect_skipped(case, &status, reasons);
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_key_list() {
    only_unusable_keys("empty", &[], &[]).await;
}

fn other_types() -> Vec<Value> {
    vec![
        json!({"kid": "ec", "kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
        json!({"kid": "oct", "kty": "oct", "k": "c2VjcmV0"}),
        json!({"kid": "okp", "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
        json!({"kid": "rsa-enc", "kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}),
        json!({"kid": "rs512", "kty": "RSA", "alg": "RS512", "n": "AQAB", "e": "AQAB"}),
    ]
}

const OTHER_TYPE_REASONS: &[&str] = &[
    r#"ec: kty "EC" is not RSA"#,
    r#"oct: kty "oct" is not RSA"#,
    r#"okp: kty "OKP" is not RSA"#,
    r#"rsa-enc: use "enc" is not sig"#,
    r#"rs512: alg "RS512" is not RS256"#,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_other_types_only() {
    only_unusable_keys("other types", &other_types(), OTHER_TYPE_REASONS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_other_types_beside_a_good_one() {
    let h = unusable_keys_beside_good_ones("other types", &other_types(), OTHER_TYPE_REASONS).await;
    let ec = h.issuer.access_token().header("kid", "ec").sign();
    assert_eq!(
        call(&h.app, with_token("/", &ec)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_kids() {
    let (first, second) = (
        SigningKey::generate_with_kid("dup"),
        SigningKey::generate_with_kid("dup"),
    );
    let keys = [first.jwk(), second.jwk()];
    only_unusable_keys("duplicates only", &keys, &["dup: listed twice"]).await;

    let h = unusable_keys_beside_good_ones("duplicates", &keys, &["dup: listed twice"]).await;
    // Neither key of the ambiguous kid is trusted.
    for key in [&first, &second] {
        let token = h.issuer.access_token().signed_with(key).sign();
        assert_eq!(
            call(&h.app, with_token("/", &token)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_known_kid_listed_twice_with_different_keys() {
    // The published kid appears again with an impostor's key. Alone in the set, the kid is
    // ambiguous, the set has no usable key, and the last good set stays.
    let h = Harness::start().await;
    let published: Value = h.issuer.jwks_json().parse().unwrap();
    let mut keys = published["keys"].as_array().unwrap().clone();
    keys.retain(|k| k["kid"] == h.known_kid.as_str());
    keys.push(SigningKey::generate_with_kid(&h.known_kid).jwk());
    h.issuer.set_fault(Some(JwksFault::Body(document(&keys))));
    assert!(h.verifier.refresh().await.is_err());
    h.expect_known_key_verifies("known kid twice").await;
    let status = h.status();
    let last_error = status.last_error.clone().unwrap_or_default();
    assert!(
        last_error.contains("no usable RS256 key (2 skipped)"),
        "{last_error}"
    );
    expect_skipped("known kid twice", &status, &["listed twice"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1024_bit_modulus() {
    let reason = "weak: modulus of 1024 bits is outside 2048..=8192";
    only_unusable_keys("1024 bits only", &[jwk_1024("weak")], &[reason]).await;
    let h = unusable_keys_beside_good_ones("1024 bits", &[jwk_1024("weak")], &[reason]).await;
    let token = h.issuer.access_token().header("kid", "weak").sign();
    assert_eq!(
        call(&h.app, with_token("/", &token)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exponent_of_1() {
    let reason = "e1: exponent is not an odd number from 3 to 2^64";
    let (jwk, modulus_len) = jwk_exponent_1("e1");
    only_unusable_keys("e = 1 only", std::slice::from_ref(&jwk), &[reason]).await;
    let h = unusable_keys_beside_good_ones("e = 1", &[jwk], &[reason]).await;
    let forged = forged_with_exponent_1(&h.issuer, "e1", modulus_len);
    assert_eq!(
        call(&h.app, with_token("/", &forged)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(h.verifier.verify(&forged).await.is_err());
}

// ---------------------------------------------------------------------------------------------
// Redirects and compressed bodies, from a JWKS server of the test's own
// ---------------------------------------------------------------------------------------------

/// What the relay answers.
#[derive(Debug, Clone)]
enum Answer {
    /// 200 with these bytes, labelled with this `Content-Encoding` when given.
    Body {
        bytes: Vec<u8>,
        encoding: Option<&'static str>,
    },
    /// This redirect status, to `location`.
    Redirect { status: u16, location: String },
}

impl Answer {
    fn json(document: String) -> Self {
        Self::Body {
            bytes: document.into_bytes(),
            encoding: None,
        }
    }
}

/// A JWKS server on 127.0.0.1 that answers whatever the test set.
#[derive(Debug, Clone)]
struct Relay {
    url: String,
    answer: Arc<Mutex<Answer>>,
    requests: Arc<AtomicU64>,
}

impl Relay {
    async fn start(answer: Answer) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Self {
            url: format!("http://{}/jwks.json", listener.local_addr().unwrap()),
            answer: Arc::new(Mutex::new(answer)),
            requests: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route("/jwks.json", get(relay_answer))
            .with_state(relay.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        relay
    }

    fn set(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn relay_answer(State(relay): State<Relay>) -> Response {
    relay.requests.fetch_add(1, Ordering::SeqCst);
    let answer = relay.answer.lock().unwrap().clone();
    match answer {
        Answer::Body { bytes, encoding } => {
            let mut response = Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_TYPE, "application/json");
            if let Some(encoding) = encoding {
                response = response.header(CONTENT_ENCODING, encoding);
            }
            response.body(Body::from(bytes)).unwrap()
        }
        Answer::Redirect { status, location } => Response::builder()
            .status(status)
            .header(LOCATION, location)
            .body(Body::empty())
            .unwrap(),
    }
}

/// A harness whose verifier fetches from a relay, which serves the key set of the build (the
/// known key only) until told otherwise.
async fn behind_a_relay() -> (Harness, Relay) {
    let issuer = TestIssuer::start().await;
    let relay = Relay::start(Answer::json(issuer.jwks_json())).await;
    let pool = UserPool::new(issuer.pool_id())
        .client_id(issuer.client_id())
        .jwks_url(relay.url.clone());
    let h = Harness::with_pool(issuer, pool).await;
    assert_eq!(h.status().key_ids, std::slice::from_ref(&h.known_kid));
    (h, relay)
}

/// The refetch `h.unknown` starts fails with `message`: 503 for it, the last good keys stay.
async fn expect_refused_refetch(h: &Harness, relay: &Relay, case: &str, message: &str) {
    after_the_cooldown().await;
    let before = relay.requests();
    let reply = call(&h.app, with_token("/", &h.unknown)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{case}");
    assert!(reply.retry_after().is_some(), "{case}: no Retry-After");
    assert!(relay.requests() > before, "{case}: no refetch");

    let error = h.verifier.refresh().await.unwrap_err();
    assert!(error.is_unavailable(), "{case}: {error:?}");
    let source = std::error::Error::source(&error)
        .and_then(|s| s.downcast_ref::<JwksError>())
        .unwrap_or_else(|| panic!("{case}: no JWKS error behind {error:?}"));
    assert!(source.to_string().contains(message), "{case}: {source}");

    h.expect_known_key_verifies(case).await;
    let status = h.status();
    assert!(status.usable, "{case}");
    assert_eq!(status.key_ids, std::slice::from_ref(&h.known_kid), "{case}");
    let reported = status.last_error.unwrap_or_default();
    assert!(
        reported.contains(message),
        "{case}: last_error {reported:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_never_followed_and_the_last_good_keys_stay() {
    let (h, relay) = behind_a_relay().await;
    // A server for the same pool with keys of its own: were a redirect to it followed, its
    // keys would vouch for its tokens.
    let elsewhere = TestIssuer::start().await;
    assert_eq!(elsewhere.issuer(), h.issuer.issuer());
    let theirs = elsewhere.access_token().sign();
    for status in [301, 302, 303, 307, 308] {
        let case = format!("HTTP {status}");
        for location in [elsewhere.jwks_url(), relay.url.clone()] {
            relay.set(Answer::Redirect {
                status,
                location: location.clone(),
            });
            let case = format!("{case} to {location}");
            expect_refused_refetch(&h, &relay, &case, &format!("answered HTTP {status}")).await;
            let reply = call(&h.app, with_token("/", &theirs)).await;
            assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{case}");
        }
    }
    assert_eq!(elsewhere.jwks_requests(), 0, "a redirect was followed");

    // Served directly, the same document loads: only the redirect was refused.
    relay.set(Answer::json(h.issuer.jwks_json()));
    after_the_cooldown().await;
    let reply = call(&h.app, with_token("/", &h.unknown)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = call(&h.app, with_token("/", &theirs)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.status().keys_loaded, 2);
}

/// CRC-32 (IEEE), as gzip's trailer holds it.
fn crc32(bytes: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !bytes.iter().fold(!0u32, |crc, &b| {
        table[usize::from((crc as u8) ^ b)] ^ (crc >> 8)
    })
}

/// A gzip member around one deflate `stream`, with the CRC-32 and length of what it inflates to.
fn gzip_member(stream: &[u8], data_crc: u32, data_len: usize) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(stream);
    out.extend_from_slice(&data_crc.to_le_bytes());
    out.extend_from_slice(&(data_len as u32).to_le_bytes());
    out
}

/// `data` gzipped in one stored (uncompressed) deflate block: a real gzip any client that
/// decompresses reads back as `data`.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).expect("one stored block");
    let mut stream = vec![0b001]; // final block, stored
    stream.extend_from_slice(&len.to_le_bytes());
    stream.extend_from_slice(&(!len).to_le_bytes());
    stream.extend_from_slice(data);
    gzip_member(&stream, crc32(data), data.len())
}

/// Deflate's bit order: fields least significant bit first, Huffman codes most significant
/// first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    used: u32,
}

impl Bits {
    fn field(&mut self, value: u32, width: u32) {
        for i in 0..width {
            if self.used.is_multiple_of(8) {
                self.out.push(0);
            }
            let bit = u8::from(value >> i & 1 == 1);
            *self.out.last_mut().unwrap() |= bit << (self.used % 8);
            self.used += 1;
        }
    }

    fn code(&mut self, code: u32, width: u32) {
        for i in (0..width).rev() {
            self.field(code >> i & 1, 1);
        }
    }
}

/// A gzip bomb: one space, then `copies` copies of the previous 258 bytes, in a fixed-Huffman
/// deflate block (13 bits per copy). Returns it and the size it inflates to.
fn gzip_bomb(copies: usize) -> (Vec<u8>, usize) {
    let mut bits = Bits::default();
    bits.field(1, 1); // final block
    bits.field(1, 2); // fixed Huffman codes
    bits.code(0x30 + u32::from(b' '), 8); // the literal ' '
    for _ in 0..copies {
        bits.code(0xc5, 8); // length 258 (symbol 285)
        bits.code(0, 5); // distance 1
    }
    bits.code(0, 7); // end of block (symbol 256)
    let inflated = 1 + 258 * copies;
    let crc = crc32(&vec![b' '; inflated]);
    (gzip_member(&bits.out, crc, inflated), inflated)
}

#[test]
fn the_gzip_helpers_compute_the_standard_crc() {
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(crc32(b""), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzipped_jwks_is_not_decompressed_so_the_fetch_fails_and_the_last_good_keys_stay() {
    let (h, relay) = behind_a_relay().await;
    // Both keys, the new one included: a client that inflated this would find it.
    let document = h.issuer.jwks_json();
    relay.set(Answer::Body {
        bytes: gzip_stored(document.as_bytes()),
        encoding: Some("gzip"),
    });
    let message = "JWKS is not valid: expected value at line 1 column 1";
    expect_refused_refetch(&h, &relay, "a real gzip of the key set", message).await;

    // The same document uncompressed loads.
    relay.set(Answer::json(document));
    after_the_cooldown().await;
    let reply = call(&h.app, with_token("/", &h.unknown)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(h.status().keys_loaded, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_not_inflated_and_an_oversized_one_is_cut_at_the_bytes_received() {
    let (h, relay) = behind_a_relay().await;
    // 62 KB on the wire, 9.8 MB inflated: under the cap as sent, far over it inflated. Read as
    // sent, it is simply not JSON.
    let (bomb, inflated) = gzip_bomb(38_000);
    assert!(bomb.len() < DEFAULT_MAX_JWKS_BYTES, "{}", bomb.len());
    assert!(inflated > 100 * DEFAULT_MAX_JWKS_BYTES, "{inflated}");
    relay.set(Answer::Body {
        bytes: bomb,
        encoding: Some("gzip"),
    });
    let message = "JWKS is not valid: expected value at line 1 column 1";
    expect_refused_refetch(&h, &relay, "gzip bomb", message).await;

    // Over the cap as sent: refused for the bytes received, whatever the label.
    let (bomb, _) = gzip_bomb(45_000);
    assert!(bomb.len() > DEFAULT_MAX_JWKS_BYTES, "{}", bomb.len());
    relay.set(Answer::Body {
        bytes: bomb,
        encoding: Some("gzip"),
    });
    let message = format!("JWKS response exceeds {DEFAULT_MAX_JWKS_BYTES} bytes");
    expect_refused_refetch(&h, &relay, "oversized gzip bomb", &message).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_json_body_labelled_compressed_is_read_as_sent_without_decompression() {
    // reqwest is built without its decompression features: `Content-Encoding` is ignored, so a
    // plain JSON key set under a compression label loads as it is.
    for encoding in ["gzip", "x-gzip", "deflate", "br", "zstd"] {
        let (h, relay) = behind_a_relay().await;
        relay.set(Answer::Body {
            bytes: h.issuer.jwks_json().into_bytes(),
            encoding: Some(encoding),
        });
        let reply = call(&h.app, with_token("/", &h.unknown)).await;
        assert_eq!(reply.status, StatusCode::OK, "{encoding}");
        let status = h.status();
        assert_eq!(status.keys_loaded, 2, "{encoding}");
        assert_eq!(status.last_error, None, "{encoding}");
        h.expect_known_key_verifies(encoding).await;
    }
}
