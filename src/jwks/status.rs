//! A snapshot of a key store, for health endpoints and logs.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

/// The state of one user pool's key store at one moment.
///
/// Serializes to JSON with times as Unix seconds, ready for a health endpoint:
///
/// ```json
/// {"user_pool_id":"eu-west-1_AbC123456","jwks_url":"https://...","usable":true,
///  "keys_loaded":2,"key_ids":["..."],"skipped_keys":[],"last_refresh":1767225600,
///  "last_error":null,"last_error_at":null,"consecutive_failures":0,"fetches":3,
///  "refreshing_in_background":true,
///  "locations":[{"url":"https://...","serving":true,"fetches":3,"last_success":1767225600,
///                "last_error":null,"last_error_at":null}]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct KeyStoreStatus {
    /// The user pool.
    pub user_pool_id: String,
    /// Where its current keys came from (before the first answer: the first location to be
    /// asked); `None` for a key set given in memory.
    pub jwks_url: Option<String>,
    /// True when tokens can be verified: keys are loaded and not older than the maximum
    /// staleness.
    pub usable: bool,
    /// How many usable keys are loaded.
    pub keys_loaded: usize,
    /// Their key ids, sorted.
    pub key_ids: Vec<String>,
    /// Why keys of the last JWKS document fetched were skipped, one `kid: reason` each: another
    /// `kty`, a modulus under 2048 bits, a bad exponent, a kid listed twice with different
    /// keys. Kept when a later fetch fails before a document is read.
    pub skipped_keys: Vec<String>,
    /// When a fetch last succeeded (a 200 with usable keys, or a 304).
    #[serde(serialize_with = "unix_seconds")]
    pub last_refresh: Option<SystemTime>,
    /// What went wrong in the last failed fetch, if any fetch failed since the store started.
    pub last_error: Option<String>,
    /// When that fetch failed.
    #[serde(serialize_with = "unix_seconds")]
    pub last_error_at: Option<SystemTime>,
    /// Failed fetches since the last success.
    pub consecutive_failures: u32,
    /// Fetches attempted since the store started.
    pub fetches: u64,
    /// True while the background refresh runs. False for keys given in memory, and when the
    /// task stopped with the runtime it was started on: the next verification that needs the
    /// keys starts it again on its own runtime.
    pub refreshing_in_background: bool,
    /// Every location the keys are fetched from, in the configured order (one for most pools;
    /// one per region for a replicated pool); empty for a key set given in memory.
    pub locations: Vec<KeyLocationStatus>,
}

/// The state of one location of a pool's key set, within [`KeyStoreStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct KeyLocationStatus {
    /// The URL, without credentials.
    pub url: String,
    /// True when the current key set is this location's answer.
    pub serving: bool,
    /// Requests sent to it.
    pub fetches: u64,
    /// When it last answered with a usable set (or a 304).
    #[serde(serialize_with = "unix_seconds")]
    pub last_success: Option<SystemTime>,
    /// Its last failure, if it ever failed.
    pub last_error: Option<String>,
    /// When that was.
    #[serde(serialize_with = "unix_seconds")]
    pub last_error_at: Option<SystemTime>,
}

fn unix_seconds<S: Serializer>(time: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match time.and_then(|t| t.duration_since(UNIX_EPOCH).ok()) {
        Some(since) => s.serialize_some(&since.as_secs()),
        None => s.serialize_none(),
    }
}
