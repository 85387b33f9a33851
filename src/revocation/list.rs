//! The built-in revocation list: tokens revoked by `jti`, by refresh-token family
//! (`origin_jti`), or by user ("tokens of this `sub` issued up to T"), in memory, bounded.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::{
    defaults::{COGNITO_MAX_TOKEN_LIFETIME, DEFAULT_LEEWAY, DEFAULT_REVOCATION_LIST_MAX_ENTRIES},
    lock::{lock, read, write},
    rate_limited_log::RateLimit,
    verified_token::VerifiedToken,
};

/// Shards of the list: a read locks one shard's share, so that readers on many threads do not
/// all touch one lock word.
const SHARDS: usize = 16;

/// What an entry revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(
    feature = "redis",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub(crate) enum What {
    Jti = 0,
    Family = 1,
    User = 2,
}

/// One entry: until when it applies (Unix seconds, grace included), and for a user, the last
/// `iat` it revokes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    until: i64,
    issued_up_to: i64,
}

/// A place in the expiry order: when the entry stops applying, and which entry it is.
type ExpiryKey = (i64, What, Arc<str>);

#[derive(Default)]
struct Shard {
    entries: [HashMap<Arc<str>, Entry>; 3],
    /// The entries by the time they stop applying, soonest first: expiry and eviction.
    by_expiry: BTreeSet<ExpiryKey>,
}

impl Shard {
    fn add(&mut self, what: What, id: Arc<str>, entry: Entry) {
        self.by_expiry.insert((entry.until, what, Arc::clone(&id)));
        self.entries[what as usize].insert(id, entry);
    }

    fn remove(&mut self, until: i64, what: What, id: &Arc<str>) {
        self.entries[what as usize].remove(id);
        self.by_expiry.remove(&(until, what, Arc::clone(id)));
    }
}

struct Inner {
    shards: Box<[RwLock<Shard>]>,
    /// Entries per kind: a read skips a kind that has none, and an empty list costs three
    /// atomic loads.
    counts: [AtomicUsize; 3],
    max_entries: usize,
    grace_secs: i64,
    evictions: AtomicU64,
    /// Writes are rare (revocations); one at a time keeps the count and the bound exact.
    writer: Mutex<()>,
    /// Where this list's own revocations are sent to reach other instances, once shared.
    #[cfg(feature = "redis")]
    shared: std::sync::OnceLock<super::redis_sync::Outbox>,
}

/// The full list's warnings, at most one per window.
static FULL_WARNINGS: RateLimit = RateLimit::new();

/// A full list evicted or refused an entry: live revocations are at risk; size the list above
/// a day's revocations.
fn warn_full(what: &str) {
    FULL_WARNINGS.warn(format_args!(
        "revocation list full: {what}; raise its max_entries"
    ));
}

/// What [`RevocationList::revoke_jti`] and its siblings did. A full list evicts or refuses
/// entries, and says so at WARN (at most once per 10 s) and in
/// [`evictions`](RevocationList::evictions).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// A new entry.
    Added,
    /// An entry for the same id existed; it now lasts as long as the longer of the two (and,
    /// for a user, covers the later of the two times).
    Extended,
    /// The list was full: the entry that would have expired soonest was evicted for this one.
    AddedByEvicting,
    /// The list was full and every entry outlasts this one: it was not added.
    NotAddedFull,
    /// The entry would already have expired: nothing to do.
    AlreadyExpired,
}

/// Tokens revoked before their `exp`: by `jti`, by refresh-token family (`origin_jti`), or by
/// user (every token of a `sub` issued up to a time: what a global sign-out means). Consulted
/// after the standard checks on every verification and every cache hit, when given to
/// [`CognitoVerifierBuilder::revocation_list`](crate::CognitoVerifierBuilder::revocation_list).
///
/// Cheap to clone: clones share the list, so the application keeps one to revoke with while
/// the verifier reads it. Reads take a read share of one of 16 shards; an empty list costs
/// three atomic loads.
///
/// - **Expiry.** An entry applies until the time it was given plus a grace (default 60 s,
///   [`DEFAULT_LEEWAY`], to cover the verifier's leeway on `exp`; building a verifier with a
///   larger leeway than the grace fails). After that it no longer applies, and it is dropped
///   by a later write or by [`purge_expired`](Self::purge_expired).
/// - **Bound.** At most `max_entries` entries (default 100,000,
///   [`DEFAULT_REVOCATION_LIST_MAX_ENTRIES`]; an entry of a UUID takes a few hundred bytes). When the list is full, expired
///   entries are dropped first; if none has expired, the list keeps the entries that protect
///   longest: the one that would expire soonest is evicted for a new one that lasts longer
///   ([`Revoked::AddedByEvicting`]), and a new one that would expire before all others is not
///   added ([`Revoked::NotAddedFull`]). Never unbounded, never a panic.
/// - **By user.** [`revoke_user_before`](Self::revoke_user_before) revokes the tokens of a
///   `sub` whose `iat` is at or before the given time plus the grace (whole seconds; a token
///   without `iat` is compared by `auth_time`, and without either is revoked). The grace
///   allows for clock skew as the leeway does: `iat` is Cognito's clock, the given time this
///   host's. A session started within the grace after the sign-out is revoked too, so keep
///   the grace near the leeway. Pair it with Cognito's `AdminUserGlobalSignOut`, which also
///   revokes the refresh tokens, so that no token issued later comes from an old session.
///   The entry lasts the longest token lifetime ([`COGNITO_MAX_TOKEN_LIFETIME`], a day) past
///   the last `iat` it revokes, plus the grace.
///
/// ```
/// use std::time::SystemTime;
/// use axum_cognito::{ErrorKind, revocation::RevocationList, test_util::TestIssuer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await;
/// let revoked = RevocationList::new(10_000);
/// let verifier = issuer.verifier_builder().revocation_list(revoked.clone()).build().await.unwrap();
///
/// let token = issuer.access_token().sub("alice").sign();
/// assert!(verifier.verify(&token).await.is_ok());
///
/// revoked.revoke_user_before("alice", SystemTime::now()); // alice signed out everywhere
/// assert_eq!(verifier.verify(&token).await.unwrap_err().kind(), ErrorKind::Revoked);
/// # }
/// ```
#[derive(Clone)]
pub struct RevocationList {
    inner: Arc<Inner>,
}

impl Default for RevocationList {
    /// [`DEFAULT_REVOCATION_LIST_MAX_ENTRIES`] entries, a grace of [`DEFAULT_LEEWAY`].
    fn default() -> Self {
        Self::new(DEFAULT_REVOCATION_LIST_MAX_ENTRIES)
    }
}

impl RevocationList {
    /// A list of at most `max_entries` entries, each kept [`DEFAULT_LEEWAY`] past its time.
    pub fn new(max_entries: usize) -> Self {
        Self::with_grace(max_entries, DEFAULT_LEEWAY)
    }

    /// A list of at most `max_entries` entries, each kept `grace` past its time: at least the
    /// verifier's leeway, which accepts a token that long past its `exp`. It is also the clock
    /// skew a [sign-out](Self::revoke_user_before) allows for.
    pub fn with_grace(max_entries: usize, grace: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
                counts: Default::default(),
                max_entries,
                grace_secs: i64::try_from(grace.as_secs()).unwrap_or(i64::MAX),
                evictions: AtomicU64::new(0),
                writer: Mutex::new(()),
                #[cfg(feature = "redis")]
                shared: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Revokes the token whose `jti` is `jti`, until `exp` (its expiry) plus the grace.
    pub fn revoke_jti(&self, jti: &str, exp: SystemTime) -> Revoked {
        self.revoke(What::Jti, jti, unix(exp))
    }

    /// Revokes every token whose `origin_jti` is `origin_jti` (the whole family of one refresh
    /// token), until `until` plus the grace. Pass when the family's last token expires: with
    /// the refresh token also revoked at Cognito (`RevokeToken`), now plus the app client's
    /// token validity.
    pub fn revoke_family(&self, origin_jti: &str, until: SystemTime) -> Revoked {
        self.revoke(What::Family, origin_jti, unix(until))
    }

    /// Revokes `token` by its `jti` until its `exp`; a token without `jti`, by its family
    /// until its `exp`. `None` for a token with neither: nothing could be revoked.
    pub fn revoke_token(&self, token: &VerifiedToken) -> Option<Revoked> {
        let (what, id) = match (token.jti(), token.origin_jti()) {
            (Some(jti), _) => (What::Jti, jti),
            (None, Some(family)) => (What::Family, family),
            (None, None) => return None,
        };
        Some(self.revoke(what, id, token.exp()))
    }

    /// Revokes every token of `sub` issued at or before `before` plus the grace (whole
    /// seconds): a host whose clock is behind Cognito's sees a token issued just before the
    /// sign-out with an `iat` after `before`. Lasts until the longest token lifetime after
    /// that, plus the grace.
    pub fn revoke_user_before(&self, sub: &str, before: SystemTime) -> Revoked {
        self.revoke(What::User, sub, unix(before))
    }

    /// Applies an entry here and, when the list is shared, sends it to the other instances.
    fn revoke(&self, what: What, id: &str, time: i64) -> Revoked {
        let outcome = self.apply(what, id, time);
        #[cfg(feature = "redis")]
        if let Some(outbox) = self.inner.shared.get()
            && !matches!(outcome, Revoked::AlreadyExpired | Revoked::NotAddedFull)
        {
            outbox.send(what, id, time);
        }
        outcome
    }

    /// Applies an entry here only: `time` is a jti's `exp`, a family's end, or the time of a
    /// user's sign-out.
    pub(crate) fn apply(&self, what: What, id: &str, time: i64) -> Revoked {
        if what != What::User {
            return self.insert(what, id, time, 0);
        }
        let issued_up_to = time.saturating_add(self.inner.grace_secs);
        let lifetime = i64::try_from(COGNITO_MAX_TOKEN_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        let last_exp = issued_up_to.saturating_add(lifetime);
        self.insert(What::User, id, last_exp, issued_up_to)
    }

    /// The entries that still apply at `now`, each as [`apply`](Self::apply) takes it.
    #[cfg(feature = "redis")]
    pub(crate) fn in_force(&self, now: i64) -> Vec<(What, Arc<str>, i64)> {
        let grace = self.inner.grace_secs;
        let mut entries = Vec::with_capacity(self.len());
        for shard in self.inner.shards.iter() {
            let shard = read(shard);
            for (until, what, id) in shard.by_expiry.range((now, What::Jti, Arc::from(""))..) {
                let time = match what {
                    What::User => shard.entries[*what as usize][id].issued_up_to,
                    _ => *until,
                };
                entries.push((*what, Arc::clone(id), time.saturating_sub(grace)));
            }
        }
        entries
    }

    /// Sends this list's own revocations to `outbox` from now on; false if it already was.
    #[cfg(feature = "redis")]
    pub(crate) fn share(&self, outbox: super::redis_sync::Outbox) -> bool {
        self.inner.shared.set(outbox).is_ok()
    }

    /// The state of its sharing through Redis; `None` for a list that is not shared.
    #[cfg(feature = "redis")]
    pub fn redis_status(&self) -> Option<super::RedisSyncStatus> {
        self.inner
            .shared
            .get()
            .map(super::redis_sync::Outbox::status)
    }

    /// A handle that does not keep the list alive.
    #[cfg(feature = "redis")]
    pub(crate) fn downgrade(&self) -> WeakList {
        WeakList(Arc::downgrade(&self.inner))
    }

    /// True when `token` is revoked at `now` (Unix seconds).
    pub(crate) fn revokes(&self, token: &VerifiedToken, now: i64) -> bool {
        let inner = &*self.inner;
        let applies = |what: What, id: Option<&str>| -> Option<Entry> {
            let id = id?;
            if inner.counts[what as usize].load(Ordering::Relaxed) == 0 {
                return None;
            }
            let entry = *read(&inner.shards[shard_of(id)]).entries[what as usize].get(id)?;
            (now <= entry.until).then_some(entry)
        };
        if applies(What::Jti, token.jti()).is_some()
            || applies(What::Family, token.origin_jti()).is_some()
        {
            return true;
        }
        applies(What::User, Some(token.sub())).is_some_and(|entry| {
            token
                .iat()
                .or(token.auth_time())
                .is_none_or(|issued| issued <= entry.issued_up_to)
        })
    }

    /// True when `token` is revoked now.
    pub fn is_revoked(&self, token: &VerifiedToken) -> bool {
        self.revokes(token, unix(SystemTime::now()))
    }

    /// Entries held, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        let counts = self.inner.counts.iter();
        counts.map(|count| count.load(Ordering::Relaxed)).sum()
    }

    /// True when the list holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most entries the list holds.
    pub fn max_entries(&self) -> usize {
        self.inner.max_entries
    }

    /// How long an entry is kept past its time.
    pub fn grace(&self) -> Duration {
        Duration::from_secs(u64::try_from(self.inner.grace_secs).unwrap_or(0))
    }

    /// Entries evicted because the list was full, since it was made.
    pub fn evictions(&self) -> u64 {
        self.inner.evictions.load(Ordering::Relaxed)
    }

    /// Drops the entries that no longer apply; returns how many. Writes do it too, so calling
    /// it is only needed to free memory in a list nobody writes to.
    pub fn purge_expired(&self) -> usize {
        let _writer = lock(&self.inner.writer);
        self.purge(unix(SystemTime::now()))
    }

    fn insert(&self, what: What, id: &str, time: i64, issued_up_to: i64) -> Revoked {
        let inner = &*self.inner;
        let now = unix(SystemTime::now());
        let until = time.saturating_add(inner.grace_secs);
        if until < now {
            return Revoked::AlreadyExpired;
        }
        let _writer = lock(&self.inner.writer);
        {
            let mut shard = write(&inner.shards[shard_of(id)]);
            if let Some(old) = shard.entries[what as usize].get(id).copied() {
                // Nothing new (a repeat, or an instance's own entry echoed back by Redis):
                // readers of the shard are not held up by a rewrite.
                if old.until >= until && old.issued_up_to >= issued_up_to {
                    return Revoked::Extended;
                }
                let id: Arc<str> = id.into();
                shard.remove(old.until, what, &id);
                let entry = Entry {
                    until: old.until.max(until),
                    issued_up_to: old.issued_up_to.max(issued_up_to),
                };
                shard.add(what, id, entry);
                return Revoked::Extended;
            }
        }
        let mut outcome = Revoked::Added;
        if self.len() >= inner.max_entries && self.purge(now) == 0 {
            match self.soonest() {
                Some((shard, soonest)) if soonest.0 < until => {
                    let mut shard = write(&inner.shards[shard]);
                    shard.remove(soonest.0, soonest.1, &soonest.2);
                    inner.counts[soonest.1 as usize].fetch_sub(1, Ordering::Relaxed);
                    inner.evictions.fetch_add(1, Ordering::Relaxed);
                    warn_full("evicted the entry that expires soonest to add a new one");
                    outcome = Revoked::AddedByEvicting;
                }
                _ => {
                    warn_full("a new entry that would expire before every other was not added");
                    return Revoked::NotAddedFull;
                }
            }
        }
        let entry = Entry {
            until,
            issued_up_to,
        };
        write(&inner.shards[shard_of(id)]).add(what, id.into(), entry);
        inner.counts[what as usize].fetch_add(1, Ordering::Relaxed);
        outcome
    }

    /// Drops every entry whose time passed before `now`; the writer lock is held.
    fn purge(&self, now: i64) -> usize {
        let mut purged = 0;
        for shard in self.inner.shards.iter() {
            let mut shard = write(shard);
            while let Some(first) = shard.by_expiry.first().filter(|(until, ..)| *until < now) {
                let (until, what, id) = first.clone();
                shard.remove(until, what, &id);
                self.inner.counts[what as usize].fetch_sub(1, Ordering::Relaxed);
                purged += 1;
            }
        }
        purged
    }

    /// The entry that stops applying soonest, and its shard; the writer lock is held.
    fn soonest(&self) -> Option<(usize, ExpiryKey)> {
        self.inner
            .shards
            .iter()
            .enumerate()
            .filter_map(|(index, shard)| {
                let shard = read(shard);
                shard.by_expiry.first().cloned().map(|first| (index, first))
            })
            .min_by_key(|(_, first)| first.0)
    }
}

/// A [`RevocationList`] that is gone once every clone of it is.
#[cfg(feature = "redis")]
pub(crate) struct WeakList(std::sync::Weak<Inner>);

#[cfg(feature = "redis")]
impl WeakList {
    pub(crate) fn upgrade(&self) -> Option<RevocationList> {
        self.0.upgrade().map(|inner| RevocationList { inner })
    }
}

/// The shard of an id: FNV-1a of its last 16 bytes (ids are UUIDs; the maps inside hash with
/// a random key, so an id chosen to collide here only shares a lock).
fn shard_of(id: &str) -> usize {
    let bytes = id.as_bytes();
    let tail = &bytes[bytes.len().saturating_sub(16)..];
    let hash = tail.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    });
    (hash % SHARDS as u64) as usize
}

/// Unix seconds; before 1970 reads as 0.
pub(super) fn unix(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl std::fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationList")
            .field("len", &self.len())
            .field("max_entries", &self.inner.max_entries)
            .field("grace_secs", &self.inner.grace_secs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn full_list_keeps_the_entries_that_protect_longest() {
        let list = RevocationList::with_grace(3, Duration::ZERO);
        let now = SystemTime::now();
        for (i, ahead) in [100, 200, 300].into_iter().enumerate() {
            assert_eq!(
                list.revoke_jti(&format!("j{i}"), now + secs(ahead)),
                Revoked::Added
            );
        }
        assert_eq!(
            list.revoke_jti("short", now + secs(50)),
            Revoked::NotAddedFull
        );
        assert_eq!(
            list.revoke_jti("long", now + secs(400)),
            Revoked::AddedByEvicting
        );
        assert_eq!((list.len(), list.evictions()), (3, 1));
        assert_eq!(list.revoke_jti("long", now + secs(500)), Revoked::Extended);
        assert_eq!(list.len(), 3);
        assert_eq!(
            list.revoke_jti("past", now - secs(5)),
            Revoked::AlreadyExpired
        );
    }

    #[test]
    fn shards_spread_uuids() {
        let mut seen = [0_usize; SHARDS];
        for i in 0..1600_u32 {
            seen[shard_of(&format!("{i:08x}-1234-4abc-8def-{:012x}", i * 7919))] += 1;
        }
        assert!(seen.iter().all(|n| *n > 40), "{seen:?}");
    }
}
