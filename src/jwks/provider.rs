//! What the verification pipeline asks of a token family's keys: the seam between checking a
//! token and knowing where keys come from.
//!
//! The pipeline looks a key up by `kid` without waiting ([`KeyProvider::with_key`]) and, when
//! the `kid` is unknown, asks once for it to be fetched ([`KeyProvider::refetch`]) before it
//! looks again. The user-pool [`KeyStore`](super::KeyStore) implements this over a whole key set
//! (a refetch reloads the set). A provider that fetches one key per `kid` on first use (the load
//! balancer's keys, one PEM document per `kid`) implements the same two methods over a bounded
//! map of keys, and the pipeline needs no change.

use std::{future::Future, sync::Arc, time::SystemTime};

use super::{JwksError, VerifyingKey};
use crate::error::Error;

/// Why a key was not handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyLookup {
    /// The keys are usable but hold no key of that id.
    Unknown,
    /// The keys were never loaded, or are older than the maximum staleness.
    Unavailable,
}

/// What a refetch for an unknown `kid` did.
#[derive(Debug)]
pub(crate) enum RefetchOutcome {
    /// A fetch finished (this one or one joined) and loaded keys: look again.
    Refreshed,
    /// A fetch finished less than the cooldown ago and loaded keys; none was started. Look
    /// again: that fetch may have finished after the first look.
    CoolingDown,
    /// The fetch failed, or the last one (within the cooldown) did.
    Failed(Option<Arc<JwksError>>),
    /// The keys were given in memory: there is nothing to fetch.
    Fixed,
}

/// Signing keys as the verification pipeline uses them.
pub(crate) trait KeyProvider: Send + Sync + 'static {
    /// Runs `f` with the key named `kid`, if the keys are usable at `now` (the request's one
    /// clock read). The request path: no lock, no await, no network.
    fn with_key<R>(
        &self,
        kid: &str,
        now: SystemTime,
        f: impl FnOnce(&Arc<VerifyingKey>) -> R,
    ) -> Result<R, KeyLookup>;

    /// Called once per verification for a `kid` that [`with_key`](Self::with_key) did not know:
    /// fetches (or joins the fetch in flight), bounded by the fetch timeout, or declines during
    /// a cooldown.
    fn refetch(self: &Arc<Self>, kid: &str) -> impl Future<Output = RefetchOutcome> + Send;

    /// The error for a request that found the keys unusable, with the cause and a retry hint.
    fn unavailable(&self, cause: Option<Arc<JwksError>>) -> Error;
}
