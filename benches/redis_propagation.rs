//! How long a revocation takes to reach another instance through Redis: two revocation lists
//! in one process, each shared through a `redis-server` on 127.0.0.1 started here (as
//! `tests/redis_revocation.rs` does), one entry revoked on the first, the time until the second
//! holds it.
//!
//! `cargo bench --all-features --bench redis_propagation` (needs `redis-server` on the PATH or
//! in `REDIS_SERVER`; `scripts/redis-tests.sh` installs it).

use std::{
    net::{TcpListener, TcpStream},
    process::{Command, Stdio},
    time::{Duration, Instant, SystemTime},
};

use axum_cognito::revocation::{RedisSync, RevocationList};

const ROUNDS: usize = 1000;

fn main() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    let mut redis = Command::new(&binary)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{binary}: {e}"));
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    let (from, to) = (
        RevocationList::new(ROUNDS * 2),
        RevocationList::new(ROUNDS * 2),
    );
    runtime.block_on(async {
        for list in [&from, &to] {
            let status = RedisSync::new(url.as_str()).start(list).await.unwrap();
            assert!(status.connected);
        }
    });
    let exp = SystemTime::now() + Duration::from_secs(3600);
    let mut times = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let before = to.len();
        let started = Instant::now();
        from.revoke_jti(&format!("jti-{round}"), exp);
        while to.len() == before {
            assert!(started.elapsed() < Duration::from_secs(5), "never arrived");
            std::hint::spin_loop();
        }
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "redis propagation over {ROUNDS} revocations: median {:?}, p99 {:?}, max {:?}",
        at(0.5),
        at(0.99),
        times[times.len() - 1]
    );
    let _ = redis.kill();
    let _ = redis.wait();
}
