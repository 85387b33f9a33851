//! The claims of a Cognito ID token.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{
    lenient::join_scopes,
    members::{claims_type, fitted},
    payload::{AudClaim, CUSTOM_PREFIX, Captured, Fit, Fitting, GroupsClaim, Payload},
};
use crate::token_use::TokenUse;

claims_type! {
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
    #[non_exhaustive]
    pub struct IdClaims {
        /// The app client the token was issued to (`aud`).
        pub aud: String,
        /// Always [`TokenUse::Id`] once verified.
        pub token_use: TokenUse,
        /// The user name (`cognito:username`).
        #[serde(rename = "cognito:username")]
        pub username: String,
        /// The user's groups (`cognito:groups`); empty when the user is in no group, where Cognito
        /// leaves the claim out.
        #[serde(rename = "cognito:groups", skip_serializing_if = "Vec::is_empty")]
        pub groups: Vec<String>,
        /// IAM role ARNs of the user's groups (`cognito:roles`); empty when absent.
        #[serde(rename = "cognito:roles", skip_serializing_if = "Vec::is_empty")]
        pub roles: Vec<String>,
        /// The preferred IAM role (`cognito:preferred_role`).
        #[serde(
            rename = "cognito:preferred_role",
            skip_serializing_if = "Option::is_none"
        )]
        pub preferred_role: Option<String>,
        /// `email`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub email: Option<String>,
        /// `email_verified`, read from a boolean or from the string `"true"` / `"false"`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub email_verified: Option<bool>,
        /// `phone_number`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub phone_number: Option<String>,
        /// `phone_number_verified`, read like `email_verified`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub phone_number_verified: Option<bool>,
        /// `name`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// `given_name`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub given_name: Option<String>,
        /// `family_name`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub family_name: Option<String>,
        /// Federated identities (`identities`), as Cognito writes them.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub identities: Option<Value>,
    } {
        /// `at_hash`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub at_hash: Option<String>,
        /// `nonce`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub nonce: Option<String>,
        /// String-valued `custom:*` attributes, keyed without the `custom:` prefix.
        #[serde(flatten, serialize_with = "with_custom_prefix")]
        pub custom: BTreeMap<String, String>,
    }
}

impl IdClaims {
    /// The claims of a payload read in one pass, with whether they fit this type. The checked
    /// claims are moved; the others are read from what the pass captured.
    pub(crate) fn from_payload<C: Captured>(p: Payload<'_, C>, token_use: TokenUse) -> (Self, Fit) {
        let mut custom = BTreeMap::new();
        let mut f = Fitting::new(p.rest, Some(&mut custom));
        f.keep_checked("nbf", p.nbf);
        f.keep_checked("client_id", p.client_id);
        // Sorted, without repeats.
        f.keep_checked("scope", p.scope.map(|scope| join_scopes(&scope.scopes())));
        f.keep_checked("username", p.username);
        f.keep("version", p.version);
        let claims = fitted!(p, f, {
            aud: f.required(p.aud.as_ref().and_then(AudClaim::single).map(str::to_owned), "aud"),
            token_use,
            username: f.required(p.cognito_username, "cognito:username"),
            roles: f.field(p.roles, "cognito:roles").unwrap_or_default(),
            preferred_role: f.field(p.preferred_role, "cognito:preferred_role"),
            email: f.field(p.email, "email"),
            email_verified: f.flag(p.email_verified, "email_verified"),
            phone_number: f.field(p.phone_number, "phone_number"),
            phone_number_verified: f.flag(p.phone_number_verified, "phone_number_verified"),
            name: f.field(p.name, "name"),
            given_name: f.field(p.given_name, "given_name"),
            family_name: f.field(p.family_name, "family_name"),
            identities: f.field(p.identities, "identities"),
        }, {
            at_hash: f.field(p.at_hash, "at_hash"),
            nonce: f.field(p.nonce, "nonce"),
            custom,
        });
        (claims, f.fit)
    }
}

/// Writes `custom` back under Cognito's names, `custom:` and the attribute's name.
fn with_custom_prefix<S: Serializer>(
    custom: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(
        custom
            .iter()
            .map(|(name, value)| (format!("{CUSTOM_PREFIX}{name}"), value)),
    )
}

/// The reading of serde's derive with `flatten`, which the one-pass reading must equal.
#[cfg(test)]
pub(super) fn wire_reading(json: &str) -> IdClaims {
    use serde_json::Map;

    use super::{
        lenient::bool_or_string,
        members::{WireMembers, from_wire},
    };

    #[derive(serde::Deserialize)]
    struct Wire {
        #[serde(flatten)]
        members: WireMembers,
        aud: String,
        #[serde(rename = "cognito:username")]
        username: String,
        #[serde(rename = "cognito:roles", default)]
        roles: Option<Vec<String>>,
        #[serde(rename = "cognito:preferred_role", default)]
        preferred_role: Option<String>,
        #[serde(default)]
        email: Option<String>,
        #[serde(default, deserialize_with = "bool_or_string")]
        email_verified: Option<bool>,
        #[serde(default)]
        phone_number: Option<String>,
        #[serde(default, deserialize_with = "bool_or_string")]
        phone_number_verified: Option<bool>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        given_name: Option<String>,
        #[serde(default)]
        family_name: Option<String>,
        #[serde(default)]
        identities: Option<Value>,
        #[serde(default)]
        at_hash: Option<String>,
        #[serde(default)]
        nonce: Option<String>,
        #[serde(flatten)]
        rest: Map<String, Value>,
    }
    let w: Wire = serde_json::from_str(json).unwrap();
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
    from_wire!(IdClaims, w.members, {
        aud: w.aud,
        username: w.username,
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
        at_hash: w.at_hash,
        nonce: w.nonce,
        custom,
        extra,
    })
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
