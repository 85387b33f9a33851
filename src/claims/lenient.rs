//! Serde helpers for claims that Cognito and its emulators write in more than one way. The
//! readers are the reference readings of the tests (serde's derive, which the one-pass reading
//! of `payload.rs` must equal); the writer serializes `scope`.

use std::collections::BTreeSet;

use serde::Serializer;
#[cfg(test)]
use serde::{Deserialize, Deserializer};

/// `email_verified` and `phone_number_verified` are booleans in Cognito and the strings
/// `"true"` / `"false"` in some emulators (moto). Both are read as a boolean.
#[cfg(test)]
pub(crate) fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Option::<Flag>::deserialize(d)? {
        None => Ok(None),
        Some(Flag::Bool(b)) => Ok(Some(b)),
        Some(Flag::Text(t)) if t == "true" => Ok(Some(true)),
        Some(Flag::Text(t)) if t == "false" => Ok(Some(false)),
        Some(Flag::Text(_)) => Err(serde::de::Error::custom(
            "expected a boolean or \"true\"/\"false\"",
        )),
    }
}

/// `scope` is one space-separated string; it is read as a set.
#[cfg(test)]
pub(crate) fn scope_set<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeSet<String>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    Ok(text
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

/// `aud`: one string or an array of strings, read as a list.
#[cfg(test)]
pub(crate) fn audiences<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Aud>::deserialize(d)? {
        None => Vec::new(),
        Some(Aud::One(one)) => vec![one],
        Some(Aud::Many(all)) => all,
    })
}

/// A scope set as Cognito writes it: one space-separated string.
pub(crate) fn join_scopes(scopes: &BTreeSet<String>) -> String {
    Vec::from_iter(scopes.iter().map(String::as_str)).join(" ")
}

/// Writes a scope set back as Cognito does: one space-separated string.
pub(crate) fn scope_string<S: Serializer>(
    scopes: &BTreeSet<String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&join_scopes(scopes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Flags {
        #[serde(default, deserialize_with = "bool_or_string")]
        v: Option<bool>,
    }

    #[test]
    fn flags_read_booleans_and_strings() {
        let read = |s: &str| serde_json::from_str::<Flags>(s).map(|f| f.v);
        assert_eq!(read(r#"{"v":true}"#).unwrap(), Some(true));
        assert_eq!(read(r#"{"v":"true"}"#).unwrap(), Some(true));
        assert_eq!(read(r#"{"v":"false"}"#).unwrap(), Some(false));
        assert_eq!(read(r#"{}"#).unwrap(), None);
        assert!(read(r#"{"v":"yes"}"#).is_err());
        assert!(read(r#"{"v":1}"#).is_err());
    }

    #[derive(Deserialize)]
    struct Scoped {
        #[serde(default, deserialize_with = "scope_set")]
        scope: BTreeSet<String>,
    }

    #[test]
    fn scope_is_a_set() {
        let s: Scoped = serde_json::from_str(r#"{"scope":"b a  b"}"#).unwrap();
        assert_eq!(s.scope.into_iter().collect::<Vec<_>>(), ["a", "b"]);
        let s: Scoped = serde_json::from_str(r#"{}"#).unwrap();
        assert!(s.scope.is_empty());
    }
}
