//! Metrics through the [`metrics`](https://docs.rs/metrics) facade, with the `metrics` cargo
//! feature: the application installs the recorder (a Prometheus exporter, say). Without the
//! feature every function here is an empty `#[inline]` body: no code, no dependency.
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `cognito_verifications_total` | counter | `outcome`, `kind`, `token_use` | every verification: `outcome` is `accepted`, `invalid` (401), `forbidden` (403) or `unavailable` (503); `kind` is `none` or the [`ErrorKind`] in snake case (`expired`, `invalid_signature`, `revoked`, ...); `token_use` is `id`, `access`, or `unknown` for a token refused before its claims were verified |
//! | `cognito_token_cache_requests_total` | counter | `result` (`hit`, `miss`) | lookups in the verified-token cache (a hit whose key left the set counts as a miss) |
//! | `cognito_jwks_fetches_total` | counter | `pool`, `result` | key fetches: `ok`, `not_modified`, `timeout`, `request`, `status`, `too_large`, `invalid_document`, `no_usable_keys`, `too_many_key_fetches` |
//! | `cognito_jwks_fetch_duration_seconds` | histogram | `pool` | how long each fetch took |
//! | `cognito_jwks_keys_usable` | gauge | `pool` | 1 while the pool's keys are usable (loaded, not stale), else 0 |
//! | `cognito_jwks_last_success_timestamp_seconds` | gauge | `pool` | Unix time of the last good key set: `time() - this` is its age, always current |
//! | `cognito_jwks_key_set_age_seconds` | gauge | `pool` | seconds since the last good key set, as of the last fetch |
//! | `cognito_jwks_unknown_kid_refetches_total` | counter | `pool`, `result` | unknown `kid`s: `started` a fetch, `joined` one in flight, or refused by the `cooldown` |
//! | `cognito_get_user_calls_total` | counter | `result` (`valid`, `revoked`, `error`) | `GetUser` calls of the revocation check |
//! | `cognito_get_user_call_duration_seconds` | histogram | — | how long each `GetUser` call took |
//! | `cognito_revocation_redis_connected` | gauge | — | 1 while a revocation list shared through Redis is connected and caught up, else 0 |
//! | `cognito_revocation_redis_entries_total` | counter | `result` (`applied`, `dropped`, `published`) | entries of a shared revocation list: from Redis applied or dropped (not a valid entry), or published to it |
//!
//! Labels are low-cardinality by construction: `pool` is a configured pool id, never a
//! client's `iss`; no label carries a `sub`, a user name, a token or a `kid`.
//!
//! The key-store gauges are set on every fetch (background refreshes run at least every
//! refresh interval, retries at least every longest retry delay), so `keys_usable` and
//! `key_set_age_seconds` lag by at most that; the timestamp gauge never lags.
//!
//! On the request path the verifier keeps its own counter handles, registered on first use
//! with the recorder of that moment: an increment is one atomic add, no label strings, no
//! lookup.
//!
//! Alert on `time() - cognito_jwks_last_success_timestamp_seconds`, which never lags. A pool
//! removed at run time keeps its last gauge values in the exporter (the facade cannot
//! unregister): drop them with the exporter's idle timeout, or alert only on pools still
//! configured.
//!
//! The application installs the exporter; with `metrics-exporter-prometheus`, three lines:
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use metrics_exporter_prometheus::PrometheusBuilder;
//!
//! # fn app(app: Router) -> Result<Router, Box<dyn std::error::Error>> {
//! let metrics = PrometheusBuilder::new().install_recorder()?;
//! let app = app.route("/metrics", get(move || async move { metrics.render() }));
//! # Ok(app) }
//! ```

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};
#[cfg(feature = "metrics")]
use std::{sync::OnceLock, time::UNIX_EPOCH};

#[cfg(feature = "metrics")]
use crate::error::Error;
use crate::{error::ErrorKind, token_use::TokenUse};

/// The token uses a verification is labelled with: `id`, `access`, `unknown`.
#[cfg(feature = "metrics")]
const USES: usize = 3;

/// Outcomes: accepted, then one per error kind.
#[cfg(feature = "metrics")]
const OUTCOMES: usize = 1 + KINDS;

/// How many error kinds there are: one more with each new kind's slot in `kind_slot`.
#[cfg(feature = "metrics")]
const KINDS: usize = 24;

/// The slot of an error kind among the counter handles, and its label: its name in snake
/// case. One exhaustive match, so that a new kind cannot go uncounted.
#[cfg(feature = "metrics")]
fn kind_slot(kind: ErrorKind) -> (usize, &'static str) {
    match kind {
        ErrorKind::TokenTooLarge => (0, "token_too_large"),
        ErrorKind::Malformed => (1, "malformed"),
        ErrorKind::InvalidHeader => (2, "invalid_header"),
        ErrorKind::UnsupportedAlgorithm => (3, "unsupported_algorithm"),
        ErrorKind::CriticalHeader => (4, "critical_header"),
        ErrorKind::MissingKeyId => (5, "missing_key_id"),
        ErrorKind::UnknownKeyId => (6, "unknown_key_id"),
        ErrorKind::InvalidSignature => (7, "invalid_signature"),
        ErrorKind::InvalidClaims => (8, "invalid_claims"),
        ErrorKind::MissingClaim => (9, "missing_claim"),
        ErrorKind::Expired => (10, "expired"),
        ErrorKind::NotYetValid => (11, "not_yet_valid"),
        ErrorKind::InvalidIssuer => (12, "invalid_issuer"),
        ErrorKind::InvalidTokenUse => (13, "invalid_token_use"),
        ErrorKind::InvalidAudience => (14, "invalid_audience"),
        ErrorKind::InvalidClientId => (15, "invalid_client_id"),
        ErrorKind::MissingGroup => (16, "missing_group"),
        ErrorKind::MissingScope => (17, "missing_scope"),
        ErrorKind::CustomCheck => (18, "custom_check"),
        ErrorKind::Forbidden => (19, "forbidden"),
        ErrorKind::KeysUnavailable => (20, "keys_unavailable"),
        ErrorKind::Revoked => (21, "revoked"),
        ErrorKind::RevocationUnavailable => (22, "revocation_unavailable"),
        ErrorKind::InvalidSigner => (23, "invalid_signer"),
    }
}

/// A verifier's counter handles, registered on first use.
#[derive(Default)]
pub(crate) struct VerifierMetrics {
    #[cfg(feature = "metrics")]
    verifications: [[OnceLock<metrics::Counter>; USES]; OUTCOMES],
    #[cfg(feature = "metrics")]
    cache_hits: OnceLock<metrics::Counter>,
    #[cfg(feature = "metrics")]
    cache_misses: OnceLock<metrics::Counter>,
}

impl VerifierMetrics {
    /// One verification ended: accepted, or refused with `kind`; of `token_use` when its
    /// claims were verified.
    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn verification(&self, kind: Option<ErrorKind>, token_use: Option<TokenUse>) {
        #[cfg(feature = "metrics")]
        {
            let outcome = kind.map_or(0, |kind| 1 + kind_slot(kind).0);
            let use_index = match token_use {
                Some(TokenUse::Id) => 0,
                Some(TokenUse::Access) => 1,
                None => 2,
            };
            // A slot past the table (a kind added without growing `KINDS`) is not counted,
            // never a panic on the request path; the unit test below catches it.
            let Some(handle) = self.verifications.get(outcome).map(|row| &row[use_index]) else {
                return;
            };
            handle
                .get_or_init(|| {
                    let use_label = ["id", "access", "unknown"][use_index];
                    let (outcome, kind) = match kind {
                        None => ("accepted", "none"),
                        Some(kind) => (outcome_label(kind), kind_slot(kind).1),
                    };
                    metrics::counter!(
                        "cognito_verifications_total",
                        "outcome" => outcome,
                        "kind" => kind,
                        "token_use" => use_label
                    )
                })
                .increment(1);
        }
    }

    /// A token was served from the verified-token cache.
    #[inline]
    pub(crate) fn cache_hit(&self) {
        #[cfg(feature = "metrics")]
        self.cache_hits
            .get_or_init(
                || metrics::counter!("cognito_token_cache_requests_total", "result" => "hit"),
            )
            .increment(1);
    }

    /// A token was not in the verified-token cache (or its entry was superseded).
    #[inline]
    pub(crate) fn cache_miss(&self) {
        #[cfg(feature = "metrics")]
        self.cache_misses
            .get_or_init(
                || metrics::counter!("cognito_token_cache_requests_total", "result" => "miss"),
            )
            .increment(1);
    }
}

impl std::fmt::Debug for VerifierMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierMetrics").finish_non_exhaustive()
    }
}

/// `invalid`, `forbidden` or `unavailable`: the class of answer a refusal gets.
#[cfg(feature = "metrics")]
fn outcome_label(kind: ErrorKind) -> &'static str {
    let error = Error::new(kind);
    match (error.is_unavailable(), error.is_forbidden()) {
        (true, _) => "unavailable",
        (false, true) => "forbidden",
        (false, false) => "invalid",
    }
}

/// One key fetch of `pool` ended after `elapsed` with `result` (`ok`, `not_modified`, or the
/// failure's `JwksError::metric_label`); `status` (read only with the feature) gives the
/// gauges.
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn key_fetch(
    pool: &Arc<str>,
    result: &'static str,
    elapsed: Duration,
    status: impl FnOnce() -> (bool, Option<SystemTime>),
) {
    #[cfg(feature = "metrics")]
    {
        let pool = || Arc::clone(pool);
        metrics::counter!("cognito_jwks_fetches_total", "pool" => pool(), "result" => result)
            .increment(1);
        metrics::histogram!("cognito_jwks_fetch_duration_seconds", "pool" => pool())
            .record(elapsed.as_secs_f64());
        let (usable, last_success) = status();
        metrics::gauge!("cognito_jwks_keys_usable", "pool" => pool())
            .set(f64::from(u8::from(usable)));
        if let Some(last) = last_success {
            let since_epoch = last.duration_since(UNIX_EPOCH).unwrap_or_default();
            metrics::gauge!("cognito_jwks_last_success_timestamp_seconds", "pool" => pool())
                .set(since_epoch.as_secs_f64());
            metrics::gauge!("cognito_jwks_key_set_age_seconds", "pool" => pool())
                .set(last.elapsed().unwrap_or_default().as_secs_f64());
        }
    }
}

/// An unknown `kid` of `pool` `started` a fetch, `joined` one, or met the `cooldown`.
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn unknown_kid_refetch(pool: &Arc<str>, result: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "cognito_jwks_unknown_kid_refetches_total",
        "pool" => Arc::clone(pool),
        "result" => result
    )
    .increment(1);
}

/// A `GetUser` call of the revocation check answered `result` after `elapsed`.
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn get_user_call(result: &'static str, elapsed: Duration) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!("cognito_get_user_calls_total", "result" => result).increment(1);
        metrics::histogram!("cognito_get_user_call_duration_seconds").record(elapsed.as_secs_f64());
    }
}

#[cfg(feature = "redis")]
/// A revocation list shared through Redis connected (and caught up) or lost its connection.
#[inline]
pub(crate) fn redis_connected(connected: bool) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("cognito_revocation_redis_connected").set(f64::from(u8::from(connected)));
    #[cfg(not(feature = "metrics"))]
    let _ = connected;
}

#[cfg(feature = "redis")]
/// `count` entries of a shared revocation list `applied`, `dropped` or `published`.
#[inline]
pub(crate) fn redis_entries(result: &'static str, count: u64) {
    #[cfg(feature = "metrics")]
    metrics::counter!("cognito_revocation_redis_entries_total", "result" => result)
        .increment(count);
    #[cfg(not(feature = "metrics"))]
    let _ = (result, count);
}

#[cfg(test)]
#[cfg(feature = "metrics")]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_slot_for_the_last_kind() {
        // Slots are given in the order of `ErrorKind`; the last one fills the table.
        assert_eq!(kind_slot(ErrorKind::InvalidSigner).0 + 1, KINDS);
    }
}
