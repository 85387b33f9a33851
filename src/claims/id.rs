//! The claims of a Cognito ID token.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

#[cfg(test)]
use super::lenient::bool_or_string;
use super::payload::{Captured, Fit, Fitting, Payload, keep_checked};
use crate::token_use::TokenUse;

const CUSTOM_PREFIX: &str = "custom:";

/// The claims of a verified Cognito ID token.
///
/// `custom:*` attributes are gathered in [`IdClaims::custom`] without their prefix; every claim
/// not named here is kept in [`IdClaims::extra`]. Serializing writes the claims back under
/// Cognito's names.
///
/// ```
/// use axum_cognito::IdClaims;
///
/// let claims: IdClaims = serde_json::from_str(r#"{
///     "sub": "5f1c", "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123456",
///     "aud": "client", "token_use": "id", "exp": 1700000000, "cognito:username": "alice",
///     "cognito:groups": ["admins"], "email_verified": "true", "custom:tenant": "acme"
/// }"#).unwrap();
/// assert_eq!(claims.username, "alice");
/// assert_eq!(claims.groups, ["admins"]);
/// assert_eq!(claims.email_verified, Some(true));
/// assert_eq!(claims.custom["tenant"], "acme");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "IdWire")]
#[non_exhaustive]
pub struct IdClaims {
    /// The user's unique, stable identifier (`sub`).
    pub sub: String,
    /// The issuer: the user pool's URL (`iss`).
    pub iss: String,
    /// The app client the token was issued to (`aud`).
    pub aud: String,
    /// Always [`TokenUse::Id`] once verified.
    pub token_use: TokenUse,
    /// The user name (`cognito:username`).
    pub username: String,
    /// The user's groups (`cognito:groups`); empty when the user is in no group, where Cognito
    /// leaves the claim out.
    pub groups: Vec<String>,
    /// IAM role ARNs of the user's groups (`cognito:roles`); empty when absent.
    pub roles: Vec<String>,
    /// The preferred IAM role (`cognito:preferred_role`).
    pub preferred_role: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `email_verified`, read from a boolean or from the string `"true"` / `"false"`.
    pub email_verified: Option<bool>,
    /// `phone_number`.
    pub phone_number: Option<String>,
    /// `phone_number_verified`, read like `email_verified`.
    pub phone_number_verified: Option<bool>,
    /// `name`.
    pub name: Option<String>,
    /// `given_name`.
    pub given_name: Option<String>,
    /// `family_name`.
    pub family_name: Option<String>,
    /// Federated identities (`identities`), as Cognito writes them.
    pub identities: Option<Value>,
    /// When the user authenticated (`auth_time`, seconds since the epoch).
    pub auth_time: Option<i64>,
    /// When the token was issued (`iat`).
    pub iat: Option<i64>,
    /// When the token expires (`exp`).
    pub exp: i64,
    /// The token's id (`jti`).
    pub jti: Option<String>,
    /// The id of the sign-in session's first token (`origin_jti`).
    pub origin_jti: Option<String>,
    /// `event_id`.
    pub event_id: Option<String>,
    /// `at_hash`.
    pub at_hash: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// String-valued `custom:*` attributes, keyed without the `custom:` prefix.
    pub custom: BTreeMap<String, String>,
    /// Every other claim.
    pub extra: Map<String, Value>,
}

impl IdClaims {
    /// The claims of a payload read in one pass, with whether they fit this type. The checked
    /// claims are moved; the others are read from what the pass captured.
    pub(crate) fn from_payload<C: Captured>(p: Payload<C>, token_use: TokenUse) -> (Self, Fit) {
        let mut fitting = Fitting(Fit::Fits);
        let mut extra = Map::new();
        let mut custom = BTreeMap::new();
        for (key, value) in p.rest {
            match (
                key.strip_prefix(CUSTOM_PREFIX),
                fitting.value(value, "extra"),
            ) {
                (Some(name), Some(Value::String(text))) => {
                    custom.insert(name.to_owned(), text);
                }
                (_, Some(value)) => {
                    extra.insert(key, value);
                }
                (_, None) => {}
            }
        }
        keep_checked(&mut extra, "nbf", p.nbf.map(Value::from));
        keep_checked(&mut extra, "client_id", p.client_id.map(Value::String));
        keep_checked(
            &mut extra,
            "scope",
            p.scope.map(|scope| Value::String(scope.joined())),
        );
        keep_checked(&mut extra, "username", p.username.map(Value::String));
        fitting.keep(&mut extra, "version", p.version);
        let claims = Self {
            sub: fitting.required(p.sub, "sub"),
            iss: fitting.required(p.iss, "iss"),
            aud: fitting.required(p.aud, "aud"),
            token_use,
            username: fitting.required(p.cognito_username, "cognito:username"),
            groups: p.groups.unwrap_or_default(),
            roles: fitting.field(p.roles, "cognito:roles").unwrap_or_default(),
            preferred_role: fitting.field(p.preferred_role, "cognito:preferred_role"),
            email: fitting.field(p.email, "email"),
            email_verified: fitting.flag(p.email_verified, "email_verified"),
            phone_number: fitting.field(p.phone_number, "phone_number"),
            phone_number_verified: fitting.flag(p.phone_number_verified, "phone_number_verified"),
            name: fitting.field(p.name, "name"),
            given_name: fitting.field(p.given_name, "given_name"),
            family_name: fitting.field(p.family_name, "family_name"),
            identities: fitting.field(p.identities, "identities"),
            auth_time: p.auth_time,
            iat: p.iat,
            exp: fitting.required(p.exp, "exp"),
            jti: p.jti,
            origin_jti: p.origin_jti,
            event_id: fitting.field(p.event_id, "event_id"),
            at_hash: fitting.field(p.at_hash, "at_hash"),
            nonce: fitting.field(p.nonce, "nonce"),
            custom,
            extra,
        };
        (claims, fitting.0)
    }

    /// True when `cognito:groups` holds `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// The claims under Cognito's names, for serializing (and, in tests, the reference reading
/// the one-pass reading is compared with).
#[derive(Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
struct IdWire {
    sub: String,
    iss: String,
    aud: String,
    token_use: TokenUse,
    #[serde(rename = "cognito:username")]
    username: String,
    #[serde(
        rename = "cognito:groups",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    groups: Option<Vec<String>>,
    #[serde(
        rename = "cognito:roles",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    roles: Option<Vec<String>>,
    #[serde(
        rename = "cognito:preferred_role",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    preferred_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(
        default,
        deserialize_with = "bool_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    #[serde(
        default,
        deserialize_with = "bool_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    phone_number_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identities: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin_jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[cfg(test)]
impl From<IdWire> for IdClaims {
    fn from(w: IdWire) -> Self {
        let mut custom = BTreeMap::new();
        let mut extra = Map::new();
        for (key, value) in w.rest {
            match (key.strip_prefix(CUSTOM_PREFIX), value) {
                (Some(name), Value::String(text)) => {
                    custom.insert(name.to_owned(), text);
                }
                (_, value) => {
                    extra.insert(key, value);
                }
            }
        }
        Self {
            sub: w.sub,
            iss: w.iss,
            aud: w.aud,
            token_use: w.token_use,
            username: w.username,
            groups: w.groups.unwrap_or_default(),
            roles: w.roles.unwrap_or_default(),
            preferred_role: w.preferred_role,
            email: w.email,
            email_verified: w.email_verified,
            phone_number: w.phone_number,
            phone_number_verified: w.phone_number_verified,
            name: w.name,
            given_name: w.given_name,
            family_name: w.family_name,
            identities: w.identities,
            auth_time: w.auth_time,
            iat: w.iat,
            exp: w.exp,
            jti: w.jti,
            origin_jti: w.origin_jti,
            event_id: w.event_id,
            at_hash: w.at_hash,
            nonce: w.nonce,
            custom,
            extra,
        }
    }
}

impl From<IdClaims> for IdWire {
    fn from(c: IdClaims) -> Self {
        let mut rest = c.extra;
        for (name, value) in c.custom {
            rest.insert(format!("{CUSTOM_PREFIX}{name}"), Value::String(value));
        }
        Self {
            sub: c.sub,
            iss: c.iss,
            aud: c.aud,
            token_use: c.token_use,
            username: c.username,
            groups: (!c.groups.is_empty()).then_some(c.groups),
            roles: (!c.roles.is_empty()).then_some(c.roles),
            preferred_role: c.preferred_role,
            email: c.email,
            email_verified: c.email_verified,
            phone_number: c.phone_number,
            phone_number_verified: c.phone_number_verified,
            name: c.name,
            given_name: c.given_name,
            family_name: c.family_name,
            identities: c.identities,
            auth_time: c.auth_time,
            iat: c.iat,
            exp: c.exp,
            jti: c.jti,
            origin_jti: c.origin_jti,
            event_id: c.event_id,
            at_hash: c.at_hash,
            nonce: c.nonce,
            rest,
        }
    }
}

/// The reading of serde's derive with `flatten`, which the one-pass reading must equal.
#[cfg(test)]
pub(super) fn wire_reading(json: &str) -> IdClaims {
    serde_json::from_str::<IdWire>(json).unwrap().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"{
        "sub": "aaaa-bbbb", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123456",
        "aud": "client1", "token_use": "id", "auth_time": 1700000000, "iat": 1700000000,
        "exp": 1700003600, "jti": "j", "origin_jti": "o", "event_id": "e",
        "cognito:username": "alice", "cognito:groups": ["admins", "readers"],
        "cognito:roles": ["arn:aws:iam::1:role/r"], "cognito:preferred_role": "arn:aws:iam::1:role/r",
        "email": "alice@example.com", "email_verified": true, "phone_number": "+100",
        "phone_number_verified": "false", "name": "Alice", "custom:tenant": "acme",
        "custom:level": 3, "identities": [{"providerName": "Google"}], "locale": "en"
    }"#;

    #[test]
    fn reads_every_cognito_id_claim() {
        let c: IdClaims = serde_json::from_str(FULL).unwrap();
        assert_eq!(c.username, "alice");
        assert_eq!(c.groups, ["admins", "readers"]);
        assert!(c.in_group("readers") && !c.in_group("writers"));
        assert_eq!(c.roles.len(), 1);
        assert_eq!(c.email_verified, Some(true));
        assert_eq!(c.phone_number_verified, Some(false));
        assert_eq!(c.custom.get("tenant").map(String::as_str), Some("acme"));
        // A non-string custom value is not a Cognito attribute value; it stays in `extra`.
        assert_eq!(c.extra["custom:level"], 3);
        assert_eq!(c.extra["locale"], "en");
        assert!(c.identities.is_some());
    }

    #[test]
    fn groups_are_empty_when_absent() {
        let c: IdClaims = serde_json::from_str(
            r#"{"sub":"s","iss":"i","aud":"a","token_use":"id","exp":1,"cognito:username":"u"}"#,
        )
        .unwrap();
        assert!(c.groups.is_empty());
        assert!(c.custom.is_empty());
    }

    #[test]
    fn round_trips_under_cognito_names() {
        let c: IdClaims = serde_json::from_str(FULL).unwrap();
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["cognito:username"], "alice");
        assert_eq!(json["custom:tenant"], "acme");
        let back: IdClaims = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }
}
