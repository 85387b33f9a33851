//! What verification costs, measured in one run so that the figures compare as ratios.
//!
//! ```sh
//! cargo bench --bench verify
//! ```
//!
//! - `verify/signature_only`: the floor. One RS256 check of the token's signing input with an
//!   aws-lc-rs key parsed beforehand, the signature already decoded.
//! - `verify/minimal_check`: the least a correct verifier does, written by hand: split the
//!   token, decode its three segments, check the signature (key parsed beforehand), read four
//!   claims with serde (`iss`, `exp`, `token_use`, `client_id`) and compare them. It shows how
//!   close to the floor a full verification can come.
//! - `verify/uncached/*`: every check of the same token, cache off.
//! - `verify/hostile_groups_bad_signature`: a token of the trusted issuer just under the 16 KiB
//!   limit, its payload thousands of one-letter groups, its signature wrong: what an attacker
//!   without the key makes the verifier do, against `verify/uncached_verify_access`.
//! - `verify/jsonwebtoken_decode`: stock `jsonwebtoken::decode` of the same token into
//!   [`AccessClaims`], on the same backend (aws-lc-rs), for comparison.
//! - `verify/cache_hit/*`: the same token again, cache on.
//! - `cache_hit_threads/*`: cache hits on 1 and 2 threads at once; the time is per thread, so
//!   equal figures mean the threads do not slow each other.
//! - `router/*`: one request through `tower::ServiceExt::oneshot` on a `Router` with a trivial
//!   handler: bare, behind the layer, with the extractor.
//! - `revocation/*`: a cache hit with a [`RevocationList`] of 100,000 entries (none of them the
//!   token's), and a cache hit of an access token whose `GetUser` answer is kept.
//!
//! - `alb/*`: a load balancer's `x-amzn-oidc-data` token: one ES256 (P-256) check alone, a
//!   full verification (key kept, token cache off), and a cache hit; then the full
//!   verification's cost over the check alone, measured interleaved (target at most 1.15).
//!   `cargo bench --bench verify -- alb` runs this group only.
//!
//! `PAIRED_ONLY=1 cargo bench --bench verify` skips criterion and prints only the interleaved
//! ratios (about a minute).
//!
//! At the end: the ratios of this run's medians, then the same ratios measured again with their
//! two sides interleaved (31 alternating rounds), which other work on the machine skews far
//! less. BENCHMARKS.md reports both.

use std::{
    hint::black_box,
    path::PathBuf,
    sync::Barrier,
    thread,
    time::{Duration, Instant, SystemTime},
};

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use axum::{Router, body::Body, http::Request, routing::get};
use axum_cognito::{
    Access, AccessClaims, CognitoAuthLayer, CognitoClaims, CognitoVerifier,
    revocation::{GetUserCheck, RevocationList},
    test_util::TestIssuer,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use criterion::Criterion;
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// A Cognito access token as a hosted-UI sign-in gives it: user, groups, OAuth scopes, the
/// session ids. About 1.2 KB.
fn realistic_access_token(issuer: &TestIssuer) -> String {
    issuer
        .access_token()
        .username("8f1c2a6e-3b7d-4e59-a0c4-9d2e7b6f1a35")
        .groups(["us-east-1_TestPool01_Google", "admins", "billing-readers"])
        .scopes([
            "aws.cognito.signin.user.admin",
            "phone",
            "openid",
            "profile",
            "email",
        ])
        .sign()
}

/// A token of the trusted issuer at the default 16 KiB limit, with thousands of one-letter
/// groups and a signature that does not match.
fn hostile_groups_token(issuer: &TestIssuer) -> String {
    let token = issuer.access_token().groups(vec!["a"; 2800]).sign();
    let (signed, _) = token.rsplit_once('.').expect("a compact token");
    let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode([7u8; 256]));
    assert!(token.len() <= 16 * 1024, "{} bytes", token.len());
    token
}

struct Fixture {
    runtime: Runtime,
    issuer: TestIssuer,
    token: String,
    /// Cache off: every call verifies in full.
    uncached: CognitoVerifier,
    /// Cache on (the default size).
    cached: CognitoVerifier,
}

impl Fixture {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        let (issuer, uncached, cached) = runtime.block_on(async {
            let issuer = TestIssuer::start().await;
            let build = |cache_bytes: Option<u64>| {
                let builder = CognitoVerifier::builder()
                    .user_pool(issuer.user_pool())
                    .any_token_use();
                let builder = match cache_bytes {
                    Some(bytes) => builder.token_cache_bytes(bytes),
                    None => builder,
                };
                builder.build()
            };
            let uncached = build(Some(0)).await.expect("a verifier");
            let cached = build(None).await.expect("a verifier");
            (issuer, uncached, cached)
        });
        let token = realistic_access_token(&issuer);
        println!("token: {} bytes", token.len());
        Self {
            runtime,
            issuer,
            token,
            uncached,
            cached,
        }
    }
}

/// The token's signing input and decoded signature, and the issuer's public key parsed once.
fn bare_signature_check(fixture: &Fixture) -> (Vec<u8>, Vec<u8>, ParsedPublicKey) {
    let (signing_input, signature) = fixture.token.rsplit_once('.').expect("a compact token");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let jwk = fixture.issuer.signing_key().jwk();
    let component = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().expect("a JWK member"))
            .expect("base64url")
    };
    let (n, e) = (component("n"), component("e"));
    let key = RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .expect("an RSA key");
    (signing_input.as_bytes().to_vec(), signature, key)
}

/// The four claims the minimal check reads, borrowed.
#[derive(serde::Deserialize)]
struct MinimalClaims<'a> {
    iss: &'a str,
    exp: i64,
    token_use: &'a str,
    client_id: &'a str,
}

/// `verify/minimal_check`: split, decode, verify, read four claims, compare them; no header
/// checks, no key lookup, nothing kept.
fn minimal_check(token: &str, key: &ParsedPublicKey, issuer: &str, client: &str, now: i64) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Ok(header_json), Ok(payload_json), Ok(signature)) = (
        URL_SAFE_NO_PAD.decode(header),
        URL_SAFE_NO_PAD.decode(payload),
        URL_SAFE_NO_PAD.decode(signature),
    ) else {
        return false;
    };
    black_box(&header_json);
    let signed = &token[..header.len() + 1 + payload.len()];
    if key.verify_sig(signed.as_bytes(), &signature).is_err() {
        return false;
    }
    let Ok(claims) = serde_json::from_slice::<MinimalClaims<'_>>(&payload_json) else {
        return false;
    };
    claims.iss == issuer
        && claims.exp > now
        && claims.token_use == "access"
        && claims.client_id == client
}

fn jsonwebtoken_setup(fixture: &Fixture) -> (jsonwebtoken::DecodingKey, jsonwebtoken::Validation) {
    let jwk = fixture.issuer.signing_key().jwk();
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("an RSA key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[fixture.issuer.issuer()]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    // Access tokens carry `client_id`, not `aud`.
    validation.validate_aud = false;
    (key, validation)
}

fn verify(c: &mut Criterion, fixture: &Fixture) {
    let token = fixture.token.as_str();
    let mut group = c.benchmark_group("verify");

    let (message, signature, key) = bare_signature_check(fixture);
    group.bench_function("signature_only", |b| {
        b.iter(|| key.verify_sig(black_box(&message), black_box(&signature)))
    });

    let issuer = fixture.issuer.issuer();
    let client = fixture.issuer.client_id().to_owned();
    let now = unix_now();
    assert!(minimal_check(token, &key, &issuer, &client, now));
    group.bench_function("minimal_check", |b| {
        b.iter(|| minimal_check(black_box(token), &key, &issuer, &client, now))
    });

    let uncached = &fixture.uncached;
    assert!(uncached.verify_sync(token).is_ok());
    group.bench_function("uncached_verify_access", |b| {
        b.to_async(&fixture.runtime)
            .iter(|| async { uncached.verify_access(black_box(token)).await.unwrap() })
    });
    group.bench_function("uncached_verify_sync", |b| {
        b.iter(|| uncached.verify_sync(black_box(token)).unwrap())
    });
    let hostile = hostile_groups_token(&fixture.issuer);
    assert!(uncached.verify_sync(&hostile).is_err());
    group.bench_function("hostile_groups_bad_signature", |b| {
        b.iter(|| uncached.verify_sync(black_box(&hostile)).unwrap_err())
    });

    let (decoding_key, validation) = jsonwebtoken_setup(fixture);
    assert!(jsonwebtoken::decode::<AccessClaims>(token, &decoding_key, &validation).is_ok());
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<AccessClaims>(black_box(token), &decoding_key, &validation)
                .unwrap()
        })
    });

    let cached = &fixture.cached;
    assert!(cached.verify_sync(token).is_ok());
    group.bench_function("cache_hit_verify_access", |b| {
        b.to_async(&fixture.runtime)
            .iter(|| async { cached.verify_access(black_box(token)).await.unwrap() })
    });
    group.bench_function("cache_hit_verify_sync", |b| {
        b.iter(|| cached.verify_sync(black_box(token)).unwrap())
    });
    group.finish();
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Runs `iters` cache hits on each token at once, one thread per token, each pinned to its own
/// core, and returns the slowest thread's time: the per-thread cost. Unpinned, the scheduler
/// sometimes started both threads on one core for part of a round (both threads then took
/// about twice as long), which made the ratio swing between 1.0 and 1.9 from run to run.
fn hits_on_threads(verifier: &CognitoVerifier, tokens: &[&str], iters: u64) -> Duration {
    let start_line = Barrier::new(tokens.len());
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    thread::scope(|scope| {
        let threads: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(i, token)| {
                let start_line = &start_line;
                let core = cores.get(i % cores.len().max(1)).copied();
                scope.spawn(move || {
                    if let Some(core) = core {
                        core_affinity::set_for_current(core);
                    }
                    start_line.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(verifier.verify_sync(black_box(token)).unwrap());
                    }
                    start.elapsed()
                })
            })
            .collect();
        let times: Vec<Duration> = threads
            .into_iter()
            .map(|t| t.join().expect("a benchmark thread"))
            .collect();
        if std::env::var_os("PAIRED_DEBUG").is_some() && times.len() > 1 {
            eprintln!("    threads: {times:?}");
        }
        times.into_iter().max().unwrap_or_default()
    })
}

fn cache_hit_threads(c: &mut Criterion, fixture: &Fixture) {
    let verifier = &fixture.cached;
    let own = [
        fixture.token.clone(),
        realistic_access_token(&fixture.issuer),
    ];
    for token in &own {
        assert!(verifier.verify_sync(token).is_ok());
    }
    let mut group = c.benchmark_group("cache_hit_threads");
    group.bench_function("1_thread", |b| {
        b.iter_custom(|iters| hits_on_threads(verifier, &[&own[0]], iters))
    });
    group.bench_function("2_threads_own_tokens", |b| {
        b.iter_custom(|iters| hits_on_threads(verifier, &[&own[0], &own[1]], iters))
    });
    group.bench_function("2_threads_same_token", |b| {
        b.iter_custom(|iters| hits_on_threads(verifier, &[&own[0], &own[0]], iters))
    });
    group.finish();
}

async fn ok() -> &'static str {
    "ok"
}

async fn with_claims(caller: CognitoClaims<Access>) -> &'static str {
    black_box(&caller);
    "ok"
}

fn request(authorization: &str) -> Request<Body> {
    Request::get("/")
        .header("authorization", authorization)
        .body(Body::empty())
        .expect("a request")
}

/// The same trivial route, bare, behind the layer, with the extractor.
fn routes(fixture: &Fixture) -> [(&'static str, Router); 6] {
    [
        ("bare", Router::new().route("/", get(ok))),
        // A layer that does nothing: the router's own cost of a layered route.
        (
            "noop_layer",
            Router::new()
                .route("/", get(ok))
                .layer(tower::layer::layer_fn(|inner| inner)),
        ),
        (
            "layer",
            Router::new()
                .route("/", get(ok))
                .layer(CognitoAuthLayer::new(fixture.cached.clone())),
        ),
        (
            "layer_and_extractor",
            Router::new()
                .route("/", get(with_claims))
                .layer(CognitoAuthLayer::new(fixture.cached.clone())),
        ),
        (
            "extractor_only",
            Router::new()
                .route("/", get(with_claims))
                .layer(axum::Extension(fixture.cached.clone())),
        ),
        (
            "layer_uncached",
            Router::new()
                .route("/", get(ok))
                .layer(CognitoAuthLayer::new(fixture.uncached.clone())),
        ),
    ]
}

fn router(c: &mut Criterion, fixture: &Fixture) {
    let authorization = format!("Bearer {}", fixture.token);
    let mut group = c.benchmark_group("router");
    for (name, app) in &routes(fixture) {
        let status = fixture
            .runtime
            .block_on(app.clone().oneshot(request(&authorization)))
            .expect("a response")
            .status();
        assert_eq!(status, 200, "{name}");
        group.bench_function(*name, |b| {
            b.to_async(&fixture.runtime).iter(|| async {
                let response = app.clone().oneshot(request(&authorization)).await.unwrap();
                black_box(response.status())
            })
        });
    }
    group.finish();
}

/// A list of `entries` entries: a third each by `jti`, by family, by user, none of them the
/// bench token's.
fn full_list(entries: usize) -> RevocationList {
    let list = RevocationList::new(entries);
    let until = SystemTime::now() + Duration::from_secs(3600);
    for i in 0..entries {
        let id = format!("{i:08x}-5f2c-4d1e-9a7b-3c6e8f0a1b2d");
        match i % 3 {
            0 => list.revoke_jti(&id, until),
            1 => list.revoke_family(&id, until),
            _ => list.revoke_user_before(&id, SystemTime::now()),
        };
    }
    assert_eq!(list.len(), entries);
    list
}

/// A stand-in for Cognito's `GetUser` on 127.0.0.1 that says every token is valid.
async fn get_user_endpoint() -> String {
    let app = Router::new().route("/", axum::routing::post(|| async { "{}" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{addr}")
}

fn revocation(c: &mut Criterion, fixture: &Fixture) {
    let token = fixture.token.as_str();
    let (listed, get_user) = fixture.runtime.block_on(async {
        let listed = fixture
            .issuer
            .verifier_builder()
            .revocation_list(full_list(100_000))
            .build()
            .await
            .expect("a verifier");
        let get_user = fixture
            .issuer
            .verifier_builder()
            .get_user_check(
                GetUserCheck::new()
                    .endpoint(get_user_endpoint().await)
                    .ttl(Duration::from_secs(3600)),
            )
            .build()
            .await
            .expect("a verifier");
        // The first verifications: the cache entry, and the kept GetUser answer.
        listed.verify_access(token).await.expect("not revoked");
        get_user
            .verify_access(token)
            .await
            .expect("valid at Cognito");
        (listed, get_user)
    });
    let mut group = c.benchmark_group("revocation");
    group.bench_function("cache_hit_list_100k", |b| {
        b.to_async(&fixture.runtime)
            .iter(|| async { listed.verify_access(black_box(token)).await.unwrap() })
    });
    group.bench_function("cache_hit_get_user_kept", |b| {
        b.to_async(&fixture.runtime)
            .iter(|| async { get_user.verify_access(black_box(token)).await.unwrap() })
    });
    group.finish();
}

/// The ratios the targets are stated in: (name, measured, baseline).
const RATIOS: &[(&str, &str, &str)] = &[
    (
        "signature only / uncached verify_access (per CPU-second; target >= 0.87)",
        "verify/signature_only",
        "verify/uncached_verify_access",
    ),
    (
        "signature only / minimal check (per CPU-second)",
        "verify/signature_only",
        "verify/minimal_check",
    ),
    (
        "signature only / cache hit verify_access (hits per check; target >= 45)",
        "verify/signature_only",
        "verify/cache_hit_verify_access",
    ),
    (
        "uncached verify_sync / signature only",
        "verify/uncached_verify_sync",
        "verify/signature_only",
    ),
    (
        "jsonwebtoken::decode / signature only",
        "verify/jsonwebtoken_decode",
        "verify/signature_only",
    ),
    (
        "hostile 16 KiB of groups, bad signature / uncached verify_access",
        "verify/hostile_groups_bad_signature",
        "verify/uncached_verify_access",
    ),
    (
        "uncached verify_access / jsonwebtoken::decode",
        "verify/uncached_verify_access",
        "verify/jsonwebtoken_decode",
    ),
    (
        "cache hit verify_access / uncached verify_access",
        "verify/cache_hit_verify_access",
        "verify/uncached_verify_access",
    ),
    (
        "2 threads, own tokens / 1 thread (per thread; target 1.0)",
        "cache_hit_threads/2_threads_own_tokens",
        "cache_hit_threads/1_thread",
    ),
    (
        "2 threads, same token / 1 thread (per thread; target 1.0)",
        "cache_hit_threads/2_threads_same_token",
        "cache_hit_threads/1_thread",
    ),
    (
        "router: bare / layer (requests per second of the layer vs bare)",
        "router/bare",
        "router/layer",
    ),
    (
        "router: bare / layer and extractor",
        "router/bare",
        "router/layer_and_extractor",
    ),
    (
        "router: bare / extractor only",
        "router/bare",
        "router/extractor_only",
    ),
    (
        "router: bare / layer, cache off",
        "router/bare",
        "router/layer_uncached",
    ),
    (
        "cache hit with a 100,000-entry revocation list / cache hit",
        "revocation/cache_hit_list_100k",
        "verify/cache_hit_verify_access",
    ),
    (
        "cache hit with a kept GetUser answer / cache hit",
        "revocation/cache_hit_get_user_kept",
        "verify/cache_hit_verify_access",
    ),
];

/// Where criterion writes its estimates, found as criterion finds it.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        Into::into,
    );
    target.join("criterion")
}

/// The median of a benchmark of this run, in nanoseconds; `None` if it did not run this time.
fn median_ns(id: &str, run_started: SystemTime) -> Option<f64> {
    let path = criterion_dir().join(id).join("new/estimates.json");
    let written = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if written < run_started {
        return None;
    }
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn print_summary(run_started: SystemTime) {
    println!("\nmedians of this run:");
    let ids = RATIOS.iter().flat_map(|(_, a, b)| [*a, *b]);
    let mut seen = Vec::new();
    for id in ids {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        if let Some(ns) = median_ns(id, run_started) {
            println!("  {id:<45} {:>10.1} ns", ns);
        }
    }
    println!("\nratios of this run's medians:");
    for (name, measured, baseline) in RATIOS {
        if let (Some(m), Some(b)) = (
            median_ns(measured, run_started),
            median_ns(baseline, run_started),
        ) {
            println!("  {name:<66} {:.3}", m / b);
        }
    }
}

/// Runs a benchmarked operation `iters` times and returns the time taken.
type Timed<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

fn timed<'a, T>(mut operation: impl FnMut() -> T + 'a) -> Timed<'a> {
    Box::new(move |iters| {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(operation());
        }
        start.elapsed()
    })
}

fn timed_async<'a, T, F: Future<Output = T>>(
    runtime: &'a Runtime,
    operation: impl Fn() -> F + 'a,
) -> Timed<'a> {
    Box::new(move |iters| {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(operation().await);
            }
            start.elapsed()
        })
    })
}

/// Rounds of a paired measurement.
const ROUNDS: usize = 31;

/// The median, over [`ROUNDS`] rounds of about 20 ms a side, of the time of `a` over the time
/// of `b`, the two taking turns going first. Other work on the machine slows both sides of a
/// round alike, so the ratio holds where separate medians drift apart.
fn paired_ratio(a: &mut Timed<'_>, b: &mut Timed<'_>) -> f64 {
    let probe = b(20).max(Duration::from_nanos(20));
    let iters = (Duration::from_millis(20).as_nanos() * 20 / probe.as_nanos()).clamp(1, 1 << 20);
    let iters = u64::try_from(iters).unwrap_or(1);
    a(iters);
    b(iters);
    let mut ratios: Vec<f64> = (0..ROUNDS)
        .map(|round| {
            let (ta, tb) = if round % 2 == 0 {
                let ta = a(iters);
                (ta, b(iters))
            } else {
                let tb = b(iters);
                (a(iters), tb)
            };
            if std::env::var_os("PAIRED_DEBUG").is_some() {
                eprintln!("  round {round}: {:?} / {:?} ({iters} iters)", ta, tb);
            }
            ta.as_secs_f64() / tb.as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ROUNDS / 2]
}

/// The targets' ratios, each measured with its two sides interleaved.
fn print_paired(fixture: &Fixture) {
    let token = fixture.token.as_str();
    let runtime = &fixture.runtime;
    let (message, signature, key) = bare_signature_check(fixture);
    let (decoding_key, validation) = jsonwebtoken_setup(fixture);
    let (uncached, cached) = (&fixture.uncached, &fixture.cached);
    let second = realistic_access_token(&fixture.issuer);
    assert!(cached.verify_sync(&second).is_ok());
    let hostile = hostile_groups_token(&fixture.issuer);
    let authorization = format!("Bearer {token}");
    let routes = routes(fixture);
    let route = |name: &str| {
        let app = routes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, app)| app.clone())
            .expect("a route");
        let authorization = &authorization;
        timed_async(runtime, move || {
            let app = app.clone();
            async move { app.oneshot(request(authorization)).await.unwrap().status() }
        })
    };
    let signature_only = || timed(|| key.verify_sig(&message, &signature));
    let issuer = fixture.issuer.issuer();
    let client = fixture.issuer.client_id().to_owned();
    let now = unix_now();
    let pairs: Vec<(&str, Timed<'_>, Timed<'_>)> = vec![
        (
            "signature only / uncached verify_access (per CPU-second; target >= 0.87)",
            signature_only(),
            timed_async(runtime, || uncached.verify_access(token)),
        ),
        (
            "hostile 16 KiB of groups, bad signature / uncached verify_access",
            timed(|| uncached.verify_sync(&hostile)),
            timed_async(runtime, || uncached.verify_access(token)),
        ),
        (
            "signature only / minimal check (per CPU-second)",
            signature_only(),
            timed(|| minimal_check(token, &key, &issuer, &client, now)),
        ),
        (
            "signature only / cache hit verify_access (hits per check; target >= 45)",
            signature_only(),
            timed_async(runtime, || cached.verify_access(token)),
        ),
        (
            "signature only / cache hit verify_sync (hits per check)",
            signature_only(),
            timed(|| cached.verify_sync(token)),
        ),
        (
            "uncached verify_sync / signature only",
            timed(|| uncached.verify_sync(token)),
            signature_only(),
        ),
        (
            "jsonwebtoken::decode / signature only",
            timed(|| jsonwebtoken::decode::<AccessClaims>(token, &decoding_key, &validation)),
            signature_only(),
        ),
        (
            "2 threads, own tokens / 1 thread (per thread; target 1.0)",
            Box::new(|iters| hits_on_threads(cached, &[token, &second], iters)),
            Box::new(|iters| hits_on_threads(cached, &[token], iters)),
        ),
        (
            "2 threads, same token / 1 thread (per thread; target 1.0)",
            Box::new(|iters| hits_on_threads(cached, &[token, token], iters)),
            Box::new(|iters| hits_on_threads(cached, &[token], iters)),
        ),
        (
            "router: bare / layer (requests per second; target >= 0.90)",
            route("bare"),
            route("layer"),
        ),
        (
            "router: bare / noop layer (the router's own cost of a layer)",
            route("bare"),
            route("noop_layer"),
        ),
        (
            "router: noop layer / layer (the layer's own cost)",
            route("noop_layer"),
            route("layer"),
        ),
        (
            "router: bare / layer and extractor",
            route("bare"),
            route("layer_and_extractor"),
        ),
    ];
    println!("\ninterleaved ratios (median of {ROUNDS} rounds, sides alternating):");
    let only = std::env::var("PAIRED_FILTER").unwrap_or_default();
    for (name, mut a, mut b) in pairs.into_iter().filter(|(name, ..)| name.contains(&only)) {
        println!("  {name:<66} {:.3}", paired_ratio(&mut a, &mut b));
    }
}

/// True for a whole `cargo bench` run (options such as `--measurement-time 3` allowed): not a
/// filtered run, a listing, a profile or a test run.
fn whole_run() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let option_or_value = |a: &String| a.starts_with("--") || a.parse::<f64>().is_ok();
    args.iter().any(|a| a == "--bench")
        && args.iter().all(option_or_value)
        && !args
            .iter()
            .any(|a| ["--list", "--profile-time", "--test"].contains(&a.as_str()))
}

fn main() {
    let run_started = SystemTime::now();
    let fixture = Fixture::new();
    if std::env::var_os("PAIRED_ONLY").is_some() {
        print_paired(&fixture);
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    verify(&mut criterion, &fixture);
    cache_hit_threads(&mut criterion, &fixture);
    router(&mut criterion, &fixture);
    #[cfg(feature = "alb")]
    alb(&mut criterion, &fixture);
    revocation(&mut criterion, &fixture);
    criterion.final_summary();
    print_summary(run_started);
    if whole_run() {
        print_paired(&fixture);
    }
}

// ---------------------------------------------------------------------------------------------
// Load balancer tokens
// ---------------------------------------------------------------------------------------------

/// The ALB group: the bare P-256 check, a full verification, a cache hit, and the interleaved
/// ratio of the first two.
#[cfg(feature = "alb")]
fn alb(c: &mut Criterion, fixture: &Fixture) {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
    use axum_cognito::test_util::TestAlb;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    let runtime = &fixture.runtime;
    let (alb, uncached, cached) = runtime.block_on(async {
        let alb = TestAlb::start().await;
        let uncached = alb
            .verifier_builder()
            .token_cache_bytes(0)
            .build()
            .expect("a verifier");
        let cached = alb.verifier_builder().build().expect("a verifier");
        (alb, uncached, cached)
    });
    // As Cognito's user info comes through a load balancer: about 0.9 KB.
    let token = alb
        .token()
        .sub("8f1c2a6e-3b7d-4e59-a0c4-9d2e7b6f1a35")
        .username("8f1c2a6e-3b7d-4e59-a0c4-9d2e7b6f1a35")
        .email("jane.doe@example.com")
        .claim(
            "identities",
            r#"[{"providerName":"Google","userId":"1234567890"}]"#,
        )
        .sign();
    println!("ALB token: {} bytes", token.len());
    runtime.block_on(async {
        uncached.verify(&token).await.expect("the key is fetched");
        cached.verify(&token).await.expect("the key is fetched");
    });
    let (input, signature) = token.rsplit_once('.').expect("a compact token");
    let (message, signature) = (
        input.as_bytes().to_vec(),
        URL_SAFE.decode(signature).expect("base64url"),
    );
    let pem = alb.public_key_pem();
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let key = UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_FIXED,
        STANDARD.decode(der).expect("base64"),
    )
    .parse()
    .expect("a P-256 key");

    let mut group = c.benchmark_group("alb");
    group.bench_function("signature_only", |b| {
        b.iter(|| key.verify_sig(black_box(&message), black_box(&signature)))
    });
    group.bench_function("uncached_verify_sync", |b| {
        b.iter(|| uncached.verify_sync(black_box(&token)))
    });
    group.bench_function("cache_hit_verify_sync", |b| {
        b.iter(|| cached.verify_sync(black_box(&token)))
    });
    group.finish();

    let mut full = timed(|| uncached.verify_sync(&token));
    let mut bare = timed(|| key.verify_sig(&message, &signature));
    let mut hit = timed(|| cached.verify_sync(&token));
    let mut bare_again = timed(|| key.verify_sig(&message, &signature));
    println!("\nALB, interleaved (median of {ROUNDS} rounds, sides alternating):");
    println!(
        "  {:<66} {:.3}",
        "ALB uncached verify_sync / P-256 signature only (target <= 1.15)",
        paired_ratio(&mut full, &mut bare)
    );
    println!(
        "  {:<66} {:.3}",
        "ALB cache hit / P-256 signature only",
        paired_ratio(&mut hit, &mut bare_again)
    );
}
