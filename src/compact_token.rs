//! A token in JWS compact form (`header.payload.signature`), taken apart with every structural
//! check done before any key is touched. One splitter for every token family: they differ in
//! their [`Padding`] only.
//!
//! A standard JWT (user-pool tokens) has unpadded base64url segments. A load balancer writes
//! each segment **with** the `=` padding that makes its length a multiple of 4. Each family's
//! form is accepted exactly: an unpadded segment where padding is required, a padded one where
//! it is not, more `=` than the length needs, or unused bits set, is
//! [`Malformed`](ErrorKind::Malformed): there is one way to encode each signed token.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, de::IgnoredAny};

use crate::{
    algorithm::Algorithm,
    byte_scan::{all_bytes, is_ascii_letter},
    error::{Error, ErrorKind},
    json::is_json_object,
    token_family::TokenFamily,
};

/// The largest signature of any algorithm accepted, in bytes: the stack buffer it is decoded
/// into.
const MAX_SIGNATURE_BYTES: usize = 1024;

/// How a token family writes its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Padding {
    /// Base64url without `=` (RFC 7515): user-pool tokens.
    Unpadded,
    /// Base64url with exactly the `=` that makes each segment a multiple of 4 characters: an
    /// Application Load Balancer's tokens.
    #[cfg(feature = "alb")]
    Padded,
}

impl Padding {
    fn codec(self) -> &'static base64_simd::Base64 {
        match self {
            Self::Unpadded => &base64_simd::URL_SAFE_NO_PAD,
            #[cfg(feature = "alb")]
            Self::Padded => &base64_simd::URL_SAFE,
        }
    }

    /// A non-empty segment of base64url characters, padded as this form requires. (The
    /// decoder then refuses unused bits.)
    fn is_segment(self, segment: &str) -> bool {
        let text = segment.trim_end_matches('=');
        let padding = segment.len() - text.len();
        let padding_ok = match self {
            Self::Unpadded => padding == 0,
            #[cfg(feature = "alb")]
            Self::Padded => segment.len().is_multiple_of(4) && padding == (4 - text.len() % 4) % 4,
        };
        !text.is_empty() && padding_ok && all_base64url(text.as_bytes())
    }
}

/// The three segments of a token, still base64url-encoded.
#[derive(Debug)]
pub(crate) struct CompactToken<'t> {
    signing_input: &'t str,
    header: &'t str,
    payload: &'t str,
    signature: &'t str,
    padding: Padding,
}

/// The protected header: only the members the verifier reads. `jku`, `x5u`, `x5c` and `jwk`
/// are never read, so never followed.
#[derive(Debug)]
pub(crate) struct Header<'a> {
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Cow<'a, str>,
}

#[derive(Deserialize)]
struct HeaderJson<'a> {
    #[serde(borrow, default)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    /// Present with any value, `null` included: no extension is understood, so none may be
    /// critical.
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// The checks every token family's header gets, in this order: `alg` is one `family`
/// accepts, no `crit`, a `kid` is present. The user-pool header and the load balancer's
/// (which checks more members after these) both go through it.
pub(crate) fn algorithm_and_kid<'a>(
    alg: Option<&str>,
    crit: bool,
    kid: Option<Cow<'a, str>>,
    family: &TokenFamily,
) -> Result<(Algorithm, Cow<'a, str>), Error> {
    let algorithm = alg
        .and_then(|alg| family.algorithm(alg))
        .ok_or_else(|| Error::new(ErrorKind::UnsupportedAlgorithm))?;
    if crit {
        return Err(Error::new(ErrorKind::CriticalHeader));
    }
    let kid = kid.ok_or_else(|| Error::new(ErrorKind::MissingKeyId))?;
    Ok((algorithm, kid))
}

impl<'t> CompactToken<'t> {
    /// Checks the size first, then the shape: exactly three non-empty segments of base64url
    /// characters, padded as `padding` says.
    pub(crate) fn split(token: &'t str, max_bytes: usize, padding: Padding) -> Result<Self, Error> {
        if token.len() > max_bytes {
            return Err(Error::new(ErrorKind::TokenTooLarge));
        }
        let malformed = || Error::new(ErrorKind::Malformed);
        let (signing_input, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or_else(malformed)?;
        if !(padding.is_segment(header)
            && padding.is_segment(payload)
            && padding.is_segment(signature))
        {
            return Err(malformed());
        }
        Ok(Self {
            signing_input,
            header,
            payload,
            signature,
            padding,
        })
    }

    /// The decoded header JSON.
    pub(crate) fn header_json(&self) -> Result<Vec<u8>, Error> {
        self.decode(self.header)
    }

    /// The decoded payload JSON.
    pub(crate) fn payload_json(&self) -> Result<Vec<u8>, Error> {
        self.decode(self.payload)
    }

    /// The signature's decoded length, when `algorithm` can have a signature that long (for
    /// ES256 exactly 64 bytes, the raw `r || s`: a DER signature is not): a check that needs
    /// no key.
    pub(crate) fn signature_len(&self, algorithm: Algorithm) -> Result<usize, Error> {
        let invalid = || Error::new(ErrorKind::InvalidSignature);
        let len = self
            .padding
            .codec()
            .decoded_length(self.signature.as_bytes())
            .map_err(|_| invalid())?;
        let fits = match algorithm {
            Algorithm::Es256 => len == algorithm.max_signature_bytes(),
            Algorithm::Rs256 => len <= algorithm.max_signature_bytes().min(MAX_SIGNATURE_BYTES),
        };
        if fits { Ok(len) } else { Err(invalid()) }
    }

    /// Checks the signature over `header.payload` as sent (padding included) with `verify`
    /// (a key's check of `(message, signature)`), for the algorithm the header named.
    pub(crate) fn verify_signature(
        &self,
        algorithm: Algorithm,
        verify: impl FnOnce(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        let invalid = || Error::new(ErrorKind::InvalidSignature);
        let len = self.signature_len(algorithm)?;
        // Not zeroed first: the decoder writes every byte it hands back.
        let mut buffer = [const { std::mem::MaybeUninit::<u8>::uninit() }; MAX_SIGNATURE_BYTES];
        let signature = self
            .padding
            .codec()
            .decode(
                self.signature.as_bytes(),
                base64_simd::Out::from_uninit_slice(&mut buffer[..len]),
            )
            .map_err(|_| invalid())?;
        let verified = verify(self.signing_input.as_bytes(), signature);
        verified.then_some(()).ok_or_else(invalid)
    }

    /// Decodes a segment (strictly: the canonical form of this token's padding) into a buffer
    /// of exactly its decoded length, so that a payload kept as text is not reallocated.
    fn decode(&self, segment: &str) -> Result<Vec<u8>, Error> {
        self.padding
            .codec()
            .decode_to_vec(segment)
            .map_err(|_| Error::new(ErrorKind::Malformed))
    }
}

impl<'a> Header<'a> {
    /// Parses the header and checks, in order: `alg` is one `family` accepts, no `crit`, a
    /// `kid` is present.
    pub(crate) fn parse(json: &'a [u8], family: &TokenFamily) -> Result<Self, Error> {
        if !is_json_object(json) {
            return Err(Error::new(ErrorKind::InvalidHeader));
        }
        let header: HeaderJson<'a> =
            serde_json::from_slice(json).map_err(|_| Error::new(ErrorKind::InvalidHeader))?;
        let (algorithm, kid) =
            algorithm_and_kid(header.alg.as_deref(), header.crit, header.kid, family)?;
        Ok(Self { algorithm, kid })
    }
}

/// A member that counts as soon as it is there: `Option` would read `null` as absent.
pub(crate) fn present<'de, D: Deserializer<'de>>(value: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(value).map(|_| true)
}

/// True when every byte is of the base64url alphabet.
pub(crate) fn all_base64url(bytes: &[u8]) -> bool {
    all_bytes(bytes, is_base64url)
}

/// One character of the base64url alphabet: `A-Z a-z 0-9 - _`.
#[inline(always)]
fn is_base64url(b: u8) -> bool {
    let digit = b.wrapping_sub(b'0') < 10;
    is_ascii_letter(b) | digit | (b == b'-') | (b == b'_')
}

#[cfg(test)]
mod tests {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;

    /// The fast check agrees with the alphabet for every byte, at every place of a block.
    #[test]
    fn every_byte_is_classified_as_base64url_says() {
        for byte in 0..=255u8 {
            let expected = byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
            assert_eq!(is_base64url(byte), expected, "{byte:#04x}");
            for len in [1, 31, 32, 33, 65] {
                for at in [0, len / 2, len - 1] {
                    let mut bytes = vec![b'A'; len];
                    bytes[at] = byte;
                    assert_eq!(all_base64url(&bytes), expected, "{byte:#04x} at {at}/{len}");
                }
            }
        }
    }

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn size_is_checked_before_shape() {
        let err = CompactToken::split(&"!".repeat(100), 50, Padding::Unpadded).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenTooLarge);
        let err = CompactToken::split(&"!".repeat(100), 500, Padding::Unpadded).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Malformed);
    }

    #[test]
    fn shape_needs_three_base64url_segments() {
        for token in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "a..c",
            ".b.c",
            "a.b.",
            "a.b.c=",
            "a+.b.c",
            "a/.b.c",
            "a.b c.d",
            "a.b.\u{e9}",
        ] {
            let err = CompactToken::split(token, 1000, Padding::Unpadded).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Malformed, "{token:?}");
        }
        assert!(CompactToken::split("a-_.b.c", 1000, Padding::Unpadded).is_ok());
    }

    #[test]
    fn header_checks() {
        let parse = |h: &str| {
            Header::parse(h.as_bytes(), &crate::token_family::USER_POOL).map(|h| h.kid.into_owned())
        };
        assert_eq!(parse(r#"{"alg":"RS256","kid":"k"}"#).unwrap(), "k");
        for (header, kind) in [
            (
                r#"{"alg":"none","kid":"k"}"#,
                ErrorKind::UnsupportedAlgorithm,
            ),
            (
                r#"{"alg":"rs256","kid":"k"}"#,
                ErrorKind::UnsupportedAlgorithm,
            ),
            (
                r#"{"alg":"HS256","kid":"k"}"#,
                ErrorKind::UnsupportedAlgorithm,
            ),
            (r#"{"kid":"k"}"#, ErrorKind::UnsupportedAlgorithm),
            (r#"{"alg":"RS256"}"#, ErrorKind::MissingKeyId),
            (
                r#"{"alg":"RS256","kid":"k","crit":["exp"]}"#,
                ErrorKind::CriticalHeader,
            ),
            (
                r#"{"alg":"RS256","kid":"k","crit":null}"#,
                ErrorKind::CriticalHeader,
            ),
            (r#"{"alg":"RS256","kid":7}"#, ErrorKind::InvalidHeader),
            (
                r#"{"alg":"RS256","alg":"RS256","kid":"k"}"#,
                ErrorKind::InvalidHeader,
            ),
            (r#"["RS256"]"#, ErrorKind::InvalidHeader),
            ("not json", ErrorKind::InvalidHeader),
        ] {
            assert_eq!(parse(header).unwrap_err().kind(), kind, "{header}");
        }
    }

    #[test]
    fn decoding_rejects_padding_and_standard_alphabet() {
        let token = format!("{}.{}.c2ln", b64("{}"), b64("{}"));
        let parts = CompactToken::split(&token, 1000, Padding::Unpadded).unwrap();
        assert_eq!(parts.header_json().unwrap(), b"{}");
        // A segment whose length cannot be unpadded base64 is rejected on decoding.
        let parts = CompactToken::split("abcde.e30.c2ln", 1000, Padding::Unpadded).unwrap();
        assert_eq!(
            parts.header_json().unwrap_err().kind(),
            ErrorKind::Malformed
        );
    }

    #[cfg(feature = "alb")]
    #[test]
    fn padded_segments_must_be_padded_exactly() {
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
            ("e+0=", false),
            ("e/0=", false),
            ("", false),
        ] {
            assert_eq!(Padding::Padded.is_segment(segment), ok, "{segment:?}");
        }
        assert!(!Padding::Unpadded.is_segment("e30="));
        // "e31=" has the same length and padding as "e30=" but sets bits "{}" does not use.
        let parts = CompactToken::split("e31=.e30=.e30=", 100, Padding::Padded).unwrap();
        assert_eq!(
            parts.header_json().unwrap_err().kind(),
            ErrorKind::Malformed
        );
    }

    #[cfg(feature = "alb")]
    #[test]
    fn padded_tokens_size_then_shape() {
        let err = CompactToken::split(&"a".repeat(100), 50, Padding::Padded).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenTooLarge);
        for token in ["a.b.c", "e30=.e30=", "e30=.e30=.e30=.e30=", "e30=..e30="] {
            let err = CompactToken::split(token, 1000, Padding::Padded).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Malformed, "{token}");
        }
    }
}
