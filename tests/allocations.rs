//! Heap allocations on the hot paths, counted with dhat's allocator: a cache hit allocates
//! nothing, through any of the verifier's calls. (`benches/allocations.rs` reports the counts
//! of every path; this test holds the one the crate promises.)

use std::hint::black_box;

use axum_cognito::{CognitoVerifier, test_util::TestIssuer};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Allocations (blocks) of 100 calls of `operation`, in the steady state: after ten warm-up
/// calls.
fn allocations(mut operation: impl FnMut()) -> u64 {
    for _ in 0..10 {
        operation();
    }
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..100 {
        operation();
    }
    dhat::HeapStats::get().total_blocks - before
}

/// One test: dhat counts for the whole process, so nothing else may run beside it.
#[test]
fn cache_hits_allocate_nothing_and_full_verifications_do() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (issuer, cached, uncached): (TestIssuer, CognitoVerifier, CognitoVerifier) = runtime
        .block_on(async {
            let issuer = TestIssuer::start().await;
            let cached = issuer.verifier_builder().build().await.unwrap();
            let uncached = issuer
                .verifier_builder()
                .token_cache_bytes(0)
                .build()
                .await
                .unwrap();
            (issuer, cached, uncached)
        });
    let access = issuer
        .access_token()
        .groups(["admins", "billing"])
        .scopes(["aws.cognito.signin.user.admin", "openid", "email"])
        .sign();
    let id = issuer
        .id_token()
        .groups(["admins"])
        .email("a@example.com")
        .sign();

    let hits = [
        (
            "verify_sync",
            allocations(|| drop(black_box(cached.verify_sync(&access).unwrap()))),
        ),
        (
            "verify_access_sync",
            allocations(|| drop(black_box(cached.verify_access_sync(&access).unwrap()))),
        ),
        (
            "verify_access",
            allocations(|| {
                drop(black_box(
                    runtime.block_on(cached.verify_access(&access)).unwrap(),
                ))
            }),
        ),
        (
            "verify_id_sync",
            allocations(|| drop(black_box(cached.verify_id_sync(&id).unwrap()))),
        ),
    ];
    // A thread serving many users' tokens in turn.
    let many: Vec<String> = (0..16)
        .map(|i| issuer.access_token().sub(&format!("user-{i}")).sign())
        .collect();
    let rotating = allocations(|| {
        for token in &many {
            drop(black_box(cached.verify_access_sync(token).unwrap()));
        }
    });
    let hits = [hits.as_slice(), &[("16 tokens in turn", rotating)]].concat();
    for (call, count) in hits {
        assert_eq!(count, 0, "{call}: {count} allocations in 100 cache hits");
    }
    // The counter counts: a full verification allocates (the decoded segments, the claims).
    let full = allocations(|| drop(black_box(uncached.verify_access_sync(&access).unwrap())));
    assert!(full >= 100, "{full} allocations in 100 full verifications");
}
