//! The load balancer's token taken apart: three base64url segments **with** `=` padding, and
//! its header, every structural check done before any key is touched.
//!
//! A segment is accepted exactly as the load balancer writes it: base64url characters, then
//! the `=` padding that makes its length a multiple of 4, no other `=` and no unused bits set
//! (the canonical form). An unpadded segment (which a standard JWT would have) and one with
//! more `=` than its length needs are both [`Malformed`](crate::ErrorKind::Malformed): there
//! is one way to encode each signed token. (An ECDSA signature itself has a second valid form,
//! `(r, n - s)`: that is another token with the same claims, verified and cached on its own,
//! which gives its bearer nothing the first did not.)

use std::borrow::Cow;

use base64::{Engine as _, engine::general_purpose::URL_SAFE};
use serde::Deserialize;

use super::key_id::AlbKeyId;
use crate::{
    algorithm::Algorithm,
    compact_token::{algorithm_and_kid, all_base64url, present},
    error::{Error, ErrorKind},
    json::is_json_object,
    token_family::ALB,
};

/// The length of a padded base64url ES256 signature: 64 bytes.
const SIGNATURE_CHARS: usize = 88;

/// The three segments of a token, still encoded.
#[derive(Debug)]
pub(crate) struct AlbCompact<'t> {
    signing_input: &'t str,
    header: &'t str,
    payload: &'t str,
    signature: &'t str,
}

impl<'t> AlbCompact<'t> {
    /// Checks the size first, then the shape: exactly three non-empty padded segments.
    pub(crate) fn split(token: &'t str, max_bytes: usize) -> Result<Self, Error> {
        if token.len() > max_bytes {
            return Err(Error::new(ErrorKind::TokenTooLarge));
        }
        let malformed = || Error::new(ErrorKind::Malformed);
        let (signing_input, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or_else(malformed)?;
        if !(is_padded_segment(header)
            && is_padded_segment(payload)
            && is_padded_segment(signature))
        {
            return Err(malformed());
        }
        Ok(Self {
            signing_input,
            header,
            payload,
            signature,
        })
    }

    /// `header.payload`, as signed.
    pub(crate) fn signing_input(&self) -> &'t str {
        self.signing_input
    }

    pub(crate) fn header_json(&self) -> Result<Vec<u8>, Error> {
        decode(self.header)
    }

    pub(crate) fn payload_json(&self) -> Result<Vec<u8>, Error> {
        decode(self.payload)
    }

    /// The raw 64-byte `r || s`; a DER signature, or one of any other length, is
    /// [`InvalidSignature`](ErrorKind::InvalidSignature).
    pub(crate) fn signature(&self) -> Result<[u8; 64], Error> {
        let invalid = || Error::new(ErrorKind::InvalidSignature);
        if self.signature.len() != SIGNATURE_CHARS {
            return Err(invalid());
        }
        let mut signature = [0u8; 66];
        let len = URL_SAFE
            .decode_slice(self.signature, &mut signature)
            .map_err(|_| invalid())?;
        signature[..len].try_into().map_err(|_| invalid())
    }
}

/// Base64url characters followed by exactly the padding a length of a multiple of 4 needs.
/// (The decoder then refuses unused bits.)
fn is_padded_segment(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let text = segment.trim_end_matches('=');
    let padding = bytes.len() - text.len();
    !text.is_empty()
        && bytes.len().is_multiple_of(4)
        && padding == (4 - text.len() % 4) % 4
        && all_base64url(text.as_bytes())
}

fn decode(segment: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE
        .decode(segment)
        .map_err(|_| Error::new(ErrorKind::Malformed))
}

/// The header: the load balancer puts its own fields (`signer`, `client`, `exp`) here.
#[derive(Debug)]
pub(crate) struct AlbHeader<'a> {
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: AlbKeyId,
    pub(crate) signer: Cow<'a, str>,
    pub(crate) client: Cow<'a, str>,
    pub(crate) iss: Option<Cow<'a, str>>,
    pub(crate) exp: i64,
}

#[derive(Deserialize)]
struct HeaderJson<'a> {
    #[serde(borrow, default)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signer: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    client: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    iss: Option<Cow<'a, str>>,
    #[serde(default)]
    exp: Option<i64>,
    /// Present with any value, `null` included: no extension is understood.
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

impl<'a> AlbHeader<'a> {
    /// Parses the header and checks, in order: a JSON object of the expected member types with
    /// none twice; `alg` is ES256; no `crit`; a `kid`, a canonical UUID; `signer`, `client`
    /// and `exp` present.
    pub(crate) fn parse(json: &'a [u8]) -> Result<Self, Error> {
        let invalid = || Error::new(ErrorKind::InvalidHeader);
        if !is_json_object(json) {
            return Err(invalid());
        }
        let header: HeaderJson<'a> = serde_json::from_slice(json).map_err(|_| invalid())?;
        let (algorithm, kid) =
            algorithm_and_kid(header.alg.as_deref(), header.crit, header.kid, &ALB)?;
        let kid = AlbKeyId::parse(&kid).ok_or_else(invalid)?;
        Ok(Self {
            algorithm,
            kid,
            signer: header
                .signer
                .ok_or_else(|| Error::missing_claim("signer"))?,
            client: header
                .client
                .ok_or_else(|| Error::missing_claim("client"))?,
            iss: header.iss,
            exp: header.exp.ok_or_else(|| Error::missing_claim("exp"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_must_be_padded_exactly() {
        for (segment, ok) in [
            ("e30=", true), // "{}"
            ("eyJhIjoxfQ==", true),
            ("YWJj", true),   // no padding needed
            ("e30", false),   // unpadded
            ("e30==", false), // over-padded
            ("e30===", false),
            ("YWJj====", false),
            ("=", false),
            ("====", false),
            ("e3=0", false),
            ("e30=.", false),
            ("e+0=", false),
            ("e/0=", false),
            ("", false),
        ] {
            assert_eq!(is_padded_segment(segment), ok, "{segment:?}");
        }
    }

    #[test]
    fn unused_bits_are_refused_on_decoding() {
        // "e31=" has the same length and padding as "e30=" but sets bits "{}" does not use.
        let parts = AlbCompact::split("e31=.e30=.e30=", 100).unwrap();
        assert_eq!(
            parts.header_json().unwrap_err().kind(),
            ErrorKind::Malformed
        );
    }

    #[test]
    fn size_then_shape() {
        let err = AlbCompact::split(&"a".repeat(100), 50).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenTooLarge);
        for token in ["a.b.c", "e30=.e30=", "e30=.e30=.e30=.e30=", "e30=..e30="] {
            let err = AlbCompact::split(token, 1000).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Malformed, "{token}");
        }
    }

    #[test]
    fn header_checks_in_order() {
        const KID: &str = "12345678-9abc-def0-1234-56789abcdef0";
        let ok = format!(
            r#"{{"alg":"ES256","kid":"{KID}","signer":"s","client":"c","iss":"i","exp":1}}"#
        );
        let header = AlbHeader::parse(ok.as_bytes()).unwrap();
        assert_eq!(
            (header.kid.as_str(), &*header.signer, header.exp),
            (KID, "s", 1)
        );
        for (json, kind, claim) in [
            (
                ok.replace("ES256", "none"),
                ErrorKind::UnsupportedAlgorithm,
                None,
            ),
            (
                ok.replace("ES256", "HS256"),
                ErrorKind::UnsupportedAlgorithm,
                None,
            ),
            (
                ok.replace("ES256", "RS256"),
                ErrorKind::UnsupportedAlgorithm,
                None,
            ),
            (
                ok.replace("ES256", "es256"),
                ErrorKind::UnsupportedAlgorithm,
                None,
            ),
            (
                ok.replace(r#""exp":1"#, r#""exp":1,"crit":null"#),
                ErrorKind::CriticalHeader,
                None,
            ),
            (ok.replace(KID, "../x"), ErrorKind::InvalidHeader, None),
            (
                ok.replace(&format!(r#""kid":"{KID}","#), ""),
                ErrorKind::MissingKeyId,
                None,
            ),
            (
                ok.replace(r#""signer":"s","#, ""),
                ErrorKind::MissingClaim,
                Some("signer"),
            ),
            (
                ok.replace(r#""client":"c","#, ""),
                ErrorKind::MissingClaim,
                Some("client"),
            ),
            (
                ok.replace(r#","exp":1"#, ""),
                ErrorKind::MissingClaim,
                Some("exp"),
            ),
            (
                ok.replace(r#""exp":1"#, r#""exp":"1""#),
                ErrorKind::InvalidHeader,
                None,
            ),
            (
                ok.replace(r#""exp":1"#, r#""exp":1.5"#),
                ErrorKind::InvalidHeader,
                None,
            ),
            (
                ok.replace(r#""exp":1"#, r#""exp":1,"signer":"t""#),
                ErrorKind::InvalidHeader,
                None,
            ),
            (
                ok.replace(r#""exp":1"#, r#""exp":1,"alg":"ES256""#),
                ErrorKind::InvalidHeader,
                None,
            ),
            (format!("[{ok}]"), ErrorKind::InvalidHeader, None),
        ] {
            let error = AlbHeader::parse(json.as_bytes()).unwrap_err();
            assert_eq!(
                (error.kind(), error.missing_claim_name()),
                (kind, claim),
                "{json}"
            );
        }
    }
}
