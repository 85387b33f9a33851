//! A token that fails its signature builds nothing per group or scope: thousands of them cost
//! no more allocations than a few, counted with dhat's allocator.

use axum_cognito::{ErrorKind, test_util::TestIssuer};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// One test: dhat counts for the whole process, so nothing else may run beside it.
#[test]
fn a_bad_signature_allocates_nothing_per_group_or_scope() {
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
    let unsigned = |groups: usize| {
        let scopes = (0..groups / 2).map(|i| format!("s{i}"));
        let token = issuer
            .access_token()
            .groups(vec!["a"; groups])
            .scopes(scopes)
            .sign();
        let (signed, _) = token.rsplit_once('.').unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode([7u8; 256]))
    };
    let allocations = |token: &str| {
        let before = dhat::HeapStats::get().total_blocks;
        let error = verifier.verify_sync(token).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidSignature);
        dhat::HeapStats::get().total_blocks - before
    };
    let (few, many) = (unsigned(2), unsigned(1500));
    allocations(&few);
    let (few, many) = (allocations(&few), allocations(&many));
    assert!(
        many <= few + 2,
        "{few} allocations for 2 groups, {many} for 1,500"
    );
}
