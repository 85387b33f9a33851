//! The handlers of `GET /id`, `/access`, `/admin` and `/whoami`, shared by `examples/server.rs`
//! and `examples/lambda.rs` so that both answer with the same bodies.

use axum::Json;
use axum_cognito::{Access, CognitoClaims, Id, VerifiedToken};
use serde_json::{Value, json};

pub(crate) async fn id(claims: CognitoClaims<Id>) -> Json<Value> {
    Json(json!({
        "sub": claims.sub,
        "username": claims.username,
        "groups": claims.groups,
        "email": claims.email,
        "custom": claims.custom,
    }))
}

pub(crate) async fn access(claims: CognitoClaims<Access>) -> Json<Value> {
    Json(json!({
        "sub": claims.sub,
        "username": claims.username,
        "groups": claims.groups,
        "scope": claims.scope,
        "client_id": claims.client_id,
    }))
}

pub(crate) async fn admin(claims: CognitoClaims<Access>) -> Json<Value> {
    Json(json!({ "sub": claims.sub, "username": claims.username, "admin": true }))
}

pub(crate) async fn whoami(token: Option<VerifiedToken>) -> Json<Value> {
    Json(match token {
        Some(token) => {
            json!({ "authenticated": true, "sub": token.sub(), "token_use": token.token_use() })
        }
        None => json!({ "authenticated": false }),
    })
}
