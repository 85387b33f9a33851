//! The revocation step of the pipeline: what the verifier holds and asks after the standard
//! checks, on a full verification and on every cache hit.

use std::{sync::Arc, time::Duration};

use super::{
    check::RevocationCheck,
    get_user::GetUserCheck,
    get_user_client::{Answer, GetUserClient},
    list::RevocationList,
};
use crate::{
    error::{Error, ErrorKind},
    token_use::TokenUse,
    verified_token::VerifiedToken,
};

/// The revocation settings of a verifier builder.
#[derive(Clone, Default)]
pub(crate) struct RevocationSettings {
    pub(crate) list: Option<RevocationList>,
    pub(crate) checks: Vec<Arc<dyn RevocationCheck>>,
    pub(crate) get_user: Option<GetUserCheck>,
}

impl RevocationSettings {
    /// The step, or `None` when nothing is configured (the step then costs nothing).
    ///
    /// # Errors
    ///
    /// A list whose grace is shorter than the verifier's `leeway` (a token would pass after
    /// its entry expired), or a `GetUser` setting out of range.
    pub(crate) fn step(&self, leeway: Duration) -> Result<Option<RevocationStep>, &'static str> {
        if self.list.is_none() && self.checks.is_empty() && self.get_user.is_none() {
            return Ok(None);
        }
        if self
            .list
            .as_ref()
            .is_some_and(|list| list.grace().as_secs() < leeway.as_secs())
        {
            return Err(
                "the revocation list's grace is shorter than the leeway: a revoked token would pass once its entry expired",
            );
        }
        Ok(Some(RevocationStep {
            settings: self.clone(),
            get_user: match &self.get_user {
                Some(config) => Some(Arc::new(GetUserClient::new(config)?)),
                None => None,
            },
        }))
    }
}

impl std::fmt::Debug for RevocationSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationSettings")
            .field("list", &self.list)
            .field("checks", &self.checks.len())
            .field("get_user", &self.get_user)
            .finish()
    }
}

/// What the revocation step found.
pub(crate) enum Verdict {
    Pass,
    Refuse(Error),
    /// Only Cognito can tell, and no answer is kept: ask it (asynchronously).
    AskCognito,
}

/// The list, the application's checks, and the `GetUser` check, in that order: the local
/// ones first, so a token they refuse never causes a call.
#[derive(Debug)]
pub(crate) struct RevocationStep {
    /// The list and the checks; the GetUser check as configured.
    settings: RevocationSettings,
    get_user: Option<Arc<GetUserClient>>,
}

impl RevocationStep {
    /// The list's sharing through Redis, when it is shared.
    #[cfg(feature = "redis")]
    pub(crate) fn redis_status(&self) -> Option<super::RedisSyncStatus> {
        self.settings.list.as_ref()?.redis_status()
    }
}

/// The scope `GetUser` requires of the access token it is called with.
const GET_USER_SCOPE: &str = "aws.cognito.signin.user.admin";

impl RevocationStep {
    /// Without the network: the list and the checks, then a kept `GetUser` answer.
    pub(crate) fn check(&self, token: &str, verified: &VerifiedToken, now: i64) -> Verdict {
        if self.locally_revoked(verified, now) {
            return Verdict::Refuse(Error::new(ErrorKind::Revoked));
        }
        let Some(get_user) = self.cognito_asked_about(verified) else {
            return Verdict::Pass;
        };
        match get_user.kept(token) {
            Some(answer) => get_user
                .verdict(answer)
                .map_or_else(Verdict::Refuse, |()| Verdict::Pass),
            None => Verdict::AskCognito,
        }
    }

    /// After [`Verdict::AskCognito`]: asks Cognito, or joins the call in flight.
    pub(crate) async fn ask_cognito(
        &self,
        token: &str,
        verified: &VerifiedToken,
    ) -> Result<(), Error> {
        match self.cognito_asked_about(verified) {
            Some(get_user) => get_user.ask(token, verified).await,
            None => Ok(()),
        }
    }

    /// For claims verified without the token at hand (API Gateway's): the list and the
    /// checks, then `GetUser`'s failure policy, as if Cognito could not be reached.
    #[cfg(feature = "lambda")]
    pub(crate) fn without_token(&self, verified: &VerifiedToken, now: i64) -> Result<(), Error> {
        if self.locally_revoked(verified, now) {
            return Err(Error::new(ErrorKind::Revoked));
        }
        self.without_cognito(verified)
    }

    /// Revoked by the list or by a check of the application's.
    fn locally_revoked(&self, verified: &VerifiedToken, now: i64) -> bool {
        let RevocationSettings { list, checks, .. } = &self.settings;
        list.as_ref().is_some_and(|l| l.revokes(verified, now))
            || checks.iter().any(|c| c.is_revoked(verified))
    }

    /// After [`Verdict::AskCognito`] on a path that never touches the network: the failure
    /// policy, as if Cognito could not be reached.
    pub(crate) fn without_cognito(&self, verified: &VerifiedToken) -> Result<(), Error> {
        let get_user = self.cognito_asked_about(verified);
        get_user.map_or(Ok(()), |get_user| get_user.verdict(Answer::Failed))
    }

    /// The `GetUser` client, for an access token that `GetUser` accepts: one with the
    /// `aws.cognito.signin.user.admin` scope. Cognito answers `NotAuthorizedException` to any
    /// other (a machine-to-machine token, or one with custom scopes only), which would read as
    /// "revoked"; those tokens are not asked about, and pass this step.
    fn cognito_asked_about(&self, verified: &VerifiedToken) -> Option<&Arc<GetUserClient>> {
        self.get_user.as_ref().filter(|_| {
            verified.token_use() == TokenUse::Access && verified.has_scope(GET_USER_SCOPE)
        })
    }
}
