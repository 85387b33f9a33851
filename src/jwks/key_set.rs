//! A JWKS document read into the keys that can verify Cognito tokens.

use std::{collections::BTreeMap, sync::Arc};

use serde::Deserialize;

use super::{JwksError, VerifyingKey, key::Jwk};

/// The usable keys of one JWKS document, sorted by `kid`.
///
/// A sorted vector, not a hash map: a set holds a handful of keys (Cognito publishes two), and
/// a binary search over them costs a comparison or two where hashing the `kid` on every
/// verification and cache hit cost more than that. The set is built once per fetch.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: Vec<(Box<str>, Arc<VerifyingKey>)>,
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    /// Reads a JWKS document. A key that cannot be used (another `kty`, a `use` other than
    /// `sig`, an `alg` other than RS256, a modulus under 2048 bits, a bad exponent) is skipped
    /// with a warning, not fatal to the set. A `kid` listed twice with different keys is
    /// ambiguous, so neither is trusted. A set left with no key is an error, so that a refresh
    /// that returns one keeps the last good keys.
    pub(crate) fn parse(json: &[u8]) -> Result<Self, JwksError> {
        Self::read(json).0
    }

    /// As [`parse`](Self::parse), and why each skipped key was skipped (`kid: reason`), for the
    /// key store's status.
    pub(crate) fn read(json: &[u8]) -> (Result<Self, JwksError>, Vec<String>) {
        let document: Document = match serde_json::from_slice(json) {
            Ok(document) => document,
            Err(e) => return (Err(JwksError::InvalidDocument(e.to_string())), Vec::new()),
        };
        // Sorted by `kid`, as the set keeps them.
        let mut keys: BTreeMap<Box<str>, Arc<VerifyingKey>> = BTreeMap::new();
        let mut ambiguous: Vec<Box<str>> = Vec::new();
        let mut reasons = Vec::new();
        let mut skipped = 0;
        for value in document.keys {
            let parsed = serde_json::from_value::<Jwk>(value)
                .map_err(|e| format!("(no kid): not a JWK: {e}"))
                .and_then(|jwk| {
                    VerifyingKey::from_jwk(&jwk).map_err(|reason| {
                        format!("{}: {reason}", jwk.kid.as_deref().unwrap_or("(no kid)"))
                    })
                });
            let key = match parsed {
                Ok(key) => key,
                Err(reason) => {
                    skipped += 1;
                    tracing::warn!(reason = %reason, "skipping unusable JWK");
                    reasons.push(reason);
                    continue;
                }
            };
            match keys.get(key.kid()) {
                Some(existing) if existing.same_key(&key) => {}
                Some(_) => {
                    tracing::warn!(
                        kid = key.kid(),
                        "kid listed twice with different keys; trusting neither"
                    );
                    ambiguous.push(key.kid().into());
                }
                None => {
                    keys.insert(key.kid().into(), Arc::new(key));
                }
            }
        }
        for kid in &ambiguous {
            if keys.remove(kid).is_some() {
                skipped += 2;
                reasons.push(format!("{kid}: listed twice with different keys"));
            } else {
                skipped += 1;
            }
        }
        if keys.is_empty() {
            return (Err(JwksError::NoUsableKeys { skipped }), reasons);
        }
        let keys = keys.into_iter().collect();
        (Ok(Self { keys }), reasons)
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&Arc<VerifyingKey>> {
        self.keys
            .binary_search_by(|(k, _)| (**k).cmp(kid))
            .ok()
            .map(|i| &self.keys[i].1)
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key ids, sorted.
    pub(crate) fn kids(&self) -> Vec<String> {
        self.keys.iter().map(|(kid, _)| kid.to_string()).collect()
    }

    /// This set with every key that `previous` already held (same `kid`, same key material)
    /// taken from `previous`: the very key object that verified a cached token still vouches
    /// for it after a refresh, so a refresh that answers 200 keeps the token cache.
    pub(crate) fn keeping_unchanged(mut self, previous: &KeySet) -> Self {
        for (kid, key) in &mut self.keys {
            if let Some(old) = previous.get(kid).filter(|old| old.same_key(key)) {
                *key = Arc::clone(old);
            }
        }
        self
    }

    /// Keys of `self` that `next` no longer holds (by kid, or replaced under the same kid).
    pub(crate) fn removed_in<'a>(&'a self, next: &'a KeySet) -> impl Iterator<Item = &'a str> + 'a {
        self.keys
            .iter()
            .filter_map(move |(kid, key)| match next.get(kid) {
                Some(new) if new.same_key(key) => None,
                _ => Some(&**kid),
            })
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::{
        rsa::{KeyPair, KeySize},
        signature::KeyPair as _,
    };
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    use serde_json::json;

    use super::*;

    fn rsa_jwk(kid: &str) -> serde_json::Value {
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = pair.public_key();
        json!({
            "kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        })
    }

    fn parse(keys: Vec<serde_json::Value>) -> Result<KeySet, JwksError> {
        KeySet::parse(json!({ "keys": keys }).to_string().as_bytes())
    }

    #[test]
    fn keeps_usable_keys_and_skips_the_rest() {
        let set = parse(vec![
            rsa_jwk("a"),
            json!({"kid":"ec","kty":"EC","crv":"P-256","x":"AA","y":"AA"}),
            json!({"kid": 5}),
            json!("not an object"),
            rsa_jwk("b"),
        ])
        .unwrap();
        assert_eq!(set.kids(), ["a", "b"]);
    }

    #[test]
    fn a_set_without_usable_keys_is_an_error() {
        assert_eq!(
            parse(vec![]).unwrap_err(),
            JwksError::NoUsableKeys { skipped: 0 }
        );
        assert_eq!(
            parse(vec![json!({"kid":"x","kty":"oct","k":"AA"})]).unwrap_err(),
            JwksError::NoUsableKeys { skipped: 1 }
        );
        for body in ["", "{", "[]", r#"{"keys":{}}"#, "<html></html>"] {
            assert!(matches!(
                KeySet::parse(body.as_bytes()),
                Err(JwksError::InvalidDocument(_))
            ));
        }
    }

    #[test]
    fn duplicate_kids_with_different_keys_are_not_trusted() {
        let a = rsa_jwk("dup");
        let set = parse(vec![a.clone(), a.clone(), rsa_jwk("ok")]).unwrap();
        assert_eq!(set.kids(), ["dup", "ok"], "the same key twice is harmless");
        let set = parse(vec![a, rsa_jwk("dup"), rsa_jwk("ok")]).unwrap();
        assert_eq!(set.kids(), ["ok"]);
    }

    #[test]
    fn skipped_keys_say_why() {
        let a = rsa_jwk("dup");
        let json = json!({ "keys": [
            rsa_jwk("ok"),
            json!({"kid":"ec","kty":"EC","crv":"P-256","x":"AA","y":"AA"}),
            json!({"kid": 5}),
            a.clone(),
            rsa_jwk("dup"),
        ]});
        let (keys, reasons) = KeySet::read(json.to_string().as_bytes());
        assert_eq!(keys.unwrap().kids(), ["ok"]);
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert_eq!(reasons[0], r#"ec: kty "EC" is not RSA"#);
        assert!(reasons[1].starts_with("(no kid): not a JWK"), "{reasons:?}");
        assert_eq!(reasons[2], "dup: listed twice with different keys");

        let (keys, reasons) = KeySet::read(br#"{"keys":[{"kid":"x","kty":"oct","k":"AA"}]}"#);
        assert_eq!(keys.unwrap_err(), JwksError::NoUsableKeys { skipped: 1 });
        assert_eq!(reasons, [r#"x: kty "oct" is not RSA"#]);
    }

    #[test]
    fn removed_keys_are_found() {
        let (a, b) = (rsa_jwk("a"), rsa_jwk("b"));
        let old = parse(vec![a.clone(), b]).unwrap();
        let new = parse(vec![a, rsa_jwk("c")]).unwrap();
        assert_eq!(old.removed_in(&new).collect::<Vec<_>>(), ["b"]);
        let replaced = parse(vec![rsa_jwk("a")]).unwrap();
        let mut gone: Vec<_> = old.removed_in(&replaced).collect();
        gone.sort();
        assert_eq!(gone, ["a", "b"]);
    }
}
