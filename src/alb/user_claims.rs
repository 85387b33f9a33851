//! The user claims a load balancer forwards, as the crate reads them by default.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The user claims of an `x-amzn-oidc-data` payload: what the identity provider's user info
/// endpoint returned (for Cognito: `sub`, `email`, `email_verified`, `username`, ...). The
/// default claims type of [`AlbClaims`](super::AlbClaims); use a type of your own for more.
///
/// ```
/// use axum_cognito::alb::AlbUserClaims;
///
/// let claims: AlbUserClaims = serde_json::from_str(
///     r#"{"sub":"u-1","email":"a@example.com","username":"alice","email_verified":"true"}"#,
/// )
/// .unwrap();
/// assert_eq!(claims.username.as_deref(), Some("alice"));
/// assert_eq!(claims.extra["email_verified"], "true");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlbUserClaims {
    /// The user's subject: the same `sub` as in the user's Cognito tokens.
    pub sub: String,
    /// `email`, when the identity provider gives it.
    #[serde(default)]
    pub email: Option<String>,
    /// `username`, when the identity provider gives it (Cognito does).
    #[serde(default)]
    pub username: Option<String>,
    /// Every other claim, as JSON.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
