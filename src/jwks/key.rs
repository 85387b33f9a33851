//! One public key from a JWK, checked and parsed once, and bound to the one algorithm it
//! verifies.
//!
//! Today every usable key is an RSA key for RS256 (what Cognito publishes). A key type for
//! another [`Algorithm`] is one more branch of [`VerifyingKey::from_jwk`] (or a constructor from
//! another document format, such as a PEM key) returning a key bound to that algorithm.

use std::fmt;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;

use crate::algorithm::Algorithm;

/// Smallest modulus trusted. Keys below 2048 bits are factorable by a determined attacker.
const MIN_MODULUS_BITS: usize = 2048;
/// Largest modulus accepted (the verification algorithm's upper bound).
const MAX_MODULUS_BITS: usize = 8192;

/// The JWK members the verifier reads. Others (`x5c`, `x5t`, ...) are ignored.
/// Members absent are `None`.
#[derive(Debug, Deserialize)]
pub(crate) struct Jwk {
    pub(crate) kid: Option<String>,
    kty: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// A public key ready to verify signatures of its one algorithm.
pub(crate) struct VerifyingKey {
    kid: Box<str>,
    algorithm: Algorithm,
    /// The exact length of a signature by this key.
    signature_bytes: usize,
    modulus: Box<[u8]>,
    key: ParsedPublicKey,
}

impl VerifyingKey {
    /// Checks a JWK and parses its key. `Err` says why the key is skipped.
    pub(crate) fn from_jwk(jwk: &Jwk) -> Result<Self, String> {
        let kid = jwk.kid.as_deref().ok_or("no kid")?;
        let kty = jwk.kty.as_deref().unwrap_or("");
        if kty != "RSA" {
            return Err(format!("kty {kty:?} is not RSA"));
        }
        if let Some(use_) = jwk.use_.as_deref().filter(|u| *u != "sig") {
            return Err(format!("use {use_:?} is not sig"));
        }
        let algorithm = Algorithm::Rs256;
        if let Some(alg) = jwk.alg.as_deref().filter(|a| *a != algorithm.name()) {
            return Err(format!("alg {alg:?} is not RS256"));
        }
        // An RSA key from the JWK's `n` and `e`.
        let n = decode_component(jwk.n.as_deref(), "n")?;
        let e = decode_component(jwk.e.as_deref(), "e")?;
        let modulus_bits = bit_length(&n);
        if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&modulus_bits) {
            return Err(format!(
                "modulus of {modulus_bits} bits is outside 2048..=8192"
            ));
        }
        // An exponent of 1 makes every "signature" equal its message; even exponents are not
        // RSA. Cognito uses 65537.
        let exponent_ok =
            e.len() <= 8 && e.last().is_some_and(|b| b & 1 == 1) && bit_length(&e) >= 2;
        if !exponent_ok {
            return Err("exponent is not an odd number from 3 to 2^64".into());
        }
        let key = RsaPublicKeyComponents {
            n: &n[..],
            e: &e[..],
        }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .map_err(|e| format!("key rejected: {e}"))?;
        Ok(Self {
            kid: kid.into(),
            algorithm,
            signature_bytes: modulus_bits.div_ceil(8),
            modulus: n.into_boxed_slice(),
            key,
        })
    }

    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// True when both hold the same public key.
    pub(crate) fn same_key(&self, other: &Self) -> bool {
        self.modulus == other.modulus && self.key.as_ref() == other.key.as_ref()
    }

    /// Verifies a signature of `algorithm`: a key bound to another algorithm refuses it.
    pub(crate) fn verify(
        &self,
        algorithm: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), ()> {
        if algorithm != self.algorithm || signature.len() != self.signature_bytes {
            return Err(());
        }
        self.key.verify_sig(message, signature).map_err(|_| ())
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("signature_bytes", &self.signature_bytes)
            .finish_non_exhaustive()
    }
}

/// Decodes a big-endian integer member and strips leading zero bytes.
fn decode_component(value: Option<&str>, name: &str) -> Result<Vec<u8>, String> {
    let value = value.ok_or_else(|| format!("no {name}"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| format!("{name} is not base64url"))?;
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    if first == bytes.len() {
        return Err(format!("{name} is zero"));
    }
    Ok(bytes[first..].to_vec())
}

fn bit_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        None => 0,
        Some(top) => bytes.len() * 8 - top.leading_zeros() as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(json: serde_json::Value) -> Jwk {
        serde_json::from_value(json).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn modulus(bits: usize) -> Vec<u8> {
        let mut n = vec![0xffu8; bits / 8];
        n[0] = 0xc5;
        n
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&modulus(2048)), 2048);
    }

    #[test]
    fn unusable_jwks_are_skipped_with_a_reason() {
        let n = b64(&modulus(2048));
        let cases = [
            serde_json::json!({"kid":"k","kty":"EC","n":n,"e":"AQAB"}),
            serde_json::json!({"kid":"k","kty":"RSA","use":"enc","n":n,"e":"AQAB"}),
            serde_json::json!({"kid":"k","kty":"RSA","alg":"RS512","n":n,"e":"AQAB"}),
            serde_json::json!({"kty":"RSA","n":n,"e":"AQAB"}),
            serde_json::json!({"kid":"k","kty":"RSA","e":"AQAB"}),
            serde_json::json!({"kid":"k","kty":"RSA","n":b64(&modulus(1024)),"e":"AQAB"}),
            serde_json::json!({"kid":"k","kty":"RSA","n":n,"e":"AQ"}),
            serde_json::json!({"kid":"k","kty":"RSA","n":n,"e":"Ag"}),
            serde_json::json!({"kid":"k","kty":"RSA","n":n,"e":"AA"}),
            serde_json::json!({"kid":"k","kty":"RSA","n":"!!","e":"AQAB"}),
        ];
        for case in cases {
            assert!(
                VerifyingKey::from_jwk(&jwk(case.clone())).is_err(),
                "{case}"
            );
        }
    }
}
