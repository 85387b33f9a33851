//! A local Cognito issuer for tests: no AWS account, real HTTP on 127.0.0.1 (feature
//! `test-util`).
//!
//! [`TestIssuer`] makes RSA keys, serves their JWKS on an ephemeral loopback port at
//! `/{pool}/.well-known/jwks.json` (as the emulators do), mints Cognito-shaped ID and access
//! tokens through [`TokenBuilder`], rotates, adds and removes keys, counts the JWKS requests it
//! served, can answer with faults, and can be stopped and restarted on the same port to
//! simulate an outage.
//!
//! With the `alb` feature, `TestAlb` is a local Application Load Balancer: a P-256 key per
//! `kid`, its PEM served at `/{kid}` on 127.0.0.1, `x-amzn-oidc-data` tokens minted through
//! `AlbTokenBuilder`, and faults of the key endpoint (`AlbKeyFault`).
//!
//! ```
//! use axum_cognito::{CognitoVerifier, TokenUse, test_util::TestIssuer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = TestIssuer::start().await;
//! let verifier = CognitoVerifier::builder()
//!     .user_pool(issuer.user_pool())
//!     .token_use(TokenUse::Access)
//!     .build()
//!     .await
//!     .unwrap();
//!
//! let token = issuer.access_token().username("alice").groups(["admins"]).sign();
//! let claims = verifier.verify_access(&token).await.unwrap();
//! assert_eq!(claims.username.as_deref(), Some("alice"));
//!
//! let expired = issuer.access_token().expired().sign();
//! assert!(verifier.verify_access(&expired).await.is_err());
//! # }
//! ```

#[cfg(feature = "alb")]
mod alb;
#[cfg(feature = "lambda")]
mod api_gateway;
mod issuer;
mod local_server;
mod signing_key;
mod token_builder;

#[cfg(feature = "alb")]
#[cfg_attr(docsrs, doc(cfg(feature = "alb")))]
pub use alb::{AlbKeyFault, AlbTokenBuilder, TestAlb};
#[cfg(feature = "lambda")]
#[cfg_attr(docsrs, doc(cfg(feature = "lambda")))]
pub use api_gateway::ApiGatewayEvent;
pub use issuer::TestIssuer;
pub use local_server::JwksFault;
pub use signing_key::SigningKey;
pub use token_builder::TokenBuilder;
