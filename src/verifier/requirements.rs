//! Rules a token must meet beyond being a valid token of a trusted pool: its use, its
//! audience, its groups, its scopes, and checks of your own.

use std::{fmt, sync::Arc};

use serde::de::DeserializeOwned;

use crate::{
    error::{Error, ErrorKind},
    token_use::TokenUse,
    verified_token::VerifiedToken,
};

type CheckFn = dyn Fn(&[u8]) -> Result<(), String> + Send + Sync;

/// A custom check and the error its failure is.
#[derive(Clone)]
struct CustomCheck {
    check: Arc<CheckFn>,
    kind: ErrorKind,
}

/// Rules checked after the signature and the standard claims.
///
/// Each [`any_group`](Self::any_group) call adds a rule that at least one of its groups is in
/// `cognito:groups`; each [`any_scope`](Self::any_scope) call likewise for `scope`. All rules
/// must hold. A failed group or scope rule is [`ErrorKind::MissingGroup`] or
/// [`ErrorKind::MissingScope`] (HTTP 403); a failed custom check is
/// [`ErrorKind::CustomCheck`] (HTTP 401), or [`ErrorKind::Forbidden`] (HTTP 403) for one added
/// with [`custom_check_forbidden`](Self::custom_check_forbidden).
///
/// ```
/// use axum_cognito::{AccessClaims, TokenRequirements, TokenUse};
///
/// let rules = TokenRequirements::new()
///     .token_use(TokenUse::Access)
///     .any_group(["admins", "operators"])
///     .any_scope(["orders/write"])
///     .custom_check(|claims: &AccessClaims| {
///         if claims.username.is_some() { Ok(()) } else { Err("users only".into()) }
///     });
/// ```
#[derive(Clone, Default)]
pub struct TokenRequirements {
    pub(crate) token_use: Option<TokenUse>,
    /// Resources `aud` must name, each; and whether a token without `aud` is refused.
    resources: Vec<String>,
    require_audience: bool,
    /// Each rule: the pool it is scoped to (any, when `None`), and the groups of which one must
    /// be held.
    groups: Vec<(Option<String>, Vec<String>)>,
    scopes: Vec<Vec<String>>,
    checks: Vec<CustomCheck>,
}

impl TokenRequirements {
    /// No rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only this token use is accepted.
    pub fn token_use(mut self, token_use: TokenUse) -> Self {
        self.token_use = Some(token_use);
        self
    }

    /// The token's `aud` must name `resource` (RFC 8707): 401
    /// [`InvalidAudience`](ErrorKind::InvalidAudience) otherwise. An access token without
    /// `aud` (a user pool that does not bind tokens to resources) passes unless
    /// [`require_audience`](Self::require_audience) is set; an ID token's `aud` is its app
    /// client, so an ID token never passes. See [`resource_server`](crate::resource_server).
    ///
    /// ```
    /// use axum_cognito::{TokenRequirements, TokenUse};
    ///
    /// let mcp = TokenRequirements::new()
    ///     .token_use(TokenUse::Access)
    ///     .resource("https://api.example.com/mcp")
    ///     .require_audience();
    /// ```
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }

    /// A token without `aud` is refused: 401 [`MissingClaim`](ErrorKind::MissingClaim).
    pub fn require_audience(mut self) -> Self {
        self.require_audience = true;
        self
    }

    /// The token's `cognito:groups` must hold at least one of `groups`, whichever pool issued
    /// it: with several pools (or a pool resolver), a tenant pool's own group of that name
    /// passes too. Use [`any_group_in`](Self::any_group_in) to name the pool.
    pub fn any_group<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups
            .push((None, groups.into_iter().map(Into::into).collect()));
        self
    }

    /// The token must come from the pool `pool_id` and its `cognito:groups` hold at least one
    /// of `groups` (403 otherwise): the operator's `admins` are not a tenant pool's `admins`.
    ///
    /// ```
    /// use axum_cognito::TokenRequirements;
    ///
    /// let operators = TokenRequirements::new().any_group_in("eu-west-1_Operators", ["admins"]);
    /// ```
    pub fn any_group_in<I, S>(mut self, pool_id: impl Into<String>, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups.push((
            Some(pool_id.into()),
            groups.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// The token's `scope` must hold at least one of `scopes`.
    pub fn any_scope<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes
            .push(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// A check of your own on the verified claims, read as `C`. Its failure is
    /// [`ErrorKind::CustomCheck`] (HTTP 401); its `Err` message is kept in the error (not sent
    /// to clients by the HTTP layer unless it is made verbose).
    pub fn custom_check<C, F>(self, check: F) -> Self
    where
        C: DeserializeOwned,
        F: Fn(&C) -> Result<(), String> + Send + Sync + 'static,
    {
        self.with_check(ErrorKind::CustomCheck, check)
    }

    /// As [`custom_check`](Self::custom_check), but a failure is [`ErrorKind::Forbidden`]
    /// (HTTP 403): the token is valid and the caller known, but not allowed here.
    ///
    /// Decide on what the user cannot write: groups (set by administrators), the issuing pool
    /// ([`any_group_in`](Self::any_group_in), `VerifiedToken::pool_id`), `sub`. A `custom:`
    /// attribute is writable by the user through Cognito's `UpdateUserAttributes` unless the
    /// app client's write permissions leave it out, so `custom:tenant` names whatever tenant
    /// the user chose.
    ///
    /// ```
    /// use axum_cognito::{IdClaims, TokenRequirements};
    ///
    /// let verified_email = TokenRequirements::new().custom_check_forbidden(|claims: &IdClaims| {
    ///     if claims.email_verified == Some(true) {
    ///         Ok(())
    ///     } else {
    ///         Err("verify your email address first".into())
    ///     }
    /// });
    /// ```
    pub fn custom_check_forbidden<C, F>(self, check: F) -> Self
    where
        C: DeserializeOwned,
        F: Fn(&C) -> Result<(), String> + Send + Sync + 'static,
    {
        self.with_check(ErrorKind::Forbidden, check)
    }

    fn with_check<C, F>(mut self, kind: ErrorKind, check: F) -> Self
    where
        C: DeserializeOwned,
        F: Fn(&C) -> Result<(), String> + Send + Sync + 'static,
    {
        let check: Arc<CheckFn> = Arc::new(move |payload: &[u8]| {
            // Not serde's message: it quotes the offending value, a user's data.
            let claims: C = serde_json::from_slice(payload)
                .map_err(|_| "claims do not fit the check's type".to_owned())?;
            check(&claims)
        });
        self.checks.push(CustomCheck { check, kind });
        self
    }

    /// Both sets of rules.
    pub fn and(mut self, other: &TokenRequirements) -> Self {
        self.token_use = other.token_use.or(self.token_use);
        self.resources.extend(other.resources.iter().cloned());
        self.require_audience |= other.require_audience;
        self.groups.extend(other.groups.iter().cloned());
        self.scopes.extend(other.scopes.iter().cloned());
        self.checks.extend(other.checks.iter().cloned());
        self
    }

    pub(crate) fn check_token_use(&self, token_use: TokenUse) -> Result<(), Error> {
        match self.token_use {
            Some(wanted) if wanted != token_use => Err(Error::new(ErrorKind::InvalidTokenUse)),
            _ => Ok(()),
        }
    }

    /// The token-use rule, the audience rules, the group and scope rules, then the custom
    /// checks.
    pub(crate) fn check(&self, token: &VerifiedToken) -> Result<(), Error> {
        self.check_token_use(token.token_use())?;
        if token.audiences().len() == 0 {
            if self.require_audience {
                return Err(Error::missing_claim("aud"));
            }
        } else if !(self.resources.iter()).all(|r| token.audiences().any(|aud| aud == r)) {
            return Err(Error::new(ErrorKind::InvalidAudience));
        }
        let holds = |(pool, any): &(Option<String>, Vec<String>)| {
            pool.as_deref().is_none_or(|pool| pool == token.pool_id())
                && any.iter().any(|group| token.in_group(group))
        };
        if !self.groups.iter().all(holds) {
            return Err(Error::new(ErrorKind::MissingGroup));
        }
        if let Some(any) = (self.scopes.iter()).find(|any| !any.iter().any(|s| token.has_scope(s)))
        {
            return Err(Error::missing_scope(any));
        }
        self.check_custom(token.payload())
    }

    /// The custom checks alone, on a payload's JSON: every token family's.
    pub(crate) fn check_custom(&self, payload: &[u8]) -> Result<(), Error> {
        for custom in &self.checks {
            (custom.check)(payload).map_err(|message| Error::custom_of(custom.kind, message))?;
        }
        Ok(())
    }
}

impl fmt::Debug for TokenRequirements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequirements")
            .field("token_use", &self.token_use)
            .field("resource", &self.resources)
            .field("require_audience", &self.require_audience)
            .field("any_group", &self.groups)
            .field("any_scope", &self.scopes)
            .field("custom_checks", &self.checks.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_use_rule() {
        let rules = TokenRequirements::new().token_use(TokenUse::Id);
        assert!(rules.check_token_use(TokenUse::Id).is_ok());
        assert_eq!(
            rules.check_token_use(TokenUse::Access).unwrap_err().kind(),
            ErrorKind::InvalidTokenUse
        );
        assert!(
            TokenRequirements::new()
                .check_token_use(TokenUse::Access)
                .is_ok()
        );
        let both = rules.and(&TokenRequirements::new().any_group(["g"]));
        assert_eq!(both.token_use, Some(TokenUse::Id));
        assert_eq!(both.groups, [(None, vec!["g".to_owned()])]);
    }
}
