//! The load balancer's token header: the load balancer puts its own fields (`signer`,
//! `client`, `exp`) there, checked before any key is touched. The segments are split and
//! decoded by the one [`CompactToken`](crate::compact_token::CompactToken) splitter, with
//! [`Padding::Padded`](crate::compact_token::Padding).

use std::borrow::Cow;

use serde::Deserialize;

use super::key_id::AlbKeyId;
use crate::{
    algorithm::Algorithm,
    compact_token::{algorithm_and_kid, present},
    error::{Error, ErrorKind},
    json::is_json_object,
    token_family::ALB,
};

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
        let missing = |claim| move || Error::missing_claim(claim);
        Ok(Self {
            algorithm,
            kid,
            signer: header.signer.ok_or_else(missing("signer"))?,
            client: header.client.ok_or_else(missing("client"))?,
            iss: header.iss,
            exp: header.exp.ok_or_else(missing("exp"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
