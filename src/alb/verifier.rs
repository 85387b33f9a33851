//! The load balancer verifier: every check of an `x-amzn-oidc-data` token, in the order of
//! the table in the [module docs](super#the-checks).

use std::{borrow::Cow, sync::Arc};

use serde::Deserialize;

use super::{
    builder::AlbVerifierBuilder,
    header::AlbHeader,
    key_cache::{AlbKeys, KeySlot},
    public_key::AlbPublicKey,
    token::{AlbToken, AlbTokenParts},
};
use crate::{
    algorithm::Algorithm,
    compact_token::{CompactToken, Padding},
    error::{Error, ErrorKind},
    json::is_json_object,
    token_cache::TokenCache,
    verifier::pipeline::Now,
};

/// Verifies an Application Load Balancer's `x-amzn-oidc-data` tokens. Cheap to clone: clones
/// share one key cache.
///
/// Build it with [`AlbVerifier::builder`]; put it behind an
/// [`AlbAuthLayer`](super::AlbAuthLayer) for axum.
///
/// ```
/// use axum_cognito::{ErrorKind, test_util::TestAlb};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let alb = TestAlb::start().await;
/// let verifier = alb.verifier_builder().build().unwrap();
/// let token = verifier.verify(&alb.token().username("alice").sign()).await.unwrap();
/// assert_eq!(token.claims::<serde_json::Value>().unwrap()["username"], "alice");
///
/// let expired = verifier.verify(&alb.token().expired().sign()).await.unwrap_err();
/// assert_eq!(expired.kind(), ErrorKind::Expired);
/// # }
/// ```
#[derive(Clone)]
pub struct AlbVerifier {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) id: u64,
    pub(super) signers: Vec<Signer>,
    pub(super) clients: Vec<String>,
    pub(super) issuer: Option<String>,
    pub(super) leeway_secs: i64,
    pub(super) max_token_bytes: usize,
    pub(super) keys: Arc<AlbKeys>,
    pub(super) cache: Option<TokenCache<AlbToken>>,
}

/// A trusted load balancer, and where its keys are.
pub(super) struct Signer {
    pub(super) arn: String,
    pub(super) location: u16,
}

/// A token that passed steps 1 to 9: what the rest needs.
struct Prechecked<'t> {
    parts: CompactToken<'t>,
    algorithm: Algorithm,
    slot: KeySlot,
    signer: usize,
    client: String,
    issuer: Option<String>,
    exp: i64,
}

/// The members of the payload the verifier reads.
#[derive(Deserialize)]
struct Subject<'a> {
    #[serde(borrow, default)]
    sub: Option<Cow<'a, str>>,
}

impl AlbVerifier {
    /// A builder with every default; see [`AlbVerifierBuilder`].
    pub fn builder() -> AlbVerifierBuilder {
        AlbVerifierBuilder::default()
    }

    /// Verifies a token.
    ///
    /// A `kid` not yet known is fetched once, shared with every concurrent request for it, and
    /// within the global fetch budget
    /// ([`key_fetch_limit`](AlbVerifierBuilder::key_fetch_limit)); the wait is bounded by the
    /// fetch timeout. The endpoint answering 404 (or 403, as S3 does for a missing object), or
    /// a document that is not a P-256 public key, is
    /// [`UnknownKeyId`](ErrorKind::UnknownKeyId) (401): no key of that id exists for this
    /// load balancer. A timeout, a refused connection, any other status, a redirect (never
    /// followed), a body over the size limit, or a spent fetch budget is
    /// [`KeysUnavailable`](ErrorKind::KeysUnavailable) (503), with a retry hint. Either is
    /// remembered for the [`key_cooldown`](AlbVerifierBuilder::key_cooldown).
    ///
    /// # Errors
    ///
    /// An [`Error`] whose [`kind`](Error::kind) names the failed check: see the
    /// [module docs](super#the-checks).
    pub async fn verify(&self, token: &str) -> Result<AlbToken, Error> {
        let slot = match self.attempt(token, Now::read()) {
            Ok(verified) => return verified,
            Err(slot) => slot,
        };
        let key = self.inner.keys.fetch(slot).await?;
        self.finish(token, self.precheck(token, Now::read().unix)?, &key)
    }

    /// [`verify`](Self::verify) with the keys already kept, never touching the network: a
    /// `kid` not yet known fails with [`UnknownKeyId`](ErrorKind::UnknownKeyId).
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    pub fn verify_sync(&self, token: &str) -> Result<AlbToken, Error> {
        self.attempt(token, Now::read())
            .unwrap_or_else(|_| Err(Error::new(ErrorKind::UnknownKeyId)))
    }

    /// How many keys are kept.
    pub fn cached_keys(&self) -> usize {
        self.inner.keys.len()
    }

    /// How many verified tokens are cached.
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, TokenCache::len)
    }

    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    /// Without waiting: the result, or the key slot to fetch first.
    pub(crate) fn attempt(
        &self,
        token: &str,
        now: Now,
    ) -> Result<Result<AlbToken, Error>, KeySlot> {
        if let Some(cache) = &self.inner.cache
            && let Some(hit) = cache.get(token)
        {
            return Ok(match self.check_exp(hit.exp(), now.unix) {
                Ok(()) => Ok(hit),
                Err(error) => {
                    cache.remove(token);
                    Err(error.with_verified_claims(hit.claims_json().as_bytes()))
                }
            });
        }
        let pre = match self.precheck(token, now.unix) {
            Ok(pre) => pre,
            Err(error) => return Ok(Err(error)),
        };
        match self.inner.keys.cached(&pre.slot) {
            Some(key) => Ok(self.finish(token, pre, &key)),
            None => Err(pre.slot),
        }
    }

    /// Steps 1 to 9.
    fn precheck<'t>(&self, token: &'t str, now: i64) -> Result<Prechecked<'t>, Error> {
        let inner = &*self.inner;
        let parts = CompactToken::split(token, inner.max_token_bytes, Padding::Padded)?;
        let header_json = parts.header_json()?;
        let header = AlbHeader::parse(&header_json)?;
        let signer = inner
            .signers
            .iter()
            .position(|s| s.arn == header.signer)
            .ok_or_else(|| Error::new(ErrorKind::InvalidSigner))?;
        if !inner.clients.iter().any(|c| *c == header.client) {
            return Err(Error::new(ErrorKind::InvalidClientId));
        }
        if let Some(expected) = &inner.issuer {
            let iss = header
                .iss
                .as_deref()
                .ok_or_else(|| Error::missing_claim("iss"))?;
            if iss != expected {
                return Err(Error::new(ErrorKind::InvalidIssuer));
            }
        }
        self.check_exp(header.exp, now)?;
        parts.signature_len(header.algorithm)?;
        Ok(Prechecked {
            slot: (inner.signers[signer].location, header.kid),
            algorithm: header.algorithm,
            signer,
            client: header.client.into_owned(),
            issuer: header.iss.map(Cow::into_owned),
            exp: header.exp,
            parts,
        })
    }

    /// Step 8, also on a cache hit.
    fn check_exp(&self, exp: i64, now: i64) -> Result<(), Error> {
        if now > exp.saturating_add(self.inner.leeway_secs) {
            return Err(Error::new(ErrorKind::Expired));
        }
        Ok(())
    }

    /// Steps 11 and 12, then into the cache.
    fn finish(
        &self,
        token: &str,
        pre: Prechecked<'_>,
        key: &AlbPublicKey,
    ) -> Result<AlbToken, Error> {
        pre.parts
            .verify_signature(pre.algorithm, |message, signature| {
                key.verify(pre.algorithm, message, signature)
            })?;
        let invalid = || Error::new(ErrorKind::InvalidClaims);
        let payload = String::from_utf8(pre.parts.payload_json()?).map_err(|_| invalid())?;
        let verified_claims = |error: Error| error.with_verified_claims(payload.as_bytes());
        if !is_json_object(payload.as_bytes()) {
            return Err(invalid());
        }
        let subject: Subject<'_> =
            serde_json::from_str(&payload).map_err(|_| verified_claims(invalid()))?;
        let sub = subject
            .sub
            .ok_or_else(|| verified_claims(Error::missing_claim("sub")))?;
        let verified = AlbToken {
            inner: Arc::new(AlbTokenParts {
                verifier_id: self.inner.id,
                kid: pre.slot.1.as_str().into(),
                signer: self.inner.signers[pre.signer].arn.as_str().into(),
                client: pre.client.into(),
                issuer: pre.issuer.map(Into::into),
                exp: pre.exp,
                sub: sub.into(),
                payload: payload.clone().into_boxed_str(),
            }),
        };
        if let Some(cache) = &self.inner.cache {
            cache.insert(token, verified.clone());
        }
        Ok(verified)
    }
}

impl std::fmt::Debug for AlbVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let load_balancers: Vec<&String> = self.inner.signers.iter().map(|s| &s.arn).collect();
        f.debug_struct("AlbVerifier")
            .field("load_balancers", &load_balancers)
            .field("clients", &self.inner.clients)
            .field("issuer", &self.inner.issuer)
            .field("keys", &self.inner.keys)
            .finish_non_exhaustive()
    }
}
