//! The claims the verifier itself checks, read without copying from the decoded payload.

use std::borrow::Cow;

use serde::Deserialize;

/// The claims every check reads. Parsing into a struct (not a map) makes serde reject a payload
/// that names one of these members twice, so a second `iss`, `exp` or `token_use` cannot be
/// smuggled past the checks.
#[derive(Debug, Deserialize)]
pub(crate) struct RegisteredClaims<'a> {
    #[serde(borrow, default)]
    pub(crate) iss: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) sub: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) exp: Option<i64>,
    #[serde(default)]
    pub(crate) nbf: Option<i64>,
    #[serde(borrow, default)]
    pub(crate) token_use: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) aud: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) client_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "cognito:groups")]
    pub(crate) groups: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    pub(crate) scope: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) username: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "cognito:username")]
    pub(crate) cognito_username: Option<Cow<'a, str>>,
}

impl<'a> RegisteredClaims<'a> {
    /// Parses the payload, which must be a JSON object: serde would also read a struct from
    /// an array, by position.
    pub(crate) fn parse(payload: &'a [u8]) -> Result<Self, serde_json::Error> {
        if !crate::compact_token::is_json_object(payload) {
            return Err(serde::de::Error::custom("the payload is not a JSON object"));
        }
        serde_json::from_slice(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_members_are_rejected() {
        for payload in [
            r#"{"iss":"a","iss":"b"}"#,
            r#"{"exp":1,"exp":2}"#,
            r#"{"token_use":"id","token_use":"access"}"#,
            r#"{"cognito:groups":[],"cognito:groups":["admins"]}"#,
        ] {
            assert!(
                RegisteredClaims::parse(payload.as_bytes()).is_err(),
                "{payload}"
            );
        }
    }

    #[test]
    fn wrong_types_are_rejected() {
        for payload in [
            r#"{"exp":"1700000000"}"#,
            r#"{"exp":1.5}"#,
            r#"{"exp":99999999999999999999999}"#,
            r#"{"aud":["a","b"]}"#,
            r#"{"iss":5}"#,
            r#"[]"#,
            r#""text""#,
        ] {
            assert!(
                RegisteredClaims::parse(payload.as_bytes()).is_err(),
                "{payload}"
            );
        }
    }
}
