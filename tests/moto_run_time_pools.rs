//! Acceptance against moto: user pools created at run time, through moto's Cognito API, after
//! the verifier started, resolved by a pool resolver that asks that API (the application's
//! "tenant registry") and verified.
//!
//! Run through `scripts/moto-acceptance.sh`, which starts moto and exports `MOTO_ENDPOINT`.
//! Without it every test here fails, loudly: this target is not part of a plain `cargo test`
//! (`test = false` in Cargo.toml).

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum_cognito::{CognitoVerifier, ErrorKind, TokenUse, UserPool, verifier::ResolveError};
use serde_json::{Value, json};

const REGION: &str = "us-east-1";
const PASSWORD: &str = "Acceptance-Test-1!";

fn endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "\n\n*** MOTO_ENDPOINT is not set: these acceptance tests need moto. ***\n\
             *** Run them with scripts/moto-acceptance.sh                   ***\n\n"
        )
    })
}

/// One call of moto's Cognito IdP JSON API. moto checks no signature; the credential scope
/// names the service and region.
async fn cognito(action: &str, body: Value) -> Result<Value, String> {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}/", endpoint()))
        .header("X-Amz-Target", format!("AWSCognitoIdentityProviderService.{action}"))
        .header("Content-Type", "application/x-amz-json-1.1")
        .header(
            "Authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/cognito-idp/aws4_request, SignedHeaders=host, Signature=0"
            ),
        )
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{action}: HTTP {status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{action}: {e}: {text}"))
}

/// A pool with one app client and one signed-in user: (pool id, client id, access token).
async fn pool_with_a_user(name: &str, user: &str) -> (String, String, String) {
    let pool = cognito("CreateUserPool", json!({ "PoolName": name }))
        .await
        .unwrap();
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let client = cognito(
        "CreateUserPoolClient",
        json!({
            "UserPoolId": pool_id,
            "ClientName": format!("{name}-app"),
            "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        }),
    )
    .await
    .unwrap();
    let client_id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    cognito(
        "AdminCreateUser",
        json!({ "UserPoolId": pool_id, "Username": user, "MessageAction": "SUPPRESS",
                "TemporaryPassword": PASSWORD }),
    )
    .await
    .unwrap();
    cognito(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": user, "Password": PASSWORD, "Permanent": true }),
    )
    .await
    .unwrap();
    let auth = cognito(
        "AdminInitiateAuth",
        json!({
            "UserPoolId": pool_id,
            "ClientId": client_id,
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": { "USERNAME": user, "PASSWORD": PASSWORD },
        }),
    )
    .await
    .unwrap();
    let access = auth["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    (pool_id, client_id, access)
}

/// The resolver a multi-tenant service would write against its own account: the pool id is
/// read from the issuer only to ask Cognito whether the account has that pool; the pool's
/// clients come from Cognito, never from the token.
async fn resolve(
    issuer: String,
    calls: Arc<AtomicUsize>,
) -> Result<Option<UserPool>, ResolveError> {
    calls.fetch_add(1, Ordering::SeqCst);
    let prefix = format!("https://cognito-idp.{REGION}.amazonaws.com/");
    let Some(pool_id) = issuer.strip_prefix(&prefix) else {
        return Ok(None);
    };
    if pool_id.is_empty()
        || !pool_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Ok(None);
    }
    let clients = match cognito(
        "ListUserPoolClients",
        json!({ "UserPoolId": pool_id, "MaxResults": 60 }),
    )
    .await
    {
        Ok(clients) => clients,
        Err(error) if error.contains("ResourceNotFoundException") => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let ids: Vec<String> = clients["UserPoolClients"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["ClientId"].as_str().map(str::to_owned))
        .collect();
    if ids.is_empty() {
        return Ok(None);
    }
    Ok(Some(UserPool::new(pool_id).client_ids(ids).jwks_url(
        format!("{}/{pool_id}/.well-known/jwks.json", endpoint()),
    )))
}

#[tokio::test]
async fn pools_created_at_run_time_are_resolved_and_verified() {
    let calls = Arc::new(AtomicUsize::new(0));
    let resolver_calls = calls.clone();
    let verifier = CognitoVerifier::builder()
        .without_initial_pools()
        .pool_resolver(move |issuer: String| resolve(issuer, resolver_calls.clone()))
        .token_use(TokenUse::Access)
        .build()
        .await
        .expect("a verifier with no pool yet");
    assert!(verifier.pool_ids().is_empty());

    // Two tenants sign up after the service started.
    let (first_pool, _, first_token) = pool_with_a_user("runtime-tenant-one", "dave").await;
    let (second_pool, _, second_token) = pool_with_a_user("runtime-tenant-two", "erin").await;

    let claims = verifier
        .verify_access(&first_token)
        .await
        .expect("tenant one resolved");
    assert_eq!(claims.username.as_deref(), Some("dave"));
    let claims = verifier
        .verify_access(&second_token)
        .await
        .expect("tenant two resolved");
    assert_eq!(claims.username.as_deref(), Some("erin"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let mut ids = verifier.pool_ids();
    ids.sort();
    let mut expected = vec![first_pool.clone(), second_pool.clone()];
    expected.sort();
    assert_eq!(ids, expected);

    // Verified again from the trusted pools: no more resolver calls.
    verifier.verify_access(&first_token).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // A tenant that leaves: its pool is deleted and removed from the verifier; its token is
    // refused, and the resolver, asked again, says no (the account has no such pool now).
    cognito("DeleteUserPool", json!({ "UserPoolId": second_pool }))
        .await
        .unwrap();
    assert!(verifier.remove_pool(&second_pool));
    let error = verifier.verify_access(&second_token).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidIssuer);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(verifier.pool_ids(), [first_pool]);
}
