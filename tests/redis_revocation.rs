//! The revocation list shared through a real Redis: `redis-server` started by each test on a
//! free port of 127.0.0.1 (`REDIS_SERVER` names the binary; default `redis-server` on the PATH).
//!
//! Run through `scripts/redis-tests.sh`, which installs Debian's `redis-server` when it is
//! missing. Without it every test here fails, loudly: this target is not part of a plain
//! `cargo test` (`test = false` in Cargo.toml).

mod common;

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use axum_cognito::{
    CognitoVerifier, ConfigError, ErrorKind,
    revocation::{RedisSync, RevocationList},
    test_util::TestIssuer,
};
use common::{eventually, now, start_server};
use serde_json::{Value, json};

/// A `redis-server` of this test's, killed when dropped.
struct Redis {
    child: Option<Child>,
    port: u16,
}

impl Redis {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self { child: None, port };
        redis.restart();
        redis
    }

    /// Starts the server on its port, empty (no persistence), and waits until it answers.
    fn restart(&mut self) {
        let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let port = self.port.to_string();
        let child = Command::new(&binary)
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{binary}: {e}; run scripts/redis-tests.sh, which installs redis-server")
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.command("PING\r\n") != "+PONG\r\n" {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// One command in Redis's inline form, and the first reply bytes ("" when it is down).
    fn command(&self, command: &str) -> String {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return String::new();
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        if stream.write_all(command.as_bytes()).is_err() {
            return String::new();
        }
        let mut reply = [0_u8; 512];
        let read = stream.read(&mut reply).unwrap_or(0);
        String::from_utf8_lossy(&reply[..read]).into_owned()
    }

    /// Publishes `payload` on the crate's default channel (RESP, so any bytes go through).
    fn publish(&self, payload: &str) {
        let channel = "axum-cognito:revocations";
        let command = format!(
            "*3\r\n$7\r\nPUBLISH\r\n${}\r\n{channel}\r\n${}\r\n{payload}\r\n",
            channel.len(),
            payload.len()
        );
        assert!(self.command(&command).starts_with(':'), "published");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A list shared through `redis`, connected and caught up.
async fn shared_list(redis: &Redis) -> RevocationList {
    let list = RevocationList::default();
    let status = RedisSync::new(redis.url()).start(&list).await.unwrap();
    assert!(status.connected, "{status:?}");
    list
}

async fn verifier(issuer: &TestIssuer, list: &RevocationList) -> CognitoVerifier {
    let builder = issuer.verifier_builder().revocation_list(list.clone());
    builder.build().await.unwrap()
}

async fn revoked(verifier: &CognitoVerifier, token: &str) -> bool {
    matches!(verifier.verify(token).await, Err(e) if e.kind() == ErrorKind::Revoked)
}

fn connected(list: &RevocationList) -> bool {
    list.redis_status().is_some_and(|status| status.connected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_reach_every_instance_and_a_late_one_catches_up() {
    let redis = Redis::start();
    let issuer = TestIssuer::start().await;
    let (one, two) = (shared_list(&redis).await, shared_list(&redis).await);
    let verifier_two = verifier(&issuer, &two).await;
    let token = issuer.access_token().claim("jti", "jti-1").sign();
    let alices = issuer.id_token().sub("alice").sign();
    assert!(verifier_two.verify(&token).await.is_ok());
    assert!(verifier_two.verify(&alices).await.is_ok());

    let exp = SystemTime::now() + Duration::from_secs(3600);
    one.revoke_jti("jti-1", exp);
    one.revoke_user_before("alice", SystemTime::now());
    let within_a_second = eventually(Duration::from_secs(1), async || {
        revoked(&verifier_two, &token).await && revoked(&verifier_two, &alices).await
    });
    assert!(within_a_second.await, "{:?}", two.redis_status());
    assert!(two.redis_status().unwrap().entries_applied >= 2);
    let status = verifier_two.status().revocation_redis.expect("shared");
    assert!(status.connected && status.connections == 1, "{status:?}");
    assert_eq!(one.redis_status().unwrap().entries_published, 2);

    // An instance started later refuses them from its first verification.
    let late = shared_list(&redis).await;
    let verifier_late = verifier(&issuer, &late).await;
    assert!(revoked(&verifier_late, &token).await);
    assert!(revoked(&verifier_late, &alices).await);
    let others = issuer.access_token().sign();
    assert!(verifier_late.verify(&others).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_restarted_empty() {
    let mut redis = Redis::start();
    let issuer = TestIssuer::start().await;
    let (one, two) = (shared_list(&redis).await, shared_list(&redis).await);
    let (verifier_one, verifier_two) =
        (verifier(&issuer, &one).await, verifier(&issuer, &two).await);
    let before = issuer.access_token().claim("jti", "before").sign();
    let during = issuer.access_token().claim("jti", "during").sign();
    let valid = issuer.access_token().sign();
    let exp = SystemTime::now() + Duration::from_secs(3600);
    two.revoke_jti("before", exp);
    assert!(
        eventually(Duration::from_secs(1), async || revoked(
            &verifier_one,
            &before
        )
        .await)
        .await
    );

    redis.stop();
    assert!(
        eventually(Duration::from_secs(5), async || !connected(&one)
            && !connected(&two))
        .await
    );
    // Down: each instance serves from its own list, and an entry added now applies at once.
    one.revoke_jti("during", exp);
    assert!(revoked(&verifier_one, &during).await);
    assert!(revoked(&verifier_two, &before).await);
    assert!(
        verifier_two.verify(&during).await.is_ok(),
        "not published yet"
    );
    let started = Instant::now();
    assert!(verifier_one.verify(&valid).await.is_ok());
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "never waits on Redis"
    );

    // Back, empty: the entry added meanwhile reaches the other instance, and both re-seed it.
    redis.restart();
    let back = eventually(Duration::from_secs(15), async || {
        connected(&one) && connected(&two) && revoked(&verifier_two, &during).await
    });
    assert!(
        back.await,
        "{:?} {:?}",
        one.redis_status(),
        two.redis_status()
    );
    assert!(one.redis_status().unwrap().connections >= 2);
    let late = shared_list(&redis).await;
    let verifier_late = verifier(&issuer, &late).await;
    assert!(
        revoked(&verifier_late, &before).await,
        "re-seeded by the instances"
    );
    assert!(revoked(&verifier_late, &during).await);
    assert!(verifier_late.verify(&valid).await.is_ok());
}

/// A TCP proxy to Redis that can cut one instance off while the others stay connected.
struct Proxy {
    addr: std::net::SocketAddr,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(redis: &Redis) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            addr: listener.local_addr().unwrap(),
            open: Arc::new(AtomicBool::new(true)),
            links: Arc::default(),
        };
        let (open, links, port) = (
            Arc::clone(&proxy.open),
            Arc::clone(&proxy.links),
            redis.port,
        );
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !open.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let link = tokio::spawn(async move {
                    let mut server = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
                    tokio::io::copy_bidirectional(&mut client, &mut server).await
                });
                links.lock().unwrap().push(link.abort_handle());
            }
        });
        proxy
    }

    fn url(&self) -> String {
        format!("redis://{}/0", self.addr)
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.links
            .lock()
            .unwrap()
            .drain(..)
            .for_each(|link| link.abort());
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_cut_off_publishes_what_it_revoked_meanwhile() {
    let redis = Redis::start();
    let proxy = Proxy::start(&redis).await;
    let issuer = TestIssuer::start().await;
    let one = RevocationList::default();
    assert!(
        RedisSync::new(proxy.url())
            .start(&one)
            .await
            .unwrap()
            .connected
    );
    let two = shared_list(&redis).await;
    let verifier_two = verifier(&issuer, &two).await;
    let token = issuer.access_token().claim("jti", "while-away").sign();

    proxy.cut();
    assert!(eventually(Duration::from_secs(5), async || !connected(&one)).await);
    one.revoke_jti("while-away", SystemTime::now() + Duration::from_secs(3600));
    assert_eq!(one.len(), 1, "applied here at once");
    assert!(
        verifier_two.verify(&token).await.is_ok(),
        "not published yet"
    );

    // `two` never lost Redis, so it does not read the set again: only a publication reaches it.
    proxy.restore();
    let published = eventually(Duration::from_secs(10), async || {
        revoked(&verifier_two, &token).await
    });
    assert!(
        published.await,
        "{:?} {:?}",
        one.redis_status(),
        two.redis_status()
    );
    assert_eq!(two.redis_status().unwrap().connections, 1);

    // More revocations while away than are kept to publish (10,000): on reconnecting, the
    // instance publishes every entry it holds instead, so none is lost to the other.
    proxy.cut();
    assert!(eventually(Duration::from_secs(5), async || !connected(&one)).await);
    let exp = SystemTime::now() + Duration::from_secs(3600);
    for i in 0..12_000 {
        one.revoke_jti(&format!("bulk-{i}"), exp);
    }
    proxy.restore();
    let all = eventually(Duration::from_secs(20), async || two.len() == 12_001);
    assert!(
        all.await,
        "{} of 12,001; {:?}",
        two.len(),
        one.redis_status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_that_are_not_valid_are_dropped_and_counted() {
    let redis = Redis::start();
    let list = shared_list(&redis).await;
    let now = now();
    let long_id = "x".repeat(1025);
    let bad = [
        "not json".to_owned(),
        json!({"what": "jti", "id": "a"}).to_string(),
        json!({"what": "token", "id": "a", "time": now + 60}).to_string(),
        json!({"what": "jti", "id": long_id, "time": now + 60}).to_string(),
        json!({"what": "jti", "id": "past", "time": now - 3600}).to_string(),
        json!({"what": "jti", "id": "far", "time": now + 31 * 24 * 3600}).to_string(),
        json!({"what": "jti", "id": "", "time": now + 60}).to_string(),
    ];
    for payload in &bad {
        redis.publish(payload);
    }
    redis.publish(&json!({"what": "jti", "id": "good", "time": now + 60}).to_string());
    let counted = eventually(Duration::from_secs(2), async || {
        list.redis_status().unwrap().entries_dropped == bad.len() as u64
            && list.redis_status().unwrap().entries_applied == 1
    });
    assert!(counted.await, "{:?}", list.redis_status());
    assert_eq!(list.len(), 1, "only the good entry");

    // Members of the set are checked the same way at a catch-up.
    let member = json!({"what": "jti", "id": "x".repeat(1025), "time": now + 60}).to_string();
    let zadd = format!(
        "*4\r\n$4\r\nZADD\r\n$24\r\naxum-cognito:revocations\r\n${}\r\n{}\r\n${}\r\n{member}\r\n",
        (now + 9999).to_string().len(),
        now + 9999,
        member.len()
    );
    assert!(redis.command(&zadd).starts_with(':'));
    let late = shared_list(&redis).await;
    assert_eq!(
        late.len(),
        0,
        "a published entry is not in the set; the bad member dropped"
    );
    assert_eq!(late.redis_status().unwrap().entries_dropped, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_and_an_unreachable_redis() {
    let list = RevocationList::default();
    let error = RedisSync::new("redis://:secret@127.0.0.1:notaport/0")
        .start(&list)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ConfigError::InvalidRedisUrl { .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains("secret"), "{error}");
    assert!(
        list.redis_status().is_none(),
        "a refused start shares nothing"
    );

    // Nobody listens there: start returns after the first attempt, the list works alone.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let status = RedisSync::new(format!("redis://127.0.0.1:{port}"))
        .timeout(Duration::from_millis(300))
        .start(&list)
        .await
        .unwrap();
    assert!(!status.connected);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let exp = SystemTime::now() + Duration::from_secs(60);
    list.revoke_jti("j", exp);
    assert_eq!(list.len(), 1);
    for (key, timeout) in [("", 1), ("k", 0), ("k", 301_000)] {
        let sync = RedisSync::new("redis://127.0.0.1:1").key(key);
        let error = sync
            .timeout(Duration::from_millis(timeout))
            .start(&list)
            .await;
        assert!(
            matches!(error, Err(ConfigError::InvalidSetting(_))),
            "{key:?} {timeout}"
        );
    }
    let again = RedisSync::new(format!("redis://127.0.0.1:{port}"))
        .start(&list)
        .await;
    assert!(matches!(again, Err(ConfigError::RevocationListShared)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_revocations_through_redis() {
    let redis = Redis::start();
    let issuer = TestIssuer::start().await;
    let env = vec![
        ("COGNITO_USER_POOL_ID", issuer.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", issuer.client_id().to_owned()),
        ("COGNITO_JWKS_URL", issuer.jwks_url()),
        ("COGNITO_REVOCATION_REDIS", redis.url()),
    ];
    let (_one, one) = start_server(&env).await.unwrap();
    let (_two, two) = start_server(&env).await.unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let admin = issuer.access_token().groups(["admins"]).sign();
    let reader = issuer.access_token().groups(["readers"]).sign();
    let victim = issuer.access_token().claim("jti", "stolen").sign();
    let bob = issuer.access_token().sub("bob").sign();
    let get = async |addr: &str, token: &str| {
        let url = format!("http://{addr}/access");
        let response = client.get(url).bearer_auth(token).send().await.unwrap();
        let challenge = response.headers().get("www-authenticate").cloned();
        (response.status().as_u16(), challenge)
    };
    let post = async |token: Option<&str>, body: String| {
        let mut request = client.post(format!("http://{one}/revocations")).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().status().as_u16()
    };
    let exp = now() + 3600;
    let by_jti = json!({"jti": "stolen", "exp": exp}).to_string();
    assert_eq!(post(None, by_jti.clone()).await, 401);
    assert_eq!(post(Some(&reader), by_jti.clone()).await, 403);
    for malformed in [
        "{",
        r#"{"jti": "stolen"}"#,
        r#"{"jti": 5, "exp": 1}"#,
        r#"{"sub": "bob", "before": "now"}"#,
        r#"{"jti": "stolen", "exp": 1, "sub": "bob"}"#,
    ] {
        assert_eq!(
            post(Some(&admin), malformed.into()).await,
            400,
            "{malformed}"
        );
    }
    assert_eq!(
        get(&one, &victim).await.0,
        200,
        "a malformed body changed nothing"
    );
    assert_eq!(get(&two, &victim).await.0, 200);

    assert_eq!(post(Some(&admin), by_jti).await, 204);
    let by_user = json!({"sub": "bob", "before": now()}).to_string();
    assert_eq!(post(Some(&admin), by_user).await, 204);
    let refused = async |addr: &str, token: &str| {
        let (status, challenge) = get(addr, token).await;
        status == 401 && challenge.is_some_and(|c| c.to_str().unwrap().contains("invalid_token"))
    };
    assert!(refused(&one, &victim).await && refused(&one, &bob).await);
    let spread = eventually(Duration::from_secs(1), async || {
        refused(&two, &victim).await && refused(&two, &bob).await
    });
    assert!(spread.await);
    assert_eq!(get(&two, &admin).await.0, 200);

    // A server started later refuses them from its first request.
    let (_three, three) = start_server(&env).await.unwrap();
    assert!(refused(&three, &victim).await && refused(&three, &bob).await);
    let health: Value = client
        .get(format!("http://{three}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["revocation_redis"]["connected"], true, "{health}");
    let metrics = async |addr: &str| {
        let url = format!("http://{addr}/metrics");
        client.get(url).send().await.unwrap().text().await.unwrap()
    };
    let (first, second) = (metrics(&one).await, metrics(&two).await);
    assert!(
        first.contains("cognito_revocation_redis_connected 1"),
        "{first}"
    );
    assert!(
        first.contains(r#"cognito_revocation_redis_entries_total{result="published"} 2"#),
        "{first}"
    );
    assert!(
        second.contains(r#"cognito_revocation_redis_entries_total{result="applied"} 2"#),
        "{second}"
    );

    let mut bad = env.clone();
    bad[3].1 = "redis://:secret@127.0.0.1:notaport".into();
    let error = start_server(&bad).await.expect_err("refused");
    assert!(error.starts_with("exit Some(2)"), "{error}");
    assert!(
        error.contains("COGNITO_REVOCATION_REDIS") && !error.contains("secret"),
        "{error}"
    );
}
