//! The verified-token cache weighs each entry within 2x of the heap it really takes, counted
//! with dhat's allocator, for a typical token and for one of many one- and two-letter groups
//! and scopes (which a weight of three times the claims' text under-counted by more than 2x):
//! the cache's `token_cache_bytes` bounds its memory.

use axum_cognito::{CognitoVerifier, test_util::TestIssuer};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// The heap bytes that caching `tokens` adds, and the weight it adds to the cache.
fn real_and_weight(verifier: &CognitoVerifier, tokens: &[String]) -> (u64, u64) {
    let (heap, before) = (dhat::HeapStats::get().curr_bytes, verifier.status());
    for token in tokens {
        drop(verifier.verify_sync(token).unwrap());
    }
    let after = verifier.status();
    assert_eq!(
        after.cached_tokens - before.cached_tokens,
        tokens.len(),
        "every token cached"
    );
    (
        (dhat::HeapStats::get().curr_bytes - heap) as u64,
        after.cached_token_bytes - before.cached_token_bytes,
    )
}

/// One test: dhat counts for the whole process, so nothing else may run beside it.
#[test]
fn a_cached_tokens_weight_is_within_2x_of_its_heap() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (issuer, verifier) = runtime.block_on(async {
        let issuer = TestIssuer::start().await;
        let verifier = issuer.verifier_builder().build().await.unwrap();
        (issuer, verifier)
    });
    let typical = || {
        issuer
            .access_token()
            .username("8f1c2a6e-3b7d-4e59-a0c4-9d2e7b6f1a35")
            .groups(["us-east-1_TestPool01_Google", "admins", "billing-readers"])
            .scopes(["aws.cognito.signin.user.admin", "openid", "email"])
            .sign()
    };
    let letters = |i: usize| {
        let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
        format!("{}{}", letter(i), letter(i / 26))
    };
    let many_short = || {
        issuer
            .access_token()
            .groups((0..1000).map(|i| letters(i % 26)[..1].to_owned()))
            .scopes((0..500).map(letters))
            .sign()
    };
    // The first verification's lasting allocations, outside the counts.
    drop(verifier.verify_sync(&typical()).unwrap());

    for (name, token) in [
        ("typical", &typical as &dyn Fn() -> String),
        ("many short", &many_short),
    ] {
        let tokens: Vec<String> = (0..20).map(|_| token()).collect();
        let (real, weight) = real_and_weight(&verifier, &tokens);
        let ratio = weight as f64 / real as f64;
        println!(
            "{name}: {} bytes each, weighed {} ({ratio:.2})",
            real / 20,
            weight / 20
        );
        assert!(
            (0.5..=2.0).contains(&ratio),
            "{name}: weight {weight}, heap {real}"
        );
    }
}
