//! A protected API with no AWS account: a local Cognito issuer in-process, the layer and the
//! extractors, tokens to try, and ready-to-paste curl commands.
//!
//! ```text
//! cargo run --example demo                 # serve on 127.0.0.1:3000 and print curl commands
//! cargo run --example demo -- --self-check # call every route, check each status, exit 1 on a mismatch
//! ```
//!
//! `BIND_ADDR` changes the address (default `127.0.0.1:3000`).

use std::{net::SocketAddr, process::ExitCode};

use axum::{Json, Router, routing::get};
use axum_cognito::{
    Access, CognitoAuthLayer, CognitoClaims, CognitoVerifier, Id, TokenUse, test_util::TestIssuer,
};
use serde_json::{Value, json};

/// ID token: who the user is.
async fn me(claims: CognitoClaims<Id>) -> Json<Value> {
    Json(
        json!({ "sub": claims.sub, "username": claims.username, "email": claims.email, "groups": claims.groups }),
    )
}

/// Access token: what the caller may do.
async fn orders(claims: CognitoClaims<Access>) -> Json<Value> {
    Json(json!({ "orders_of": claims.username, "scope": claims.scope }))
}

/// Access token of the `admins` group (checked by the route layer).
async fn admin(claims: CognitoClaims<Access>) -> Json<Value> {
    Json(json!({ "admin": claims.username }))
}

/// Optional: anyone, with or without a token.
async fn hello(claims: Option<CognitoClaims<Id>>) -> String {
    match claims {
        Some(claims) => format!("hello {}\n", claims.username),
        None => "hello stranger\n".to_owned(),
    }
}

fn app(verifier: CognitoVerifier) -> Router {
    let admins_only = CognitoAuthLayer::new(verifier.clone())
        .token_use(TokenUse::Access)
        .any_group(["admins"]);
    Router::new()
        .route("/admin", get(admin))
        .route_layer(admins_only)
        .route("/me", get(me))
        .route("/orders", get(orders))
        .route("/hello", get(hello))
        .layer(axum::Extension(verifier))
}

struct Check {
    path: &'static str,
    token: Option<(&'static str, String)>,
    expect: u16,
}

#[tokio::main]
async fn main() -> ExitCode {
    let self_check = std::env::args().any(|a| a == "--self-check");
    let addr: SocketAddr = match std::env::var("BIND_ADDR") {
        Ok(value) => match value.parse() {
            Ok(addr) => addr,
            Err(_) => {
                eprintln!("BIND_ADDR {value:?} is not an address like 127.0.0.1:3000");
                return ExitCode::from(2);
            }
        },
        Err(_) if self_check => SocketAddr::from(([127, 0, 0, 1], 0)),
        Err(_) => SocketAddr::from(([127, 0, 0, 1], 3000)),
    };

    let issuer = TestIssuer::start().await;
    let verifier = match CognitoVerifier::builder()
        .user_pool(issuer.user_pool())
        .any_token_use()
        .build()
        .await
    {
        Ok(verifier) => verifier,
        Err(e) => {
            eprintln!("cannot load the local issuer's keys: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot bind {addr}: {e} (set BIND_ADDR to another address)");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app(verifier)).await {
            eprintln!("server error: {e}");
        }
    });

    let id = issuer
        .id_token()
        .username("alice")
        .email("alice@example.com")
        .sign();
    let access = issuer.access_token().username("alice").sign();
    let admin = issuer
        .access_token()
        .username("root")
        .groups(["admins"])
        .sign();
    let expired = issuer.id_token().username("alice").expired().sign();
    let checks = [
        Check {
            path: "/me",
            token: Some(("ID_TOKEN", id.clone())),
            expect: 200,
        },
        Check {
            path: "/me",
            token: Some(("ACCESS_TOKEN", access.clone())),
            expect: 401,
        },
        Check {
            path: "/me",
            token: Some(("EXPIRED_TOKEN", expired.clone())),
            expect: 401,
        },
        Check {
            path: "/me",
            token: None,
            expect: 401,
        },
        Check {
            path: "/orders",
            token: Some(("ACCESS_TOKEN", access.clone())),
            expect: 200,
        },
        Check {
            path: "/orders",
            token: Some(("ID_TOKEN", id.clone())),
            expect: 401,
        },
        Check {
            path: "/admin",
            token: Some(("ADMIN_TOKEN", admin.clone())),
            expect: 200,
        },
        Check {
            path: "/admin",
            token: Some(("ACCESS_TOKEN", access.clone())),
            expect: 403,
        },
        Check {
            path: "/hello",
            token: None,
            expect: 200,
        },
        Check {
            path: "/hello",
            token: Some(("ID_TOKEN", id.clone())),
            expect: 200,
        },
        Check {
            path: "/hello",
            token: Some(("EXPIRED_TOKEN", expired.clone())),
            expect: 401,
        },
    ];

    if self_check {
        return run_self_check(addr, &checks).await;
    }

    println!(
        "axum-cognito demo: a local Cognito issuer (JWKS at {}) and a protected API at http://{addr}\n",
        issuer.jwks_url()
    );
    println!("Tokens (valid for an hour; the expired one is an hour past):\n");
    for (name, token) in [
        ("ID_TOKEN", &id),
        ("ACCESS_TOKEN", &access),
        ("ADMIN_TOKEN", &admin),
        ("EXPIRED_TOKEN", &expired),
    ] {
        println!("export {name}={token}");
    }
    println!("\nTry (expected status on the right):\n");
    for check in &checks {
        let auth = match &check.token {
            Some((name, _)) => format!("-H \"Authorization: Bearer ${name}\" "),
            None => String::new(),
        };
        println!(
            "curl -i {auth}http://{addr}{:<8} # {}",
            check.path, check.expect
        );
    }
    println!("\nCtrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}

async fn run_self_check(addr: SocketAddr, checks: &[Check]) -> ExitCode {
    let client = reqwest::Client::new();
    let mut mismatches = 0;
    for check in checks {
        let mut request = client.get(format!("http://{addr}{}", check.path));
        if let Some((_, token)) = &check.token {
            request = request.bearer_auth(token);
        }
        let label = check.token.as_ref().map_or("no token", |(name, _)| name);
        let status = match request.send().await {
            Ok(response) => response.status().as_u16(),
            Err(e) => {
                eprintln!("GET {} with {label}: request failed: {e}", check.path);
                mismatches += 1;
                continue;
            }
        };
        let verdict = if status == check.expect {
            "ok"
        } else {
            "MISMATCH"
        };
        if status != check.expect {
            mismatches += 1;
        }
        println!(
            "GET {:<8} {:<14} -> {status} (expected {}) {verdict}",
            check.path, label, check.expect
        );
    }
    if mismatches == 0 {
        println!("self-check passed: {} requests", checks.len());
        ExitCode::SUCCESS
    } else {
        println!(
            "self-check FAILED: {mismatches} of {} requests",
            checks.len()
        );
        ExitCode::FAILURE
    }
}
