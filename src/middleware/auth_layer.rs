//! The one layer type: a token family's configuration and how its refusals answer, shared by
//! every service it makes. [`CognitoAuthLayer`](super::CognitoAuthLayer) and the load
//! balancer's `AlbAuthLayer` are this type with their family's configuration.

use std::sync::Arc;

use tower_layer::Layer;

use super::service::AuthService;
use crate::rejection::{DefaultRejection, OnRejection};

/// The layer of the crate's [`AuthService`]: `A` is the token family's configuration (the
/// verifier and the route's rules), `R` renders refusals. Use it through
/// [`CognitoAuthLayer`](super::CognitoAuthLayer) (or `AlbAuthLayer`, feature `alb`).
#[must_use]
#[derive(Clone)]
pub struct AuthLayer<A, R = DefaultRejection> {
    pub(crate) config: Arc<A>,
    on_rejection: R,
}

impl<A> AuthLayer<A> {
    /// A layer of `config`, answering with the terse default rejections.
    pub(crate) fn of(config: A) -> Self {
        Self {
            config: Arc::new(config),
            on_rejection: DefaultRejection::terse(),
        }
    }

    /// Verbose rejections: bodies and `error_description` say which check failed.
    pub fn verbose(self) -> Self {
        self.on_rejection(DefaultRejection::verbose())
    }
}

impl<A, R> AuthLayer<A, R> {
    /// The same layer with its configuration changed: services made before keep theirs.
    pub(crate) fn with_config(mut self, change: impl FnOnce(&mut A)) -> Self
    where
        A: Clone,
    {
        change(Arc::make_mut(&mut self.config));
        self
    }

    /// Builds refusals with `on_rejection` instead of the default responses.
    pub fn on_rejection<R2: OnRejection + Clone>(self, on_rejection: R2) -> AuthLayer<A, R2> {
        AuthLayer {
            config: self.config,
            on_rejection,
        }
    }
}

impl<S, A, R: OnRejection + Clone> Layer<S> for AuthLayer<A, R> {
    type Service = AuthService<S, A, R>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService::from_parts(inner, Arc::clone(&self.config), self.on_rejection.clone())
    }
}

impl<A: std::fmt::Debug, R> std::fmt::Debug for AuthLayer<A, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLayer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
