//! A sustained, bounded soak: a server with `CognitoAuthLayer` on 127.0.0.1 and a local test
//! issuer, under a mix of valid and hostile requests from concurrent clients in the same
//! process. It samples the process's resident memory every few seconds, counts statuses by
//! kind of request, rotates the signing key half way (published first, signed with later, as
//! Cognito does), and fails unless every valid request got 200, no request got a 5xx while the
//! keys were usable, and memory stayed flat after the warm-up.
//!
//! ```sh
//! scripts/soak.sh            # release build, 70 s
//! cargo run --release --example soak -- --secs 90 --sample-secs 5 --clients 32
//! ```
//!
//! Linux only for the memory figures (`/proc/self/status`); elsewhere they read 0.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Extension, Router, routing::get};
use axum_cognito::{
    CognitoAuthLayer, CognitoVerifier, TokenUse, VerifiedToken,
    test_util::{SigningKey, TestIssuer},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

/// Requests sent in each round of twenty, by kind: half valid, half hostile.
const MIX: [Kind; 20] = [
    Kind::Valid,
    Kind::UnknownKid,
    Kind::Valid,
    Kind::Expired,
    Kind::Valid,
    Kind::BadSignature,
    Kind::Valid,
    Kind::Garbage,
    Kind::Valid,
    Kind::NoHeader,
    Kind::Valid,
    Kind::AlgNone,
    Kind::Valid,
    Kind::ForeignIssuer,
    Kind::Valid,
    Kind::TooLarge,
    Kind::Valid,
    Kind::UnknownKid,
    Kind::Valid,
    Kind::OtherScheme,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Valid,
    UnknownKid,
    Expired,
    BadSignature,
    Garbage,
    NoHeader,
    AlgNone,
    ForeignIssuer,
    TooLarge,
    OtherScheme,
}

struct Settings {
    secs: u64,
    sample_secs: u64,
    clients: usize,
}

impl Settings {
    fn from_args() -> Result<Self, String> {
        let mut settings = Self {
            secs: 70,
            sample_secs: 5,
            clients: 32,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            let number: u64 = value.parse().map_err(|_| format!("{flag} {value}"))?;
            match flag.as_str() {
                // Bounded: the soak always stops by itself.
                "--secs" => settings.secs = number.clamp(10, 600),
                "--sample-secs" => settings.sample_secs = number.clamp(1, 60),
                "--clients" => settings.clients = usize::try_from(number.clamp(1, 256)).unwrap(),
                _ => return Err(format!("unknown flag {flag}")),
            }
        }
        Ok(settings)
    }
}

/// Everything the clients send, made before the run.
struct Tokens {
    /// Valid tokens of the key in use; replaced by tokens of the new key half way.
    valid: RwLock<Arc<Vec<String>>>,
    expired: Vec<String>,
    bad_signature: Vec<String>,
    alg_none: String,
    foreign_issuer: String,
    too_large: String,
    /// `.payload.signature` of a valid token, behind a header with a random kid.
    unknown_kid_rest: String,
}

fn mint(issuer: &TestIssuer, count: usize, key: Option<&SigningKey>) -> Vec<String> {
    (0..count)
        .map(|i| {
            let builder = issuer
                .access_token()
                .username(&format!("user-{i}"))
                .groups(["readers"]);
            match key {
                Some(key) => builder.signed_with(key).sign(),
                None => builder.sign(),
            }
        })
        .collect()
}

fn random_kid(i: u64) -> String {
    // A different kid every request: a hash of a counter and the clock is random enough.
    use std::hash::{BuildHasher, RandomState};
    let hash = RandomState::new().hash_one((i, Instant::now()));
    let header = format!(r#"{{"kid":"{hash:016x}{i}","alg":"RS256"}}"#);
    URL_SAFE_NO_PAD.encode(header)
}

fn authorization(kind: Kind, tokens: &Tokens, i: u64) -> Option<String> {
    // Every other request is a valid one: halve the counter so that all of them are used.
    let pick = |list: &[String]| list[usize::try_from(i / 2).unwrap_or(0) % list.len()].clone();
    let bearer = |token: String| Some(format!("Bearer {token}"));
    match kind {
        Kind::Valid => bearer(pick(&tokens.valid.read().unwrap())),
        Kind::UnknownKid => bearer(format!("{}.{}", random_kid(i), tokens.unknown_kid_rest)),
        Kind::Expired => bearer(pick(&tokens.expired)),
        Kind::BadSignature => bearer(pick(&tokens.bad_signature)),
        Kind::Garbage => bearer(format!("{i:x}.garbage~+/.{i}")),
        Kind::NoHeader => None,
        Kind::AlgNone => bearer(tokens.alg_none.clone()),
        Kind::ForeignIssuer => bearer(tokens.foreign_issuer.clone()),
        Kind::TooLarge => bearer(tokens.too_large.clone()),
        Kind::OtherScheme => Some("Basic dXNlcjpwYXNz".to_owned()),
    }
}

/// Resident memory in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn whoami(Extension(token): Extension<VerifiedToken>) -> String {
    token.sub().to_owned()
}

type Counts = BTreeMap<(Kind, u16), u64>;

async fn client(
    http: reqwest::Client,
    url: String,
    tokens: Arc<Tokens>,
    first: u64,
    step: u64,
    deadline: Instant,
    sent: Arc<AtomicU64>,
) -> Counts {
    let mut counts = Counts::new();
    let mut i = first;
    while Instant::now() < deadline {
        let kind = MIX[usize::try_from(i % 20).unwrap()];
        let mut request = http.get(&url);
        if let Some(value) = authorization(kind, &tokens, i) {
            request = request.header("authorization", value);
        }
        // 0: no answer at all, counted like a status.
        let status = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                status
            }
            Err(_) => 0,
        };
        *counts.entry((kind, status)).or_default() += 1;
        sent.fetch_add(1, Ordering::Relaxed);
        i += step;
    }
    counts
}

struct Sample {
    at: Duration,
    rss_kib: u64,
    requests: u64,
    usable: bool,
    cached: usize,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_args()?;
    let issuer = TestIssuer::start().await;
    let verifier = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .token_use(TokenUse::Access)
        .build()
        .await?;
    let app = Router::new()
        .route("/", get(whoami))
        .layer(CognitoAuthLayer::new(verifier.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let valid = mint(&issuer, 300, None);
    let rest = valid[0]
        .split_once('.')
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_default();
    let bad_signature = valid[..50]
        .iter()
        .map(|t| {
            let (input, signature) = t.rsplit_once('.').unwrap_or_default();
            let flipped = if signature.starts_with('A') { "B" } else { "A" };
            format!("{input}.{flipped}{}", &signature[1..])
        })
        .collect();
    let tokens = Arc::new(Tokens {
        valid: RwLock::new(Arc::new(valid)),
        expired: (0..20)
            .map(|_| issuer.access_token().expired().sign())
            .collect(),
        bad_signature,
        alg_none: issuer.access_token().header("alg", "none").sign(),
        foreign_issuer: issuer
            .access_token()
            .issuer("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Elsewhere")
            .sign(),
        too_large: issuer
            .access_token()
            .claim("pad", "x".repeat(20_000))
            .sign(),
        unknown_kid_rest: rest,
    });

    let total = Duration::from_secs(settings.secs);
    let started = Instant::now();
    let deadline = started + total;
    let sent = Arc::new(AtomicU64::new(0));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(settings.clients)
        .timeout(Duration::from_secs(10))
        .build()?;
    let step = settings.clients as u64;
    let clients: Vec<_> = (0..step)
        .map(|first| {
            tokio::spawn(client(
                http.clone(),
                url.clone(),
                tokens.clone(),
                first,
                step,
                deadline,
                sent.clone(),
            ))
        })
        .collect();
    println!(
        "soak: {} s, {} clients, {url}, sampling every {} s",
        settings.secs, settings.clients, settings.sample_secs
    );

    // Rotation as Cognito does it: publish a key at a third of the run, sign with it from half
    // way on, once the verifier has picked it up.
    let mut published: Option<(SigningKey, Duration)> = None;
    let mut switched_at = None;
    let mut samples = Vec::new();
    let mut next_sample = started;
    while Instant::now() < deadline {
        let now = Instant::now();
        if now >= next_sample {
            let status = verifier.status();
            let sample = Sample {
                at: now - started,
                rss_kib: rss_kib(),
                requests: sent.load(Ordering::Relaxed),
                usable: status.usable,
                cached: status.cached_tokens,
            };
            println!(
                "  t={:>4.0}s rss={:>7} KiB requests={:>9} usable={} cached_tokens={}",
                sample.at.as_secs_f64(),
                sample.rss_kib,
                sample.requests,
                sample.usable,
                sample.cached
            );
            samples.push(sample);
            next_sample += Duration::from_secs(settings.sample_secs);
        }
        let elapsed = now - started;
        if published.is_none() && elapsed >= total / 3 {
            published = Some((issuer.add_key(), elapsed));
        }
        if let Some((key, _)) = &published
            && switched_at.is_none()
            && elapsed >= total / 2
            && verifier.status().pools[0]
                .key_ids
                .iter()
                .any(|k| k == key.kid())
        {
            let (issuer, key) = (issuer.clone(), key.clone());
            let rotated =
                tokio::task::spawn_blocking(move || mint(&issuer, 300, Some(&key))).await?;
            *tokens.valid.write().unwrap() = Arc::new(rotated);
            switched_at = Some(Instant::now() - started);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut counts = Counts::new();
    for client in clients {
        for (key, count) in client.await? {
            *counts.entry(key).or_default() += count;
        }
    }
    let final_sample = Sample {
        at: started.elapsed(),
        rss_kib: rss_kib(),
        requests: sent.load(Ordering::Relaxed),
        usable: verifier.is_usable(),
        cached: verifier.status().cached_tokens,
    };
    samples.push(final_sample);

    println!("\nstatuses by kind of request (0: no answer):");
    for ((kind, status), count) in &counts {
        println!("  {:<14} {status:>3}  {count:>9}", format!("{kind:?}"));
    }
    let requests: u64 = counts.values().sum();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "\n{requests} requests in {seconds:.1} s ({:.0}/s); JWKS requests at the issuer: {}",
        requests as f64 / seconds,
        issuer.jwks_requests()
    );
    match (&published, switched_at) {
        (Some((_, at)), Some(switch)) => println!(
            "key published at {:.0} s, tokens signed with it from {:.0} s",
            at.as_secs_f64(),
            switch.as_secs_f64()
        ),
        _ => println!("the new key was never picked up"),
    }

    // The verdict.
    let mut failures = Vec::new();
    let server_errors: u64 = counts
        .iter()
        .filter(|((_, status), _)| *status >= 500 || *status == 0)
        .map(|(_, count)| count)
        .sum();
    if server_errors > 0 {
        failures.push(format!("{server_errors} requests got a 5xx or no answer"));
    }
    let valid_not_ok: u64 = counts
        .iter()
        .filter(|((kind, status), _)| *kind == Kind::Valid && *status != 200)
        .map(|(_, count)| count)
        .sum();
    if valid_not_ok > 0 {
        failures.push(format!("{valid_not_ok} valid requests did not get 200"));
    }
    let hostile_ok: u64 = counts
        .iter()
        .filter(|((kind, status), _)| *kind != Kind::Valid && *status < 400)
        .map(|(_, count)| count)
        .sum();
    if hostile_ok > 0 {
        failures.push(format!("{hostile_ok} hostile requests were let through"));
    }
    if samples.iter().any(|s| !s.usable) {
        failures.push("the keys became unusable".to_owned());
    }
    if switched_at.is_none() {
        failures.push("the rotated key was never used".to_owned());
    }
    // Flat: after a 10 s warm-up (connections, caches, the rotated tokens), resident memory
    // grows by less than 10 % or 8 MiB, whichever is larger.
    let warm: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= Duration::from_secs(10))
        .collect();
    if let (Some(first), Some(peak)) = (warm.first(), warm.iter().map(|s| s.rss_kib).max()) {
        let allowed = (first.rss_kib / 10).max(8 * 1024);
        let growth = peak.saturating_sub(first.rss_kib);
        println!(
            "resident memory after warm-up: {} KiB at {:.0} s, peak {peak} KiB (+{growth} KiB, {allowed} KiB allowed)",
            first.rss_kib,
            first.at.as_secs_f64()
        );
        if growth > allowed {
            failures.push(format!("memory grew by {growth} KiB"));
        }
    }
    if failures.is_empty() {
        println!("PASS");
        Ok(())
    } else {
        Err(format!("FAIL: {}", failures.join("; ")).into())
    }
}
