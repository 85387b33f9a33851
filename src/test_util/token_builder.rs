//! Minting Cognito-shaped tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value, json};

use super::{SigningKey, TestIssuer};

/// Builds one token. Start from [`TestIssuer::id_token`], [`TestIssuer::access_token`] or
/// [`TestIssuer::machine_token`]; every claim can be changed or removed, and the header too.
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
    header: Map<String, Value>,
    claims: Map<String, Value>,
    key: SigningKey,
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
    SystemRandom::new()
        .fill(&mut b)
        .expect("system random source");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut uuid = format!("{:032x}", u128::from_be_bytes(b));
    for at in [20, 16, 12, 8] {
        uuid.insert(at, '-');
    }
    uuid
}

/// `value`'s members: the header and claims literals of the token builders are JSON objects.
pub(super) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(members) => members,
        _ => unreachable!("a JSON object literal"),
    }
}

/// The setters every token builder has, on its `header` and `claims` maps.
macro_rules! header_and_claim_setters {
    () => {
        /// Sets any claim.
        pub fn claim(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
            self.claims.insert(name.to_owned(), value.into());
            self
        }

        /// Sets a header member (`alg`, `kid`, `typ`, or any other).
        pub fn header(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
            self.header.insert(name.to_owned(), value.into());
            self
        }

        /// Removes a header member.
        pub fn without_header(mut self, name: &str) -> Self {
            self.header.remove(name);
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
    };
}
// For `AlbTokenBuilder`; `TokenBuilder` below uses the definition in place.
#[cfg(feature = "alb")]
pub(super) use header_and_claim_setters;

impl TokenBuilder {
    fn base(issuer: &TestIssuer, token_use: &str) -> Self {
        let key = issuer.signing_key();
        let now = now();
        let header = json!({ "kid": key.kid(), "alg": "RS256" });
        let claims = json!({
            "sub": random_uuid(),
            "iss": issuer.issuer(),
            "token_use": token_use,
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "jti": random_uuid(),
            "origin_jti": random_uuid(),
            "event_id": random_uuid(),
        });
        Self {
            header: object(header),
            claims: object(claims),
            key,
        }
    }

    pub(crate) fn id(issuer: &TestIssuer) -> Self {
        Self::base(issuer, "id")
            .claim("aud", issuer.client_id())
            .claim("cognito:username", "test-user")
            .claim("email", "test-user@example.com")
            .claim("email_verified", true)
    }

    pub(crate) fn access(issuer: &TestIssuer) -> Self {
        Self::base(issuer, "access")
            .claim("client_id", issuer.client_id())
            .claim("username", "test-user")
            .claim("scope", "aws.cognito.signin.user.admin")
            .claim("version", 2)
    }

    pub(crate) fn machine(issuer: &TestIssuer) -> Self {
        Self::base(issuer, "access")
            .claim("sub", issuer.client_id())
            .claim("client_id", issuer.client_id())
            .claim("scope", "default-m2m-resource-server/read")
            .claim("version", 2)
            .without("auth_time")
            .without("origin_jti")
    }

    header_and_claim_setters!();

    /// Removes a claim.
    pub fn without(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// The user name: `cognito:username` in an ID token, `username` in an access token.
    pub fn username(self, username: &str) -> Self {
        if self.is_id_token() {
            self.claim("cognito:username", username)
        } else {
            self.claim("username", username)
        }
    }

    /// `cognito:groups`.
    pub fn groups<I, S>(self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let groups: Vec<String> = groups.into_iter().map(Into::into).collect();
        self.claim("cognito:groups", groups)
    }

    /// `scope`, joined with spaces.
    pub fn scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        self.claim("scope", scopes.join(" "))
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

    /// A `custom:{name}` attribute.
    pub fn custom(self, name: &str, value: &str) -> Self {
        self.claim(&format!("custom:{name}"), value)
    }

    /// The app client: `aud` of an ID token, `client_id` of an access token.
    pub fn client_id(self, client_id: &str) -> Self {
        if self.is_id_token() {
            self.claim("aud", client_id)
        } else {
            self.claim("client_id", client_id)
        }
    }

    /// `iss`.
    pub fn issuer(self, issuer: &str) -> Self {
        self.claim("iss", issuer)
    }

    /// Expires this long from now.
    pub fn expires_in(self, lifetime: Duration) -> Self {
        self.claim("exp", from_now(lifetime))
    }

    /// Expired an hour ago (well beyond any leeway).
    pub fn expired(self) -> Self {
        self.claim("exp", now() - 3600)
    }

    /// `exp` set to this Unix time.
    pub fn expires_at(self, unix_seconds: i64) -> Self {
        self.claim("exp", unix_seconds)
    }

    /// Not valid before this long from now (`nbf`).
    pub fn not_before_in(self, delay: Duration) -> Self {
        self.claim("nbf", from_now(delay))
    }

    /// Signs with `key` and names its key id in the header.
    pub fn signed_with(mut self, key: &SigningKey) -> Self {
        self.header.insert("kid".into(), key.kid().into());
        self.key = key.clone();
        self
    }

    /// The claims as they stand.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The compact token, RS256-signed with the builder's key whatever the header says.
    pub fn sign(self) -> String {
        self.key
            .sign_token(&Value::Object(self.header), &Value::Object(self.claims))
    }
}
