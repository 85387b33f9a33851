//! Tokens of an Application Load Balancer that signs users in with Cognito: the
//! `x-amzn-oidc-data` header.
//!
//! A load balancer's `authenticate-cognito` (or `authenticate-oidc`) action signs the user in
//! and forwards each request with the user's claims in `x-amzn-oidc-data`: a JWT signed by the
//! load balancer with ES256 (P-256). Its header carries `alg`, `kid`, `signer` (the load
//! balancer's ARN), `iss`, `client` (the app client id) and `exp`; the payload carries the
//! identity provider's user claims (`sub`, `email`, `username`, ...). The public key of a
//! `kid` (a UUID) is a PEM document at `https://public-keys.auth.elb.{region}.amazonaws.com/{kid}`
//! (in GovCloud, an S3 bucket); it never changes for its `kid`. Unlike a standard JWT, the
//! segments are base64url **with** `=` padding.
//!
//! A second token family on the crate's one core, not a second stack: the same compact-token
//! splitter (with the load balancer's padding rule), the same verified-token cache, the same
//! limits and [`ConfigError`](crate::ConfigError), custom checks through
//! [`TokenRequirements`](crate::TokenRequirements), and the same middleware service
//! ([`AuthService`](crate::middleware::AuthService)). What differs is the header (the load
//! balancer's fields, ES256) and where keys come from (one PEM document per `kid`).
//!
//! - [`AlbVerifier`], built by [`AlbVerifierBuilder`]: the checks of the
//!   [checks](crate::verifier#load-balancer-tokens), the per-`kid` key cache,
//!   the verified-token cache.
//! - [`AlbAuthLayer`] (its service [`AlbAuth`]): reads `x-amzn-oidc-data`, answers 401 / 403 /
//!   503 through the same [`OnRejection`](crate::OnRejection) seam as
//!   [`CognitoAuthLayer`](crate::CognitoAuthLayer), with per-route custom checks.
//! - [`AlbClaims<C>`](AlbClaims): the user claims as a handler argument, as
//!   [`AlbUserClaims`] or your own type; [`AlbToken`]: the verified token with the load
//!   balancer's fields.
//!
//! ```
//! use axum::{Router, body::Body, http::Request, routing::get};
//! use axum_cognito::{alb::{AlbAuthLayer, AlbClaims}, test_util::TestAlb};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let alb = TestAlb::start().await; // a P-256 key served per kid on 127.0.0.1
//! let verifier = alb.verifier_builder().build().unwrap();
//! async fn hello(user: AlbClaims) -> String {
//!     format!("hello {}", user.username.as_deref().unwrap_or(&user.sub))
//! }
//! let app = Router::new().route("/", get(hello)).layer(AlbAuthLayer::new(verifier));
//!
//! let request = Request::get("/")
//!     .header("x-amzn-oidc-data", alb.token().username("alice").sign())
//!     .body(Body::empty())
//!     .unwrap();
//! assert_eq!(app.oneshot(request).await.unwrap().status(), 200);
//! # }
//! ```
//!
//! # Unsigned headers
//!
//! The load balancer also forwards `x-amzn-oidc-identity` (the `sub`) and
//! `x-amzn-oidc-accesstoken` (the identity provider's access token; with Cognito, a Cognito
//! access token). It does **not** sign them: anyone who can reach the service without going
//! through the load balancer can set them to anything. Never trust `x-amzn-oidc-identity` on
//! its own; take the user from [`AlbClaims`] / [`AlbToken::sub`]. To use the access token (for
//! the user's groups and scopes), give the layer a [`CognitoVerifier`](crate::CognitoVerifier)
//! with [`AlbAuthLayer::access_token`]: it verifies `x-amzn-oidc-accesstoken` as a Cognito
//! access token and requires that its `sub` equals the ALB token's.
//!
//! # Keys and the flood bound
//!
//! A `kid` is checked to be a canonical UUID before it goes into a URL. Its key is fetched on
//! first use, once for all concurrent requests, with the size cap and timeout of JWKS fetches,
//! no redirects and no proxy unless configured, and kept (256 keys by default, the least
//! recently and least often used evicted). A `kid` the endpoint has no P-256 key for (404, or
//! 403 from S3, or a document that is not a P-256 public key) is 401; an endpoint that cannot
//! be asked (timeout, other status, redirect, too large) is 503; either is remembered for the
//! cooldown (10 s). Fetches of `kid`s not yet known share one budget: at most
//! [`DEFAULT_ALB_KEY_FETCHES_PER_WINDOW`](crate::defaults::DEFAULT_ALB_KEY_FETCHES_PER_WINDOW)
//! (10) per [`DEFAULT_ALB_KEY_FETCH_WINDOW`](crate::defaults::DEFAULT_ALB_KEY_FETCH_WINDOW)
//! (10 s), so a flood of random `kid`s causes at most 10 fetches per window (20 in any 10 s,
//! where two windows meet; at most `10 × (1 + ⌈T / 10 s⌉)` over any time `T`), and a `kid`
//! beyond the budget is answered 503 at once. Tokens of known keys are answered from memory meanwhile, never behind a fetch.
//!

mod access_token;
mod builder;
mod claims;
mod header;
mod key_cache;
mod key_fetch;
mod key_id;
mod layer;
mod load_balancer;
mod public_key;
mod token;
mod user_claims;
mod verifier;

pub use builder::AlbVerifierBuilder;
pub use claims::AlbClaims;
pub use layer::{AlbAuth, AlbAuthLayer};
pub use token::AlbToken;
pub use user_claims::AlbUserClaims;
pub use verifier::AlbVerifier;
