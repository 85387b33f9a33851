//! What the one middleware asks of a token family: a first pass over the request that needs no
//! network, and the network step when the first pass stopped at one. The user-pool layer
//! ([`CognitoAuthLayer`](super::CognitoAuthLayer)) and the load balancer's (`AlbAuthLayer`,
//! feature `alb`) are this trait's two implementations, and [`AuthService`](super::AuthService)
//! drives either.

use std::future::Future;

use http::{Extensions, HeaderMap, Uri};

use crate::{error::Error, rejection::AuthRejection};

/// What a first pass decided.
#[derive(Debug)]
pub enum Decision<V, P> {
    /// Let the request through, with what to add to its extensions.
    Pass(V),
    /// Refuse it.
    Refuse(AuthRejection),
    /// Go on where the network may help: a key fetch, the pool resolver, Cognito's `GetUser`.
    Later(P),
}

/// A token family's authentication of one request, for [`AuthService`](super::AuthService).
/// Sealed: implemented by the crate's layers only.
pub trait Authenticator: Send + Sync + 'static {
    /// What a pass found, to put in the request extensions.
    type Verified: Send + 'static;
    /// Where a first pass stopped.
    type Pending: Send + 'static;

    /// The synchronous part: no lock held across the network, no await.
    fn first_pass(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        extensions: &Extensions,
    ) -> Decision<Self::Verified, Self::Pending>;

    /// The network step a first pass stopped at, then the rest of the checks.
    fn go_on(
        &self,
        pending: Self::Pending,
    ) -> impl Future<Output = Result<Self::Verified, Error>> + Send;

    /// Puts what a pass found in the request extensions, for the extractors.
    fn admit(&self, verified: Self::Verified, extensions: &mut Extensions);

    /// A refusal of this layer, as it answers: with the protected resource's metadata URL.
    fn refused(&self, rejection: AuthRejection) -> AuthRejection {
        rejection
    }
}
