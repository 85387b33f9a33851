//! Starting `examples/server.rs` and `examples/mcp.rs` alike: the verifier, then the socket.

use std::{net::SocketAddr, process::ExitCode};

use axum_cognito::{CognitoVerifier, CognitoVerifierBuilder, ConfigError};

/// Builds the verifier; else says why and gives the exit code: 1 when the keys could not be
/// loaded, 2 for a configuration error, named by `variable_of`.
pub(crate) async fn build(
    builder: CognitoVerifierBuilder,
    variable_of: fn(&ConfigError) -> &'static str,
) -> Result<CognitoVerifier, ExitCode> {
    builder.build().await.map_err(|e| match e {
        ConfigError::InitialFetch { .. } => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        e => {
            eprintln!("error: {}: {e}", variable_of(&e));
            ExitCode::from(2)
        }
    })
}

/// Binds `addr` and prints `listening on ADDR` (the bound address, for scripts that pass port
/// 0); else says why, and the exit code.
pub(crate) async fn listen(addr: SocketAddr) -> Result<tokio::net::TcpListener, ExitCode> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        eprintln!("error: cannot bind {addr}: {e}");
        ExitCode::FAILURE
    })?;
    let bound = listener.local_addr().map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    })?;
    println!("listening on {bound}");
    Ok(listener)
}
