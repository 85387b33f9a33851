//! AWS Lambda behind API Gateway (feature `lambda`): the same extractors whether the function
//! verifies the token or API Gateway's authorizer already did, and a cold start that does not
//! wait on the network.
//!
//! # Two deployment shapes
//!
//! 1. **The function verifies the token** (`CognitoAuthLayer::new(verifier)` on the router that
//!    `lambda_http::run` serves): any API Gateway (or a function URL, or an ALB), the full
//!    [checks](crate::verifier#the-checks-in-order), the signature included. The keys cost a
//!    fetch at a cold start unless they are bundled with the function
//!    ([`UserPool::initial_jwks`](crate::UserPool::initial_jwks)): then the first request is
//!    verified at once, and the keys are refreshed from the pool's URL in the background.
//! 2. **API Gateway verifies it** (`CognitoAuthLayer::new(verifier).trust_api_gateway()`): an
//!    HTTP API (payload 2.0) JWT authorizer or a REST API (payload 1.0) Cognito user-pool
//!    authorizer checked the signature, `iss` and `exp` (and the HTTP API's `aud` or
//!    `client_id`, the REST API's nothing more); the layer reads the claims it verified from
//!    the request context that `lambda_http` puts in the request extensions, and runs every
//!    check after the signature's: `token_use` (an HTTP API lets an ID token through where an
//!    access token is wanted unless the route requires scopes), the app client, the issuer of
//!    a configured pool, `exp` again, groups and scopes (403), custom checks, revocation. No
//!    key is needed, so nothing is fetched. The handlers get the same
//!    [`CognitoClaims<Id>`](crate::CognitoClaims), `CognitoClaims<Access>`,
//!    [`VerifiedToken`](crate::VerifiedToken) and `Option<..>` as in shape 1.
//!
//! Shape 2 saves the function the keys and a verification, and keeps unauthenticated traffic
//! from invoking it at all; shape 1 needs no authorizer and works behind anything. Shape 2's
//! verifier still needs its keys for shape 1's case below; with a bundled set (or
//! [`build_lazy`](crate::CognitoVerifierBuilder::build_lazy)) its start does not wait.
//!
//! # What the layer trusts
//!
//! - The claims come from the Lambda event (`requestContext.authorizer.jwt.claims` of an HTTP
//!   API, `requestContext.authorizer.claims` of a REST API), which API Gateway writes: never
//!   from a header, which a client could set. An authorizer context of another kind (IAM, a
//!   Lambda authorizer) is not read as Cognito claims.
//! - Trusting the event is trusting whoever may invoke the function: API Gateway, and any
//!   principal granted `lambda:InvokeFunction` on it, who can send claims of its choosing.
//!   Allow only API Gateway in the function's resource policy, or use shape 1.
//! - A request without authorizer claims (a route without an authorizer, a function URL, the
//!   same router run locally) is **verified in the function** like any bearer token, with the
//!   verifier's keys: a token nobody verified is never let through. Refusing such requests
//!   instead would break local runs and mixed routes while protecting nothing, since the
//!   in-function verification is the full one.
//! - The values arrive as strings: `exp`, `iat`, `nbf`, `auth_time` and `version` are read back
//!   as numbers (a REST API writes `exp` and `iat` as `Tue Apr 04 18:39:39 UTC 2023`),
//!   `cognito:groups` and `cognito:roles` as lists (`[admins readers]` from an HTTP API,
//!   `admins,readers` from a REST API), `scope` is split on spaces as always. A claim of the
//!   wrong shape (a non-numeric `exp`, a malformed group list) is a 401 `InvalidClaims` naming
//!   the claim ([`Error::claim_name`](crate::Error::claim_name)), never a panic.
//! - Cognito's `GetUser` revocation check needs the token, which the claims are not: for
//!   authorizer claims it follows its [failure policy](crate::revocation::FailurePolicy) as if
//!   Cognito could not be reached. The revocation list and the application's checks apply as
//!   always.
//!
//! ```
//! use axum::{Router, routing::get};
//! use axum_cognito::{Access, CognitoAuthLayer, CognitoClaims};
//! use axum_cognito::test_util::{ApiGatewayEvent, TestIssuer};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = TestIssuer::start().await;
//! let verifier = issuer.verifier_builder().build().await.unwrap();
//! async fn orders(caller: CognitoClaims<Access>) -> String {
//!     format!("orders of {}", caller.sub)
//! }
//! let app = Router::new()
//!     .route("/orders", get(orders))
//!     .layer(CognitoAuthLayer::new(verifier).trust_api_gateway());
//!
//! // An HTTP API event whose JWT authorizer verified an access token, through lambda_http's
//! // own conversion; `lambda_http::run(app)` serves the same router in a function.
//! let token = issuer.access_token().sub("alice").sign();
//! let request = issuer.api_gateway_request(ApiGatewayEvent::HttpJwtAuthorizer, "GET", "/orders", &token);
//! assert_eq!(app.clone().oneshot(request).await.unwrap().status(), 200);
//!
//! // The authorizer verified an ID token: `token_use` is checked here.
//! let id_token = issuer.id_token().sign();
//! let request = issuer.api_gateway_request(ApiGatewayEvent::HttpJwtAuthorizer, "GET", "/orders", &id_token);
//! assert_eq!(app.oneshot(request).await.unwrap().status(), 401);
//! # }
//! ```
//!
//! # A cold start that does not wait on the network
//!
//! Bundle the pool's key set with the function, as a file read at start-up
//! ([`UserPool::initial_jwks_file`](crate::UserPool::initial_jwks_file)) or compiled in with
//! `UserPool::new(id).initial_jwks(include_str!("../jwks.json"))`. `build()` then fetches
//! nothing: the bundled keys serve the first request, a background refresh replaces them from
//! the pool's URL after the refresh interval, a failing refresh keeps them until
//! `max_staleness`, and a token of an unknown `kid` (Cognito rotated its keys since the
//! bundle) refetches as usual. The HTTP client (reading the system's CA certificates takes
//! milliseconds) is built when the first fetch needs it; hand in your own with
//! [`http_client`](crate::CognitoVerifierBuilder::http_client). Without a bundled set,
//! `build_lazy()` does not wait at start-up: the first requests wait for the first key set,
//! within the fetch timeout, instead of being refused with 503.
//!
//! From process start to the first verified response, against a Runtime API and a key
//! endpoint on 127.0.0.1 (release build, median of 20 starts, `cargo bench --features lambda
//! --bench lambda_cold_start`): see `BENCHMARKS.md`.

mod claim_values;
mod context;

pub(crate) use context::authorizer_claims;
