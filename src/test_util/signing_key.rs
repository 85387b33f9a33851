//! An RSA key pair that signs test tokens.

use std::sync::Arc;

use aws_lc_rs::{
    rand::{self, SystemRandom},
    rsa::{KeyPair, KeySize},
    signature::{KeyPair as _, RSA_PKCS1_SHA256},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// An RSA-2048 key pair with a key id, as a Cognito pool has.
#[derive(Debug, Clone)]
pub struct SigningKey {
    kid: String,
    pair: Arc<KeyPair>,
}

impl SigningKey {
    /// A new key with a random key id shaped like Cognito's (base64 of 32 bytes, with `+`,
    /// `/` and `=`).
    ///
    /// # Panics
    ///
    /// If the system cannot generate an RSA key (test code only).
    pub fn generate() -> Self {
        let mut raw = [0u8; 32];
        rand::fill(&mut raw).expect("system random source");
        Self::generate_with_kid(base64::engine::general_purpose::STANDARD.encode(raw))
    }

    /// A new key with this key id.
    ///
    /// # Panics
    ///
    /// If the system cannot generate an RSA key (test code only).
    pub fn generate_with_kid(kid: impl Into<String>) -> Self {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        Self {
            kid: kid.into(),
            pair: Arc::new(pair),
        }
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK, as Cognito publishes it.
    pub fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "alg": "RS256",
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
            "kid": self.kid,
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "use": "sig",
        })
    }

    /// The public key in DER (PKCS#1 `RSAPublicKey`), for tests that abuse it as an HMAC
    /// secret.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// RS256 signature of `message`, base64url without padding.
    ///
    /// # Panics
    ///
    /// If signing fails (test code only).
    pub fn sign_b64(&self, message: &[u8]) -> String {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .expect("RSA signing");
        URL_SAFE_NO_PAD.encode(signature)
    }

    /// A compact token: `header.payload` signed with RS256, whatever the header says.
    pub fn sign_token(&self, header: &Value, payload: &Value) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature = self.sign_b64(signing_input.as_bytes());
        format!("{signing_input}.{signature}")
    }
}
