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
    let context = RefusalContext::of(parts);
    let token = verified_token(parts, token_use, &context).await?;
    let token = required(token, parts, &context)?;
    Ok((token, context))
}

/// As [`required_token`], `None` for a request without a token.
pub(super) async fn optional_token(
    parts: &mut Parts,
    token_use: Option<TokenUse>,
) -> Result<Option<(VerifiedToken, RefusalContext)>, AuthRejection> {
    let context = RefusalContext::of(parts);
    let token = verified_token(parts, token_use, &context).await?;
    Ok(optional(token, parts, &context)?.map(|token| (token, context)))
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
    let requirements = match token_use {
        Some(token_use) => TokenRequirements::new().token_use(token_use),
        None => TokenRequirements::new(),
    };
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
    let extensions = &parts.extensions;
    extensions
        .get::<CognitoVerifier>()
        .or_else(|| {
            extensions
                .get::<PassedWithoutToken>()
                .map(|passed| &passed.0)
        })
        .cloned()
}

/// The token, or the refusal for a request without one: 401, or 500 when the route has no
/// verifier at all, so that a misconfigured route says so.
fn required(
    token: Option<VerifiedToken>,
    parts: &Parts,
    context: &RefusalContext,
) -> Result<VerifiedToken, AuthRejection> {
    match token {
        Some(token) => Ok(token),
        None if own_verifier(parts).is_some() => {
            Err(refuse(AuthRejection::missing_token(), context))
        }
        None => Err(refuse(AuthRejection::missing_verifier(), context)),
    }
}

/// The token if any; a request without one passes, unless the route has no verifier at all
/// (500, so that a misconfigured route says so even to anonymous requests).
fn optional(
    token: Option<VerifiedToken>,
    parts: &Parts,
    context: &RefusalContext,
) -> Result<Option<VerifiedToken>, AuthRejection> {
    match token {
        None if own_verifier(parts).is_none() => {
            Err(refuse(AuthRejection::missing_verifier(), context))
        }
        token => Ok(token),
    }
}
