//! The cross-check of `x-amzn-oidc-accesstoken`: the Cognito access token the load balancer
//! forwards unsigned, verified as any access token, and bound to the ALB token by its `sub`.

use http::{HeaderMap, HeaderName};

use super::token::AlbToken;
use crate::{
    error::{Error, ErrorKind},
    token_use::TokenUse,
    verified_token::VerifiedToken,
    verifier::{CognitoVerifier, FirstPass, TokenRequirements},
};

/// The header the load balancer forwards the identity provider's access token in.
pub(crate) const ALB_ACCESS_TOKEN_HEADER: HeaderName =
    HeaderName::from_static("x-amzn-oidc-accesstoken");

/// The one access token of the request. Its absence, or two, is a bad token: a route that
/// asks for it needs it.
pub(crate) fn access_token(headers: &HeaderMap) -> Result<&str, Error> {
    let missing = || {
        Error::custom_of(
            ErrorKind::Malformed,
            "no single x-amzn-oidc-accesstoken".into(),
        )
    };
    let mut values = headers.get_all(&ALB_ACCESS_TOKEN_HEADER).iter();
    let value = values.next().ok_or_else(missing)?;
    if values.next().is_some() {
        return Err(missing());
    }
    value.to_str().map_err(|_| missing())
}

pub(crate) fn access_only() -> TokenRequirements {
    TokenRequirements::new().token_use(TokenUse::Access)
}

/// The verified access token must be the same user's as the ALB token, issued to the same
/// app client (the one the load balancer signs users in with): another client's token of the
/// same user carries other scopes.
pub(crate) fn same_user(alb: &AlbToken, access: VerifiedToken) -> Result<VerifiedToken, Error> {
    let mismatch = if access.sub() != alb.sub() {
        "the access token's sub is not the ALB token's"
    } else if access.client() != alb.client() {
        "the access token's client_id is not the ALB token's client"
    } else {
        return Ok(access);
    };
    Err(Error::custom_of(ErrorKind::InvalidClaims, mismatch.into()))
}

/// True when `access`, verified further out in this request, is what `verifier` would accept
/// from `x-amzn-oidc-accesstoken` here: an access token of that verifier, of the ALB token's
/// user and app client.
pub(crate) fn binds(verifier: &CognitoVerifier, alb: &AlbToken, access: &VerifiedToken) -> bool {
    access.verifier_id() == verifier.id()
        && access.token_use() == TokenUse::Access
        && access.sub() == alb.sub()
        && access.client() == alb.client()
}

/// Without waiting: `None` when the access token's `kid` needs a key refetch.
pub(crate) fn check_now(
    verifier: &CognitoVerifier,
    headers: &HeaderMap,
    alb: &AlbToken,
) -> Option<Result<VerifiedToken, Error>> {
    match access_token(headers).map(|token| verifier.verify_token_now(token, &access_only())) {
        Err(error) => Some(Err(error)),
        Ok(FirstPass::Done(verified)) => Some(verified.and_then(|access| same_user(alb, access))),
        Ok(FirstPass::Later(_)) => None,
    }
}
