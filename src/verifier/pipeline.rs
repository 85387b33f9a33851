//! The checks of a token, in order: the one place the order is written.
//!
//! Every check stops at the first failure, with an error of its own
//! [error kind](crate::ErrorKind). Through the HTTP layer and the extractors, a failure answers
//! 401 `invalid_token`, except [`MissingGroup`](crate::ErrorKind::MissingGroup),
//! [`MissingScope`](crate::ErrorKind::MissingScope) and [`Forbidden`](crate::ErrorKind::Forbidden)
//! (403 `insufficient_scope`), and [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable) and
//! [`RevocationUnavailable`](crate::ErrorKind::RevocationUnavailable) (503 with `Retry-After`):
//! the server's fault, not the caller's (the [`rejection`](crate::rejection) docs have every
//! answer).
//!
//! # User-pool tokens
//!
//! Before step 1, the HTTP layer and the extractors read the token through their
//! [token source](crate::token_source): by default exactly one `Authorization` header, scheme
//! `Bearer` in any case, one space, and a token68 credential (`A-Z a-z 0-9 - . _ ~ + /`,
//! trailing `=` only). Anything else is 401 `invalid_request` and reaches no step below; no
//! token at all is 401, or passes with no claims where authentication is optional. The
//! verifier's own methods (`verify*`) start at step 1.
//!
//! | step | check | error |
//! |---:|---|---|
//! | 1 | size, before any decoding | [`TokenTooLarge`](crate::ErrorKind::TokenTooLarge) |
//! | 2 | exactly three unpadded base64url segments | [`Malformed`](crate::ErrorKind::Malformed) |
//! | 3 | the header is a JSON object naming none of `alg`, `kid`, `crit` twice, with a string `kid`; `alg` is exactly `RS256` (so `none` in any case, `HS*`, `RS384/512`, `PS*`, `ES*`, `EdDSA` are refused before any key is touched: no algorithm confusion); no `crit` member, whatever its value, `null` included; a `kid`. `jku`, `x5u`, `x5c`, `x5t` and `jwk` are never read, so never fetched or trusted | [`InvalidHeader`](crate::ErrorKind::InvalidHeader), [`UnsupportedAlgorithm`](crate::ErrorKind::UnsupportedAlgorithm), [`CriticalHeader`](crate::ErrorKind::CriticalHeader), [`MissingKeyId`](crate::ErrorKind::MissingKeyId) |
//! | 4 | the payload is a JSON object in which no checked claim has the wrong type (`exp`, `nbf`, `iat`, `auth_time` integers in `i64`; `iss`, `sub`, `token_use`, `aud`, `client_id`, `scope`, `username`, `cognito:username`, `jti`, `origin_jti` strings; `cognito:groups` an array of strings) and no claim the crate's types name appears twice, so a second `iss`, `exp` or `token_use` cannot be smuggled past a check; its `iss` is exactly one of a configured pool's issuers, in either Cognito form (`https://cognito-idp.{region}.amazonaws.com/{pool}` or `https://issuer-cognito-idp.{region}.amazonaws.com/{pool}`, and a replica region's). The pool is chosen before the key lookup, so a token of a foreign issuer never causes a fetch, and a key of one pool never verifies a token that names another. With a [pool resolver](crate::verifier::PoolResolver), an issuer no pool accepts is put to the application's resolver (rate-limited, one call per issuer, refusals remembered); keys are fetched only for the pool it answers with, never from a URL the token names | [`InvalidClaims`](crate::ErrorKind::InvalidClaims), [`MissingClaim`](crate::ErrorKind::MissingClaim), [`InvalidIssuer`](crate::ErrorKind::InvalidIssuer); [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable) when the resolver fails or its rate is spent |
//! | 5 | the `kid` is in that pool's key set; if not, the set is fetched again, once for all concurrent requests, and looked at again (no fetch during the unknown-`kid` cooldown after the last such fetch, nor for a pool the resolver just answered with); the set is usable: loaded, and not older than the maximum staleness | [`UnknownKeyId`](crate::ErrorKind::UnknownKeyId), [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable) |
//! | 6 | the signature over `header.payload` (RSASSA-PKCS1-v1_5 with SHA-256), with a key of the header's algorithm that passed the [key checks](crate::jwks#which-keys-are-used) when its set was loaded | [`InvalidSignature`](crate::ErrorKind::InvalidSignature) |
//! | 7 | `token_use`, `exp` and `sub` are present | [`MissingClaim`](crate::ErrorKind::MissingClaim) |
//! | 8 | `exp` with the leeway (expired when now > `exp` + leeway), then `nbf` when present | [`Expired`](crate::ErrorKind::Expired), [`NotYetValid`](crate::ErrorKind::NotYetValid) |
//! | 9 | `token_use` is `id` or `access` and allowed by the verifier | [`InvalidTokenUse`](crate::ErrorKind::InvalidTokenUse) |
//! | 10 | `aud` of an ID token or `client_id` of an access token is an allowed app client | [`MissingClaim`](crate::ErrorKind::MissingClaim), [`InvalidAudience`](crate::ErrorKind::InvalidAudience), [`InvalidClientId`](crate::ErrorKind::InvalidClientId) |
//! | 11 | not revoked, when revocation is configured: the [`RevocationList`](crate::revocation::RevocationList) (`jti`, `origin_jti`, `sub` with `iat`), the application's [`RevocationCheck`](crate::revocation::RevocationCheck)s, then for access tokens Cognito's `GetUser` ([`GetUserCheck`](crate::revocation::GetUserCheck): a kept answer, else one shared call on the async paths, the failure policy on the synchronous ones) | [`Revoked`](crate::ErrorKind::Revoked), [`RevocationUnavailable`](crate::ErrorKind::RevocationUnavailable) |
//! | 12 | the rules of the verifier, then of the call or route: token use, groups, scopes, custom checks | [`InvalidTokenUse`](crate::ErrorKind::InvalidTokenUse), [`MissingGroup`](crate::ErrorKind::MissingGroup), [`MissingScope`](crate::ErrorKind::MissingScope), [`CustomCheck`](crate::ErrorKind::CustomCheck), [`Forbidden`](crate::ErrorKind::Forbidden) |
//! | 13 | the claims fit the requested type | [`InvalidClaims`](crate::ErrorKind::InvalidClaims) |
//!
//! A full verification runs every step. A cache hit (a token verified before, found by its
//! whole text in the verified-token cache) skips the decoding and the signature, steps 1 to 3
//! and 6, and runs everything else through the same functions as a full verification: the
//! issuer's pool (4), the key (5: the very key that verified it must still be in its pool's
//! current, non-stale set, or the token is verified in full again), the claim checks (7 to 10,
//! against the clock of this request), revocation (11), and the rules (12). A check added to
//! those functions holds on both paths. A token that failed is never cached.
//!
//! From step 7 on, a failure carries the verified claims
//! ([`Error::verified_claims_json`](crate::Error::verified_claims_json)); before it, never. No
//! step logs the token.
//!
//! Steps 4 and 7 to 10 are the pure functions of this file, of (claims, policy, now), with no
//! keys and no I/O; their table of cases is in this file's tests. Steps 1 to 3 are in
//! `compact_token.rs`, 5 and 6 in the verifier with the pool's [key store](crate::jwks), 11 in
//! [`revocation`](crate::revocation), 12 in [`TokenRequirements`](crate::TokenRequirements).
//!
//! # Load balancer tokens
//!
//! With the `alb` feature, the `x-amzn-oidc-data` header that an Application Load Balancer
//! forwards (the `alb` module) is checked in this order. The HTTP layer reads exactly that
//! header; it never reads `x-amzn-oidc-identity`, which the load balancer does not sign.
//!
//! | step | check | error |
//! |---:|---|---|
//! | 1 | size, before any decoding | [`TokenTooLarge`](crate::ErrorKind::TokenTooLarge) |
//! | 2 | exactly three base64url segments, each **with** exactly its `=` padding to a multiple of 4 characters, as the load balancer writes them (an unpadded segment, one with more `=` than it needs, or one with unused bits set is refused) | [`Malformed`](crate::ErrorKind::Malformed) |
//! | 3 | the header is a JSON object naming no member twice, with string `alg`, `kid`, `signer`, `client`, `iss` and an integer `exp`; `alg` is exactly `ES256` (so `none`, `HS256`, `RS256` are refused before any key is touched); no `crit`; a `kid` that is a canonical UUID (so nothing else ever reaches a key URL) | [`InvalidHeader`](crate::ErrorKind::InvalidHeader), [`UnsupportedAlgorithm`](crate::ErrorKind::UnsupportedAlgorithm), [`CriticalHeader`](crate::ErrorKind::CriticalHeader), [`MissingKeyId`](crate::ErrorKind::MissingKeyId) |
//! | 4 | `signer`, `client` and `exp` present | [`MissingClaim`](crate::ErrorKind::MissingClaim) |
//! | 5 | `signer` is exactly one of the configured load balancer ARNs | [`InvalidSigner`](crate::ErrorKind::InvalidSigner) |
//! | 6 | `client` is an allowed app client | [`InvalidClientId`](crate::ErrorKind::InvalidClientId) |
//! | 7 | `iss` is the configured issuer, when one is | [`MissingClaim`](crate::ErrorKind::MissingClaim), [`InvalidIssuer`](crate::ErrorKind::InvalidIssuer) |
//! | 8 | `exp` with the leeway, as for user-pool tokens | [`Expired`](crate::ErrorKind::Expired) |
//! | 9 | the signature is 64 bytes (the raw `r \|\| s`; a DER signature is not) | [`InvalidSignature`](crate::ErrorKind::InvalidSignature) |
//! | 10 | the P-256 key of the `kid` in the signer's region: kept, or fetched once for all concurrent requests, within a budget of fetches of new `kid`s; a `kid` with no key, or whose fetch failed, is answered so without a fetch for a cooldown | [`UnknownKeyId`](crate::ErrorKind::UnknownKeyId), [`KeysUnavailable`](crate::ErrorKind::KeysUnavailable) |
//! | 11 | the ES256 signature over `header.payload` as sent, padding included | [`InvalidSignature`](crate::ErrorKind::InvalidSignature) |
//! | 12 | the payload is a JSON object with a string `sub`, no member twice among those read | [`InvalidClaims`](crate::ErrorKind::InvalidClaims), [`MissingClaim`](crate::ErrorKind::MissingClaim) |
//!
//! Steps 1 to 9 need no key, so a token that fails them never causes a fetch. From step 12
//! on, a failure carries the verified claims; before it, never. A cached token (found by its
//! whole text) skips every step but 8, which runs against this request's clock. Custom checks
//! of the layer run after step 12. When the layer is also told to read
//! `x-amzn-oidc-accesstoken`, that token goes through every user-pool step above, and its `sub`
//! must equal this token's.

use std::time::{SystemTime, UNIX_EPOCH};

use super::user_pool::AppClients;
use crate::{
    claims::StandardClaims,
    error::{Error, ErrorKind},
    token_use::TokenUse,
};

/// Which token uses a verifier accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AcceptedUse {
    /// Only ID tokens, or only access tokens.
    Only(TokenUse),
    /// Both; each call or route says which it wants.
    Both,
}

/// The verifier-wide settings the claim checks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClaimPolicy {
    pub(crate) accepted_use: AcceptedUse,
    /// Clock-skew leeway for `exp` and `nbf`, in seconds.
    pub(crate) leeway_secs: i64,
}

/// What the claim checks found: the token's use, known to be present and valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CheckedClaims {
    pub(crate) token_use: TokenUse,
}

/// What step 4 found for a token's `iss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PoolOf<'a> {
    /// The index of the pool that accepts it.
    Found(usize),
    /// No pool accepts it: [`InvalidIssuer`](crate::ErrorKind::InvalidIssuer), unless a pool
    /// resolver is asked.
    Unknown(&'a str),
}

/// Step 4: the pool that `find` says accepts the token's `iss`.
pub(crate) fn pool_of_issuer<'a>(
    claims: &StandardClaims<'a>,
    find: impl FnOnce(&str) -> Option<usize>,
) -> Result<PoolOf<'a>, Error> {
    let iss = claims.iss.ok_or_else(|| Error::missing_claim("iss"))?;
    Ok(find(iss).map_or(PoolOf::Unknown(iss), PoolOf::Found))
}

/// Steps 7 to 10, in order, for a token of a pool whose app clients are `clients`, at `now`
/// (seconds since the epoch).
pub(crate) fn check_claims(
    claims: &StandardClaims<'_>,
    clients: &AppClients,
    policy: &ClaimPolicy,
    now: i64,
) -> Result<CheckedClaims, Error> {
    let token_use = claims
        .token_use
        .ok_or_else(|| Error::missing_claim("token_use"))?;
    let exp = claims.exp.ok_or_else(|| Error::missing_claim("exp"))?;
    if claims.sub.is_none() {
        return Err(Error::missing_claim("sub"));
    }
    if now > exp.saturating_add(policy.leeway_secs) {
        return Err(Error::new(ErrorKind::Expired));
    }
    if claims
        .nbf
        .is_some_and(|nbf| now.saturating_add(policy.leeway_secs) < nbf)
    {
        return Err(Error::new(ErrorKind::NotYetValid));
    }
    let token_use = TokenUse::from_claim(token_use)
        .filter(|token_use| !matches!(policy.accepted_use, AcceptedUse::Only(only) if only != *token_use))
        .ok_or_else(|| Error::new(ErrorKind::InvalidTokenUse))?;
    let (client, claim, kind) = match token_use {
        TokenUse::Id => (claims.aud, "aud", ErrorKind::InvalidAudience),
        TokenUse::Access => (claims.client_id, "client_id", ErrorKind::InvalidClientId),
    };
    let client = client.ok_or_else(|| Error::missing_claim(claim))?;
    if let AppClients::Listed(allowed) = clients
        && !allowed.iter().any(|c| c == client)
    {
        return Err(Error::new(kind));
    }
    Ok(CheckedClaims { token_use })
}

/// The clock a verification reads, once: the key store's staleness check takes the time, the
/// claim checks its seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Now {
    pub(crate) time: SystemTime,
    pub(crate) unix: i64,
}

impl Now {
    pub(crate) fn read() -> Self {
        Self::at(SystemTime::now())
    }

    /// A clock that reads before 1970 is broken: it reads as the end of time, so that every
    /// token is expired (fail closed) rather than none.
    pub(crate) fn at(time: SystemTime) -> Self {
        let unix = time
            .duration_since(UNIX_EPOCH)
            .map_or(i64::MAX, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Self { time, unix }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A";

    fn id_token() -> StandardClaims<'static> {
        StandardClaims {
            iss: Some(ISSUER),
            sub: Some("s"),
            exp: Some(NOW + 3600),
            nbf: None,
            token_use: Some("id"),
            aud: Some("web"),
            client_id: None,
        }
    }

    fn access_token() -> StandardClaims<'static> {
        StandardClaims {
            token_use: Some("access"),
            aud: None,
            client_id: Some("web"),
            ..id_token()
        }
    }

    fn policy(accepted_use: AcceptedUse) -> ClaimPolicy {
        ClaimPolicy {
            accepted_use,
            leeway_secs: 60,
        }
    }

    fn web() -> AppClients {
        AppClients::Listed(vec!["web".into(), "mobile".into()])
    }

    /// Which check a case fails, by kind and the claim named: `None` passes.
    type Failure = Option<(ErrorKind, Option<&'static str>)>;

    /// One row: what it shows, the claims, the policy, the clients, the clock, the outcome.
    type Case<'t> = (
        &'static str,
        StandardClaims<'static>,
        &'t ClaimPolicy,
        &'t AppClients,
        i64,
        Failure,
    );

    fn outcome(result: Result<CheckedClaims, Error>) -> Failure {
        result
            .err()
            .map(|error| (error.kind(), error.missing_claim_name()))
    }

    #[test]
    fn claim_checks_in_order() {
        use ErrorKind::*;
        let both = policy(AcceptedUse::Both);
        let only_id = policy(AcceptedUse::Only(TokenUse::Id));
        let only_access = policy(AcceptedUse::Only(TokenUse::Access));
        let any = AppClients::Any;
        let web = web();
        #[rustfmt::skip]
        let cases: Vec<Case<'_>> = vec![
            ("valid id token", id_token(), &both, &web, NOW, None),
            ("valid access token", access_token(), &both, &web, NOW, None),
            ("any client", StandardClaims { aud: Some("other"), ..id_token() }, &both, &any, NOW, None),
            ("no token_use", StandardClaims { token_use: None, ..id_token() }, &both, &web, NOW, Some((MissingClaim, Some("token_use")))),
            ("no exp", StandardClaims { exp: None, ..id_token() }, &both, &web, NOW, Some((MissingClaim, Some("exp")))),
            ("no sub", StandardClaims { sub: None, ..id_token() }, &both, &web, NOW, Some((MissingClaim, Some("sub")))),
            ("presence before expiry", StandardClaims { sub: None, exp: Some(0), ..id_token() }, &both, &web, NOW, Some((MissingClaim, Some("sub")))),
            ("expired past the leeway", StandardClaims { exp: Some(NOW - 61), ..id_token() }, &both, &web, NOW, Some((Expired, None))),
            ("expired within the leeway", StandardClaims { exp: Some(NOW - 60), ..id_token() }, &both, &web, NOW, None),
            ("exp at i64::MIN", StandardClaims { exp: Some(i64::MIN), ..id_token() }, &both, &web, NOW, Some((Expired, None))),
            ("exp at i64::MAX", StandardClaims { exp: Some(i64::MAX), ..id_token() }, &both, &web, NOW, None),
            ("the clock moved past exp", id_token(), &both, &web, NOW + 3661, Some((Expired, None))),
            ("nbf ahead past the leeway", StandardClaims { nbf: Some(NOW + 61), ..id_token() }, &both, &web, NOW, Some((NotYetValid, None))),
            ("nbf ahead within the leeway", StandardClaims { nbf: Some(NOW + 60), ..id_token() }, &both, &web, NOW, None),
            ("nbf at i64::MAX", StandardClaims { nbf: Some(i64::MAX), ..id_token() }, &both, &web, NOW, Some((NotYetValid, None))),
            ("expiry before nbf", StandardClaims { exp: Some(0), nbf: Some(i64::MAX), ..id_token() }, &both, &web, NOW, Some((Expired, None))),
            ("token_use of another case", StandardClaims { token_use: Some("ID"), ..id_token() }, &both, &web, NOW, Some((InvalidTokenUse, None))),
            ("token_use unknown", StandardClaims { token_use: Some("refresh"), ..id_token() }, &both, &web, NOW, Some((InvalidTokenUse, None))),
            ("id token, access only", id_token(), &only_access, &web, NOW, Some((InvalidTokenUse, None))),
            ("access token, id only", access_token(), &only_id, &web, NOW, Some((InvalidTokenUse, None))),
            ("id token, id only", id_token(), &only_id, &web, NOW, None),
            ("use before client", StandardClaims { token_use: Some("x"), aud: None, ..id_token() }, &both, &web, NOW, Some((InvalidTokenUse, None))),
            ("id token without aud", StandardClaims { aud: None, ..id_token() }, &both, &web, NOW, Some((MissingClaim, Some("aud")))),
            ("id token of another client", StandardClaims { aud: Some("evil"), ..id_token() }, &both, &web, NOW, Some((InvalidAudience, None))),
            ("id token naming its client in client_id only", StandardClaims { aud: Some("evil"), client_id: Some("web"), ..id_token() }, &both, &web, NOW, Some((InvalidAudience, None))),
            ("access token without client_id", StandardClaims { client_id: None, ..access_token() }, &both, &web, NOW, Some((MissingClaim, Some("client_id")))),
            ("access token of another client", StandardClaims { client_id: Some("evil"), ..access_token() }, &both, &web, NOW, Some((InvalidClientId, None))),
            ("access token naming its client in aud only", StandardClaims { client_id: Some("evil"), aud: Some("web"), ..access_token() }, &both, &web, NOW, Some((InvalidClientId, None))),
            ("client ids are exact", StandardClaims { aud: Some("Web"), ..id_token() }, &both, &web, NOW, Some((InvalidAudience, None))),
            ("even any client needs the claim", StandardClaims { aud: None, ..id_token() }, &both, &any, NOW, Some((MissingClaim, Some("aud")))),
        ];
        for (case, claims, policy, clients, now, expected) in cases {
            assert_eq!(
                outcome(check_claims(&claims, clients, policy, now)),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn passed_claims_carry_their_use() {
        let checked = check_claims(&access_token(), &web(), &policy(AcceptedUse::Both), NOW);
        assert_eq!(
            checked.unwrap(),
            CheckedClaims {
                token_use: TokenUse::Access,
            }
        );
    }

    #[test]
    fn a_clock_before_the_epoch_fails_closed() {
        let broken = Now::at(UNIX_EPOCH - std::time::Duration::from_secs(1));
        assert_eq!(broken.unix, i64::MAX);
        let result = check_claims(&id_token(), &web(), &policy(AcceptedUse::Both), broken.unix);
        assert_eq!(outcome(result), Some((ErrorKind::Expired, None)));
        assert_eq!(
            Now::at(UNIX_EPOCH + std::time::Duration::from_secs(7)).unix,
            7
        );
    }

    #[test]
    fn the_issuer_picks_the_pool() {
        let pools: [Vec<String>; 2] = [
            vec!["https://a".into(), "https://a2".into()],
            vec![ISSUER.into()],
        ];
        let pick = |iss: Option<&'static str>| {
            let claims = StandardClaims { iss, ..id_token() };
            let find = |iss: &str| pools.iter().position(|p| p.iter().any(|i| i == iss));
            match pool_of_issuer(&claims, find) {
                Ok(PoolOf::Found(index)) => Ok(index),
                Ok(PoolOf::Unknown(_)) => Err((ErrorKind::InvalidIssuer, None)),
                Err(e) => Err((e.kind(), e.missing_claim_name())),
            }
        };
        assert_eq!(pick(Some(ISSUER)), Ok(1));
        assert_eq!(pick(Some("https://a2")), Ok(0));
        assert_eq!(pick(None), Err((ErrorKind::MissingClaim, Some("iss"))));
        for foreign in [
            "https://a/",
            "https://A",
            "http://a",
            "",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_a",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A/",
        ] {
            assert_eq!(
                pick(Some(foreign)),
                Err((ErrorKind::InvalidIssuer, None)),
                "{foreign}"
            );
        }
    }
}
