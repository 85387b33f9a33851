//! A load balancer's public key: a P-256 key read once from the PEM document published for its
//! `kid`, bound to ES256.

use std::fmt;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
use base64::{Engine as _, engine::general_purpose::STANDARD};

use crate::algorithm::Algorithm;

/// The DER of the `rsaEncryption` algorithm identifier (1.2.840.113549.1.1.1).
const RSA_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];
/// The DER of the `id-ecPublicKey` algorithm identifier (1.2.840.10045.2.1).
const EC_OID: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// A P-256 public key that verifies ES256 signatures, and nothing else.
pub(crate) struct AlbPublicKey {
    key: ParsedPublicKey,
}

impl AlbPublicKey {
    /// The key of a PEM `PUBLIC KEY` document (an X.509 SubjectPublicKeyInfo), as the load
    /// balancer publishes it. `Err` says why it is not a P-256 public key.
    pub(crate) fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(pem).map_err(|_| "the PEM document is not text")?;
        let body = text
            .trim()
            .strip_prefix("-----BEGIN PUBLIC KEY-----")
            .and_then(|rest| rest.strip_suffix("-----END PUBLIC KEY-----"))
            .ok_or("not a PEM document of one PUBLIC KEY")?;
        let base64: String = body.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
        let der = STANDARD
            .decode(base64.as_bytes())
            .map_err(|_| "the PEM body is not base64")?;
        // aws-lc-rs would also take a bare EC point; only a SubjectPublicKeyInfo (a DER
        // SEQUENCE) is a PEM public key.
        if der.first() != Some(&0x30) {
            return Err("the PEM body is not a SubjectPublicKeyInfo".into());
        }
        if contains(&der, RSA_OID) {
            return Err("an RSA key, not a P-256 key".into());
        }
        if !contains(&der, EC_OID) {
            return Err("not an elliptic-curve key".into());
        }
        let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &der)
            .map_err(|e| format!("not a P-256 public key: {e}"))?;
        Ok(Self { key })
    }

    /// Verifies a signature of `algorithm`: only ES256, only the raw 64-byte `r || s`.
    pub(crate) fn verify(&self, algorithm: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        algorithm == Algorithm::Es256
            && signature.len() == 64
            && self.key.verify_sig(message, signature).is_ok()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl fmt::Debug for AlbPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlbPublicKey")
            .field("algorithm", &Algorithm::Es256)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::{
        encoding::AsDer,
        rand::SystemRandom,
        rsa::{KeyPair, KeySize},
        signature::{
            ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
            KeyPair as _,
        },
    };

    use super::*;

    fn pem(der: &[u8]) -> String {
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    fn p256() -> EcdsaKeyPair {
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap()
    }

    #[test]
    fn a_p256_key_verifies_es256_only() {
        let pair = p256();
        let der = pair.public_key().as_der().unwrap();
        let key = AlbPublicKey::from_pem(pem(der.as_ref()).as_bytes()).unwrap();
        let signature = pair.sign(&SystemRandom::new(), b"message").unwrap();
        assert!(key.verify(Algorithm::Es256, b"message", signature.as_ref()));
        assert!(!key.verify(Algorithm::Es256, b"other", signature.as_ref()));
        assert!(!key.verify(Algorithm::Rs256, b"message", signature.as_ref()));
        let crlf = pem(der.as_ref()).replace('\n', "\r\n");
        assert!(AlbPublicKey::from_pem(crlf.as_bytes()).is_ok());
    }

    #[test]
    fn other_documents_are_refused_with_a_reason() {
        let p384 = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_FIXED_SIGNING).unwrap();
        let rsa = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let point = p256().public_key().as_ref().to_vec();
        let cases = [
            (pem(p384.public_key().as_der().unwrap().as_ref()), "P-256"),
            (pem(rsa.public_key().as_der().unwrap().as_ref()), "RSA"),
            (pem(&point), "SubjectPublicKeyInfo"),
            (
                "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----".into(),
                "PEM",
            ),
            (
                "-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----".into(),
                "base64",
            ),
            (
                "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----".into(),
                "elliptic",
            ),
            ("".into(), "PEM"),
        ];
        for (document, reason) in cases {
            let error = AlbPublicKey::from_pem(document.as_bytes()).unwrap_err();
            assert!(error.contains(reason), "{error} for {document}");
        }
        assert!(AlbPublicKey::from_pem(b"\xff\xfe").is_err());
    }
}
