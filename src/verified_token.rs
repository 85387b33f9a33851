//! A token that passed every standard check: what the verifier found, kept for the rules, the
//! token cache and the extractors.

use std::{
    any::{Any, TypeId},
    fmt,
    sync::{Arc, OnceLock},
};

use serde::de::DeserializeOwned;

use crate::{
    claims::{AccessClaims, IdClaims, RegisteredClaims, StandardClaims, TokenClaims},
    jwks::VerifyingKey,
    token_use::TokenUse,
};

/// What typed claims occupy beyond the text of their JSON: the struct, its allocations' headers,
/// the scope set's tree.
const TYPED_CLAIMS_BYTES: usize = 640;

/// A verified token: its use, subject, user name, groups, scopes, and the claims' JSON.
///
/// [`CognitoAuthLayer`](crate::CognitoAuthLayer) puts one in the request extensions; the
/// extractors read their claims from it, and it is itself an extractor for a token of either
/// use. Cheap to clone.
///
/// ```
/// use axum_cognito::{VerifiedToken, TokenUse, test_util::TestIssuer};
///
/// async fn handler(token: VerifiedToken) -> String {
///     let groups: Vec<&str> = token.groups().collect();
///     format!("{} ({}) in {groups:?}", token.sub(), token.token_use())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await;
/// let token = issuer.verified_token(&issuer.access_token().groups(["admins"]).sign()).await;
/// assert_eq!(token.token_use(), TokenUse::Access);
/// assert!(token.in_group("admins"));
/// assert_eq!(token.groups().collect::<Vec<_>>(), ["admins"]);
/// assert!(handler(token).await.ends_with(r#"in ["admins"]"#));
/// # }
/// ```
#[derive(Clone)]
pub struct VerifiedToken {
    inner: Arc<Inner>,
}

struct Inner {
    verifier_id: u64,
    pool_serial: u64,
    pool_id: Arc<str>,
    key: Arc<VerifyingKey>,
    token_use: TokenUse,
    exp: i64,
    nbf: Option<i64>,
    iss: Box<str>,
    /// `aud` of an ID token, `client_id` of an access token.
    client: Box<str>,
    sub: Box<str>,
    username: Option<Box<str>>,
    groups: Box<[Box<str>]>,
    scopes: Box<[Box<str>]>,
    /// What revocation reads on every verification and cache hit.
    revocation: RevocationClaims,
    payload: Box<str>,
    /// The claims as the crate's own types, read on first use. A token served from the cache
    /// again (the same `Arc`) then costs a clone of them, not a second JSON parse. Boxed: a
    /// token nobody asks typed claims of pays one pointer.
    typed: OnceLock<Box<TokenClaims>>,
}

/// `jti`, `origin_jti`, `iat` and `auth_time`, kept for the revocation checks.
struct RevocationClaims {
    jti: Option<Box<str>>,
    origin_jti: Option<Box<str>>,
    iat: Option<i64>,
    auth_time: Option<i64>,
}

/// Where a token was verified: by which verifier, in which pool, with which key.
pub(crate) struct Provenance {
    pub(crate) verifier_id: u64,
    pub(crate) pool_serial: u64,
    pub(crate) pool_id: Arc<str>,
    pub(crate) key: Arc<VerifyingKey>,
}

impl VerifiedToken {
    /// Built only after the standard checks passed, so `iss`, `token_use`, `exp`, `sub` and the
    /// client claim are present and valid.
    pub(crate) fn new(
        provenance: Provenance,
        token_use: TokenUse,
        exp: i64,
        claims: &RegisteredClaims<'_>,
        payload: &str,
    ) -> Self {
        let boxed = |items: &mut dyn Iterator<Item = &str>| -> Box<[Box<str>]> {
            items.map(Into::into).collect()
        };
        Self {
            inner: Arc::new(Inner {
                verifier_id: provenance.verifier_id,
                pool_serial: provenance.pool_serial,
                pool_id: provenance.pool_id,
                key: provenance.key,
                token_use,
                exp,
                nbf: claims.nbf,
                iss: claims.iss.as_deref().unwrap_or_default().into(),
                client: match token_use {
                    TokenUse::Id => claims.aud.as_deref(),
                    TokenUse::Access => claims.client_id.as_deref(),
                }
                .unwrap_or_default()
                .into(),
                sub: claims.sub.as_deref().unwrap_or_default().into(),
                username: claims
                    .cognito_username
                    .as_deref()
                    .or(claims.username.as_deref())
                    .map(Into::into),
                groups: boxed(&mut claims.groups.iter().flatten().map(|g| &**g)),
                scopes: boxed(
                    &mut claims
                        .scope
                        .as_deref()
                        .unwrap_or_default()
                        .split(' ')
                        .filter(|s| !s.is_empty()),
                ),
                revocation: RevocationClaims {
                    jti: claims.jti.as_deref().map(Into::into),
                    origin_jti: claims.origin_jti.as_deref().map(Into::into),
                    iat: claims.iat,
                    auth_time: claims.auth_time,
                },
                payload: payload.into(),
                typed: OnceLock::new(),
            }),
        }
    }

    /// ID or access token.
    pub fn token_use(&self) -> TokenUse {
        self.inner.token_use
    }

    /// `sub`.
    pub fn sub(&self) -> &str {
        &self.inner.sub
    }

    /// `cognito:username` of an ID token or `username` of an access token.
    pub fn username(&self) -> Option<&str> {
        self.inner.username.as_deref()
    }

    /// `exp`, in seconds since the epoch.
    pub fn exp(&self) -> i64 {
        self.inner.exp
    }

    /// `jti`, the token's own id, when present (Cognito always sets it).
    pub fn jti(&self) -> Option<&str> {
        self.inner.revocation.jti.as_deref()
    }

    /// `origin_jti`, shared by every token of one refresh-token family, when present (absent
    /// in machine-to-machine tokens).
    pub fn origin_jti(&self) -> Option<&str> {
        self.inner.revocation.origin_jti.as_deref()
    }

    /// `iat`, when the token was issued, in seconds since the epoch.
    pub fn iat(&self) -> Option<i64> {
        self.inner.revocation.iat
    }

    /// `auth_time`, when the user authenticated, in seconds since the epoch.
    pub fn auth_time(&self) -> Option<i64> {
        self.inner.revocation.auth_time
    }

    /// True when `cognito:groups` holds `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.inner.groups.iter().any(|g| &**g == group)
    }

    /// True when `scope` holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.inner.scopes.iter().any(|s| &**s == scope)
    }

    /// `cognito:groups`, in the token's order; empty when absent.
    pub fn groups(&self) -> impl ExactSizeIterator<Item = &str> {
        self.inner.groups.iter().map(|g| &**g)
    }

    /// The scopes of `scope`, in the token's order; empty when absent (ID tokens).
    pub fn scopes(&self) -> impl ExactSizeIterator<Item = &str> {
        self.inner.scopes.iter().map(|s| &**s)
    }

    /// The claims as JSON text.
    pub fn claims_json(&self) -> &str {
        &self.inner.payload
    }

    /// The claims read as `C`.
    ///
    /// # Errors
    ///
    /// When the claims do not fit `C`.
    pub fn claims<C: DeserializeOwned>(&self) -> Result<C, serde_json::Error> {
        serde_json::from_str(&self.inner.payload)
    }

    /// The claims as [`IdClaims`] or [`AccessClaims`], by the token's use, parsed once for the
    /// life of this token (and of its cache entry).
    pub(crate) fn token_claims(&self) -> Result<&TokenClaims, serde_json::Error> {
        if let Some(claims) = self.inner.typed.get() {
            return Ok(claims);
        }
        let payload = &self.inner.payload;
        // The use is known: read the claims straight into its type.
        let claims = match self.inner.token_use {
            TokenUse::Id => TokenClaims::Id(serde_json::from_str(payload)?),
            TokenUse::Access => TokenClaims::Access(serde_json::from_str(payload)?),
        };
        // Two threads may both have parsed; either result is the same.
        Ok(self.inner.typed.get_or_init(|| Box::new(claims)))
    }

    /// The claims read as `C`: a clone of [`token_claims`](Self::token_claims) when `C` is
    /// [`TokenClaims`], or [`IdClaims`] / [`AccessClaims`] of the token's use; else parsed.
    pub(crate) fn claims_as<C: DeserializeOwned + 'static>(&self) -> Result<C, serde_json::Error> {
        let wanted = TypeId::of::<C>();
        let memoized = if wanted == TypeId::of::<TokenClaims>() {
            downcast(self.token_claims()?.clone())
        } else if wanted == TypeId::of::<IdClaims>() || wanted == TypeId::of::<AccessClaims>() {
            match self.token_claims()? {
                TokenClaims::Id(claims) if wanted == TypeId::of::<IdClaims>() => {
                    downcast(claims.clone())
                }
                TokenClaims::Access(claims) if wanted == TypeId::of::<AccessClaims>() => {
                    downcast(claims.clone())
                }
                _ => None,
            }
        } else {
            None
        };
        // Another type, or the other use's claims type: the parse says why it does not fit.
        memoized.map_or_else(|| self.claims(), Ok)
    }

    /// The claims the standard checks read, as a full verification read them from the payload.
    pub(crate) fn standard_claims(&self) -> StandardClaims<'_> {
        let inner = &*self.inner;
        let client = Some(&*inner.client);
        let (aud, client_id) = match inner.token_use {
            TokenUse::Id => (client, None),
            TokenUse::Access => (None, client),
        };
        StandardClaims {
            iss: Some(&inner.iss),
            sub: Some(&inner.sub),
            exp: Some(inner.exp),
            nbf: inner.nbf,
            token_use: Some(inner.token_use.as_str()),
            aud,
            client_id,
        }
    }

    pub(crate) fn has_any_group(&self, wanted: &[String]) -> bool {
        wanted.iter().any(|w| self.in_group(w))
    }

    pub(crate) fn has_any_scope(&self, wanted: &[String]) -> bool {
        wanted.iter().any(|w| self.has_scope(w))
    }

    pub(crate) fn payload(&self) -> &[u8] {
        self.inner.payload.as_bytes()
    }

    /// `aud` of an ID token, `client_id` of an access token.
    pub(crate) fn client(&self) -> &str {
        &self.inner.client
    }

    pub(crate) fn verifier_id(&self) -> u64 {
        self.inner.verifier_id
    }

    pub(crate) fn pool_serial(&self) -> u64 {
        self.inner.pool_serial
    }

    pub(crate) fn pool_id(&self) -> &str {
        &self.inner.pool_id
    }

    pub(crate) fn kid(&self) -> &str {
        self.inner.key.kid()
    }

    /// True when `key` is the very key that verified this token.
    pub(crate) fn verified_by(&self, key: &Arc<VerifyingKey>) -> bool {
        Arc::ptr_eq(&self.inner.key, key)
    }

    /// Roughly what this token's data occupies, for the cache's weight. The typed claims, read
    /// later if at all, are counted now: about the size of their JSON plus
    /// [`TYPED_CLAIMS_BYTES`] (measured: 1.6 KB for the 0.9 KB claims of a 1.2 KB access token).
    pub(crate) fn weight_bytes(&self) -> u64 {
        let inner = &*self.inner;
        let strings: usize = inner
            .groups
            .iter()
            .chain(inner.scopes.iter())
            .map(|s| s.len() + 16)
            .sum();
        (2 * inner.payload.len()
            + TYPED_CLAIMS_BYTES
            + inner.iss.len()
            + inner.client.len()
            + inner.sub.len()
            + inner.username.as_ref().map_or(0, |u| u.len())
            + inner.revocation.jti.as_ref().map_or(0, |j| j.len())
            + inner.revocation.origin_jti.as_ref().map_or(0, |j| j.len())
            + strings) as u64
    }
}

/// `value` as a `C`, when `C` is its type.
fn downcast<T: 'static, C: 'static>(value: T) -> Option<C> {
    let mut slot = Some(value);
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<C>>()
        .and_then(Option::take)
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("token_use", &self.inner.token_use)
            .field("sub", &self.inner.sub)
            .field("username", &self.inner.username)
            .field("pool", &self.inner.pool_id)
            .field("exp", &self.inner.exp)
            .finish_non_exhaustive()
    }
}
