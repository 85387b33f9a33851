//! The claims of a Cognito access token.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{
    lenient::scope_string,
    members::{claims_type, fitted},
    payload::{AudClaim, Captured, Fit, Fitting, GroupsClaim, Payload},
};
use crate::token_use::TokenUse;

claims_type! {
    /// The claims of a verified Cognito access token.
    ///
    /// Machine-to-machine tokens (client credentials grant) have no `username` and no groups;
    /// their `sub` is the app client id. Every claim not named here is kept in
    /// [`AccessClaims::extra`].
    ///
    /// ```
    /// use axum_cognito::AccessClaims;
    ///
    /// let claims: AccessClaims = serde_json::from_str(r#"{
    ///     "sub": "client", "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123456",
    ///     "client_id": "client", "token_use": "access", "exp": 1700000000,
    ///     "scope": "orders/read orders/write"
    /// }"#).unwrap();
    /// assert!(claims.has_scope("orders/read"));
    /// assert_eq!(claims.username, None);
    /// ```
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[non_exhaustive]
    pub struct AccessClaims {
        /// The app client the token was issued to.
        pub client_id: String,
        /// The resources the token was issued for (`aud`, a string or an array in the token):
        /// empty unless the user pool binds access tokens to a resource (RFC 8707; see
        /// [`resource_server`](crate::resource_server)).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub aud: Vec<String>,
        /// Always [`TokenUse::Access`] once verified.
        pub token_use: TokenUse,
        /// The granted scopes (`scope`, space-separated in the token); empty when absent.
        #[serde(serialize_with = "scope_string")]
        pub scope: BTreeSet<String>,
        /// The user name; `None` for machine-to-machine tokens.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub username: Option<String>,
        /// The user's groups (`cognito:groups`); empty when absent.
        #[serde(rename = "cognito:groups", skip_serializing_if = "Vec::is_empty")]
        pub groups: Vec<String>,
    } {
        /// The token format version (`version`, 2 for current pools).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub version: Option<i64>,
    }
}

impl AccessClaims {
    /// The claims of a payload read in one pass, with whether they fit this type. The checked
    /// claims are moved; the others are read from what the pass captured.
    pub(crate) fn from_payload<C: Captured>(p: Payload<'_, C>, token_use: TokenUse) -> (Self, Fit) {
        let mut f = Fitting::new(p.rest, None);
        f.keep_checked("nbf", p.nbf);
        f.keep_checked("cognito:username", p.cognito_username);
        f.keep("cognito:roles", p.roles);
        f.keep("cognito:preferred_role", p.preferred_role);
        f.keep("email", p.email);
        f.keep("email_verified", p.email_verified);
        f.keep("phone_number", p.phone_number);
        f.keep("phone_number_verified", p.phone_number_verified);
        f.keep("name", p.name);
        f.keep("given_name", p.given_name);
        f.keep("family_name", p.family_name);
        f.keep("identities", p.identities);
        f.keep("at_hash", p.at_hash);
        f.keep("nonce", p.nonce);
        let claims = fitted!(p, f, {
            client_id: f.required(p.client_id, "client_id"),
            aud: p.aud.map(AudClaim::into_vec).unwrap_or_default(),
            token_use,
            scope: p.scope.map(|scope| scope.scopes()).unwrap_or_default(),
            username: p.username,
        }, {
            version: f.field(p.version, "version"),
        });
        (claims, f.fit)
    }

    /// True when `scope` holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.contains(scope)
    }

    /// True for a machine-to-machine token: no user, `sub` is the app client id.
    pub fn is_machine_to_machine(&self) -> bool {
        self.username.is_none() && self.sub == self.client_id
    }
}

/// The reading of serde's derive with `flatten` (the type's `Deserialize` before it was read in
/// one pass), which the one-pass reading must equal.
#[cfg(test)]
pub(super) fn wire_reading(json: &str) -> AccessClaims {
    use serde_json::{Map, Value};

    use super::{
        lenient::{audiences, scope_set},
        members::{WireMembers, from_wire},
    };

    #[derive(serde::Deserialize)]
    struct Wire {
        #[serde(flatten)]
        members: WireMembers,
        client_id: String,
        #[serde(default, deserialize_with = "audiences")]
        aud: Vec<String>,
        #[serde(default, deserialize_with = "scope_set")]
        scope: BTreeSet<String>,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        version: Option<i64>,
        #[serde(flatten)]
        extra: Map<String, Value>,
    }
    let w: Wire = serde_json::from_str(json).unwrap();
    from_wire!(AccessClaims, w.members, {
        client_id: w.client_id,
        aud: w.aud,
        scope: w.scope,
        username: w.username,
        version: w.version,
        extra: w.extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_and_machine_tokens() {
        let user: AccessClaims = serde_json::from_str(
            r#"{"sub":"u","iss":"i","client_id":"c","token_use":"access","exp":1,
                "scope":"aws.cognito.signin.user.admin","username":"alice",
                "cognito:groups":["admins"],"version":2,"origin_jti":"o"}"#,
        )
        .unwrap();
        assert!(user.has_scope("aws.cognito.signin.user.admin"));
        assert!(user.in_group("admins"));
        assert!(!user.is_machine_to_machine());

        let m2m: AccessClaims = serde_json::from_str(
            r#"{"sub":"c","iss":"i","client_id":"c","token_use":"access","exp":1,
                "scope":"orders/read orders/write"}"#,
        )
        .unwrap();
        assert!(m2m.is_machine_to_machine());
        assert!(m2m.groups.is_empty());
        assert_eq!(m2m.scope.len(), 2);
    }

    #[test]
    fn scope_serializes_as_cognito_writes_it() {
        let c: AccessClaims = serde_json::from_str(
            r#"{"sub":"c","iss":"i","client_id":"c","token_use":"access","exp":1,"scope":"b a"}"#,
        )
        .unwrap();
        assert_eq!(serde_json::to_value(&c).unwrap()["scope"], "a b");
    }
}
