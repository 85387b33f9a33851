//! A token that passed every standard check: what the verifier found, kept for the rules, the
//! token cache and the extractors.

use std::{
    any::{Any, TypeId},
    collections::BTreeSet,
    fmt,
    sync::Arc,
};

use serde::de::{DeserializeOwned, Error as _};
use serde_json::{Map, Value};

use crate::{
    claims::{AccessClaims, Fit, IdClaims, StandardClaims, TokenClaims, TokenPayload, either},
    jwks::VerifyingKey,
    token_cache::{ClaimsMemo, Weigh},
    token_use::TokenUse,
};

/// What one entry of a map of the typed claims (`extra`, `custom`) takes: its key and value,
/// and its share of a node about two thirds full.
const MAP_ENTRY_BYTES: usize = 96;

/// What one scope takes in its set besides its text: the `String` and its share of a node,
/// full since the set is built from one sorted pass.
const SCOPE_ENTRY_BYTES: usize = 32;

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
    provenance: Provenance,
    fitted: FittedClaims,
    payload: Box<str>,
    /// The claims as the caller's own type (`CognitoClaims<Id, MyClaims>`), read on first use
    /// and shared by every later hit of the cached token.
    custom: ClaimsMemo,
}

/// A payload's claims fitted to the crate's types, with what the checks read beyond them.
pub(crate) struct FittedClaims {
    /// The claims as the crate's own types, read in the same pass as the checked claims. A
    /// token served from the cache hands these out again: a reference count, no copy.
    claims: TokenClaims,
    /// Whether `claims` fit their type; when not (an ID token without `cognito:username`, an
    /// `email_verified` of `"yes"`), asking for them is refused with `InvalidClaims`, while
    /// what the checks read (all present: the standard checks passed) stays usable.
    fit: Fit,
    nbf: Option<i64>,
    /// False for an ID token without `cognito:username` (which does not fit [`IdClaims`]).
    has_username: bool,
}

impl FittedClaims {
    /// The claims of `payload`, of the use the checks found, moved out of it.
    pub(crate) fn new(payload: TokenPayload<'_>, token_use: TokenUse) -> Self {
        let nbf = payload.nbf;
        let has_username = token_use == TokenUse::Access || payload.cognito_username.is_some();
        let (claims, fit) = TokenClaims::from_payload(payload, token_use);
        Self {
            claims,
            fit,
            nbf,
            has_username,
        }
    }
}

/// Where a token was verified: by which verifier, in which pool, with which key.
pub(crate) struct Provenance {
    pub(crate) verifier_id: u64,
    pub(crate) pool_serial: u64,
    pub(crate) pool_id: Arc<str>,
    pub(crate) key: Option<Arc<VerifyingKey>>,
}

impl VerifiedToken {
    /// Built only after the standard checks passed, so `iss`, `token_use`, `exp`, `sub` and the
    /// client claim are present and valid. `json` is the text the claims were read from.
    pub(crate) fn new(provenance: Provenance, fitted: FittedClaims, json: String) -> Self {
        let payload = json.into_boxed_str();
        let custom = ClaimsMemo::default();
        Self {
            inner: Arc::new(Inner {
                provenance,
                fitted,
                payload,
                custom,
            }),
        }
    }

    /// ID or access token.
    pub fn token_use(&self) -> TokenUse {
        self.inner.fitted.claims.token_use()
    }

    /// `sub`.
    pub fn sub(&self) -> &str {
        self.inner.fitted.claims.sub()
    }

    /// `cognito:username` of an ID token or `username` of an access token.
    pub fn username(&self) -> Option<&str> {
        (self.inner.fitted.claims)
            .username()
            .filter(|_| self.inner.fitted.has_username)
    }

    /// `exp`, in seconds since the epoch.
    pub fn exp(&self) -> i64 {
        self.inner.fitted.claims.exp()
    }

    /// `jti`, the token's own id, when present (Cognito always sets it).
    pub fn jti(&self) -> Option<&str> {
        either!(&self.inner.fitted.claims, c => c.jti.as_deref())
    }

    /// `origin_jti`, shared by every token of one refresh-token family, when present (absent
    /// in machine-to-machine tokens).
    pub fn origin_jti(&self) -> Option<&str> {
        either!(&self.inner.fitted.claims, c => c.origin_jti.as_deref())
    }

    /// `iat`, when the token was issued, in seconds since the epoch.
    pub fn iat(&self) -> Option<i64> {
        either!(&self.inner.fitted.claims, c => c.iat)
    }

    /// `auth_time`, when the user authenticated, in seconds since the epoch.
    pub fn auth_time(&self) -> Option<i64> {
        either!(&self.inner.fitted.claims, c => c.auth_time)
    }

    /// True when `cognito:groups` holds `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.inner.fitted.claims.groups().iter().any(|g| g == group)
    }

    /// True when `scope` holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        match &self.inner.fitted.claims {
            TokenClaims::Id(_) => false,
            TokenClaims::Access(c) => c.scope.contains(scope),
        }
    }

    /// `aud`: an ID token's app client; the resources an access token was issued for, empty
    /// when it names none ([`AccessClaims::aud`]).
    pub fn audiences(&self) -> impl ExactSizeIterator<Item = &str> {
        match &self.inner.fitted.claims {
            TokenClaims::Id(c) => std::slice::from_ref(&c.aud),
            TokenClaims::Access(c) => c.aud.as_slice(),
        }
        .iter()
        .map(String::as_str)
    }

    /// `cognito:groups`, in the token's order; empty when absent.
    pub fn groups(&self) -> impl ExactSizeIterator<Item = &str> {
        self.inner.fitted.claims.groups().iter().map(String::as_str)
    }

    /// The scopes of an access token's `scope`, sorted and without repeats (as
    /// [`AccessClaims::scope`] holds them); empty when absent, and for ID tokens.
    pub fn scopes(&self) -> impl ExactSizeIterator<Item = &str> {
        static NONE: BTreeSet<String> = BTreeSet::new();
        let scopes = match &self.inner.fitted.claims {
            TokenClaims::Id(_) => &NONE,
            TokenClaims::Access(c) => &c.scope,
        };
        scopes.iter().map(String::as_str)
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

    /// The claims as the crate's own types, read when the token was verified.
    ///
    /// # Errors
    ///
    /// When they do not fit [`IdClaims`] / [`AccessClaims`] (a claim of the wrong type, a
    /// missing `cognito:username`).
    pub(crate) fn typed(&self) -> Result<&TokenClaims, serde_json::Error> {
        match self.inner.fitted.fit {
            Fit::Fits => Ok(&self.inner.fitted.claims),
            Fit::DoesNotFit(what) => Err(serde_json::Error::custom(format_args!(
                "the claim `{what}` is missing or of the wrong type"
            ))),
        }
    }

    /// The claims read as `C`, shared: the claims read at verification when `C` is
    /// [`IdClaims`] / [`AccessClaims`] of the token's use (no copy), else the first type a
    /// caller asked for, read once; any other type is read anew.
    pub(crate) fn claims_as<C>(&self) -> Result<Arc<C>, serde_json::Error>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        let claims = &self.inner.fitted.claims;
        let crate_type: Arc<dyn Any + Send + Sync> =
            if TypeId::of::<C>() == TypeId::of::<TokenClaims>() {
                Arc::new(claims.clone())
            } else {
                either!(claims, c => c.clone())
            };
        match Arc::downcast(crate_type) {
            Ok(claims) => self.typed().map(|_| claims),
            Err(_) => self.inner.custom.get_or_read(|| self.claims::<C>()),
        }
    }

    /// The claims the standard checks read, as a full verification read them from the payload.
    pub(crate) fn standard_claims(&self) -> StandardClaims<'_> {
        let claims = &self.inner.fitted.claims;
        let (aud, client_id) = match claims {
            TokenClaims::Id(c) => (Some(&*c.aud), None),
            TokenClaims::Access(c) => (None, Some(&*c.client_id)),
        };
        StandardClaims {
            iss: Some(claims.iss()),
            sub: Some(claims.sub()),
            exp: Some(claims.exp()),
            nbf: self.inner.fitted.nbf,
            token_use: Some(claims.token_use().as_str()),
            aud,
            client_id,
        }
    }

    pub(crate) fn payload(&self) -> &[u8] {
        self.inner.payload.as_bytes()
    }

    /// `aud` of an ID token, `client_id` of an access token.
    #[cfg(feature = "alb")]
    pub(crate) fn client(&self) -> &str {
        self.inner.fitted.claims.client_id()
    }

    pub(crate) fn verifier_id(&self) -> u64 {
        self.inner.provenance.verifier_id
    }

    pub(crate) fn pool_serial(&self) -> u64 {
        self.inner.provenance.pool_serial
    }

    /// The id of the user pool that issued it (`eu-west-1_AbC123456`): with several pools or
    /// a pool resolver, which tenant the user belongs to.
    pub fn pool_id(&self) -> &str {
        &self.inner.provenance.pool_id
    }

    pub(crate) fn kid(&self) -> &str {
        self.inner
            .provenance
            .key
            .as_ref()
            .map_or("", |key| key.kid())
    }

    /// True when `key` is the very key that verified this token.
    pub(crate) fn verified_by(&self, key: &Arc<VerifyingKey>) -> bool {
        (self.inner.provenance.key.as_ref()).is_some_and(|own| Arc::ptr_eq(own, key))
    }
}

impl Weigh for VerifiedToken {
    /// The bytes asked of the allocator for this token: its shared block, the claims' text,
    /// the typed claims (every string of theirs is a copy of part of that text, so its length
    /// again stands for them; then a slot for each group and scope and an entry for each
    /// member of `extra`, at any depth), and half the typed claims again for a caller's own
    /// claims type, kept after its first use (so within 2x whether one is kept or not).
    /// Thousands of one-letter groups weigh their slots, not their few bytes of text.
    fn weight_bytes(&self) -> u64 {
        let text = self.inner.payload.len();
        let slots = |strings: &Vec<String>| strings.capacity() * size_of::<String>();
        let typed = text
            + match &self.inner.fitted.claims {
                TokenClaims::Id(c) => {
                    size_of::<IdClaims>()
                        + slots(&c.groups)
                        + slots(&c.roles)
                        + c.custom.len() * MAP_ENTRY_BYTES
                        + c.identities.as_ref().map_or(0, containers)
                        + map_containers(&c.extra)
                }
                TokenClaims::Access(c) => {
                    size_of::<AccessClaims>()
                        + slots(&c.groups)
                        + c.scope.len() * SCOPE_ENTRY_BYTES
                        + map_containers(&c.extra)
                }
            };
        (size_of::<Inner>() + text + typed + typed / 2) as u64
    }
}

/// The heap a JSON value's arrays and objects take; its strings are counted with the text.
fn containers(value: &Value) -> usize {
    match value {
        Value::Array(items) => {
            items.capacity() * size_of::<Value>() + items.iter().map(containers).sum::<usize>()
        }
        Value::Object(members) => map_containers(members),
        _ => 0,
    }
}

fn map_containers(members: &Map<String, Value>) -> usize {
    members
        .values()
        .map(|v| MAP_ENTRY_BYTES + containers(v))
        .sum()
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("token_use", &self.token_use())
            .field("sub", &self.sub())
            .field("username", &self.username())
            .field("pool", &self.inner.provenance.pool_id)
            .field("exp", &self.exp())
            .finish_non_exhaustive()
    }
}
