//! One revocation list for every instance of a service, kept in step through Redis or Valkey
//! (feature `redis`).
//!
//! [`RedisSync::start`] connects a [`RevocationList`] to a Redis server. From then on:
//!
//! - **Spreading.** An entry this instance adds ([`revoke_jti`](RevocationList::revoke_jti),
//!   [`revoke_family`](RevocationList::revoke_family),
//!   [`revoke_user_before`](RevocationList::revoke_user_before),
//!   [`revoke_token`](RevocationList::revoke_token)) applies here at once, then is stored in
//!   a sorted set scored by its expiry and published on a channel of the same name; every
//!   connected instance applies it when the message arrives (milliseconds on one network).
//! - **Catching up.** On connecting and on every reconnection an instance writes its own
//!   entries still in force to the set (a Redis that restarted empty gets them back), publishes
//!   the ones it added while Redis was away, drops lapsed entries from the set, and applies
//!   every entry still in force there. [`RedisSync::start`] returns once that first catch-up
//!   is done, or once the first attempt failed, so a server can catch up before it serves.
//! - **Failure.** Verification never waits on Redis: reads stay in the local list as before
//!   (a read share of one of its shards; an entry that changes nothing, such as this
//!   instance's own echoed back, takes no write lock), and a revocation never blocks (it is
//!   queued for the task that talks to Redis).
//!   With Redis down or unreachable every instance serves from its local list: revoked tokens
//!   stay refused, an entry added meanwhile applies here at once and is published when Redis
//!   is back. Both connections are pinged every 10 s, so that one cut off silently (a
//!   partition) is noticed within a ping and a timeout. The task reconnects with a backoff from
//!   100 ms to 5 s and warns at most once per 10 s. [`RevocationList::redis_status`], the verifier's
//!   [`status`](crate::CognitoVerifier::status) and the metrics say whether it is connected.
//! - **Bad input.** Redis is shared infrastructure, not a trusted party: a message or set
//!   member that is not an entry of this crate (not JSON of the expected shape, an id empty or
//!   over 1 KiB, an expiry more than 30 days ahead, or one already past) is dropped and
//!   counted ([`RedisSyncStatus::entries_dropped`]), never applied. At most
//!   [`max_entries`](RevocationList::max_entries) members are read at a catch-up.
//!
//! An instance without Redis has its own list, as without this feature. The set and the
//! channel are named by [`RedisSync::key`] (default `axum-cognito:revocations`): give each
//! service its own name when they share a Redis but not their revocations. An entry is a
//! small JSON object, `{"what":"jti","id":"…","time":1767225600}` (`what` is `jti`, `family`
//! or `user`; `time` the `exp`, the family's end or the sign-out, Unix seconds).
//!
//! ```no_run
//! use std::time::{Duration, SystemTime};
//! use axum_cognito::revocation::{RedisSync, RevocationList};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), axum_cognito::ConfigError> {
//! let list = RevocationList::default();
//! let status = RedisSync::new("redis://127.0.0.1:6379/0")
//!     .timeout(Duration::from_secs(2))
//!     .start(&list)
//!     .await?;
//! println!("connected to Redis: {}", status.connected);
//!
//! // On any instance: every instance refuses the token within milliseconds.
//! list.revoke_jti("3f1c…", SystemTime::now() + Duration::from_secs(3600));
//! # Ok(())
//! # }
//! ```

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use redis::{AsyncConnectionConfig, Client, aio::MultiplexedConnection};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc, oneshot};

use super::list::{RevocationList, Revoked, WeakList, What, unix};
use crate::{
    config_error::ConfigError,
    defaults::{COGNITO_MAX_TOKEN_LIFETIME, MAX_FETCH_TIMEOUT, MAX_LEEWAY},
    jwks::redacted_url,
    rate_limited_log::RateLimit,
};

/// The default name of the sorted set and of the channel.
pub const DEFAULT_REDIS_KEY: &str = "axum-cognito:revocations";
/// The default time limit of connecting and of each Redis command.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest id an entry from Redis may have, in bytes.
const MAX_ID_BYTES: usize = 1024;
/// The largest entry read from Redis, in bytes: the id and a few fields.
const MAX_ENTRY_BYTES: usize = MAX_ID_BYTES + 128;
/// How far ahead an entry from Redis may expire.
const MAX_AHEAD: i64 = 30 * 24 * 60 * 60;
/// Revocations waiting for the task that talks to Redis; when full, the task sends every entry
/// of the list instead.
const OUTBOX_CAPACITY: usize = 4096;
/// Revocations added while Redis is away, kept to be published; past that, every entry.
const MAX_PENDING: usize = 10_000;
/// Set members written per round trip.
const BATCH: usize = 1000;
/// How often an idle connection is checked, so that one that went silent is noticed.
const PING_INTERVAL: Duration = Duration::from_secs(10);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Warnings about Redis, at most one per 10 s.
static WARNINGS: RateLimit = RateLimit::new();

/// One entry as it is stored in the set and published on the channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    what: What,
    id: Box<str>,
    time: i64,
}

impl Entry {
    /// When the entry stops mattering: the last token it covers has expired.
    fn ends(&self) -> i64 {
        match self.what {
            What::User => self.time.saturating_add(secs(COGNITO_MAX_TOKEN_LIFETIME)),
            What::Jti | What::Family => self.time,
        }
    }

    /// The set's score: past it no list, whatever its grace, applies the entry.
    fn score(&self) -> i64 {
        self.ends().saturating_add(secs(MAX_LEEWAY))
    }

    fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// An entry from Redis, if it is one of this crate's that may be applied at `now`.
    fn parse(bytes: &[u8], now: i64) -> Option<Self> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return None;
        }
        let entry: Self = serde_json::from_slice(bytes).ok()?;
        let sized = !entry.id.is_empty() && entry.id.len() <= MAX_ID_BYTES;
        (sized && entry.ends() <= now.saturating_add(MAX_AHEAD)).then_some(entry)
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// What the task and the handles share.
#[derive(Default)]
struct State {
    connected: AtomicBool,
    applied: AtomicU64,
    dropped: AtomicU64,
    published: AtomicU64,
    connections: AtomicU64,
    /// Set when a revocation found the outbox full: the task sends every entry.
    send_all: AtomicBool,
    wake: Notify,
}

/// How a shared list's revocations reach the task that publishes them: never blocks.
pub(crate) struct Outbox {
    sender: mpsc::Sender<Entry>,
    state: Arc<State>,
}

impl Outbox {
    pub(crate) fn send(&self, what: What, id: &str, time: i64) {
        let entry = Entry {
            what,
            id: id.into(),
            time,
        };
        if self.sender.try_send(entry).is_err() {
            self.state.send_all.store(true, Ordering::Relaxed);
            self.state.wake.notify_one();
        }
    }

    pub(crate) fn status(&self) -> RedisSyncStatus {
        self.state.status()
    }
}

impl State {
    fn status(&self) -> RedisSyncStatus {
        let state = self;
        RedisSyncStatus {
            connected: state.connected.load(Ordering::Relaxed),
            connections: state.connections.load(Ordering::Relaxed),
            entries_applied: state.applied.load(Ordering::Relaxed),
            entries_dropped: state.dropped.load(Ordering::Relaxed),
            entries_published: state.published.load(Ordering::Relaxed),
        }
    }
}

/// The state of a list shared through Redis: [`RevocationList::redis_status`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RedisSyncStatus {
    /// True while the list is connected to Redis and caught up.
    pub connected: bool,
    /// Connections made (and caught up) so far: more than one means reconnections.
    pub connections: u64,
    /// Entries from Redis applied to this list (this instance's own, echoed, included).
    pub entries_applied: u64,
    /// Entries from Redis dropped: not an entry of this crate, already expired, or not added
    /// to a full list.
    pub entries_dropped: u64,
    /// Entries this instance wrote to Redis and published.
    pub entries_published: u64,
}

/// Connects a [`RevocationList`] to Redis, so that every instance's list holds every
/// instance's revocations: see [the module](self).
#[derive(Debug, Clone)]
#[must_use = "a RedisSync does nothing until started"]
pub struct RedisSync {
    url: String,
    key: String,
    timeout: Duration,
}

impl RedisSync {
    /// Redis at `url`: `redis://[user:password@]host[:port][/db]` (or `redis+unix://`).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key: DEFAULT_REDIS_KEY.to_owned(),
            timeout: DEFAULT_REDIS_TIMEOUT,
        }
    }

    /// The name of the sorted set and of the channel (default [`DEFAULT_REDIS_KEY`]).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// The time limit of connecting and of each command (default [`DEFAULT_REDIS_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Shares `list` through Redis, for as long as a clone of the list lives: connects, catches
    /// up, and returns the status after the first attempt (connected and caught up, or not:
    /// the task keeps trying in the background). Waits at most about four timeouts.
    ///
    /// Fails with [`ConfigError::InvalidRedisUrl`] for a URL that does not parse,
    /// [`ConfigError::InvalidSetting`] for an empty key or a timeout of zero or over 5 minutes,
    /// and
    /// [`ConfigError::RevocationListShared`] when the list is already shared. Must be called
    /// within a Tokio runtime.
    pub async fn start(self, list: &RevocationList) -> Result<RedisSyncStatus, ConfigError> {
        let shown_url = redacted_url(&self.url);
        let client =
            Client::open(self.url.as_str()).map_err(|error| ConfigError::InvalidRedisUrl {
                url: shown_url.clone(),
                reason: error.to_string(),
            })?;
        if self.key.is_empty() || self.key.len() > MAX_ID_BYTES {
            return Err(ConfigError::InvalidSetting(
                "RedisSync::key must be 1 to 1024 bytes",
            ));
        }
        if self.timeout.is_zero() || self.timeout > MAX_FETCH_TIMEOUT {
            return Err(ConfigError::InvalidSetting(
                "RedisSync::timeout must be above zero and at most 5 minutes",
            ));
        }
        let state = Arc::new(State::default());
        let (sender, outbox) = mpsc::channel(OUTBOX_CAPACITY);
        let handle = Outbox {
            sender,
            state: Arc::clone(&state),
        };
        if !list.share(handle) {
            return Err(ConfigError::RevocationListShared);
        }
        let (first, caught_up) = oneshot::channel();
        let shown_state = Arc::clone(&state);
        let task = Task {
            list: list.downgrade(),
            outbox,
            pending: Vec::new(),
            client,
            key: self.key,
            url: shown_url,
            timeout: self.timeout,
            state,
            first: Some(first),
        };
        tokio::spawn(task.run());
        let _ = tokio::time::timeout(self.timeout * 4, caught_up).await;
        Ok(shown_state.status())
    }
}

/// Why a connection ended.
enum Ended {
    /// Every clone of the list is gone: the task ends.
    ListGone,
    Failed(String),
}

impl From<redis::RedisError> for Ended {
    fn from(error: redis::RedisError) -> Self {
        Self::Failed(error.to_string())
    }
}

/// The task that talks to Redis for one list.
struct Task {
    list: WeakList,
    outbox: mpsc::Receiver<Entry>,
    /// Revocations added while Redis was away.
    pending: Vec<Entry>,
    client: Client,
    key: String,
    url: String,
    timeout: Duration,
    state: Arc<State>,
    /// Told when the first attempt is over.
    first: Option<oneshot::Sender<()>>,
}

impl Task {
    async fn run(mut self) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let Err(ended) = self.connection(&mut backoff).await;
            self.set_connected(false);
            let Ended::Failed(error) = ended else { return };
            WARNINGS.warn(format_args!(
                "revocation list: Redis at {}: {error}; serving from the local list, reconnecting",
                self.url
            ));
            if let Some(first) = self.first.take() {
                let _ = first.send(());
            }
            let sleep = tokio::time::sleep(backoff);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut sleep => break,
                    entry = self.outbox.recv() => match entry {
                        Some(entry) => self.keep(entry),
                        None => return,
                    },
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection: catch up, then publish and apply until it fails.
    async fn connection(&mut self, backoff: &mut Duration) -> Result<Infallible, Ended> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let mut commands = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let subscribing = async {
            let (mut sink, messages) = self.client.get_async_pubsub().await?.split();
            sink.subscribe(&self.key).await?;
            Ok::<_, redis::RedisError>((sink, messages))
        };
        let (mut sink, mut messages) = tokio::time::timeout(self.timeout, subscribing)
            .await
            .map_err(|_| Ended::Failed("subscribing timed out".into()))??;
        let mut pings = tokio::time::interval(PING_INTERVAL);
        pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.catch_up(&mut commands).await?;
        *backoff = FIRST_BACKOFF;
        self.state.connections.fetch_add(1, Ordering::Relaxed);
        self.set_connected(true);
        if let Some(first) = self.first.take() {
            let _ = first.send(());
        }
        loop {
            tokio::select! {
                entry = self.outbox.recv() => {
                    let Some(entry) = entry else { return Err(Ended::ListGone) };
                    let sent = self.publish(&mut commands, std::slice::from_ref(&entry)).await;
                    if let Err(error) = sent {
                        self.keep(entry);
                        return Err(error.into());
                    }
                }
                message = messages.next() => {
                    let Some(message) = message else {
                        return Err(Ended::Failed("the subscription closed".into()));
                    };
                    let Some(list) = self.list.upgrade() else { return Err(Ended::ListGone) };
                    self.receive(&list, message.get_payload_bytes(), unix_now());
                }
                () = self.state.wake.notified() => self.send_all(&mut commands).await?,
                // A connection that went silent (a partition, no reset) ends here.
                _ = pings.tick() => {
                    let both = async {
                        redis::cmd("PING").query_async::<()>(&mut commands).await?;
                        sink.ping::<redis::Value>().await.map(drop)
                    };
                    tokio::time::timeout(self.timeout, both)
                        .await
                        .map_err(|_| Ended::Failed("a ping timed out".into()))??;
                }
            }
        }
    }

    /// This list's entries into the set, the ones added while away to every instance, then
    /// every entry in the set into this list.
    async fn catch_up(&mut self, commands: &mut MultiplexedConnection) -> Result<(), Ended> {
        let Some(list) = self.list.upgrade() else {
            return Err(Ended::ListGone);
        };
        let now = unix_now();
        let own: Vec<Entry> = in_force(&list, now);
        for batch in own.chunks(BATCH) {
            let mut pipe = redis::pipe();
            for entry in batch {
                pipe.zadd(&self.key, entry.json(), entry.score()).ignore();
            }
            pipe.query_async::<()>(commands).await?;
        }
        let pending = std::mem::take(&mut self.pending);
        for batch in pending.chunks(BATCH) {
            self.publish(commands, batch).await?;
        }
        self.send_all(commands).await?;
        let members: Vec<Vec<u8>> = redis::pipe()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&self.key)
            .arg("-inf")
            .arg(format!("({now}"))
            .ignore()
            .cmd("ZRANGEBYSCORE")
            .arg(&self.key)
            .arg(now)
            .arg("+inf")
            .arg("LIMIT")
            .arg(0)
            .arg(list.max_entries())
            .query_async::<(Vec<Vec<u8>>,)>(commands)
            .await?
            .0;
        for member in &members {
            self.receive(&list, member, now);
        }
        Ok(())
    }

    /// Stores `entries` in the set and publishes them.
    async fn publish(
        &self,
        commands: &mut MultiplexedConnection,
        entries: &[Entry],
    ) -> redis::RedisResult<()> {
        let mut pipe = redis::pipe();
        for entry in entries {
            let json = entry.json();
            pipe.zadd(&self.key, &json, entry.score()).ignore();
            pipe.publish(&self.key, json).ignore();
        }
        pipe.query_async::<()>(commands).await?;
        let count = entries.len() as u64;
        self.state.published.fetch_add(count, Ordering::Relaxed);
        crate::metrics::redis_entries("published", count);
        Ok(())
    }

    /// When revocations were lost to a full outbox or a full pending list: every entry.
    async fn send_all(&mut self, commands: &mut MultiplexedConnection) -> Result<(), Ended> {
        if !self.state.send_all.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        let Some(list) = self.list.upgrade() else {
            return Err(Ended::ListGone);
        };
        for batch in in_force(&list, unix_now()).chunks(BATCH) {
            self.publish(commands, batch).await?;
        }
        Ok(())
    }

    /// Applies an entry from Redis, or drops it.
    fn receive(&self, list: &RevocationList, bytes: &[u8], now: i64) {
        let applied = Entry::parse(bytes, now).is_some_and(|entry| {
            matches!(
                list.apply(entry.what, &entry.id, entry.time),
                Revoked::Added | Revoked::Extended | Revoked::AddedByEvicting
            )
        });
        let (counter, result) = match applied {
            true => (&self.state.applied, "applied"),
            false => (&self.state.dropped, "dropped"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        crate::metrics::redis_entries(result, 1);
    }

    /// Keeps a revocation added while Redis is away, to publish on reconnecting.
    fn keep(&mut self, entry: Entry) {
        if self.pending.len() < MAX_PENDING {
            self.pending.push(entry);
        } else {
            self.state.send_all.store(true, Ordering::Relaxed);
        }
    }

    fn set_connected(&self, connected: bool) {
        self.state.connected.store(connected, Ordering::Relaxed);
        crate::metrics::redis_connected(connected);
    }
}

fn in_force(list: &RevocationList, now: i64) -> Vec<Entry> {
    let entries = list.in_force(now).into_iter();
    entries
        .map(|(what, id, time)| Entry {
            what,
            id: id.as_ref().into(),
            time,
        })
        .collect()
}

fn unix_now() -> i64 {
    unix(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_from_redis_are_checked() {
        let now = 1_800_000_000;
        let ok = br#"{"what":"jti","id":"abc","time":1800000100}"#;
        assert_eq!(Entry::parse(ok, now).unwrap().id.as_ref(), "abc");
        let user = br#"{"what":"user","id":"alice","time":1800000000}"#;
        assert!(Entry::parse(user, now).is_some());
        for bad in [
            &br#"{"what":"jti","id":"","time":1800000100}"#[..],
            br#"{"what":"nope","id":"a","time":1800000100}"#,
            br#"{"what":"jti","id":"a","time":"1800000100"}"#,
            br#"{"what":"jti","id":"a","time":1800000100,"extra":1}"#,
            br#"{"what":"jti","id":"a","time":1900000000}"#,
            br#"not json"#,
        ] {
            assert!(
                Entry::parse(bad, now).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!(
            r#"{{"what":"jti","id":"{}","time":1800000100}}"#,
            "a".repeat(1025)
        );
        assert!(Entry::parse(long.as_bytes(), now).is_none());
        let longest = format!(
            r#"{{"what":"jti","id":"{}","time":1800000100}}"#,
            "a".repeat(1024)
        );
        assert!(Entry::parse(longest.as_bytes(), now).is_some());
    }
}
