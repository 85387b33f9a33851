//! Resident memory while a verifier rejects a million distinct invalid tokens: it must stay
//! flat, since nothing about a rejected token may be kept (not in the token cache, not per
//! `kid`, not in the key store).
//!
//! ```sh
//! cargo run --release --example memory_flat              # 1,000,000 tokens, about a minute
//! cargo run --release --example memory_flat -- 200000 10 # TOKENS, one expired token in N
//! ```
//!
//! The tokens, all distinct, all well-formed, all naming the test pool's issuer:
//! - a bad signature (the pool's `kid`, a payload of its own, a signature of random bytes):
//!   the RSA check runs and fails;
//! - an unknown `kid` (a new one each time): one JWKS refetch, then none during the cooldown;
//! - validly signed but expired, one in `N` (20 by default; minting costs about 1 ms each).
//!
//! Prints the process's `VmRSS` (from `/proc/self/status`, Linux) after every 100,000
//! rejections, the count of each rejection, and whether the series stayed within 1 MiB of its
//! first sample. Exits 1 if it did not, or if any token was accepted.

use std::{collections::BTreeMap, process::ExitCode, time::Instant};

use axum_cognito::{CognitoVerifier, ErrorKind, test_util::TestIssuer};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

const SAMPLE_EVERY: u64 = 100_000;
const FLAT_WITHIN_KIB: u64 = 1024;

fn resident_kib() -> u64 {
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

fn b64(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// The `n`-th invalid token.
struct Tokens {
    issuer: TestIssuer,
    kid: String,
    claims: serde_json::Map<String, Value>,
    bad_signature: String,
    expired_every: u64,
}

impl Tokens {
    fn new(issuer: TestIssuer, expired_every: u64) -> Self {
        let claims = issuer.access_token().claims().clone();
        // 256 bytes, the length of a real RS256 signature with a 2048-bit key.
        let noise: Vec<u8> = (0..=255u8).map(|b| b.wrapping_mul(167) ^ 0x5a).collect();
        Self {
            kid: issuer.signing_key().kid().to_owned(),
            issuer,
            claims,
            bad_signature: URL_SAFE_NO_PAD.encode(noise),
            expired_every,
        }
    }

    fn token(&self, n: u64) -> String {
        if n.is_multiple_of(self.expired_every) {
            return self
                .issuer
                .access_token()
                .claim("jti", format!("expired-{n}"))
                .expired()
                .sign();
        }
        let mut claims = self.claims.clone();
        claims.insert("jti".into(), format!("token-{n}").into());
        let kid = if n.is_multiple_of(2) {
            self.kid.clone()
        } else {
            format!("unknown-{n}")
        };
        let header = json!({ "alg": "RS256", "kid": kid });
        format!(
            "{}.{}.{}",
            b64(&header),
            b64(&Value::Object(claims)),
            self.bad_signature
        )
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let total = args.next().and_then(Result::ok).unwrap_or(1_000_000);
    let expired_every = args.next().and_then(Result::ok).unwrap_or(20).max(1);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(run(total, expired_every))
}

async fn run(total: u64, expired_every: u64) -> ExitCode {
    let issuer = TestIssuer::start().await;
    let verifier = CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .any_token_use()
        .build()
        .await
        .expect("a verifier");
    let tokens = Tokens::new(issuer.clone(), expired_every);

    let mut rejected: BTreeMap<String, u64> = BTreeMap::new();
    let mut accepted = 0u64;
    let mut series = Vec::new();
    let started = Instant::now();
    println!(
        "{:>10} {:>10} {:>8} {:>14}",
        "rejected", "VmRSS KiB", "secs", "cached tokens"
    );
    for n in 1..=total {
        match verifier.verify_access(&tokens.token(n)).await {
            Ok(_) => accepted += 1,
            Err(error) => *rejected.entry(format!("{:?}", error.kind())).or_default() += 1,
        }
        if n.is_multiple_of(SAMPLE_EVERY) || n == total {
            let kib = resident_kib();
            series.push(kib);
            println!(
                "{n:>10} {kib:>10} {:>8.1} {:>14}",
                started.elapsed().as_secs_f64(),
                verifier.status().cached_tokens
            );
        }
    }
    println!("rejections: {rejected:?}; accepted: {accepted}");
    println!("JWKS requests: {}", issuer.jwks_requests());

    let first = series.first().copied().unwrap_or(0);
    let peak = series.iter().copied().max().unwrap_or(0);
    let growth = peak.saturating_sub(first);
    let flat = growth <= FLAT_WITHIN_KIB;
    println!(
        "{}: peak {peak} KiB, {growth} KiB above the first sample (limit {FLAT_WITHIN_KIB} KiB)",
        if flat { "flat" } else { "NOT FLAT" }
    );
    let expected = [
        ErrorKind::InvalidSignature,
        ErrorKind::UnknownKeyId,
        ErrorKind::Expired,
    ]
    .map(|kind| format!("{kind:?}"));
    let only_expected = rejected.keys().all(|kind| expected.contains(kind));
    if !only_expected {
        println!("unexpected rejection kinds");
    }
    if flat && accepted == 0 && only_expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
