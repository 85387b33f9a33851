//! `examples/mcp.rs` run as scripts run it, on 127.0.0.1 with the test issuer: a real `rmcp`
//! client over streamable HTTP, the refusals and their challenges, the RFC 9728 metadata,
//! sessions bound to their user, and the configuration errors. Then access-token audiences
//! through the verifier.

mod common;

use axum_cognito::{
    CognitoVerifier, ErrorKind, TokenRequirements, TokenUse, test_util::TestIssuer,
};
use common::start_example;
use reqwest::{Client, StatusCode};
use rmcp::{
    ServiceExt,
    model::{CallToolRequestParams, ClientConfig, ProtocolVersion},
    transport::{
        StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use serde_json::{Value, json};

const RESOURCE: &str = "https://mcp.example.com/mcp";
const METADATA: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const SCOPE: &str = "mcp/tools";

/// The example for `issuer`'s pool, with `env` on top; killed when dropped.
async fn mcp_server(issuer: &TestIssuer, env: &[(&str, &str)]) -> (tokio::process::Child, String) {
    let mut all = vec![
        ("COGNITO_USER_POOL_ID", issuer.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", issuer.client_id().to_owned()),
        ("COGNITO_JWKS_URL", issuer.jwks_url()),
        ("MCP_RESOURCE", RESOURCE.to_owned()),
    ];
    all.extend(env.iter().map(|(name, value)| (*name, (*value).to_owned())));
    start_example("mcp", &all)
        .await
        .expect("the MCP example starts")
}

/// An access token of `username` for the resource, with the scope.
fn token_of(issuer: &TestIssuer, username: &str) -> String {
    issuer
        .access_token()
        .username(username)
        .audience(RESOURCE)
        .scopes([SCOPE])
        .sign()
}

/// A POST of one JSON-RPC message to `/mcp`, as MCP clients send it.
async fn post(
    addr: &str,
    token: Option<&str>,
    session: Option<&str>,
    message: Value,
) -> reqwest::Response {
    let mut request = Client::new()
        .post(format!("http://{addr}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&message);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.send().await.unwrap()
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}})
}

fn challenge(response: &reqwest::Response) -> &str {
    response.headers()["www-authenticate"].to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rmcp_client_initializes_lists_and_calls_whoami() {
    let issuer = TestIssuer::start().await;
    let (_server, addr) = mcp_server(&issuer, &[("MCP_REQUIRED_SCOPE", SCOPE)]).await;
    let token = issuer
        .access_token()
        .username("alice")
        .audience(RESOURCE)
        .scopes([SCOPE, "openid"])
        .sign();
    let sub = issuer.verified_token(&token).await.sub().to_owned();
    // The latest protocol (no sessions) and the one of 2025-06-18 (sessions, bound to alice).
    for version in [ProtocolVersion::LATEST, ProtocolVersion::V_2025_06_18] {
        let config = StreamableHttpClientTransportConfig::with_uri(format!("http://{addr}/mcp"))
            .auth_header(token.clone());
        let transport = StreamableHttpClientTransport::from_config(config);
        let client = ClientConfig::default()
            .with_protocol_version(version.clone())
            .serve(transport)
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        let tools = client.list_all_tools().await.unwrap();
        assert_eq!(
            tools.iter().map(|t| &*t.name).collect::<Vec<_>>(),
            ["whoami"]
        );
        let result = client
            .call_tool(CallToolRequestParams::new("whoami"))
            .await
            .unwrap();
        let result = serde_json::to_value(&result).unwrap();
        let text = result["content"][0]["text"].as_str().unwrap();
        let caller: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            caller,
            json!({"sub": sub, "username": "alice", "scope": "mcp/tools openid"}),
            "{version}"
        );
        client.cancel().await.unwrap();
    }

    // The same client with an ID token gets no further than its first request.
    let config = StreamableHttpClientTransportConfig::with_uri(format!("http://{addr}/mcp"))
        .auth_header(issuer.id_token().sign());
    let refused = ClientConfig::default()
        .serve(StreamableHttpClientTransport::from_config(config))
        .await;
    assert!(refused.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_the_metadata_and_the_missing_scope() {
    let issuer = TestIssuer::start().await;
    let (_server, addr) = mcp_server(&issuer, &[("MCP_REQUIRED_SCOPE", SCOPE)]).await;
    let invalid = format!(r#"Bearer error="invalid_token", resource_metadata="{METADATA}""#);
    let access = || issuer.access_token().scopes([SCOPE]);
    let seventeen: Vec<String> = (0..17).map(|_| RESOURCE.to_owned()).collect();
    let cases = [
        (
            "no token",
            None,
            StatusCode::UNAUTHORIZED,
            format!(r#"Bearer resource_metadata="{METADATA}""#),
        ),
        (
            "an ID token",
            Some(issuer.id_token().sign()),
            StatusCode::UNAUTHORIZED,
            invalid.clone(),
        ),
        (
            "expired",
            Some(access().audience(RESOURCE).expired().sign()),
            StatusCode::UNAUTHORIZED,
            invalid.clone(),
        ),
        (
            "another client",
            Some(access().audience(RESOURCE).client_id("another").sign()),
            StatusCode::UNAUTHORIZED,
            invalid.clone(),
        ),
        (
            "another audience",
            Some(access().audience("https://other.example.com/mcp").sign()),
            StatusCode::UNAUTHORIZED,
            invalid.clone(),
        ),
        (
            "an audience of another case",
            Some(access().audience("https://mcp.example.com/MCP").sign()),
            StatusCode::UNAUTHORIZED,
            invalid.clone(),
        ),
        (
            "17 audiences",
            Some(access().claim("aud", seventeen).sign()),
            StatusCode::UNAUTHORIZED,
            invalid.clone(),
        ),
        (
            "no audience in an array",
            Some(access().claim("aud", json!([])).sign()),
            StatusCode::UNAUTHORIZED,
            invalid.clone(),
        ),
        (
            "an audience that is a number",
            Some(access().claim("aud", 5).sign()),
            StatusCode::UNAUTHORIZED,
            invalid.clone(),
        ),
        (
            "no scope",
            Some(issuer.access_token().audience(RESOURCE).sign()),
            StatusCode::FORBIDDEN,
            format!(
                r#"Bearer error="insufficient_scope", scope="{SCOPE}", resource_metadata="{METADATA}""#
            ),
        ),
    ];
    for (case, token, status, expected) in cases {
        let response = post(&addr, token.as_deref(), None, initialize()).await;
        assert_eq!(response.status(), status, "{case}");
        assert_eq!(challenge(&response), expected, "{case}");
    }
    for (case, token) in [
        ("the resource", access().audience(RESOURCE).sign()),
        (
            "the resource among others",
            access()
                .claim("aud", json!(["https://a.example.com", RESOURCE]))
                .sign(),
        ),
        ("no aud", access().sign()),
    ] {
        assert_eq!(
            post(&addr, Some(&token), None, initialize()).await.status(),
            StatusCode::OK,
            "{case}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_audience_refuses_a_token_without_aud() {
    let issuer = TestIssuer::start().await;
    let (_server, addr) = mcp_server(&issuer, &[("MCP_REQUIRE_AUDIENCE", "1")]).await;
    let response = post(
        &addr,
        Some(&issuer.access_token().sign()),
        None,
        initialize(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&response),
        format!(r#"Bearer error="invalid_token", resource_metadata="{METADATA}""#)
    );
    let bound = issuer.access_token().audience(RESOURCE).sign();
    assert_eq!(
        post(&addr, Some(&bound), None, initialize()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_is_served_at_both_well_known_paths() {
    let issuer = TestIssuer::start().await;
    let (_server, addr) = mcp_server(&issuer, &[("MCP_REQUIRED_SCOPE", SCOPE)]).await;
    let expected = json!({
        "resource": RESOURCE,
        "authorization_servers": [issuer.issuer()],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
    });
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let response = Client::new()
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.json::<Value>().await.unwrap(), expected, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_answers_only_the_user_who_opened_it() {
    let issuer = TestIssuer::start().await;
    let (_server, addr) = mcp_server(&issuer, &[]).await;
    let alice = issuer
        .access_token()
        .sub("alice-sub")
        .username("alice")
        .audience(RESOURCE)
        .sign();
    let opened = post(&addr, Some(&alice), None, initialize()).await;
    assert_eq!(opened.status(), StatusCode::OK);
    let session = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    drop(opened);

    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    let mallory = token_of(&issuer, "mallory");
    let taken = post(&addr, Some(&mallory), Some(&session), initialized.clone()).await;
    assert_eq!(taken.status(), StatusCode::NOT_FOUND);
    // Alice's session, with another token of hers.
    let alice_again = issuer
        .access_token()
        .sub("alice-sub")
        .username("alice")
        .audience(RESOURCE)
        .sign();
    let own = post(&addr, Some(&alice_again), Some(&session), initialized).await;
    assert_eq!(own.status(), StatusCode::ACCEPTED);
    assert_eq!(
        post(&addr, Some(&mallory), Some(&session), ping.clone())
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // No session id is authentication: without a token, 401.
    assert_eq!(
        post(&addr, None, Some(&session), ping.clone())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    let delete = |token: String| {
        let url = format!("http://{addr}/mcp");
        let session = session.clone();
        async move {
            let request = Client::new()
                .delete(url)
                .bearer_auth(token)
                .header("mcp-session-id", session);
            request
                .header("mcp-protocol-version", "2025-06-18")
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(delete(mallory.clone()).await, StatusCode::NOT_FOUND);
    assert!(delete(alice.clone()).await.is_success());
    assert_eq!(
        post(&addr, Some(&alice), Some(&session), ping)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_errors_name_the_variable_and_exit_2() {
    let issuer = TestIssuer::start().await;
    let pool = [
        ("COGNITO_USER_POOL_ID", issuer.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", issuer.client_id().to_owned()),
        ("COGNITO_JWKS_URL", issuer.jwks_url()),
    ];
    for (variable, value) in [
        ("MCP_RESOURCE", ""),
        ("MCP_RESOURCE", "/mcp"),
        ("MCP_RESOURCE", "mcp.example.com/mcp"),
        ("MCP_RESOURCE", "ftp://mcp.example.com/mcp"),
        ("MCP_RESOURCE", "https://mcp.example.com/mcp#tools"),
        ("MCP_RESOURCE", "https://mcp.example.com/mcp?tenant=1"),
        ("MCP_REQUIRE_AUDIENCE", "yes"),
        ("MCP_REQUIRED_SCOPE", "a b"),
        ("COGNITO_CLIENT_IDS", ""),
        ("BIND_ADDR", "nowhere"),
    ] {
        let mut env = pool.to_vec();
        env.retain(|(name, _)| *name != variable);
        if variable != "MCP_RESOURCE" {
            env.push(("MCP_RESOURCE", RESOURCE.to_owned()));
        }
        env.push((variable, value.to_owned()));
        let error = start_example("mcp", &env)
            .await
            .err()
            .unwrap_or_else(|| panic!("{variable}={value:?} started"));
        assert!(
            error.starts_with("exit Some(2): "),
            "{variable}={value:?}: {error}"
        );
        assert!(error.contains(variable), "{variable}={value:?}: {error}");
    }
}

/// `aud` of an access token through the verifier: a string or 1 to 16 strings; the audiences
/// in the typed claims; the resource rule of the builder.
#[tokio::test]
async fn access_token_audiences() {
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier_builder().build().await.unwrap();
    let claims = verifier
        .verify_access(
            &issuer
                .access_token()
                .claim("aud", json!(["r1", RESOURCE]))
                .sign(),
        )
        .await
        .unwrap();
    assert_eq!(claims.aud, ["r1", RESOURCE]);
    assert!(
        verifier
            .verify_access(&issuer.access_token().sign())
            .await
            .unwrap()
            .aud
            .is_empty()
    );
    let sixteen: Vec<String> = (0..16).map(|i| format!("r{i}")).collect();
    assert!(
        verifier
            .verify_access(&issuer.access_token().claim("aud", sixteen).sign())
            .await
            .is_ok()
    );
    let seventeen: Vec<String> = (0..17).map(|i| format!("r{i}")).collect();
    for aud in [
        json!([]),
        json!(seventeen),
        json!(5),
        json!([1]),
        json!({"r": 1}),
        json!(["r", null]),
    ] {
        let error = verifier
            .verify_access(&issuer.access_token().claim("aud", aud.clone()).sign())
            .await
            .unwrap_err();
        assert_eq!(
            (error.kind(), error.claim_name()),
            (ErrorKind::InvalidClaims, Some("aud")),
            "{aud}"
        );
        assert_eq!(error.to_string(), "Malformed 'aud' claim");
    }

    let bound: CognitoVerifier = issuer
        .verifier_builder()
        .resource(RESOURCE)
        .build()
        .await
        .unwrap();
    assert!(
        bound
            .verify_access(&issuer.access_token().audience(RESOURCE).sign())
            .await
            .is_ok()
    );
    assert!(
        bound
            .verify_access(&issuer.access_token().sign())
            .await
            .is_ok()
    );
    let other = bound
        .verify_access(&issuer.access_token().audience("https://other").sign())
        .await;
    assert_eq!(other.unwrap_err().kind(), ErrorKind::InvalidAudience);
    // An ID token's `aud` is its app client, never the resource.
    assert_eq!(
        bound
            .verify_id(&issuer.id_token().sign())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidAudience
    );

    let strict = TokenRequirements::new()
        .token_use(TokenUse::Access)
        .resource(RESOURCE)
        .require_audience();
    let strict = issuer
        .verifier_builder()
        .require(strict)
        .build()
        .await
        .unwrap();
    let missing = strict
        .verify_access(&issuer.access_token().sign())
        .await
        .unwrap_err();
    assert_eq!(missing.missing_claim_name(), Some("aud"));
}
