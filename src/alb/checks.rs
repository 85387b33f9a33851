//! Per-route rules on a verified load balancer token: custom checks of its user claims.

use std::{fmt, sync::Arc};

use serde::de::DeserializeOwned;

use super::token::AlbToken;
use crate::error::{Error, ErrorKind};

type Check = dyn Fn(&AlbToken) -> Result<(), String> + Send + Sync;

/// One custom check, and the kind of its failure: 401 or 403.
#[derive(Clone)]
pub(crate) struct AlbCheck {
    kind: ErrorKind,
    check: Arc<Check>,
}

impl AlbCheck {
    /// A check of the claims read as `C`; claims that do not fit `C` fail it, with a message
    /// that quotes none of them.
    pub(crate) fn new<C, F>(kind: ErrorKind, check: F) -> Self
    where
        C: DeserializeOwned,
        F: Fn(&C) -> Result<(), String> + Send + Sync + 'static,
    {
        Self {
            kind,
            check: Arc::new(move |token: &AlbToken| {
                let claims = token
                    .claims::<C>()
                    .map_err(|_| "the claims do not fit the check's type".to_owned())?;
                check(&claims)
            }),
        }
    }

    /// Runs every check in order; the first failure, with the verified claims.
    pub(crate) fn run_all(checks: &[Self], token: &AlbToken) -> Result<(), Error> {
        for check in checks {
            (check.check)(token).map_err(|message| {
                Error::custom_of(check.kind, message)
                    .with_verified_claims(token.claims_json().as_bytes())
            })?;
        }
        Ok(())
    }
}

impl fmt::Debug for AlbCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlbCheck")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}
