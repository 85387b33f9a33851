//! Binding the address of `examples/server.rs` and `examples/mcp.rs`.

use std::{net::SocketAddr, process::ExitCode};

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
