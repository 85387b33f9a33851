//! A Lambda Runtime API on 127.0.0.1, as the Lambda service serves it to a function: the
//! events queued here go out on `GET .../invocation/next`, the function's answers come back.
//! Shared by `tests/lambda.rs` and `benches/lambda_cold_start.rs`.

// Each includer reads part of it (the others show in a failure's Debug print).
#![allow(dead_code)]

use std::{
    net::SocketAddr,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
    response::IntoResponse,
    routing::{get, post},
};
use serde_json::Value;
use tokio::sync::{Notify, mpsc};

/// What the function posted.
#[derive(Debug)]
pub(crate) enum Posted {
    /// `POST .../invocation/{id}/response`: the id and the response.
    Response(String, Value),
    /// `POST .../invocation/{id}/error`.
    InvocationError(String, Value),
    /// `POST .../init/error`.
    InitError(Value),
}

#[derive(Clone)]
struct Shared {
    events: Arc<Mutex<std::collections::VecDeque<(String, Value)>>>,
    queued: Arc<Notify>,
    posted: mpsc::UnboundedSender<Posted>,
}

/// The Runtime API: queue events with [`invoke`](Self::invoke), read answers from `posted`.
pub(crate) struct RuntimeApi {
    pub(crate) addr: SocketAddr,
    shared: Shared,
    pub(crate) posted: mpsc::UnboundedReceiver<Posted>,
}

async fn next(State(shared): State<Shared>) -> impl IntoResponse {
    loop {
        let notified = shared.queued.notified();
        if let Some((id, event)) = shared.events.lock().unwrap().pop_front() {
            let mut headers = HeaderMap::new();
            headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
            headers.insert(
                "lambda-runtime-deadline-ms",
                "4102444800000".parse().unwrap(),
            );
            let arn = "arn:aws:lambda:eu-west-1:123456789012:function:test";
            headers.insert("lambda-runtime-invoked-function-arn", arn.parse().unwrap());
            headers.insert("lambda-runtime-trace-id", "Root=1-0-0".parse().unwrap());
            return (headers, event.to_string());
        }
        notified.await;
    }
}

fn json(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

impl RuntimeApi {
    pub(crate) async fn start() -> Self {
        let (sender, posted) = mpsc::unbounded_channel();
        let shared = Shared {
            events: Arc::default(),
            queued: Arc::default(),
            posted: sender,
        };
        let api = "/2018-06-01/runtime";
        let router = Router::new()
            .route(&format!("{api}/invocation/next"), get(next))
            .route(
                &format!("{api}/invocation/{{id}}/response"),
                post(
                    |State(s): State<Shared>, Path(id): Path<String>, body: Bytes| async move {
                        let _ = s.posted.send(Posted::Response(id, json(&body)));
                        "{}"
                    },
                ),
            )
            .route(
                &format!("{api}/invocation/{{id}}/error"),
                post(
                    |State(s): State<Shared>, Path(id): Path<String>, body: Bytes| async move {
                        let _ = s.posted.send(Posted::InvocationError(id, json(&body)));
                        "{}"
                    },
                ),
            )
            .route(
                &format!("{api}/init/error"),
                post(|State(s): State<Shared>, body: Bytes| async move {
                    let _ = s.posted.send(Posted::InitError(json(&body)));
                    "{}"
                }),
            )
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            addr,
            shared,
            posted,
        }
    }

    /// Queues `event` under the request id `id`.
    pub(crate) fn invoke(&self, id: &str, event: Value) {
        self.shared
            .events
            .lock()
            .unwrap()
            .push_back((id.into(), event));
        self.shared.queued.notify_waiters();
    }

    /// The function binary with the Lambda runtime's variables pointing here, and `env`.
    pub(crate) fn function(&self, env: &[(&str, String)]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(lambda_example());
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "group")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        command
    }
}

/// The lambda example, built next to this binary's profile (`examples/lambda`).
pub(crate) fn lambda_example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile.join("examples").join("lambda")
}
