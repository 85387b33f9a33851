#![doc = include_str!("checks.md")]

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
/// (seconds since the epoch); the token's use, known to be present and valid, when they pass.
pub(crate) fn check_claims(
    claims: &StandardClaims<'_>,
    clients: &AppClients,
    policy: &ClaimPolicy,
    now: i64,
) -> Result<TokenUse, Error> {
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
    Ok(token_use)
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

    fn outcome(result: Result<TokenUse, Error>) -> Failure {
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
        assert_eq!(checked.unwrap(), TokenUse::Access);
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
