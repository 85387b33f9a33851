//! Arbitrary text through `CognitoVerifier::verify_sync`: every check from the size cap to the
//! claims, with the keys of `fuzz/jwks.json` given in memory (no network). The seeds in
//! `fuzz/seeds/` are valid tokens for those keys, made by `examples/make_seeds.rs`.
//!
//! The property is the absence of panics, aborts, leaks and unbounded allocation: any result,
//! accepted or refused, is fine.
#![no_main]

use std::sync::LazyLock;

use axum_cognito::{CognitoVerifier, UserPool};
use libfuzzer_sys::fuzz_target;

/// The pool and client the seeds were minted for.
const POOL_ID: &str = "us-east-1_FuzzPool01";
const CLIENT_ID: &str = "fuzz-client";

static VERIFIER: LazyLock<CognitoVerifier> = LazyLock::new(|| {
    let builder = CognitoVerifier::builder()
        .user_pool(
            UserPool::new(POOL_ID)
                .client_id(CLIENT_ID)
                .jwks_json(include_str!("../jwks.json")),
        )
        .any_token_use();
    // Keys given in memory: the build never touches the network, but it is async.
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
        .block_on(builder.build())
        .expect("a verifier of the in-memory keys")
});

fuzz_target!(|data: &[u8]| {
    // The verifier takes text: use the longest valid UTF-8 prefix of the input.
    let token = match std::str::from_utf8(data) {
        Ok(text) => text,
        Err(error) => std::str::from_utf8(&data[..error.valid_up_to()]).unwrap_or_default(),
    };
    let _ = VERIFIER.verify_sync(token);
});
