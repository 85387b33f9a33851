//! What `examples/server.rs`, `examples/lambda.rs` and `examples/mcp.rs` read from the
//! environment alike.

/// The variable `name`, unless unset or blank.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `COGNITO_USER_POOL_ID` (as given: one pool, or several comma-separated) and
/// `COGNITO_CLIENT_IDS`; an error names the variable.
pub(crate) fn pools_and_clients() -> Result<(String, Vec<String>), String> {
    let pool_ids = var("COGNITO_USER_POOL_ID")
        .ok_or("COGNITO_USER_POOL_ID is required (e.g. eu-west-1_AbC123456)")?;
    let clients: Vec<String> = var("COGNITO_CLIENT_IDS")
        .ok_or("COGNITO_CLIENT_IDS is required (comma-separated app client ids)")?
        .split(',')
        .map(|c| c.trim().to_owned())
        .collect();
    if clients.iter().any(String::is_empty) {
        return Err("COGNITO_CLIENT_IDS has an empty client id".into());
    }
    Ok((pool_ids, clients))
}
