//! Either token's claims, for verifiers that accept both token uses.

use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::{
    AccessClaims, IdClaims,
    payload::{Captured, Fit, Payload},
};
use crate::token_use::TokenUse;

/// `$body` on the claims of either variant of `$claims`, bound to `$c`.
macro_rules! either {
    ($claims:expr, $c:ident => $body:expr) => {
        match $claims {
            $crate::claims::TokenClaims::Id($c) => $body,
            $crate::claims::TokenClaims::Access($c) => $body,
        }
    };
}

pub(crate) use either;

/// The claims of a verified ID or access token, told apart by `token_use`.
///
/// Each variant holds its claims behind an [`Arc`]: a verification served from the token cache
/// hands out the claims it read the first time, with no copy and no allocation, and a clone of
/// a `TokenClaims` is a reference count. Match on it as on the claims themselves
/// (`TokenClaims::Id(id) => id.email.as_deref()`); [`Arc::unwrap_or_clone`] gives owned claims.
///
/// Exhaustive, as [`TokenUse`] is: a user pool issues these two uses and no other.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenClaims {
    /// An ID token.
    Id(Arc<IdClaims>),
    /// An access token.
    Access(Arc<AccessClaims>),
}

impl TokenClaims {
    /// The claims of a payload read in one pass, as the type of `token_use`, with whether they
    /// fit it.
    pub(crate) fn from_payload<C: Captured>(
        payload: Payload<'_, C>,
        token_use: TokenUse,
    ) -> (Self, Fit) {
        fn either<C: Into<TokenClaims>>((claims, fit): (C, Fit)) -> (TokenClaims, Fit) {
            (claims.into(), fit)
        }
        match token_use {
            TokenUse::Id => either(IdClaims::from_payload(payload, token_use)),
            TokenUse::Access => either(AccessClaims::from_payload(payload, token_use)),
        }
    }

    /// `sub`: the user's (or, for machine-to-machine tokens, the client's) identifier.
    pub fn sub(&self) -> &str {
        either!(self, c => &c.sub)
    }

    /// Which token this is.
    pub fn token_use(&self) -> TokenUse {
        match self {
            Self::Id(_) => TokenUse::Id,
            Self::Access(_) => TokenUse::Access,
        }
    }

    /// The user name (`cognito:username` or `username`); `None` for machine-to-machine tokens.
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Id(c) => Some(&c.username),
            Self::Access(c) => c.username.as_deref(),
        }
    }

    /// `cognito:groups`; empty when absent.
    pub fn groups(&self) -> &[String] {
        either!(self, c => &c.groups)
    }

    /// The app client: `aud` of an ID token, `client_id` of an access token.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Id(c) => &c.aud,
            Self::Access(c) => &c.client_id,
        }
    }

    /// `exp`.
    pub fn exp(&self) -> i64 {
        either!(self, c => c.exp)
    }

    /// `iss`.
    pub fn iss(&self) -> &str {
        either!(self, c => &c.iss)
    }
}

impl From<IdClaims> for TokenClaims {
    fn from(claims: IdClaims) -> Self {
        Self::Id(Arc::new(claims))
    }
}

impl From<AccessClaims> for TokenClaims {
    fn from(claims: AccessClaims) -> Self {
        Self::Access(Arc::new(claims))
    }
}

/// Serialized as the claims of its variant, under Cognito's names.
impl Serialize for TokenClaims {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        either!(self, claims => claims.serialize(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::TokenPayload;

    #[test]
    fn dispatches_on_token_use() {
        let id: TokenClaims = serde_json::from_str(
            r#"{"sub":"s","iss":"i","aud":"a","token_use":"id","exp":1,"cognito:username":"u"}"#,
        )
        .unwrap();
        assert_eq!(id.token_use(), TokenUse::Id);
        assert_eq!(id.client_id(), "a");
        assert_eq!(id.username(), Some("u"));
        let access: TokenClaims = serde_json::from_str(
            r#"{"sub":"s","iss":"i","client_id":"c","token_use":"access","exp":1}"#,
        )
        .unwrap();
        assert_eq!(access.token_use(), TokenUse::Access);
        assert_eq!(access.client_id(), "c");
        assert!(serde_json::from_str::<TokenClaims>(r#"{"sub":"s","token_use":"ID"}"#).is_err());
    }

    #[test]
    fn typed_only_claims_of_the_wrong_type_only_make_the_claims_not_fit() {
        let base =
            r#""sub":"s","iss":"i","aud":"a","token_use":"id","exp":1,"cognito:username":"u""#;
        for (member, what) in [
            (r#""email_verified":"yes""#, "email_verified"),
            (r#""email":5"#, "email"),
            (r#""cognito:roles":"r""#, "cognito:roles"),
            (r#""cognito:roles":[1]"#, "cognito:roles"),
        ] {
            let json = format!("{{{base},{member}}}");
            let payload = TokenPayload::parse(&json).unwrap();
            let (_, fit) = TokenClaims::from_payload(payload, TokenUse::Id);
            assert_eq!(fit, Fit::DoesNotFit(what), "{member}");
        }
        let json = format!("{{{base}}}");
        let payload = TokenPayload::parse(&json).unwrap();
        assert_eq!(
            TokenClaims::from_payload(payload, TokenUse::Id).1,
            Fit::Fits
        );
        // In an access token the same members are not typed: they are kept in `extra`.
        let access = r#"{"sub":"s","iss":"i","client_id":"c","token_use":"access","exp":1,
            "email_verified":"yes","email":5,"version":"2"}"#;
        let (claims, fit) =
            AccessClaims::from_payload(TokenPayload::parse(access).unwrap(), TokenUse::Access);
        assert_eq!(fit, Fit::DoesNotFit("version"));
        assert_eq!(claims.extra["email_verified"], "yes");
        assert_eq!(claims.extra["email"], 5);
    }

    /// The one-pass reading gives what serde's derive gives for the same claims, member for
    /// member, `extra` and `custom` included.
    #[test]
    fn claims_read_in_one_pass_equal_the_wire_reading() {
        let id = r#"{
            "sub": "aaaa-bbbb", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123456",
            "aud": "client1", "token_use": "id", "auth_time": 1700000000, "iat": 1700000000,
            "exp": 1700003600, "nbf": 1699990000, "jti": "j", "origin_jti": "o", "event_id": "e",
            "cognito:username": "alice", "cognito:groups": ["admins", "readers"],
            "cognito:roles": ["arn:aws:iam::1:role/r"], "cognito:preferred_role": "arn:aws:iam::1:role/r",
            "email": "alice@example.com", "email_verified": true, "phone_number": "+100",
            "phone_number_verified": "false", "name": "Alice", "custom:tenant": "acme",
            "custom:level": 3, "identities": [{"providerName": "Google"}], "locale": "en",
            "client_id": "stray", "scope": "openid", "username": "other", "version": 2
        }"#;
        let (claims, fit) = IdClaims::from_payload(TokenPayload::parse(id).unwrap(), TokenUse::Id);
        assert_eq!(fit, Fit::Fits);
        assert_eq!(claims, super::super::id::wire_reading(id));
        assert_eq!(claims.extra["nbf"], 1699990000);
        assert_eq!(claims.extra["client_id"], "stray");
        assert_eq!(claims.custom["tenant"], "acme");

        let access = r#"{
            "sub": "u", "iss": "i", "client_id": "c", "token_use": "access", "exp": 1,
            "scope": "b a aws.cognito.signin.user.admin", "username": "alice",
            "cognito:groups": ["admins"], "version": 2, "origin_jti": "o", "jti": "j",
            "event_id": "e", "auth_time": 1, "iat": 1, "nbf": 0, "aud": "x",
            "cognito:username": "y", "email": "e@x", "custom:tenant": "acme", "device_key": "d"
        }"#;
        let (claims, fit) =
            AccessClaims::from_payload(TokenPayload::parse(access).unwrap(), TokenUse::Access);
        assert_eq!(fit, Fit::Fits);
        assert_eq!(claims, super::super::access::wire_reading(access));
        assert_eq!(claims.extra["custom:tenant"], "acme");
        assert_eq!(claims.aud, ["x"]);
    }
}
