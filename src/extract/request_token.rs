//! The token of this request, for every extractor: the one a layer verified, or verified here
//! with the extractor's own verifier; and how a refusal after a layer answers.

use http::request::Parts;

use crate::{
    error::Error,
    middleware::PassedWithoutToken,
    rejection::{AuthRejection, RefusalContext, log_accepted, log_rejection},
    token_source::{AuthorizationBearer, FoundToken, TokenSource},
    token_use::TokenUse,
    verified_token::VerifiedToken,
    verifier::{CognitoVerifier, TokenRequirements},
};

/// A required token of `token_use` (any when `None`), with how a later refusal answers.
pub(super) async fn required_token(
    parts: &mut Parts,
    token_use: Option<TokenUse>,
) -> Result<(VerifiedToken, RefusalContext), AuthRejection> {
    match optional_token(parts, token_use).await? {
        Some(found) => Ok(found),
        None => Err(refuse(
            AuthRejection::missing_token(),
            &RefusalContext::of(parts),
        )),
    }
}

/// As [`required_token`], `None` for a request without a token. A request without one is
/// refused with a 500 when the route has no verifier at all, so that a misconfigured route says
/// so even to anonymous requests.
pub(super) async fn optional_token(
    parts: &mut Parts,
    token_use: Option<TokenUse>,
) -> Result<Option<(VerifiedToken, RefusalContext)>, AuthRejection> {
    let context = RefusalContext::of(parts);
    let token = verified_token(parts, token_use, &context).await?;
    if token.is_none() && own_verifier(parts).is_none() {
        return Err(refuse(AuthRejection::missing_verifier(), &context));
    }
    Ok(token.map(|token| (token, context)))
}

pub(super) fn reject(error: Error, context: &RefusalContext) -> AuthRejection {
    refuse(AuthRejection::from_error(error), context)
}

fn refuse(rejection: AuthRejection, context: &RefusalContext) -> AuthRejection {
    let rejection = rejection.in_context(context);
    log_rejection(&rejection);
    rejection
}

/// The token this request carries, verified by this extractor's verifier. `None` when the
/// request has no token.
///
/// The extractor's own verifier is found one way: in the request extensions, where
/// `Extension(verifier)` (the innermost wins) or an optional layer that let the request through
/// without a token put it. A token already verified in this request is taken only when no
/// verifier of its own is found (a layer alone protects the route) or when that verifier
/// verified it; a token of another verifier is verified again, never accepted as it is.
async fn verified_token(
    parts: &mut Parts,
    token_use: Option<TokenUse>,
    context: &RefusalContext,
) -> Result<Option<VerifiedToken>, AuthRejection> {
    let own = own_verifier(parts);
    if let Some(token) = parts.extensions.get::<VerifiedToken>()
        && own
            .as_ref()
            .is_none_or(|verifier| verifier.id() == token.verifier_id())
    {
        return Ok(Some(token.clone()));
    }
    // A layer of this verifier found no token where it looks (its token source): none here.
    if let (Some(passed), Some(own)) = (parts.extensions.get::<PassedWithoutToken>(), &own)
        && passed.0.id() == own.id()
    {
        return Ok(None);
    }
    let token = match AuthorizationBearer.find(&parts.headers, &parts.uri) {
        FoundToken::Absent => return Ok(None),
        FoundToken::Invalid(problem) => {
            return Err(refuse(AuthRejection::invalid_request(problem), context));
        }
        FoundToken::Present(token) => token.to_owned(),
    };
    let Some(verifier) = own else {
        return Err(refuse(AuthRejection::missing_verifier(), context));
    };
    let mut requirements = TokenRequirements::new();
    requirements.token_use = token_use;
    let verified = verifier
        .verify_token(&token, &requirements)
        .await
        .map_err(|e| reject(e, context))?;
    log_accepted(&verified);
    // A second extractor in the same handler reuses it.
    parts.extensions.insert(verified.clone());
    Ok(Some(verified))
}

/// The verifier of this extractor, from the request extensions: an `Extension(verifier)`, or
/// the one of an optional layer that let the request through.
fn own_verifier(parts: &Parts) -> Option<CognitoVerifier> {
    let passed = || parts.extensions.get::<PassedWithoutToken>().map(|p| &p.0);
    parts
        .extensions
        .get::<CognitoVerifier>()
        .or_else(passed)
        .cloned()
}
