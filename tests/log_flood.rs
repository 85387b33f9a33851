//! A client cannot fill the logs: refusals it can cause in bulk are written above DEBUG at most
//! once per kind per interval, the first at once, the next with the count held back. Its own
//! test binary: the rate limit is process-wide.

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use axum::{Router, routing::get};
use axum_cognito::{CognitoAuthLayer, test_util::TestIssuer};
use common::{call, with_token};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_503s_writes_one_warning() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let issuer = TestIssuer::start().await;
    issuer.stop().await; // keys never load: every request is a 503
    let verifier = issuer.verifier_builder().build_lazy().unwrap();
    let app = Router::new()
        .route("/", get(|| async { "in" }))
        .layer(CognitoAuthLayer::new(verifier));
    let token = issuer.access_token().sign();
    for _ in 0..1000 {
        assert_eq!(call(&app, with_token("/", &token)).await.status, 503);
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let warnings = logs
        .lines()
        .filter(|line| line.contains("keys unavailable, answering 503"))
        .count();
    assert_eq!(warnings, 1, "{logs}");
    assert!(logs.contains("WARN"), "the first one is visible: {logs}");
    assert!(!logs.contains(&token), "no token in the logs");
}
