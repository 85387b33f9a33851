//! Where the extractors find a verifier in the router state: checked by the compiler.

use axum::extract::FromRef;

use crate::verifier::CognitoVerifier;

/// A router state the extractors can work with: it either holds the verifier they use
/// when no layer verified the request's token, or says that only a layer (or an
/// `Extension(verifier)`) provides one.
///
/// Implemented for you:
/// - for every state `S` with `CognitoVerifier: FromRef<S>`: the verifier itself
///   (`.with_state(verifier)`), or your `AppState` with `impl FromRef<AppState> for
///   CognitoVerifier`, the convention axum users know;
/// - for `()`, a router without state: a layer or an `Extension(verifier)` provides the
///   verifier.
///
/// For a state that holds no verifier, on routes a layer protects, implement it with no
/// body: `impl AuthState for AppState {}`. An extractor on a route with neither a layer, an
/// extension nor a verifier in its state answers 500 naming the fix.
///
/// Why a trait and not a bare `CognitoVerifier: FromRef<S>` bound: that bound would refuse
/// `Router<()>` behind a layer, the most common shape; a run-time lookup (what 0.1 did, a
/// downcast of the state) compiles for an `AppState` with `FromRef` and then answers 500.
/// With this trait what compiles works.
///
/// ```
/// use axum::{Router, body::Body, extract::FromRef, http::Request, routing::get};
/// use axum_cognito::{Access, CognitoClaims, CognitoVerifier, test_util::TestIssuer};
/// use tower::ServiceExt;
///
/// #[derive(Clone)]
/// struct AppState {
///     verifier: CognitoVerifier,
///     greeting: &'static str,
/// }
///
/// impl FromRef<AppState> for CognitoVerifier {
///     fn from_ref(state: &AppState) -> Self {
///         state.verifier.clone()
///     }
/// }
///
/// async fn hello(caller: CognitoClaims<Access>) -> String {
///     format!("hello {}", caller.sub)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await;
/// let verifier = issuer.verifier_builder().build().await.unwrap();
/// let app = Router::new()
///     .route("/", get(hello))
///     .with_state(AppState { verifier, greeting: "hi" });
/// let request = Request::get("/")
///     .header("authorization", format!("Bearer {}", issuer.access_token().sign()))
///     .body(Body::empty())
///     .unwrap();
/// assert_eq!(app.oneshot(request).await.unwrap().status(), 200);
/// # }
/// ```
pub trait AuthState: Send + Sync + 'static {
    /// The verifier of this state; `None` when a layer or an extension provides it.
    fn verifier(&self) -> Option<CognitoVerifier> {
        None
    }
}

impl AuthState for () {}

impl<S> AuthState for S
where
    CognitoVerifier: FromRef<S>,
    S: Send + Sync + 'static,
{
    fn verifier(&self) -> Option<CognitoVerifier> {
        Some(CognitoVerifier::from_ref(self))
    }
}
