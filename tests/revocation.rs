//! Revocation: the in-memory list, the application's check and Cognito's `GetUser`, on full
//! verifications and on cache hits, through the public API and a real HTTP endpoint on
//! 127.0.0.1 standing in for Cognito.

mod common;

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use axum_cognito::{
    CognitoAuthLayer, CognitoVerifier, ErrorKind, TokenRequirements, VerifiedToken,
    revocation::{FailurePolicy, GetUserCheck, RevocationList, Revoked},
    test_util::TestIssuer,
};
use common::{call, kind, verified_sub, with_token};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

// ---------------------------------------------------------------------------------------------
// Proving a cache hit: the verifier's own counter of hits
// ---------------------------------------------------------------------------------------------

/// Counts the verified-token cache's hits since the last call.
struct Hits {
    snapshotter: Snapshotter,
}

impl Hits {
    fn since_last(&self) -> u64 {
        self.snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(key, ..)| {
                let key = key.key();
                key.name() == "cognito_token_cache_requests_total"
                    && key
                        .labels()
                        .any(|l| l.key() == "result" && l.value() == "hit")
            })
            .map(|(.., value)| match value {
                DebugValue::Counter(n) => n,
                _ => 0,
            })
            .sum()
    }
}

/// A recorder local to this test's thread (the tests run on current-thread runtimes).
fn hits() -> (Hits, metrics::LocalRecorderGuard<'static>) {
    let recorder: &'static DebuggingRecorder = Box::leak(Box::new(DebuggingRecorder::new()));
    let guard = metrics::set_default_local_recorder(recorder);
    (
        Hits {
            snapshotter: recorder.snapshotter(),
        },
        guard,
    )
}

async fn verifier_with(issuer: &TestIssuer, list: &RevocationList) -> CognitoVerifier {
    issuer
        .verifier_builder()
        .revocation_list(list.clone())
        .build()
        .await
        .expect("verifier")
}

/// A verifier reading `list` with no leeway, so that entries with no grace suffice.
async fn without_leeway(issuer: &TestIssuer, list: &RevocationList) -> CognitoVerifier {
    issuer
        .verifier_builder()
        .revocation_list(list.clone())
        .leeway(Duration::ZERO)
        .build()
        .await
        .expect("verifier")
}

/// An issuer, a default list, a verifier reading it, and the count of its cache hits.
struct Listed {
    hits: Hits,
    _guard: metrics::LocalRecorderGuard<'static>,
    issuer: TestIssuer,
    list: RevocationList,
    verifier: CognitoVerifier,
}

async fn listed() -> Listed {
    let (hits, _guard) = hits();
    let issuer = TestIssuer::start().await;
    let list = RevocationList::default();
    let verifier = verifier_with(&issuer, &list).await;
    Listed {
        hits,
        _guard,
        issuer,
        list,
        verifier,
    }
}

fn in_an_hour() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

// ---------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_revoked_jti_is_refused_in_full_and_on_a_cache_hit() {
    let (hits, _guard) = hits();
    let issuer = TestIssuer::start().await;
    let list = RevocationList::default();
    let cached = verifier_with(&issuer, &list).await;
    let uncached = issuer
        .verifier_builder()
        .revocation_list(list.clone())
        .token_cache_bytes(0)
        .build()
        .await
        .unwrap();
    let token = issuer.access_token().claim("jti", "jti-1").sign();
    let other = issuer.access_token().claim("jti", "jti-2").sign();
    cached.verify(&token).await.unwrap();
    cached.verify(&other).await.unwrap();
    assert_eq!(hits.since_last(), 0);

    assert_eq!(list.revoke_jti("jti-1", in_an_hour()), Revoked::Added);
    let error = cached.verify(&token).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Revoked);
    assert_eq!(hits.since_last(), 1, "refused on a cache hit");
    assert!(error.verified_claims_json().is_some());
    assert_eq!(kind(uncached.verify(&token).await), ErrorKind::Revoked);
    assert_eq!(kind(cached.verify_sync(&token)), ErrorKind::Revoked);
    cached.verify(&other).await.unwrap();
    uncached.verify(&other).await.unwrap();
    assert_eq!(
        cached.status().cached_tokens,
        2,
        "a revoked token stays cached: every hit checks it"
    );
}

#[tokio::test]
async fn a_revoked_family_is_refused_for_every_token_of_it() {
    let Listed {
        hits,
        _guard,
        issuer,
        list,
        verifier,
    } = listed().await;
    let first = issuer.access_token().claim("origin_jti", "family").sign();
    let refreshed = issuer.id_token().claim("origin_jti", "family").sign();
    let unrelated = issuer.access_token().sign();
    for token in [&first, &refreshed, &unrelated] {
        verifier.verify(token).await.unwrap();
    }
    hits.since_last();

    list.revoke_family("family", in_an_hour());
    assert_eq!(kind(verifier.verify(&first).await), ErrorKind::Revoked);
    assert_eq!(kind(verifier.verify(&refreshed).await), ErrorKind::Revoked);
    verifier.verify(&unrelated).await.unwrap();
    assert_eq!(hits.since_last(), 3, "all three were cache hits");
    let later = issuer.access_token().claim("origin_jti", "family").sign();
    assert_eq!(
        kind(verifier.verify(&later).await),
        ErrorKind::Revoked,
        "a full verification"
    );
}

#[tokio::test]
async fn a_signed_out_user_is_refused_for_tokens_issued_up_to_then_only() {
    let Listed {
        hits,
        _guard,
        issuer,
        list,
        verifier,
    } = listed().await;
    let now = common::now();
    let before = issuer
        .access_token()
        .sub("alice")
        .claim("iat", now - 70)
        .sign();
    let bob = issuer
        .access_token()
        .sub("bob")
        .claim("iat", now - 70)
        .sign();
    verifier.verify(&before).await.unwrap();
    verifier.verify(&bob).await.unwrap();
    hits.since_last();

    list.revoke_user_before("alice", SystemTime::now() - Duration::from_secs(65));
    assert_eq!(kind(verifier.verify(&before).await), ErrorKind::Revoked);
    verifier.verify(&bob).await.unwrap();
    assert_eq!(hits.since_last(), 2);

    // A token of a sign-in after the sign-out (beyond the list's 60 s grace for clock skew)
    // passes; one without iat or auth_time does not.
    let after = issuer.access_token().sub("alice").claim("iat", now).sign();
    verifier.verify(&after).await.unwrap();
    let undated = issuer
        .access_token()
        .sub("alice")
        .without("iat")
        .without("auth_time")
        .sign();
    assert_eq!(kind(verifier.verify(&undated).await), ErrorKind::Revoked);
    let by_auth_time = issuer
        .access_token()
        .sub("alice")
        .without("iat")
        .claim("auth_time", now - 60)
        .sign();
    assert_eq!(
        kind(verifier.verify(&by_auth_time).await),
        ErrorKind::Revoked
    );
}

#[tokio::test]
async fn entries_expire_by_themselves() {
    let issuer = TestIssuer::start().await;
    let list = RevocationList::with_grace(100, Duration::ZERO);
    let verifier = without_leeway(&issuer, &list).await;
    let token = issuer.access_token().claim("jti", "short").sign();
    verifier.verify(&token).await.unwrap();

    // Until the next whole second after now: then it no longer applies.
    list.revoke_jti("short", SystemTime::now() + Duration::from_secs(1));
    assert_eq!(kind(verifier.verify(&token).await), ErrorKind::Revoked);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    verifier.verify(&token).await.unwrap();
    assert_eq!(list.len(), 1, "not yet dropped, but no longer applied");
    assert_eq!(list.purge_expired(), 1);
    assert!(list.is_empty());

    assert_eq!(
        list.revoke_jti("past", SystemTime::now() - Duration::from_secs(5)),
        Revoked::AlreadyExpired
    );
    assert!(list.is_empty());
}

#[tokio::test]
async fn the_list_never_holds_more_than_its_bound() {
    let list = RevocationList::with_grace(1_000, Duration::ZERO);
    let now = SystemTime::now();
    for i in 0..5_000_u64 {
        list.revoke_jti(&format!("jti-{i}"), now + Duration::from_secs(60 + i));
        assert!(list.len() <= 1_000);
    }
    assert_eq!(list.len(), 1_000);
    assert_eq!(list.evictions(), 4_000);
    // The entries that protect longest were kept: the last ones.
    let issuer = TestIssuer::start().await;
    let verifier = without_leeway(&issuer, &list).await;
    let kept = issuer.access_token().claim("jti", "jti-4999").sign();
    let evicted = issuer.access_token().claim("jti", "jti-0").sign();
    assert_eq!(kind(verifier.verify(&kept).await), ErrorKind::Revoked);
    verifier.verify(&evicted).await.unwrap();
    // Expiring sooner than all it holds, a new entry is not added.
    assert_eq!(
        list.revoke_jti("soon", now + Duration::from_secs(30)),
        Revoked::NotAddedFull
    );
}

#[tokio::test]
async fn a_list_grace_shorter_than_the_leeway_is_a_configuration_error() {
    let issuer = TestIssuer::start().await;
    let error = issuer
        .verifier_builder()
        .revocation_list(RevocationList::with_grace(10, Duration::from_secs(5)))
        .leeway(Duration::from_secs(60))
        .build()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("grace"), "{error}");
}

#[tokio::test]
async fn the_application_check_sees_every_hit() {
    let (hits, _guard) = hits();
    let issuer = TestIssuer::start().await;
    let banned: Arc<Mutex<Vec<String>>> = Arc::default();
    let asked = Arc::new(AtomicUsize::new(0));
    let check = {
        let (banned, asked) = (Arc::clone(&banned), Arc::clone(&asked));
        move |token: &VerifiedToken| {
            asked.fetch_add(1, Ordering::Relaxed);
            banned.lock().unwrap().iter().any(|s| s == token.sub())
        }
    };
    let verifier = issuer
        .verifier_builder()
        .revocation_check(check)
        .build()
        .await
        .unwrap();
    let token = issuer.id_token().sub("mallory").sign();
    verifier.verify(&token).await.unwrap();
    banned.lock().unwrap().push("mallory".into());
    assert_eq!(kind(verifier.verify(&token).await), ErrorKind::Revoked);
    assert_eq!(hits.since_last(), 1);
    assert_eq!(asked.load(Ordering::Relaxed), 2);
    // A token that fails a standard check never reaches it.
    let expired = issuer.id_token().sub("mallory").expired().sign();
    assert_eq!(kind(verifier.verify(&expired).await), ErrorKind::Expired);
    assert_eq!(asked.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn revoked_is_401_invalid_token_through_the_layer() {
    let issuer = TestIssuer::start().await;
    let list = RevocationList::default();
    let verifier = verifier_with(&issuer, &list).await;
    let app = Router::new()
        .route("/", get(verified_sub))
        .layer(CognitoAuthLayer::new(verifier));
    let token = issuer.access_token().claim("jti", "j").sign();
    assert_eq!(call(&app, with_token("/", &token)).await.status, 200);
    list.revoke_jti("j", in_an_hour());
    let reply = call(&app, with_token("/", &token)).await;
    assert_eq!(reply.status, 401);
    assert!(
        reply.www_authenticate().unwrap().contains("invalid_token"),
        "{reply:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// GetUser, against a stand-in for Cognito on 127.0.0.1
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Valid,
    NotAuthorized,
    UserNotFound,
    ServerError,
    Hang,
}

struct Emulator {
    behaviour: Mutex<Behaviour>,
    delay: Mutex<Duration>,
    calls: AtomicUsize,
    last_request: Mutex<Option<(HeaderMap, String)>>,
}

struct Endpoint {
    addr: SocketAddr,
    state: Arc<Emulator>,
}

impl Endpoint {
    async fn start() -> Self {
        let state = Arc::new(Emulator {
            behaviour: Mutex::new(Behaviour::Valid),
            delay: Mutex::new(Duration::ZERO),
            calls: AtomicUsize::new(0),
            last_request: Mutex::new(None),
        });
        let app = Router::new()
            .route("/", post(get_user))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, state }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn answer(&self, behaviour: Behaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
    }

    fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }
}

async fn get_user(
    State(state): State<Arc<Emulator>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    state.calls.fetch_add(1, Ordering::SeqCst);
    *state.last_request.lock().unwrap() =
        Some((headers, String::from_utf8_lossy(&body).into_owned()));
    let delay = *state.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let behaviour = *state.behaviour.lock().unwrap();
    let json = ("content-type", "application/x-amz-json-1.1");
    let error =
        |kind: &str| format!(r#"{{"__type":"{kind}","message":"Access Token has been revoked"}}"#);
    match behaviour {
        Behaviour::Valid => (
            StatusCode::OK,
            [json],
            r#"{"Username":"test-user","UserAttributes":[]}"#.into(),
        ),
        Behaviour::NotAuthorized => (
            StatusCode::BAD_REQUEST,
            [json],
            error("NotAuthorizedException"),
        ),
        Behaviour::UserNotFound => (
            StatusCode::BAD_REQUEST,
            [json],
            error("UserNotFoundException"),
        ),
        Behaviour::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [json],
            error("InternalErrorException"),
        ),
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            (StatusCode::OK, [json], "{}".into())
        }
    }
}

async fn get_user_verifier(
    issuer: &TestIssuer,
    endpoint: &Endpoint,
    check: GetUserCheck,
) -> CognitoVerifier {
    issuer
        .verifier_builder()
        .get_user_check(check.endpoint(endpoint.url()))
        .build()
        .await
        .expect("verifier")
}

#[tokio::test]
async fn get_user_is_asked_once_per_token_and_ttl_with_the_token_as_cognito_wants_it() {
    let (hits, _guard) = hits();
    let issuer = TestIssuer::start().await;
    let endpoint = Endpoint::start().await;
    let verifier = get_user_verifier(
        &issuer,
        &endpoint,
        GetUserCheck::new().ttl(Duration::from_millis(800)),
    )
    .await;
    let token = issuer.access_token().sign();
    verifier.verify(&token).await.unwrap();
    assert_eq!(endpoint.calls(), 1);
    let (headers, body) = endpoint.state.last_request.lock().unwrap().clone().unwrap();
    assert_eq!(
        headers["x-amz-target"],
        "AWSCognitoIdentityProviderService.GetUser"
    );
    assert_eq!(headers["content-type"], "application/x-amz-json-1.1");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body, serde_json::json!({ "AccessToken": token }));

    // Within the ttl: the kept answer, on a cache hit, also for the synchronous path.
    verifier.verify(&token).await.unwrap();
    verifier.verify_sync(&token).unwrap();
    assert_eq!(endpoint.calls(), 1);
    assert_eq!(hits.since_last(), 2);

    // Cognito now says revoked: seen once the ttl has passed, not before.
    endpoint.answer(Behaviour::NotAuthorized);
    verifier.verify(&token).await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(kind(verifier.verify(&token).await), ErrorKind::Revoked);
    assert_eq!(endpoint.calls(), 2);
    // The revoked answer is kept too.
    assert_eq!(kind(verifier.verify(&token).await), ErrorKind::Revoked);
    assert_eq!(kind(verifier.verify_sync(&token)), ErrorKind::Revoked);
    assert_eq!(endpoint.calls(), 2);

    // A deleted user is revoked as well.
    endpoint.answer(Behaviour::UserNotFound);
    let deleted = issuer.access_token().sign();
    assert_eq!(kind(verifier.verify(&deleted).await), ErrorKind::Revoked);
}

#[tokio::test]
async fn id_tokens_are_never_sent_to_get_user() {
    let issuer = TestIssuer::start().await;
    let endpoint = Endpoint::start().await;
    endpoint.answer(Behaviour::NotAuthorized);
    let verifier = get_user_verifier(&issuer, &endpoint, GetUserCheck::new()).await;
    verifier.verify(&issuer.id_token().sign()).await.unwrap();
    verifier.verify_sync(&issuer.id_token().sign()).unwrap();
    assert_eq!(endpoint.calls(), 0);
}

/// `GetUser` answers `NotAuthorizedException` to an access token without the
/// `aws.cognito.signin.user.admin` scope (a machine-to-machine token, custom scopes only): such
/// tokens are never sent, and never read as revoked.
#[tokio::test]
async fn access_tokens_without_the_scope_get_user_needs_are_never_sent() {
    let issuer = TestIssuer::start().await;
    let endpoint = Endpoint::start().await;
    endpoint.answer(Behaviour::NotAuthorized);
    let verifier = get_user_verifier(&issuer, &endpoint, GetUserCheck::new()).await;
    verifier
        .verify(&issuer.machine_token().sign())
        .await
        .unwrap();
    let custom = issuer.access_token().scopes(["orders/read"]).sign();
    verifier.verify(&custom).await.unwrap();
    assert_eq!(endpoint.calls(), 0);
    // With the scope, it is asked, and the answer counts.
    let user = issuer.access_token().sign();
    assert_eq!(
        verifier.verify(&user).await.unwrap_err().kind(),
        ErrorKind::Revoked
    );
    assert_eq!(endpoint.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checks_of_one_token_share_one_call() {
    let issuer = TestIssuer::start().await;
    let endpoint = Endpoint::start().await;
    *endpoint.state.delay.lock().unwrap() = Duration::from_millis(300);
    let verifier = get_user_verifier(&issuer, &endpoint, GetUserCheck::new()).await;
    let token = issuer.access_token().sign();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), token.clone());
            tokio::spawn(async move { verifier.verify(&token).await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(endpoint.calls(), 1);
    // Another token is another call.
    verifier
        .verify(&issuer.access_token().sign())
        .await
        .unwrap();
    assert_eq!(endpoint.calls(), 2);
}

#[tokio::test]
async fn cognito_failing_follows_the_failure_policy() {
    let issuer = TestIssuer::start().await;
    let endpoint = Endpoint::start().await;
    let timeout = Duration::from_millis(300);
    let closed = get_user_verifier(&issuer, &endpoint, GetUserCheck::new().timeout(timeout)).await;
    let open = get_user_verifier(
        &issuer,
        &endpoint,
        GetUserCheck::new()
            .timeout(timeout)
            .failure_policy(FailurePolicy::FailOpen),
    )
    .await;
    for behaviour in [Behaviour::ServerError, Behaviour::Hang] {
        endpoint.answer(behaviour);
        let token = issuer.access_token().sign();
        let started = std::time::Instant::now();
        let error = closed.verify(&token).await.unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::RevocationUnavailable,
            "{behaviour:?}"
        );
        assert!(error.is_unavailable());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "bounded by the timeout"
        );
        open.verify(&token).await.unwrap();
        // A failure is not kept: the next request asks again.
        let calls = endpoint.calls();
        open.verify(&token).await.unwrap();
        assert_eq!(endpoint.calls(), calls + 1, "{behaviour:?}");
    }

    // Through the layer: 503 with Retry-After, closed; 200, open.
    endpoint.answer(Behaviour::ServerError);
    let token = issuer.access_token().sign();
    for (verifier, status) in [(closed, 503), (open, 200)] {
        let app = Router::new()
            .route("/", get(verified_sub))
            .layer(CognitoAuthLayer::new(verifier));
        let reply = call(&app, with_token("/", &token)).await;
        assert_eq!(reply.status, status, "{reply:?}");
        if status == 503 {
            assert_eq!(reply.retry_after(), Some("1"));
        }
    }
}

#[tokio::test]
async fn the_synchronous_paths_never_call_and_apply_the_policy_without_a_kept_answer() {
    let issuer = TestIssuer::start().await;
    let endpoint = Endpoint::start().await;
    let closed = get_user_verifier(&issuer, &endpoint, GetUserCheck::new()).await;
    let open = get_user_verifier(
        &issuer,
        &endpoint,
        GetUserCheck::new().failure_policy(FailurePolicy::FailOpen),
    )
    .await;
    let token = issuer.access_token().sign();
    assert_eq!(
        kind(closed.verify_sync(&token)),
        ErrorKind::RevocationUnavailable
    );
    open.verify_sync(&token).unwrap();
    assert_eq!(endpoint.calls(), 0);
    closed.verify(&token).await.unwrap();
    closed.verify_sync(&token).unwrap();
    assert_eq!(endpoint.calls(), 1);
}

#[tokio::test]
async fn a_revoked_token_through_the_layer_is_401_and_a_plain_http_endpoint_elsewhere_is_refused() {
    let issuer = TestIssuer::start().await;
    let endpoint = Endpoint::start().await;
    endpoint.answer(Behaviour::NotAuthorized);
    let verifier = get_user_verifier(&issuer, &endpoint, GetUserCheck::new()).await;
    let app = Router::new()
        .route("/", get(verified_sub))
        .layer(CognitoAuthLayer::new(verifier));
    let reply = call(&app, with_token("/", &issuer.access_token().sign())).await;
    assert_eq!(reply.status, 401);
    assert!(reply.www_authenticate().unwrap().contains("invalid_token"));

    let error = issuer
        .verifier_builder()
        .get_user_check(GetUserCheck::new().endpoint("http://cognito.example/"))
        .build()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("loopback"), "{error}");
}

/// The layer's first pass over a token whose revocation only Cognito can tell is not repeated
/// after the call: the token is verified (and cached) once, the call made once, and no cache
/// hit counted for a second pass; the route's rules run after the call, on the same pass.
#[tokio::test]
async fn the_layer_asks_cognito_after_one_pass_and_does_not_verify_again() {
    let (hits, _guard) = hits();
    let issuer = TestIssuer::start().await;
    let endpoint = Endpoint::start().await;
    let verifier = get_user_verifier(&issuer, &endpoint, GetUserCheck::new()).await;
    let app = Router::new()
        .route("/", get(verified_sub))
        .layer(CognitoAuthLayer::new(verifier.clone()));
    let token = issuer.access_token().sign();
    let reply = call(&app, with_token("/", &token)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(endpoint.calls(), 1);
    assert_eq!(
        hits.since_last(),
        0,
        "one pass: no cache hit for a second one"
    );
    assert_eq!(verifier.status().cached_tokens, 1);
    // The answer is kept: the next request is a cache hit and asks nothing.
    let reply = call(&app, with_token("/", &token)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(endpoint.calls(), 1);
    assert_eq!(hits.since_last(), 1);

    // The rules of the route run once, after the call: a missing group is 403, asked once.
    let guarded = Router::new().route("/", get(verified_sub)).layer(
        CognitoAuthLayer::new(verifier).require(TokenRequirements::new().any_group(["admins"])),
    );
    let other = issuer.access_token().sign();
    let reply = call(&guarded, with_token("/", &other)).await;
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(endpoint.calls(), 2);
    assert_eq!(hits.since_last(), 0);
}

/// Issue 22, finding 4: when the crate's own budget of `GetUser` calls in flight is full, a
/// token that cannot be asked about is never accepted, even under `FailOpen`: a full pipeline
/// is not Cognito failing. Here Cognito answers every token revoked, slowly, and more tokens
/// than the budget arrive at once: none gets through.
#[tokio::test]
async fn a_full_get_user_budget_lets_no_revoked_token_through_under_fail_open() {
    let issuer = TestIssuer::start().await;
    let endpoint = Endpoint::start().await;
    endpoint.answer(Behaviour::NotAuthorized);
    *endpoint.state.delay.lock().unwrap() = Duration::from_millis(500);
    let open = get_user_verifier(
        &issuer,
        &endpoint,
        GetUserCheck::new()
            .timeout(Duration::from_secs(3))
            .failure_policy(FailurePolicy::FailOpen),
    )
    .await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..300 {
        let (open, token) = (
            open.clone(),
            issuer.access_token().sub(&format!("user-{i}")).sign(),
        );
        calls.spawn(async move { open.verify(&token).await.map(drop) });
    }
    let results = calls.join_all().await;
    let accepted = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(accepted, 0, "revoked tokens let through by a full pipeline");
    for result in results {
        let kind = result.unwrap_err().kind();
        assert!(
            matches!(kind, ErrorKind::Revoked | ErrorKind::RevocationUnavailable),
            "{kind:?}"
        );
    }
}
