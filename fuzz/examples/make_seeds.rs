//! Writes `fuzz/jwks.json` (a new key set) and `fuzz/seeds/*.jwt` (valid tokens signed with
//! it, expiring in 2100), for the `verify_token` target:
//!
//! ```sh
//! cd fuzz && cargo run --example make_seeds
//! ```

use std::{fs, path::Path};

use axum_cognito::{CognitoVerifier, UserPool, test_util::TestIssuer};

/// Must match the constants of `fuzz_targets/verify_token.rs`.
const POOL_ID: &str = "us-east-1_FuzzPool01";
const CLIENT_ID: &str = "fuzz-client";
/// 2100-01-01: the seeds stay valid.
const EXP: i64 = 4_102_444_800;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let issuer = TestIssuer::start_with(POOL_ID, CLIENT_ID).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = [
        ("id", issuer.id_token().expires_at(EXP).sign()),
        (
            "id_groups_custom",
            issuer
                .id_token()
                .username("alice")
                .groups(["admins", "readers"])
                .custom("tenant", "acme")
                .claim("nbf", 1_700_000_000)
                .expires_at(EXP)
                .sign(),
        ),
        (
            "access_scopes",
            issuer
                .access_token()
                .scopes(["orders/read", "orders/write"])
                .groups(["ops"])
                .header("typ", "JWT")
                .expires_at(EXP)
                .sign(),
        ),
        ("machine", issuer.machine_token().expires_at(EXP).sign()),
        (
            "updated_issuer",
            issuer
                .access_token()
                .issuer(&issuer.updated_issuer())
                .expires_at(EXP)
                .sign(),
        ),
    ];
    // The target's verifier, built as the target builds it, must accept every seed.
    let verifier = CognitoVerifier::builder()
        .user_pool(
            UserPool::new(POOL_ID)
                .client_id(CLIENT_ID)
                .jwks_json(issuer.jwks_json()),
        )
        .any_token_use()
        .build()
        .await
        .expect("a verifier of the in-memory keys");
    fs::write(dir.join("jwks.json"), issuer.jwks_json())?;
    fs::create_dir_all(dir.join("seeds"))?;
    for (name, token) in seeds {
        if let Err(error) = verifier.verify_sync(&token) {
            panic!("seed {name} does not verify: {error}");
        }
        fs::write(dir.join("seeds").join(format!("{name}.jwt")), token)?;
    }
    println!("wrote jwks.json and 5 seeds in {}", dir.display());
    Ok(())
}
