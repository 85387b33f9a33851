//! Minting tokens: a user pool's, and a load balancer's (feature `alb`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

#[cfg(feature = "alb")]
use super::TestAlb;
use super::{SigningKey, TestIssuer};

/// Builds one token. Start from [`TestIssuer::id_token`], [`TestIssuer::access_token`] or
/// [`TestIssuer::machine_token`] (or `TestAlb::token`, feature `alb`); every claim can be
/// changed or removed, and the header too.
///
/// ```
/// # use axum_cognito::test_util::TestIssuer;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await;
/// let token = issuer
///     .id_token()
///     .username("alice")
///     .groups(["admins", "readers"])
///     .custom("tenant", "acme")
///     .expires_in(std::time::Duration::from_secs(300))
///     .sign();
/// assert_eq!(token.split('.').count(), 3);
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TokenBuilder {
    /// A JSON object.
    pub(super) header: Value,
    /// A JSON object.
    pub(super) claims: Value,
    pub(super) key: TokenKey,
}

/// What signs a token, which also says how its segments are encoded.
#[derive(Debug, Clone)]
pub(super) enum TokenKey {
    /// A user pool's key: RS256, base64url without padding.
    Pool(SigningKey),
    /// A load balancer's key when the token is signed: ES256, base64url with `=` padding.
    #[cfg(feature = "alb")]
    Alb(TestAlb),
}

/// The Unix time now, in seconds.
pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn from_now(delay: Duration) -> i64 {
    now().saturating_add(i64::try_from(delay.as_secs()).unwrap_or(i64::MAX))
}

/// A random version 4 UUID, as Cognito's `sub` and `jti` and the load balancer's `kid` are.
pub(super) fn random_uuid() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("system random source");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut uuid = format!("{:032x}", u128::from_be_bytes(b));
    for at in [20, 16, 12, 8] {
        uuid.insert(at, '-');
    }
    uuid
}

impl TokenBuilder {
    /// A token of `issuer` for `token_use`, with the claims every Cognito token has: the
    /// [`TestIssuer`] methods add those of each kind.
    pub(super) fn new(issuer: &TestIssuer, token_use: &str) -> Self {
        let key = issuer.signing_key();
        let now = now();
        Self {
            header: json!({ "kid": key.kid(), "alg": "RS256" }),
            claims: json!({
                "sub": random_uuid(),
                "iss": issuer.issuer(),
                "token_use": token_use,
                "auth_time": now,
                "iat": now,
                "exp": now + 3600,
                "jti": random_uuid(),
                "origin_jti": random_uuid(),
                "event_id": random_uuid(),
            }),
            key: TokenKey::Pool(key),
        }
    }

    /// Sets any claim.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims[name] = value.into();
        self
    }

    /// Sets a header member (`alg`, `kid`, `typ`, or any other).
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header[name] = value.into();
        self
    }

    /// Removes a header member.
    pub fn without_header(mut self, name: &str) -> Self {
        if let Some(header) = self.header.as_object_mut() {
            header.remove(name);
        }
        self
    }

    /// `sub`.
    #[allow(clippy::should_implement_trait)] // named after the claim
    pub fn sub(self, sub: &str) -> Self {
        self.claim("sub", sub)
    }

    /// `email`.
    pub fn email(self, email: &str) -> Self {
        self.claim("email", email)
    }

    /// Removes a claim.
    pub fn without(mut self, name: &str) -> Self {
        if let Some(claims) = self.claims.as_object_mut() {
            claims.remove(name);
        }
        self
    }

    /// The user name: `cognito:username` in an ID token, `username` in an access token or a
    /// load balancer's.
    pub fn username(self, username: &str) -> Self {
        let claim = if self.is_id_token() {
            "cognito:username"
        } else {
            "username"
        };
        self.claim(claim, username)
    }

    /// `aud` of an access token: the resource it was issued for (RFC 8707), as a user pool
    /// that binds access tokens to resources sets it. An array of several is
    /// `.claim("aud", json!([..]))`.
    pub fn audience(self, resource: &str) -> Self {
        self.claim("aud", resource)
    }

    fn is_id_token(&self) -> bool {
        self.claims.get("token_use").and_then(Value::as_str) == Some("id")
    }

    /// `cognito:groups`.
    pub fn groups(self, groups: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let groups: Vec<String> = groups.into_iter().map(Into::into).collect();
        self.claim("cognito:groups", groups)
    }

    /// `scope`, joined with spaces.
    pub fn scopes(self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        self.claim("scope", scopes.join(" "))
    }

    /// A `custom:{name}` attribute.
    pub fn custom(self, name: &str, value: &str) -> Self {
        self.claim(&format!("custom:{name}"), value)
    }

    /// The app client: `aud` of an ID token, `client_id` of an access token.
    pub fn client_id(self, client_id: &str) -> Self {
        let claim = if self.is_id_token() {
            "aud"
        } else {
            "client_id"
        };
        self.claim(claim, client_id)
    }

    /// `iss`.
    pub fn issuer(self, issuer: &str) -> Self {
        self.claim("iss", issuer)
    }

    /// Expires this long from now.
    pub fn expires_in(self, lifetime: Duration) -> Self {
        self.expires_at(from_now(lifetime))
    }

    /// Expired an hour ago (well beyond any leeway).
    pub fn expired(self) -> Self {
        self.expires_at(now() - 3600)
    }

    /// `exp` set to this Unix time, in the claims and, when it has one (a load balancer's
    /// token), in the header.
    pub fn expires_at(mut self, unix_seconds: i64) -> Self {
        if let Some(exp) = self.header.get_mut("exp") {
            *exp = unix_seconds.into();
        }
        self.claim("exp", unix_seconds)
    }

    /// Not valid before this long from now (`nbf`).
    pub fn not_before_in(self, delay: Duration) -> Self {
        self.claim("nbf", from_now(delay))
    }

    /// Signs with `key` (RS256, segments without padding) and names its key id in the header.
    pub fn signed_with(mut self, key: &SigningKey) -> Self {
        self.key = TokenKey::Pool(key.clone());
        self.header("kid", key.kid())
    }

    /// The claims as they stand.
    pub fn claims(&self) -> &Map<String, Value> {
        self.claims.as_object().expect("the claims are an object")
    }

    /// The header's JSON text.
    pub fn header_json(&self) -> String {
        self.header.to_string()
    }

    /// The payload's JSON text.
    pub fn claims_json(&self) -> String {
        self.claims.to_string()
    }

    /// `header.payload` as the key's family writes it: base64url, with `=` padding for a load
    /// balancer.
    pub fn signing_input(&self) -> String {
        let engine = match self.key {
            TokenKey::Pool(_) => &URL_SAFE_NO_PAD,
            #[cfg(feature = "alb")]
            TokenKey::Alb(_) => &base64::engine::general_purpose::URL_SAFE,
        };
        let (header, claims) = (self.header_json(), self.claims_json());
        format!("{}.{}", engine.encode(header), engine.encode(claims))
    }

    /// The compact token, signed with the builder's key whatever the header says: RS256 with
    /// a user pool's key, ES256 with the load balancer's current key.
    pub fn sign(self) -> String {
        let input = self.signing_input();
        let signature = match &self.key {
            TokenKey::Pool(key) => key.sign_b64(input.as_bytes()),
            #[cfg(feature = "alb")]
            TokenKey::Alb(alb) => {
                base64::engine::general_purpose::URL_SAFE.encode(alb.sign(input.as_bytes()))
            }
        };
        format!("{input}.{signature}")
    }
}
