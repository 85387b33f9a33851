//! Acceptance against moto's Cognito IdP: tokens minted by an implementation we did not write,
//! verified by `examples/server.rs` over real HTTP.
//!
//! Run through `scripts/moto-acceptance.sh`, which starts moto, provisions pools, clients and
//! users, writes their tokens to the file named by `MOTO_TOKENS_FILE`, and builds the server
//! (`SERVER_BIN`). Without them every test here fails, loudly: this target is not part of a
//! plain `cargo test` (`test = false` in Cargo.toml).

use std::{
    collections::BTreeSet,
    process::Stdio,
    time::{Duration, Instant},
};

use serde::Deserialize;
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

#[derive(Debug, Deserialize)]
struct Provisioned {
    pools: Pools,
    sessions: Sessions,
}

#[derive(Debug, Deserialize)]
struct Pools {
    main: Pool,
    other: Pool,
}

#[derive(Debug, Deserialize)]
struct Pool {
    id: String,
    jwks_url: String,
    clients: serde_json::Map<String, Value>,
}

impl Pool {
    fn client(&self, name: &str) -> String {
        self.clients[name].as_str().expect("client id").to_owned()
    }
}

#[derive(Debug, Deserialize)]
struct Sessions {
    alice_first: Session,
    alice_refreshed: Session,
    alice_second: Session,
    bob_first: Session,
    carol_other: Session,
    dave_first: Session,
    erin_first: Session,
}

#[derive(Debug, Deserialize)]
struct Session {
    username: String,
    sub: String,
    groups: Vec<String>,
    tenant: Option<String>,
    email: String,
    id_token: String,
    access_token: String,
}

fn provisioned() -> Provisioned {
    let path = std::env::var("MOTO_TOKENS_FILE").unwrap_or_else(|_| {
        panic!(
            "\n\n*** MOTO_TOKENS_FILE is not set: these acceptance tests need moto. ***\n\
             *** Run them with scripts/moto-acceptance.sh                        ***\n\n"
        )
    });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path} is not the provisioning output: {e}"))
}

/// The server example, running until dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts `examples/server.rs` for `pools` (all with moto's JWKS URLs) and `clients`.
async fn server(pools: &[&Pool], clients: &[String], extra_env: &[(&str, &str)]) -> Server {
    let bin = std::env::var("SERVER_BIN")
        .unwrap_or_else(|_| panic!("SERVER_BIN is not set: run scripts/moto-acceptance.sh"));
    let ids: Vec<&str> = pools.iter().map(|p| p.id.as_str()).collect();
    // All pools share moto's endpoint; the URL template names the pool.
    let template = pools[0].jwks_url.replace(&pools[0].id, "{pool}");
    let mut command = Command::new(bin);
    command
        .env("COGNITO_USER_POOL_ID", ids.join(","))
        .env("COGNITO_CLIENT_IDS", clients.join(","))
        .env("COGNITO_JWKS_URL", template)
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (name, value) in extra_env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start the server example");
    let stdout = child.stdout.take().expect("server stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the server printed nothing within 20 s")
        .expect("server stdout")
        .expect("the server exited before listening");
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Server {
        child,
        base: format!("http://{addr}"),
    }
}

async fn get(server: &Server, path: &str, token: Option<&str>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.get(format!("{}{path}", server.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request to the server example");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{value} is not an array"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

fn set(items: &[String]) -> BTreeSet<String> {
    items.iter().cloned().collect()
}

/// `token` with one character of its payload changed to another base64url character.
fn tampered(token: &str) -> String {
    let start = token.find('.').expect("a dot") + 10;
    let mut bytes = token.as_bytes().to_vec();
    bytes[start] = if bytes[start] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ASCII")
}

#[tokio::test]
async fn moto_id_and_access_tokens_are_accepted_with_their_claims() {
    let p = provisioned();
    let main = &p.pools.main;
    let srv = server(&[main], &[main.client("first")], &[]).await;
    let alice = &p.sessions.alice_first;

    let (status, body) = get(&srv, "/id", Some(&alice.id_token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sub"], alice.sub.as_str());
    assert_eq!(body["username"], alice.username.as_str());
    assert_eq!(body["email"], alice.email.as_str());
    assert_eq!(strings(&body["groups"]), set(&alice.groups));
    assert_eq!(
        set(&alice.groups),
        set(&["admins".into(), "readers".into()])
    );
    assert_eq!(body["custom"]["tenant"].as_str(), alice.tenant.as_deref());

    let (status, body) = get(&srv, "/access", Some(&alice.access_token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sub"], alice.sub.as_str());
    assert_eq!(body["username"], alice.username.as_str());
    assert_eq!(body["client_id"], main.client("first").as_str());
    assert_eq!(strings(&body["groups"]), set(&alice.groups));
    assert!(
        strings(&body["scope"]).contains("aws.cognito.signin.user.admin"),
        "{body}"
    );

    let (status, body) = get(&srv, "/whoami", Some(&alice.access_token)).await;
    assert_eq!(
        (status, &body["authenticated"], &body["token_use"]),
        (200, &Value::Bool(true), &Value::from("access"))
    );
    let (status, body) = get(&srv, "/whoami", None).await;
    assert_eq!((status, &body["authenticated"]), (200, &Value::Bool(false)));
}

#[tokio::test]
async fn moto_tokens_of_the_other_use_are_refused() {
    let p = provisioned();
    let main = &p.pools.main;
    let srv = server(&[main], &[main.client("first")], &[]).await;
    let alice = &p.sessions.alice_first;
    assert_eq!(get(&srv, "/access", Some(&alice.id_token)).await.0, 401);
    assert_eq!(get(&srv, "/id", Some(&alice.access_token)).await.0, 401);
}

#[tokio::test]
async fn moto_tokens_of_a_client_not_allowed_are_refused_and_allowed_when_listed() {
    let p = provisioned();
    let main = &p.pools.main;
    let second = &p.sessions.alice_second;
    let only_first = server(&[main], &[main.client("first")], &[]).await;
    assert_eq!(get(&only_first, "/id", Some(&second.id_token)).await.0, 401);
    assert_eq!(
        get(&only_first, "/access", Some(&second.access_token))
            .await
            .0,
        401
    );

    let both = server(&[main], &[main.client("first"), main.client("second")], &[]).await;
    assert_eq!(get(&both, "/id", Some(&second.id_token)).await.0, 200);
    assert_eq!(
        get(&both, "/access", Some(&second.access_token)).await.0,
        200
    );
}

#[tokio::test]
async fn moto_tokens_of_another_pool_are_refused_unless_that_pool_is_trusted() {
    let p = provisioned();
    let (main, other) = (&p.pools.main, &p.pools.other);
    let carol = &p.sessions.carol_other;
    let clients = [main.client("first"), other.client("only")];
    let main_only = server(&[main], &clients, &[]).await;
    assert_eq!(get(&main_only, "/id", Some(&carol.id_token)).await.0, 401);
    assert_eq!(
        get(&main_only, "/access", Some(&carol.access_token))
            .await
            .0,
        401
    );

    let both = server(&[main, other], &clients, &[]).await;
    let (status, body) = get(&both, "/id", Some(&carol.id_token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["username"], carol.username.as_str());
    assert_eq!(
        get(&both, "/access", Some(&carol.access_token)).await.0,
        200
    );
    assert_eq!(
        get(&both, "/id", Some(&p.sessions.alice_first.id_token))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn moto_refreshed_tokens_are_accepted() {
    let p = provisioned();
    let main = &p.pools.main;
    let srv = server(&[main], &[main.client("first")], &[]).await;
    let refreshed = &p.sessions.alice_refreshed;
    assert_ne!(refreshed.access_token, p.sessions.alice_first.access_token);
    assert_eq!(get(&srv, "/id", Some(&refreshed.id_token)).await.0, 200);
    assert_eq!(
        get(&srv, "/access", Some(&refreshed.access_token)).await.0,
        200
    );
}

#[tokio::test]
async fn moto_admin_route_needs_the_admins_group() {
    let p = provisioned();
    let main = &p.pools.main;
    let srv = server(&[main], &[main.client("first")], &[]).await;
    assert!(p.sessions.bob_first.groups.is_empty());
    assert_eq!(
        get(&srv, "/admin", Some(&p.sessions.bob_first.access_token))
            .await
            .0,
        403
    );
    assert_eq!(
        get(&srv, "/admin", Some(&p.sessions.alice_first.access_token))
            .await
            .0,
        200
    );
    // An ID token is not an access token, even an admin's.
    assert_eq!(
        get(&srv, "/admin", Some(&p.sessions.alice_first.id_token))
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn moto_tokens_altered_in_transit_are_refused() {
    let p = provisioned();
    let main = &p.pools.main;
    let srv = server(&[main], &[main.client("first")], &[]).await;
    let alice = &p.sessions.alice_first;
    assert_eq!(
        get(&srv, "/id", Some(&tampered(&alice.id_token))).await.0,
        401
    );
    assert_eq!(
        get(&srv, "/access", Some(&tampered(&alice.access_token)))
            .await
            .0,
        401
    );
    let unsigned = &alice.id_token[..alice.id_token.rfind('.').expect("a dot")];
    assert_eq!(get(&srv, "/id", Some(unsigned)).await.0, 401);
    let empty_signature = format!("{unsigned}.");
    assert_eq!(get(&srv, "/id", Some(&empty_signature)).await.0, 401);
}

/// moto's endpoint, from scripts/moto-env.sh.
fn moto_endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").expect("MOTO_ENDPOINT from scripts/moto-env.sh")
}

/// Calls the Cognito IdP action `action` of moto with `body`. moto does not check signatures;
/// the Authorization header only tells it the region.
async fn moto_call(action: &str, body: Value) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/", moto_endpoint()))
        .header(
            "X-Amz-Target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .header("Content-Type", "application/x-amz-json-1.1")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cognito-idp/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .body(body.to_string())
        .send()
        .await
        .expect("request to moto");
    let status = response.status().as_u16();
    (status, response.text().await.expect("moto's answer"))
}

/// The server example with the `GetUser` revocation check against moto, answers kept
/// `ttl_secs`, failing `policy` (`closed` or `open`).
async fn get_user_server(main: &Pool, ttl_secs: &str, policy: &str) -> Server {
    let endpoint = moto_endpoint();
    server(
        &[main],
        &[main.client("first")],
        &[
            ("COGNITO_REVOCATION", "getuser"),
            ("COGNITO_IDP_ENDPOINT", &endpoint),
            ("COGNITO_REVOCATION_TTL_SECS", ttl_secs),
            ("COGNITO_REVOCATION_FAILURE", policy),
        ],
    )
    .await
}

#[tokio::test]
async fn moto_global_sign_out_revokes_the_access_token_once_the_ttl_passed() {
    let p = provisioned();
    let main = &p.pools.main;
    let srv = get_user_server(main, "1", "closed").await;
    let (dave, erin) = (&p.sessions.dave_first, &p.sessions.erin_first);
    assert_eq!(get(&srv, "/access", Some(&dave.access_token)).await.0, 200);
    assert_eq!(get(&srv, "/access", Some(&erin.access_token)).await.0, 200);

    let (status, body) = moto_call(
        "AdminUserGlobalSignOut",
        serde_json::json!({ "UserPoolId": main.id, "Username": dave.username }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Within the ttl the kept answer still lets it through; once it passed, Cognito is asked
    // again and says the token was revoked.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = get(&srv, "/access", Some(&dave.access_token)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(get(&srv, "/access", Some(&erin.access_token)).await.0, 200);
    // ID tokens are not checked with GetUser (a global sign-out leaves them valid).
    assert_eq!(get(&srv, "/id", Some(&dave.id_token)).await.0, 200);

    // The metrics say so.
    let (status, metrics) = get(&srv, "/metrics", None).await;
    assert_eq!(status, 200);
    let metrics = metrics.as_str().expect("Prometheus text").to_owned();
    assert!(
        metrics.contains(r#"cognito_get_user_calls_total{result="revoked"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"cognito_verifications_total{outcome="invalid",kind="revoked",token_use="access"} 1"#
        ),
        "{metrics}"
    );
}

/// Stops moto: run on its own, after the others (scripts/moto-acceptance.sh does).
#[tokio::test]
async fn outage_keeps_the_loaded_keys_and_health_reports_the_failed_refresh() {
    let p = provisioned();
    let main = &p.pools.main;
    let srv = server(
        &[main],
        &[main.client("first")],
        &[("COGNITO_REFRESH_SECS", "1")],
    )
    .await;
    let alice = &p.sessions.alice_first;
    // GetUser checks whose answers are not kept when moto goes away.
    let closed = get_user_server(main, "60", "closed").await;
    let open = get_user_server(main, "60", "open").await;
    assert_eq!(get(&srv, "/id", Some(&alice.id_token)).await.0, 200);
    let (status, health) = get(&srv, "/healthz", None).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["pools"][0]["consecutive_failures"], 0);

    let pid = std::env::var("MOTO_PID").expect("MOTO_PID from scripts/moto-env.sh");
    let killed = std::process::Command::new("kill")
        .arg(&pid)
        .status()
        .expect("run kill");
    assert!(killed.success(), "could not stop moto (pid {pid})");

    let deadline = Instant::now() + Duration::from_secs(20);
    let health = loop {
        let (status, health) = get(&srv, "/healthz", None).await;
        assert_eq!(status, 200, "keys are still usable: {health}");
        if health["pools"][0]["consecutive_failures"].as_u64() >= Some(1) {
            break health;
        }
        assert!(
            Instant::now() < deadline,
            "no failed refresh reported: {health}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(health["pools"][0]["usable"], true);
    // The detail (the `admins` group: alice) says what failed.
    let (status, detail) = get(&srv, "/healthz/detail", Some(&alice.access_token)).await;
    assert_eq!(status, 200, "{detail}");
    let pool = &detail["pools"][0];
    assert!(pool["last_error"].is_string(), "{detail}");
    assert!(pool["last_error_at"].is_number(), "{detail}");

    assert_eq!(get(&srv, "/id", Some(&alice.id_token)).await.0, 200);
    assert_eq!(get(&srv, "/access", Some(&alice.access_token)).await.0, 200);
    assert_eq!(get(&srv, "/id", Some(&alice.access_token)).await.0, 401);

    // moto is down during a GetUser check: the failure policy decides.
    let erin = &p.sessions.erin_first;
    assert_eq!(
        get(&closed, "/access", Some(&erin.access_token)).await.0,
        503
    );
    assert_eq!(get(&open, "/access", Some(&erin.access_token)).await.0, 200);
    assert_eq!(get(&closed, "/id", Some(&erin.id_token)).await.0, 200);
}
