//! What a load balancer token's verification found.

use std::{fmt, sync::Arc};

use serde::de::DeserializeOwned;

use crate::token_cache::Weigh;

/// A verified `x-amzn-oidc-data` token: the load balancer's header fields and the user's
/// claims, as [`AlbVerifier::verify`](super::AlbVerifier::verify) returns it and
/// [`AlbAuthLayer`](super::AlbAuthLayer) leaves it in the request extensions. Cheap to clone.
///
/// ```
/// use axum_cognito::test_util::TestAlb;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let alb = TestAlb::start().await;
/// let verifier = alb.verifier_builder().build().unwrap();
/// let token = verifier.verify(&alb.token().sub("u-1").sign()).await.unwrap();
/// assert_eq!(token.sub(), "u-1");
/// assert_eq!(token.signer(), alb.arn());
/// assert_eq!(token.client(), alb.client_id());
/// let claims: serde_json::Value = token.claims().unwrap();
/// assert_eq!(claims["sub"], "u-1");
/// # }
/// ```
#[derive(Clone)]
pub struct AlbToken {
    pub(super) inner: Arc<AlbTokenParts>,
}

/// What the verifier found, in the order of its checks.
pub(super) struct AlbTokenParts {
    pub(super) verifier_id: u64,
    pub(super) kid: Box<str>,
    pub(super) signer: Box<str>,
    pub(super) client: Box<str>,
    pub(super) issuer: Option<Box<str>>,
    pub(super) exp: i64,
    pub(super) sub: Box<str>,
    pub(super) payload: Box<str>,
}

impl AlbToken {
    /// The user's `sub`, from the signed payload (never from the unsigned
    /// `x-amzn-oidc-identity` header).
    pub fn sub(&self) -> &str {
        &self.inner.sub
    }

    /// The `signer` header: the ARN of the load balancer that signed the token.
    pub fn signer(&self) -> &str {
        &self.inner.signer
    }

    /// The `client` header: the app client the load balancer signed the user in with.
    pub fn client(&self) -> &str {
        &self.inner.client
    }

    /// The `iss` header, when the token has one: the identity provider.
    pub fn issuer(&self) -> Option<&str> {
        self.inner.issuer.as_deref()
    }

    /// The `exp` header, in seconds since the epoch.
    pub fn exp(&self) -> i64 {
        self.inner.exp
    }

    /// The key id (a UUID) of the load balancer key that signed it.
    pub fn kid(&self) -> &str {
        &self.inner.kid
    }

    /// The payload's JSON text: the identity provider's user claims.
    pub fn claims_json(&self) -> &str {
        &self.inner.payload
    }

    /// The user claims read as `C`.
    ///
    /// # Errors
    ///
    /// When the claims do not fit `C`.
    pub fn claims<C: DeserializeOwned>(&self) -> Result<C, serde_json::Error> {
        serde_json::from_str(&self.inner.payload)
    }

    pub(crate) fn verifier_id(&self) -> u64 {
        self.inner.verifier_id
    }
}

impl Weigh for AlbToken {
    fn weight_bytes(&self) -> u64 {
        let inner = &*self.inner;
        (inner.payload.len() + inner.signer.len() + inner.client.len() + inner.sub.len()) as u64
    }
}

impl fmt::Debug for AlbToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The claims are left out: a debug print in a log should not copy a user's profile.
        f.debug_struct("AlbToken")
            .field("sub", &self.sub())
            .field("signer", &self.signer())
            .field("client", &self.client())
            .field("exp", &self.exp())
            .finish_non_exhaustive()
    }
}
