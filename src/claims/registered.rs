//! The claims the verifier itself checks: read without copying from the decoded payload
//! ([`RegisteredClaims`]), and the borrowed view of them that every check reads
//! ([`StandardClaims`]), whether they come from a payload or from a cached token.

use std::{borrow::Cow, ops::Deref};

use serde::Deserialize;

/// The claims every check reads. Parsing into a struct (not a map) makes serde reject a payload
/// that names one of these members twice, so a second `iss`, `exp` or `token_use` cannot be
/// smuggled past the checks.
#[derive(Debug, Deserialize)]
pub(crate) struct RegisteredClaims<'a> {
    #[serde(borrow, default)]
    pub(crate) iss: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(crate) sub: Option<Text<'a>>,
    #[serde(default)]
    pub(crate) exp: Option<i64>,
    #[serde(default)]
    pub(crate) nbf: Option<i64>,
    #[serde(borrow, default)]
    pub(crate) token_use: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(crate) aud: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(crate) client_id: Option<Text<'a>>,
    #[serde(borrow, default, rename = "cognito:groups")]
    pub(crate) groups: Option<Vec<Text<'a>>>,
    #[serde(borrow, default)]
    pub(crate) scope: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(crate) username: Option<Text<'a>>,
    #[serde(borrow, default, rename = "cognito:username")]
    pub(crate) cognito_username: Option<Text<'a>>,
    /// What revocation reads (`revocation/`): read here, with the others, so that a second
    /// `jti` or `iat` cannot be smuggled past a revocation either.
    #[serde(borrow, default)]
    pub(crate) jti: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(crate) origin_jti: Option<Text<'a>>,
    #[serde(default)]
    pub(crate) iat: Option<i64>,
    #[serde(default)]
    pub(crate) auth_time: Option<i64>,
}

/// A string claim, borrowed from the payload unless it holds escapes. serde borrows a
/// `Cow<str>` field only when it is the field's whole type; inside an `Option` or a `Vec` it
/// would copy every string of every token.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// The claims the standard checks read, borrowed. A full verification takes them from the
/// payload it just parsed; a cache hit from the verified token it stored. Both hand the same
/// view to the same checks (`verifier/pipeline.rs`), so a check cannot be skipped by a hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StandardClaims<'a> {
    pub(crate) iss: Option<&'a str>,
    pub(crate) sub: Option<&'a str>,
    pub(crate) exp: Option<i64>,
    pub(crate) nbf: Option<i64>,
    pub(crate) token_use: Option<&'a str>,
    pub(crate) aud: Option<&'a str>,
    pub(crate) client_id: Option<&'a str>,
}

impl<'a> RegisteredClaims<'a> {
    /// The view the standard checks read.
    pub(crate) fn standard(&self) -> StandardClaims<'_> {
        StandardClaims {
            iss: self.iss.as_deref(),
            sub: self.sub.as_deref(),
            exp: self.exp,
            nbf: self.nbf,
            token_use: self.token_use.as_deref(),
            aud: self.aud.as_deref(),
            client_id: self.client_id.as_deref(),
        }
    }

    /// Parses the payload, which must be a JSON object: serde would also read a struct from
    /// an array, by position. Text, not bytes: checked as UTF-8 once, not string by string.
    pub(crate) fn parse(payload: &'a str) -> Result<Self, serde_json::Error> {
        if !crate::json::is_json_object(payload.as_bytes()) {
            return Err(serde::de::Error::custom("the payload is not a JSON object"));
        }
        serde_json::from_str(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let payload = r#"{"iss":"https://a/b","sub":"s\u00e9","cognito:groups":["g"]}"#;
        let claims = RegisteredClaims::parse(payload).unwrap();
        assert!(matches!(
            claims.iss,
            Some(Text(Cow::Borrowed("https://a/b")))
        ));
        assert_eq!(claims.sub.as_deref(), Some("s\u{e9}"));
        assert!(matches!(claims.sub, Some(Text(Cow::Owned(_)))));
        let groups = claims.groups.unwrap();
        assert!(matches!(groups[..], [Text(Cow::Borrowed("g"))]));
    }

    #[test]
    fn duplicate_members_are_rejected() {
        for payload in [
            r#"{"iss":"a","iss":"b"}"#,
            r#"{"exp":1,"exp":2}"#,
            r#"{"token_use":"id","token_use":"access"}"#,
            r#"{"cognito:groups":[],"cognito:groups":["admins"]}"#,
            r#"{"jti":"a","jti":"b"}"#,
            r#"{"iat":1,"iat":2}"#,
        ] {
            assert!(RegisteredClaims::parse(payload).is_err(), "{payload}");
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
            assert!(RegisteredClaims::parse(payload).is_err(), "{payload}");
        }
    }
}
