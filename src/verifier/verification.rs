//! The two paths through [the checks](super#the-checks-in-order): a full verification, and a cache hit
//! that re-runs every check but the decoding and the signature. Both pick the pool, look the
//! key up and check the claims with the same functions.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::{
    CognitoVerifier,
    pipeline::{Now, PoolOf, check_claims, pool_of_issuer},
    requirements::TokenRequirements,
    trusted_pool::TrustedPool,
};
use crate::{
    claims::{TokenClaims, TokenPayload},
    compact_token::{CompactToken, Header, Padding},
    error::{Error, ErrorKind},
    jwks::{KeyLookup, RefetchOutcome, VerifyingKey},
    revocation::Verdict,
    token_family::USER_POOL,
    verified_token::{FittedClaims, Provenance, VerifiedToken},
};

/// The first pass over a token either ends, or stops where the network may help: at an
/// unknown `kid` of this pool (refetch its keys), at an issuer no pool accepts while a pool
/// resolver is set (ask it), or at a revocation only Cognito can tell (the token passed every
/// other check: ask Cognito). The caller then goes on.
enum Attempt<T> {
    Done(Result<T, Error>),
    UnknownKid {
        pool: Arc<TrustedPool>,
        kid: Box<str>,
    },
    UnknownIssuer(Box<str>),
    AskCognito(VerifiedToken),
}

impl<T> From<Result<T, Error>> for Attempt<T> {
    fn from(result: Result<T, Error>) -> Self {
        Self::Done(result)
    }
}

impl<T> From<Error> for Attempt<T> {
    fn from(error: Error) -> Self {
        Self::Done(Err(error))
    }
}

/// Step 13: what a verification hands back, made from the verified token (the token itself,
/// its claims as the crate's types, or as the caller's).
pub(super) trait Finish<T>: Fn(&VerifiedToken) -> Result<T, Error> {}

impl<T, F: Fn(&VerifiedToken) -> Result<T, Error>> Finish<T> for F {}

/// What the layer's first pass found: an answer, or a network step to take.
pub(crate) enum FirstPass {
    Done(Result<VerifiedToken, Error>),
    Later(Later),
}

/// Where a first pass stopped; [`CognitoVerifier::verify_token_later`] goes on from there.
pub struct Later(Attempt<VerifiedToken>);

impl std::fmt::Debug for Later {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Later").finish_non_exhaustive()
    }
}

/// What a cached token's re-check found.
enum Cached {
    /// Every check still holds.
    Good,
    /// Its key left the set (or its pool changed): verify it in full again.
    Superseded,
}

impl CognitoVerifier {
    /// The first pass without network; on an unknown `kid`, one shared refetch and a second
    /// pass; on an unknown issuer, the pool resolver and a second pass; when only Cognito can
    /// tell whether the token was revoked, one shared call.
    #[inline]
    pub(super) async fn verify_with<T, F: Finish<T>>(
        &self,
        token: &str,
        requirements: &TokenRequirements,
        finish: &F,
    ) -> Result<T, Error> {
        let first = self.attempt(token, requirements, finish, Now::read());
        self.go_on(token, requirements, finish, first).await
    }

    /// After a first pass: done, or the network step it stopped at, then the rest.
    async fn go_on<T, F: Finish<T>>(
        &self,
        token: &str,
        requirements: &TokenRequirements,
        finish: &F,
        first: Attempt<T>,
    ) -> Result<T, Error> {
        let attempt = match first {
            Attempt::UnknownIssuer(issuer) => {
                if let Err(error) = self.resolve_issuer(&issuer).await {
                    return self.refused(error);
                }
                // A pool accepts it now, with a key set just read: the pass again, and an
                // unknown `kid` fails at once (a refetch would only read the same set, and
                // would add a third wait to the resolver's and the first fetch's).
                self.attempt(token, requirements, finish, Now::read())
            }
            Attempt::UnknownKid { pool, kid } => {
                let store = &pool.store;
                match store.refetch(&kid).await {
                    // During the cooldown, the fetch that started it may have swapped in a new
                    // set after the first pass looked: look once more, without fetching.
                    RefetchOutcome::Refreshed | RefetchOutcome::CoolingDown => {
                        self.attempt(token, requirements, finish, Now::read())
                    }
                    RefetchOutcome::Fixed => Attempt::UnknownKid { pool, kid },
                    RefetchOutcome::Failed(error) => self.refused(store.unavailable(error)),
                }
            }
            attempt => attempt,
        };
        match attempt {
            Attempt::Done(result) => result,
            Attempt::UnknownKid { pool, .. } => self.unknown_kid(&pool),
            Attempt::UnknownIssuer(_) => self.refused(Error::new(ErrorKind::InvalidIssuer)),
            Attempt::AskCognito(verified) => {
                let asked = match &self.inner.revocation {
                    Some(revocation) => revocation.ask_cognito(token, &verified).await,
                    None => Ok(()),
                };
                self.after_revocation(asked, &verified, requirements, finish)
            }
        }
    }

    /// One pass with the keys already loaded: an unknown `kid` fails; a revocation only
    /// Cognito can tell follows the `GetUser` check's failure policy.
    #[inline]
    pub(super) fn verify_now<T, F: Finish<T>>(
        &self,
        token: &str,
        requirements: &TokenRequirements,
        finish: &F,
    ) -> Result<T, Error> {
        match self.attempt(token, requirements, finish, Now::read()) {
            Attempt::Done(result) => result,
            Attempt::UnknownKid { pool, .. } => self.unknown_kid(&pool),
            Attempt::UnknownIssuer(_) => self.refused(Error::new(ErrorKind::InvalidIssuer)),
            Attempt::AskCognito(verified) => {
                let revocation = self.inner.revocation.as_ref();
                let policy = revocation.map_or(Ok(()), |r| r.without_cognito(&verified));
                self.after_revocation(policy, &verified, requirements, finish)
            }
        }
    }

    /// For the HTTP layer: the first pass, without touching the network. It ends, or it
    /// stops where the network may help (an unknown `kid`, an issuer the pool resolver may
    /// know, a revocation only Cognito can tell), and [`verify_token_later`]
    /// (Self::verify_token_later) goes on from there, without repeating what was done.
    pub(crate) fn verify_token_now(
        &self,
        token: &str,
        requirements: &TokenRequirements,
    ) -> FirstPass {
        match self.attempt(token, requirements, &the_token, Now::read()) {
            Attempt::Done(result) => FirstPass::Done(result),
            attempt => FirstPass::Later(Later(attempt)),
        }
    }

    /// For the HTTP layer: the network step a first pass stopped at, then the rest.
    pub(crate) async fn verify_token_later(
        &self,
        token: &str,
        requirements: &TokenRequirements,
        later: Later,
    ) -> Result<VerifiedToken, Error> {
        self.go_on(token, requirements, &the_token, later.0).await
    }

    /// For the extractors: verifies, refetching the keys on an unknown `kid`.
    pub(crate) async fn verify_token(
        &self,
        token: &str,
        requirements: &TokenRequirements,
    ) -> Result<VerifiedToken, Error> {
        self.verify_with(token, requirements, &the_token).await
    }

    /// For the HTTP layer behind API Gateway (feature `lambda`): claims whose signature API
    /// Gateway checked, as JSON, through every step but the decoding and the signature
    /// (steps 4 and 7 to 13; no key is looked up, and `GetUser`, which needs the token, follows
    /// its failure policy). Never cached: they come with each event.
    #[cfg(feature = "lambda")]
    pub(crate) fn verify_authorizer_claims(
        &self,
        json: String,
        requirements: &TokenRequirements,
    ) -> Result<VerifiedToken, Error> {
        let now = Now::read();
        let verified = match self.authorizer_checks(json, now) {
            Ok(verified) => verified,
            Err(error) => return self.refused(error),
        };
        let revocation = (self.inner.revocation.as_ref()).map_or(Ok(()), |revocation| {
            revocation.without_token(&verified, now.unix)
        });
        self.after_revocation(revocation, &verified, requirements, &the_token)
    }

    /// Steps 4 and 7 to 10 for claims API Gateway verified: the pool of `iss` (no resolver is
    /// asked: the authorizer names the pools it trusts), then the claim checks.
    #[cfg(feature = "lambda")]
    fn authorizer_checks(&self, json: String, now: Now) -> Result<VerifiedToken, Error> {
        let payload = TokenPayload::parse(&json)?;
        let table = self.inner.pools.load();
        let found = pool_of_issuer(&payload.standard(), |iss| table.position(iss))?;
        let PoolOf::Found(index) = found else {
            return Err(Error::new(ErrorKind::InvalidIssuer));
        };
        let (provenance, claims) = self.checked(table.get(index), payload, &json, None, now)?;
        Ok(VerifiedToken::new(provenance, claims, json))
    }

    /// Steps 7 to 10 for a token of `pool` (signed with `key`, or verified by API Gateway):
    /// what the verified token is made of.
    fn checked(
        &self,
        pool: &TrustedPool,
        payload: TokenPayload<'_>,
        json: &str,
        key: Option<Arc<VerifyingKey>>,
        now: Now,
    ) -> Result<(Provenance, FittedClaims), Error> {
        let (clients, policy) = (&pool.clients, &self.inner.policy);
        let token_use = check_claims(&payload.standard(), clients, policy, now.unix)
            .map_err(|error| error.with_verified_claims(json.as_bytes()))?;
        let provenance = Provenance {
            verifier_id: self.id(),
            pool_serial: pool.serial,
            pool_id: Arc::clone(&pool.id),
            key,
        };
        Ok((provenance, FittedClaims::new(payload, token_use)))
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

    /// The standard checks (from the cache or in full), then revocation, then the rules, then
    /// `finish`. A result is counted in the metrics here, where it is known.
    #[inline]
    fn attempt<T, F: Finish<T>>(
        &self,
        token: &str,
        requirements: &TokenRequirements,
        finish: &F,
        now: Now,
    ) -> Attempt<T> {
        let verified = match self.standard_checks(token, now) {
            Ok(verified) => verified,
            Err(Attempt::Done(Err(error))) => return self.refused(error),
            Err(stop) => return stop,
        };
        if let Some(revocation) = &self.inner.revocation {
            match revocation.check(token, &verified, now.unix) {
                Verdict::Pass => {}
                Verdict::Refuse(error) => return self.counted(Err(error), &verified),
                Verdict::AskCognito => return Attempt::AskCognito(verified),
            }
        }
        self.counted(self.rules(&verified, requirements, finish), &verified)
    }

    /// After step 11 answered `revocation` for a token Cognito was (or could not be) asked
    /// about: the rest of the pass, counted.
    fn after_revocation<T, F: Finish<T>>(
        &self,
        revocation: Result<(), Error>,
        verified: &VerifiedToken,
        requirements: &TokenRequirements,
        finish: &F,
    ) -> Result<T, Error> {
        self.counted(
            revocation.and_then(|()| self.rules(verified, requirements, finish)),
            verified,
        )
    }

    /// Steps 12 and 13: the verifier's rules, then the call's, then `finish` (the claims type).
    #[inline]
    fn rules<T, F: Finish<T>>(
        &self,
        verified: &VerifiedToken,
        requirements: &TokenRequirements,
        finish: &F,
    ) -> Result<T, Error> {
        self.inner
            .requirements
            .check(verified)
            .and_then(|()| requirements.check(verified))
            .and_then(|()| finish(verified))
    }

    /// A verification's end, counted, of a token that passed the standard checks: a failure
    /// carries its verified claims.
    #[inline]
    fn counted<T, R: From<Result<T, Error>>>(
        &self,
        result: Result<T, Error>,
        verified: &VerifiedToken,
    ) -> R {
        let kind = result.as_ref().err().map(Error::kind);
        self.inner
            .metrics
            .verification(kind, Some(verified.token_use()));
        R::from(result.map_err(|error| error.with_verified_claims(verified.payload())))
    }

    /// A `kid` still unknown once the network step is over (or skipped): the keys are not
    /// there when no set was ever loaded (503), else the key is (401).
    fn unknown_kid<T>(&self, pool: &TrustedPool) -> Result<T, Error> {
        match pool.store.is_loaded() {
            true => self.refused(Error::new(ErrorKind::UnknownKeyId)),
            false => self.refused(pool.store.unavailable(None)),
        }
    }

    /// A refusal before the claims were verified, counted.
    fn refused<T, R: From<Result<T, Error>>>(&self, error: Error) -> R {
        self.inner.metrics.verification(Some(error.kind()), None);
        R::from(Err(error))
    }

    /// Everything but the rules: from the token cache when it holds the token and every check
    /// still holds, else in full (and then cached). Stops with a failure, not yet counted, or
    /// where the network may help.
    fn standard_checks<T>(&self, token: &str, now: Now) -> Result<VerifiedToken, Attempt<T>> {
        let Some(cache) = &self.inner.cache else {
            return self.verify_in_full(token, now);
        };
        if let Some(hit) = cache.get(token) {
            match self.recheck_cached(&hit, now) {
                Ok(Cached::Good) => {
                    self.inner.metrics.cache_hit();
                    return Ok(hit);
                }
                Ok(Cached::Superseded) => cache.remove(token),
                Err(error) => {
                    self.inner.metrics.cache_hit();
                    // A token that failed a standard check never passes one again, except
                    // while its keys are unavailable.
                    if !error.is_unavailable() {
                        cache.remove(token);
                    }
                    return Err(error.into());
                }
            }
        }
        self.inner.metrics.cache_miss();
        let verified = self.verify_in_full(token, now)?;
        cache.insert(token, verified.clone());
        Ok(verified)
    }

    /// A cache hit: steps 4, 5 and 7 to 10 of the pipeline again, with the claims the full
    /// verification stored.
    fn recheck_cached(&self, hit: &VerifiedToken, now: Now) -> Result<Cached, Error> {
        let claims = hit.standard_claims();
        let verified_claims = |error: Error| error.with_verified_claims(hit.payload());
        let table = self.inner.pools.load();
        // A pool removed, or removed and added again: the full path decides.
        let PoolOf::Found(pool) =
            pool_of_issuer(&claims, |iss| table.position(iss)).map_err(verified_claims)?
        else {
            return Ok(Cached::Superseded);
        };
        let pool = table.get(pool);
        if pool.serial != hit.pool_serial() {
            return Ok(Cached::Superseded);
        }
        if usable_key(pool, hit.kid(), now, |key| hit.verified_by(key))? != Some(true) {
            return Ok(Cached::Superseded);
        }
        check_claims(&claims, &pool.clients, &self.inner.policy, now.unix)
            .map_err(verified_claims)?;
        Ok(Cached::Good)
    }

    /// Steps 1 to 10 of the pipeline.
    fn verify_in_full<T>(&self, token: &str, now: Now) -> Result<VerifiedToken, Attempt<T>> {
        let inner = &*self.inner;
        let parts = CompactToken::split(token, inner.max_token_bytes, Padding::Unpadded)?;
        let header_json = parts.header_json()?;
        let header = Header::parse(&header_json, &USER_POOL)?;
        let invalid_claims = || Error::new(ErrorKind::InvalidClaims);
        let json = String::from_utf8(parts.payload_json()?).map_err(|_| invalid_claims())?;
        let payload = TokenPayload::parse(&json)?;
        let claims = payload.standard();
        let table = inner.pools.load();
        let pool = match pool_of_issuer(&claims, |iss| table.position(iss))? {
            PoolOf::Found(index) => table.get(index),
            PoolOf::Unknown(issuer) if inner.resolution.is_some() => {
                return Err(Attempt::UnknownIssuer(issuer.into()));
            }
            PoolOf::Unknown(_) => return Err(Error::new(ErrorKind::InvalidIssuer).into()),
        };
        let Header { algorithm, kid } = header;
        let signed = usable_key(pool, &kid, now, |key| {
            parts
                .verify_signature(algorithm, |message, signature| {
                    key.verify(algorithm, message, signature).is_ok()
                })
                .map(|()| Arc::clone(key))
        })?;
        let Some(signed) = signed else {
            let (pool, kid) = (Arc::clone(pool), kid.into());
            return Err(Attempt::UnknownKid { pool, kid });
        };
        let key = signed?;
        // A pool the resolver added stays for good only once one of its keys signed a token.
        pool.mark_proven();
        let (provenance, claims) = self.checked(pool, payload, &json, Some(key), now)?;
        Ok(VerifiedToken::new(provenance, claims, json))
    }
}

/// Step 5: `f` with the pool's key named `kid`; `None` when the set does not hold it; an error
/// when the keys are unusable.
fn usable_key<R>(
    pool: &TrustedPool,
    kid: &str,
    now: Now,
    f: impl FnOnce(&Arc<VerifyingKey>) -> R,
) -> Result<Option<R>, Error> {
    match pool.store.with_key(kid, now.time, f) {
        Ok(found) => Ok(Some(found)),
        // Never loaded: the first fetch is joined (or started) like an unknown `kid`'s, so
        // that a request during a lazy start waits for it, within the fetch timeout.
        Err(KeyLookup::Unknown | KeyLookup::NotLoaded) => Ok(None),
        Err(KeyLookup::Unavailable) => Err(pool.store.unavailable(None)),
    }
}

/// Step 13 for a type of the caller's.
#[inline]
pub(super) fn deserialize_claims<C: DeserializeOwned>(
    verified: &VerifiedToken,
) -> Result<C, Error> {
    verified
        .claims()
        .map_err(|_| Error::new(ErrorKind::InvalidClaims))
}

/// Step 13 for the HTTP layer and the extractors: the verified token itself.
#[inline]
fn the_token(verified: &VerifiedToken) -> Result<VerifiedToken, Error> {
    Ok(verified.clone())
}

/// Step 13 for [`TokenClaims`]: the claims read at verification, shared.
#[inline]
pub(super) fn token_claims(verified: &VerifiedToken) -> Result<TokenClaims, Error> {
    verified
        .typed()
        .cloned()
        .map_err(|_| Error::new(ErrorKind::InvalidClaims))
}

/// Step 13 for [`IdClaims`] and [`AccessClaims`]: the claims read at verification, shared.
#[inline]
pub(super) fn shared_claims<C>(verified: &VerifiedToken) -> Result<Arc<C>, Error>
where
    C: DeserializeOwned + Send + Sync + 'static,
{
    (verified.claims_as()).map_err(|_| Error::new(ErrorKind::InvalidClaims))
}

#[cfg(test)]
// The test issuer is behind `test-util`, which every `cargo test` of the repository turns
// on; a build of the library alone without it has no tests here.
#[cfg(feature = "test-util")]
mod tests {
    use super::*;
    use crate::{claims::TokenClaims, test_util::TestIssuer};

    fn standard(verifier: &CognitoVerifier, token: &str, now: Now) -> Result<VerifiedToken, Error> {
        match verifier.standard_checks::<()>(token, now) {
            Ok(verified) => Ok(verified),
            Err(Attempt::Done(result)) => Err(result.unwrap_err()),
            Err(Attempt::UnknownKid { .. }) => Err(Error::new(ErrorKind::UnknownKeyId)),
            Err(Attempt::UnknownIssuer(_)) => Err(Error::new(ErrorKind::InvalidIssuer)),
            Err(Attempt::AskCognito(_)) => unreachable!("no revocation check in these tests"),
        }
    }

    fn outcome(result: &Result<VerifiedToken, Error>) -> Result<(), (ErrorKind, bool)> {
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err((e.kind(), e.verified_claims_json().is_some())),
        }
    }

    /// The pipeline is shared: a check of the clock (expiry) and a check of the key set (key
    /// removed) answer the same on a cache hit as on a full verification.
    #[tokio::test]
    async fn a_cache_hit_runs_the_same_checks_as_a_full_verification() {
        let issuer = TestIssuer::start().await;
        let cached = issuer.verifier_builder().build().await.unwrap();
        let uncached = issuer
            .verifier_builder()
            .token_cache_bytes(0)
            .build()
            .await
            .unwrap();
        let token = issuer.id_token().sign();
        let exp = match cached.verify_sync(&token).unwrap() {
            TokenClaims::Id(claims) => claims.exp,
            TokenClaims::Access(_) => unreachable!(),
        };
        assert_eq!(cached.status().cached_tokens, 1);
        let now = Now::read();
        let at = |unix: i64| Now { unix, ..now };

        // The clock: both paths accept it within the leeway, both refuse it past it, with the
        // verified claims attached on both.
        for unix in [now.unix, exp + 60] {
            let hit = standard(&cached, &token, at(unix));
            assert!(cached.status().cached_tokens == 1, "a hit, not a new entry");
            assert_eq!(outcome(&hit), Ok(()));
            assert_eq!(
                outcome(&hit),
                outcome(&standard(&uncached, &token, at(unix)))
            );
        }
        let hit = standard(&cached, &token, at(exp + 61));
        assert_eq!(outcome(&hit), Err((ErrorKind::Expired, true)));
        assert_eq!(
            outcome(&hit),
            outcome(&standard(&uncached, &token, at(exp + 61)))
        );
        assert_eq!(
            cached.status().cached_tokens,
            0,
            "an expired entry is dropped"
        );

        // The key set: once the key that signed it leaves the set, the hit is not trusted and
        // both paths stop at the unknown key.
        let token = issuer.id_token().sign();
        standard(&cached, &token, now).unwrap();
        let hit = cached.inner.cache.as_ref().unwrap().get(&token).unwrap();
        let old = hit.kid().to_owned();
        issuer.rotate();
        assert!(issuer.remove_key(&old));
        // Refresh the set without the cache hearing of it, so that the hit itself must notice.
        for verifier in [&cached, &uncached] {
            let store = Arc::clone(&verifier.inner.pools.load().get(0).store);
            store.refresh().await.unwrap();
        }
        cached.inner.cache.as_ref().unwrap().insert(&token, hit);
        let hit = standard(&cached, &token, now);
        assert_eq!(outcome(&hit), Err((ErrorKind::UnknownKeyId, false)));
        assert_eq!(outcome(&hit), outcome(&standard(&uncached, &token, now)));
        assert_eq!(cached.status().cached_tokens, 0);
    }

    /// A cache entry belongs to the pool that verified it: after the pool is removed and added
    /// again, an entry of the old pool (put back as if the removal had not reached the cache)
    /// is verified again by the new one.
    #[tokio::test]
    async fn a_cached_token_of_a_replaced_pool_is_verified_again() {
        let first = TestIssuer::start().await;
        let second = TestIssuer::start_with("eu-west-1_Second01", "second-client").await;
        let verifier = first.verifier_builder().build().await.unwrap();
        verifier.add_pool(second.user_pool()).await.unwrap();
        let token = second.access_token().sign();
        let old = standard(&verifier, &token, Now::read()).unwrap();
        assert!(verifier.remove_pool(second.pool_id()));
        verifier.add_pool(second.user_pool()).await.unwrap();
        verifier
            .inner
            .cache
            .as_ref()
            .unwrap()
            .insert(&token, old.clone());
        let again = standard(&verifier, &token, Now::read()).unwrap();
        let table = verifier.inner.pools.load();
        let serial = table.get(table.position(&second.issuer()).unwrap()).serial;
        assert_ne!(old.pool_serial(), serial);
        assert_eq!(
            again.pool_serial(),
            serial,
            "verified again, by the new pool"
        );
    }
}
