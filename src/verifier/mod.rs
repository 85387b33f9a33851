//! The verifier: every check of a Cognito token, in order, against the keys of its user pool.
//!
//! The checks, each with its own [`ErrorKind`]:
//!
//! 1. size, before any decoding ([`ErrorKind::TokenTooLarge`]);
//! 2. exactly three unpadded base64url segments ([`ErrorKind::Malformed`]);
//! 3. the header is JSON ([`ErrorKind::InvalidHeader`]), `alg` is `RS256`
//!    ([`ErrorKind::UnsupportedAlgorithm`]: `none`, `HS*`, `RS384/512`, `PS*`, `ES*` are refused
//!    before any key is touched), no `crit` ([`ErrorKind::CriticalHeader`]), a `kid`
//!    ([`ErrorKind::MissingKeyId`]); `jku`, `x5u`, `x5c` and `jwk` are never read;
//! 4. the payload is a JSON object with no duplicate checked claim
//!    ([`ErrorKind::InvalidClaims`]), with an `iss` ([`ErrorKind::MissingClaim`]) that names a
//!    configured pool ([`ErrorKind::InvalidIssuer`]). The pool is chosen before the key lookup,
//!    so a token of a foreign issuer never causes a fetch, and a key of one pool never
//!    verifies a token that names another;
//! 5. the `kid` is in that pool's key set, refetched once if not ([`ErrorKind::UnknownKeyId`];
//!    [`ErrorKind::KeysUnavailable`] when the keys are unusable);
//! 6. the signature ([`ErrorKind::InvalidSignature`]);
//! 7. `token_use`, `exp` and `sub` are present ([`ErrorKind::MissingClaim`]);
//! 8. `exp` with the leeway ([`ErrorKind::Expired`]), then `nbf` when present
//!    ([`ErrorKind::NotYetValid`]);
//! 9. `token_use` is allowed by the verifier and the call ([`ErrorKind::InvalidTokenUse`]);
//! 10. `aud` of an ID token ([`ErrorKind::InvalidAudience`]) or `client_id` of an access token
//!     ([`ErrorKind::InvalidClientId`]) is an allowed app client;
//! 11. group and scope rules ([`ErrorKind::MissingGroup`], [`ErrorKind::MissingScope`]), then
//!     custom checks ([`ErrorKind::CustomCheck`]);
//! 12. the claims fit the requested type ([`ErrorKind::InvalidClaims`]).
//!
//! From step 7 on, a failure carries the verified claims
//! ([`Error::verified_claims_json`]).

mod builder;
mod requirements;
mod user_pool;

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Serialize, de::DeserializeOwned};

pub use builder::{
    CognitoVerifierBuilder, ConfigError, DEFAULT_FETCH_TIMEOUT, DEFAULT_FIRST_RETRY,
    DEFAULT_LEEWAY, DEFAULT_MAX_JWKS_BYTES, DEFAULT_MAX_RETRY, DEFAULT_MAX_STALENESS,
    DEFAULT_MAX_TOKEN_BYTES, DEFAULT_MIN_REFRESH_INTERVAL, DEFAULT_REFRESH_INTERVAL,
    DEFAULT_TOKEN_CACHE_BYTES, DEFAULT_UNKNOWN_KID_COOLDOWN,
};
pub use requirements::TokenRequirements;
pub use user_pool::UserPool;

use crate::{
    AccessClaims, Error, ErrorKind, IdClaims, TokenClaims, TokenUse, VerifiedToken,
    claims::RegisteredClaims,
    compact_token::{CompactToken, Header},
    jwks::{KeyLookup, KeyStore, KeyStoreStatus, RefetchOutcome},
    token_cache::TokenCache,
    verified_token::Provenance,
};
use user_pool::AppClients;

/// Verifies Cognito user-pool tokens. Cheap to clone: clones share one key store per pool.
///
/// Build it with [`CognitoVerifier::builder`]. The background refresh tasks end when the last
/// clone is dropped.
///
/// ```no_run
/// use axum_cognito::{CognitoVerifier, TokenUse};
///
/// # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = CognitoVerifier::builder()
///     .user_pool("eu-west-1_AbC123456")
///     .client_id("1example23456789")
///     .token_use(TokenUse::Id)
///     .build()
///     .await?;
///
/// let claims = verifier.verify_id(token).await?;
/// println!("hello {} ({})", claims.username, claims.sub);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CognitoVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    pools: Vec<TrustedPool>,
    /// `None`: both ID and access tokens.
    allowed_use: Option<TokenUse>,
    requirements: TokenRequirements,
    leeway_secs: i64,
    max_token_bytes: usize,
    fetch_timeout: Duration,
    cache: Option<Arc<TokenCache>>,
}

struct TrustedPool {
    id: Arc<str>,
    issuers: Vec<String>,
    clients: AppClients,
    store: Arc<KeyStore>,
}

/// The state of every pool's key store, for a health endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VerifierStatus {
    /// True when every pool's keys are usable.
    pub usable: bool,
    /// One entry per pool, in the order they were added.
    pub pools: Vec<KeyStoreStatus>,
    /// Tokens in the verified-token cache.
    pub cached_tokens: usize,
}

/// The first pass over a token either ends, or stops at an unknown `kid` of the pool at this
/// index so that the caller may refetch and try again.
enum Attempt<C> {
    Done(Result<C, Error>),
    UnknownKid(usize),
}

/// Why the standard checks stopped.
enum Stop {
    Failed(Error),
    UnknownKid(usize),
}

impl From<Error> for Stop {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

impl CognitoVerifier {
    /// A builder with every default; see [`CognitoVerifierBuilder`].
    pub fn builder() -> CognitoVerifierBuilder {
        CognitoVerifierBuilder::default()
    }

    /// Verifies an ID or access token, as the verifier's token use allows.
    ///
    /// # Errors
    ///
    /// An [`Error`] whose [`kind`](Error::kind) names the failed check.
    pub async fn verify(&self, token: &str) -> Result<TokenClaims, Error> {
        self.verify_with(token, &TokenRequirements::new(), &typed_claims)
            .await
    }

    /// Verifies an ID token.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify); an access token fails with [`ErrorKind::InvalidTokenUse`].
    pub async fn verify_id(&self, token: &str) -> Result<IdClaims, Error> {
        let requirements = TokenRequirements::new().token_use(TokenUse::Id);
        self.verify_with(token, &requirements, &typed_claims).await
    }

    /// Verifies an access token.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify); an ID token fails with [`ErrorKind::InvalidTokenUse`].
    pub async fn verify_access(&self, token: &str) -> Result<AccessClaims, Error> {
        let requirements = TokenRequirements::new().token_use(TokenUse::Access);
        self.verify_with(token, &requirements, &typed_claims).await
    }

    /// Verifies a token against the verifier's rules and `requirements`, and reads its claims
    /// as `C`: [`IdClaims`], [`AccessClaims`], [`TokenClaims`], or a type of your own.
    ///
    /// An unknown `kid` causes one refetch of the pool's keys, shared with every concurrent
    /// request and skipped during the cooldown; the wait is bounded by the fetch timeout.
    ///
    /// # Errors
    ///
    /// An [`Error`] whose [`kind`](Error::kind) names the failed check.
    pub async fn verify_as<C: DeserializeOwned>(
        &self,
        token: &str,
        requirements: &TokenRequirements,
    ) -> Result<C, Error> {
        self.verify_with(token, requirements, &deserialize_claims::<C>)
            .await
    }

    /// The first pass without network; on an unknown `kid`, one shared refetch and a second
    /// pass.
    async fn verify_with<T, F>(
        &self,
        token: &str,
        requirements: &TokenRequirements,
        finish: &F,
    ) -> Result<T, Error>
    where
        F: Fn(&VerifiedToken) -> Result<T, Error>,
    {
        let index = match self.attempt(token, requirements, finish) {
            Attempt::Done(result) => return result,
            Attempt::UnknownKid(index) => index,
        };
        let store = &self.inner.pools[index].store;
        match store.refetch_for_unknown_kid().await {
            // During the cooldown, the fetch that started it may have swapped in a new set after
            // the first pass looked: look once more, without fetching.
            RefetchOutcome::Refreshed | RefetchOutcome::CoolingDown => {
                match self.attempt(token, requirements, finish) {
                    Attempt::Done(result) => result,
                    Attempt::UnknownKid(_) => Err(Error::new(ErrorKind::UnknownKeyId)),
                }
            }
            RefetchOutcome::Fixed => Err(Error::new(ErrorKind::UnknownKeyId)),
            RefetchOutcome::Failed(error) => Err(store.unavailable(error)),
        }
    }

    /// For the HTTP layer: verifies without touching the network. `None` when the `kid` is
    /// unknown and a refetch may find it ([`verify_token`](Self::verify_token) does).
    pub(crate) fn verify_token_now(
        &self,
        token: &str,
        requirements: &TokenRequirements,
    ) -> Option<Result<VerifiedToken, Error>> {
        match self.attempt(token, requirements, &|verified| Ok(verified.clone())) {
            Attempt::Done(result) => Some(result),
            Attempt::UnknownKid(_) => None,
        }
    }

    /// For the HTTP layer: verifies, refetching the keys on an unknown `kid`.
    pub(crate) async fn verify_token(
        &self,
        token: &str,
        requirements: &TokenRequirements,
    ) -> Result<VerifiedToken, Error> {
        self.verify_with(token, requirements, &|verified| Ok(verified.clone()))
            .await
    }

    /// For stacked layers and handler guards: checks `requirements` (token use, groups,
    /// scopes, custom checks) against a token this verifier already verified in this request.
    pub(crate) fn recheck(
        verified: &VerifiedToken,
        requirements: &TokenRequirements,
    ) -> Result<(), Error> {
        requirements
            .check(verified)
            .map_err(|error| error.with_verified_claims(verified.payload()))
    }

    /// Identifies this verifier (and its clones) for as long as it lives.
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// Verifies with the keys already loaded, never touching the network (the Python
    /// library's synchronous mode). An unknown `kid` fails with [`ErrorKind::UnknownKeyId`];
    /// keys never loaded or too stale fail with [`ErrorKind::KeysUnavailable`].
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    pub fn verify_sync(&self, token: &str) -> Result<TokenClaims, Error> {
        match self.attempt(token, &TokenRequirements::new(), &typed_claims) {
            Attempt::Done(result) => result,
            Attempt::UnknownKid(_) => Err(Error::new(ErrorKind::UnknownKeyId)),
        }
    }

    /// [`verify_as`](Self::verify_as) with the keys already loaded, never touching the
    /// network.
    ///
    /// # Errors
    ///
    /// As [`verify_sync`](Self::verify_sync).
    pub fn verify_as_sync<C: DeserializeOwned>(
        &self,
        token: &str,
        requirements: &TokenRequirements,
    ) -> Result<C, Error> {
        match self.attempt(token, requirements, &deserialize_claims::<C>) {
            Attempt::Done(result) => result,
            Attempt::UnknownKid(_) => Err(Error::new(ErrorKind::UnknownKeyId)),
        }
    }

    /// Fetches every pool's keys now, joining a fetch in flight.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::KeysUnavailable`], with the fetch error as its source, when a pool's fetch
    /// failed; its last good keys are kept.
    pub async fn refresh(&self) -> Result<(), Error> {
        for pool in &self.inner.pools {
            if let Err(error) = pool.store.refresh().await {
                return Err(pool.store.unavailable(error));
            }
        }
        Ok(())
    }

    /// The key stores' state, for a health endpoint.
    pub fn status(&self) -> VerifierStatus {
        let pools: Vec<KeyStoreStatus> =
            self.inner.pools.iter().map(|p| p.store.status()).collect();
        VerifierStatus {
            usable: pools.iter().all(|p| p.usable),
            pools,
            cached_tokens: self.inner.cache.as_ref().map_or(0, |c| c.len()),
        }
    }

    /// True when every pool's keys are usable.
    pub fn is_usable(&self) -> bool {
        self.status().usable
    }

    /// The standard checks (from the cache or in full), then the rules, then `finish`.
    fn attempt<T, F>(&self, token: &str, requirements: &TokenRequirements, finish: &F) -> Attempt<T>
    where
        F: Fn(&VerifiedToken) -> Result<T, Error>,
    {
        let verified = match self.standard_checks(token) {
            Ok(verified) => verified,
            Err(Stop::Failed(error)) => return Attempt::Done(Err(error)),
            Err(Stop::UnknownKid(index)) => return Attempt::UnknownKid(index),
        };
        let result = self
            .inner
            .requirements
            .check(&verified)
            .and_then(|()| requirements.check(&verified))
            .and_then(|()| finish(&verified))
            .map_err(|error| error.with_verified_claims(verified.payload()));
        Attempt::Done(result)
    }

    /// Everything but the rules: from the token cache when it holds the token and the entry is
    /// still good, else in full (and then cached).
    fn standard_checks(&self, token: &str) -> Result<VerifiedToken, Stop> {
        let Some(cache) = &self.inner.cache else {
            return self.verify_in_full(token);
        };
        if let Some(hit) = cache.get(token) {
            match self.still_good(&hit) {
                Ok(true) => return Ok(hit),
                Ok(false) => cache.remove(token),
                Err(error) => {
                    if error.kind() == ErrorKind::Expired {
                        cache.remove(token);
                    }
                    return Err(Stop::Failed(error));
                }
            }
        }
        let verified = self.verify_in_full(token)?;
        cache.insert(token, verified.clone());
        Ok(verified)
    }

    /// Whether a cached token may be used: `Ok(false)` when its key has left the key set (the
    /// token is then verified in full again), an error when it has expired or the keys are
    /// unusable.
    fn still_good(&self, hit: &VerifiedToken) -> Result<bool, Error> {
        let store = &self.inner.pools[hit.pool_index()].store;
        match store.with_key(hit.kid(), |key| hit.verified_by(key)) {
            Ok(true) => {}
            Ok(false) | Err(KeyLookup::Unknown) => return Ok(false),
            Err(KeyLookup::Unavailable) => return Err(store.unavailable(None)),
        }
        if unix_now() > hit.exp().saturating_add(self.inner.leeway_secs) {
            return Err(Error::new(ErrorKind::Expired).with_verified_claims(hit.payload()));
        }
        Ok(true)
    }

    /// The checks before the rules, in the documented order.
    fn verify_in_full(&self, token: &str) -> Result<VerifiedToken, Stop> {
        let inner = &*self.inner;
        let parts = CompactToken::split(token, inner.max_token_bytes)?;
        let header_json = parts.header_json()?;
        let header = Header::parse(&header_json)?;
        let invalid_claims = || Error::new(ErrorKind::InvalidClaims);
        let payload = String::from_utf8(parts.payload_json()?).map_err(|_| invalid_claims())?;
        let claims = RegisteredClaims::parse(&payload).map_err(|_| invalid_claims())?;
        let iss = claims
            .iss
            .as_deref()
            .ok_or_else(|| Error::missing_claim("iss"))?;
        let pool_index = inner
            .pools
            .iter()
            .position(|pool| pool.issuers.iter().any(|i| i == iss))
            .ok_or_else(|| Error::new(ErrorKind::InvalidIssuer))?;
        let pool = &inner.pools[pool_index];
        let key = match pool.store.with_key(header.kid(), |key| {
            parts.verify_signature(key).map(|()| Arc::clone(key))
        }) {
            Ok(verified) => verified?,
            Err(KeyLookup::Unknown) => return Err(Stop::UnknownKid(pool_index)),
            Err(KeyLookup::Unavailable) => return Err(pool.store.unavailable(None).into()),
        };
        let (token_use, exp) = self
            .check_claims(&claims, pool)
            .map_err(|error| error.with_verified_claims(payload.as_bytes()))?;
        let provenance = Provenance {
            verifier_id: self.id(),
            pool_index,
            pool_id: Arc::clone(&pool.id),
            key,
        };
        Ok(VerifiedToken::new(
            provenance, token_use, exp, &claims, &payload,
        ))
    }

    /// The claim checks after the signature, in the documented order, up to the app client.
    fn check_claims(
        &self,
        claims: &RegisteredClaims<'_>,
        pool: &TrustedPool,
    ) -> Result<(TokenUse, i64), Error> {
        let inner = &*self.inner;
        let token_use = claims
            .token_use
            .as_deref()
            .ok_or_else(|| Error::missing_claim("token_use"))?;
        let exp = claims.exp.ok_or_else(|| Error::missing_claim("exp"))?;
        if claims.sub.is_none() {
            return Err(Error::missing_claim("sub"));
        }
        let now = unix_now();
        if now > exp.saturating_add(inner.leeway_secs) {
            return Err(Error::new(ErrorKind::Expired));
        }
        if claims
            .nbf
            .is_some_and(|nbf| now.saturating_add(inner.leeway_secs) < nbf)
        {
            return Err(Error::new(ErrorKind::NotYetValid));
        }
        let token_use = TokenUse::from_claim(token_use)
            .ok_or_else(|| Error::new(ErrorKind::InvalidTokenUse))?;
        if inner
            .allowed_use
            .is_some_and(|allowed| allowed != token_use)
        {
            return Err(Error::new(ErrorKind::InvalidTokenUse));
        }
        let (client, claim, kind) = match token_use {
            TokenUse::Id => (claims.aud.as_deref(), "aud", ErrorKind::InvalidAudience),
            TokenUse::Access => (
                claims.client_id.as_deref(),
                "client_id",
                ErrorKind::InvalidClientId,
            ),
        };
        let client = client.ok_or_else(|| Error::missing_claim(claim))?;
        if let AppClients::Listed(allowed) = &pool.clients
            && !allowed.iter().any(|c| c == client)
        {
            return Err(Error::new(kind));
        }
        Ok((token_use, exp))
    }
}

fn deserialize_claims<C: DeserializeOwned>(verified: &VerifiedToken) -> Result<C, Error> {
    verified
        .claims()
        .map_err(|_| Error::new(ErrorKind::InvalidClaims))
}

/// The crate's own claims types, read once per verified token: a cache hit clones them.
fn typed_claims<C: DeserializeOwned + 'static>(verified: &VerifiedToken) -> Result<C, Error> {
    verified
        .claims_as()
        .map_err(|_| Error::new(ErrorKind::InvalidClaims))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl std::fmt::Debug for CognitoVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoVerifier")
            .field(
                "pools",
                &self.inner.pools.iter().map(|p| &*p.id).collect::<Vec<_>>(),
            )
            .field("token_use", &self.inner.allowed_use)
            .field("requirements", &self.inner.requirements)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traits() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<CognitoVerifier>();
    }
}
