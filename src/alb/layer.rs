//! The load balancer's layer: the verifier, the route's custom checks, how refusals answer,
//! and how it authenticates a request for the crate's one middleware
//! ([`AuthService`](crate::middleware::AuthService)).

use http::{Extensions, HeaderMap, HeaderName, Uri};
use serde::de::DeserializeOwned;

use super::{
    access_token::{access_only, access_token, binds, check_now, same_user},
    token::AlbToken,
    verifier::AlbVerifier,
};
use crate::{
    error::Error,
    middleware::{AuthLayer, AuthService, Authenticator, Decision},
    rejection::{AuthRejection, DefaultRejection},
    token_source::TokenProblem,
    verified_token::VerifiedToken,
    verifier::{CognitoVerifier, TokenRequirements, pipeline::Now},
};

/// The header the load balancer puts its signed token in.
pub(crate) const ALB_DATA_HEADER: HeaderName = HeaderName::from_static("x-amzn-oidc-data");

/// The service of [`AlbAuthLayer`]: verifies the request's `x-amzn-oidc-data` token.
///
/// ```
/// use axum_cognito::{alb::AlbAuthLayer, test_util::TestAlb};
/// use tower::{Layer, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let alb = TestAlb::start().await;
/// let inner = service_fn(|_: http::Request<axum::body::Body>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
/// });
/// let service = AlbAuthLayer::new(alb.verifier_builder().build().unwrap()).layer(inner);
/// let _inner = service.get_ref();
/// # }
/// ```
pub type AlbAuth<S, R = DefaultRejection> = AuthService<S, AlbAuthConfig, R>;

/// Verifies the `x-amzn-oidc-data` header of every request (the raw token, no `Bearer`) and
/// puts an [`AlbToken`](super::AlbToken) in its extensions for
/// [`AlbClaims`](super::AlbClaims).
///
/// It answers as [`CognitoAuthLayer`](crate::CognitoAuthLayer) does, through the same
/// [`OnRejection`](crate::OnRejection) seam: 401 for no header, two headers or a bad token, 403 when a
/// [`custom_check_forbidden`](Self::custom_check_forbidden) fails, 503 (`Retry-After`) when
/// the token's key cannot be fetched. Stacked layers with the same verifier verify the token
/// once; the inner ones only run their own checks.
///
/// ```
/// use axum::{Router, body::Body, http::Request, routing::get};
/// use axum_cognito::{alb::{AlbAuthLayer, AlbClaims}, test_util::TestAlb};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let alb = TestAlb::start().await;
/// let verifier = alb.verifier_builder().build().unwrap();
/// async fn me(user: AlbClaims) -> String {
///     user.email.clone().unwrap_or_default()
/// }
/// let app = Router::new().route("/me", get(me)).layer(AlbAuthLayer::new(verifier));
///
/// let token = alb.token().email("a@example.com").sign();
/// let request = Request::get("/me").header("x-amzn-oidc-data", token).body(Body::empty()).unwrap();
/// assert_eq!(app.clone().oneshot(request).await.unwrap().status(), 200);
/// let request = Request::get("/me").body(Body::empty()).unwrap();
/// assert_eq!(app.oneshot(request).await.unwrap().status(), 401);
/// # }
/// ```
pub type AlbAuthLayer<R = DefaultRejection> = AuthLayer<AlbAuthConfig, R>;

/// The configuration of an [`AlbAuthLayer`] and the services it makes: the load balancer
/// token family's [`Authenticator`].
#[derive(Clone, Debug)]
pub struct AlbAuthConfig {
    verifier: AlbVerifier,
    /// The route's custom checks (only those: the rest of [`TokenRequirements`] is about
    /// user-pool tokens).
    checks: TokenRequirements,
    /// Verifies `x-amzn-oidc-accesstoken` too, when set.
    access: Option<CognitoVerifier>,
}

impl AlbAuthLayer {
    /// A layer that requires a valid token of `verifier`.
    pub fn new(verifier: AlbVerifier) -> Self {
        Self::of(AlbAuthConfig {
            verifier,
            checks: TokenRequirements::new(),
            access: None,
        })
    }
}

impl<R> AlbAuthLayer<R> {
    /// Also requires `x-amzn-oidc-accesstoken`, the Cognito access token the load balancer
    /// forwards unsigned: it must be a valid access token of `verifier` whose `sub` is the
    /// ALB token's (401 otherwise). It is then in the request extensions as a
    /// [`VerifiedToken`](crate::VerifiedToken), so the user's groups and scopes are at hand
    /// (`CognitoClaims<Access>` takes it when no verifier of its own is found).
    ///
    /// ```
    /// use axum_cognito::{alb::{AlbAuthLayer, AlbVerifier}, CognitoVerifier};
    ///
    /// fn with_groups(alb: AlbVerifier, pool: CognitoVerifier) -> AlbAuthLayer {
    ///     AlbAuthLayer::new(alb).access_token(pool)
    /// }
    /// ```
    pub fn access_token(self, verifier: CognitoVerifier) -> Self {
        self.with_config(|c| c.access = Some(verifier))
    }

    /// A check of the user claims read as `C`: `Err` refuses the request with 401
    /// ([`CustomCheck`](crate::ErrorKind::CustomCheck)), its message kept in the error (shown only
    /// by verbose renderers). Claims that do not fit `C` fail it.
    pub fn custom_check<C, F>(self, check: F) -> Self
    where
        C: DeserializeOwned,
        F: Fn(&C) -> Result<(), String> + Send + Sync + 'static,
    {
        self.with_config(|c| c.checks = c.checks.clone().custom_check(check))
    }

    /// As [`custom_check`](Self::custom_check), but a failure is 403
    /// ([`Forbidden`](crate::ErrorKind::Forbidden)): the user is known, but not allowed here.
    ///
    /// ```
    /// use axum_cognito::alb::{AlbAuthLayer, AlbUserClaims, AlbVerifier};
    ///
    /// fn staff_only(verifier: AlbVerifier) -> AlbAuthLayer {
    ///     AlbAuthLayer::new(verifier).custom_check_forbidden(|user: &AlbUserClaims| {
    ///         match user.email.as_deref() {
    ///             Some(email) if email.ends_with("@example.com") => Ok(()),
    ///             _ => Err("not staff".into()),
    ///         }
    ///     })
    /// }
    /// ```
    pub fn custom_check_forbidden<C, F>(self, check: F) -> Self
    where
        C: DeserializeOwned,
        F: Fn(&C) -> Result<(), String> + Send + Sync + 'static,
    {
        self.with_config(|c| c.checks = c.checks.clone().custom_check_forbidden(check))
    }
}

/// What a first pass let through: the tokens to add, unless a layer further out already did.
pub(super) type AlbPass = Option<(AlbToken, Option<VerifiedToken>)>;

/// Where a first pass stopped: a key is not known yet. Fetch it, then verify the ALB token
/// (and the access token, when the layer asks for it).
#[derive(Debug)]
pub struct AlbPending {
    token: String,
    access: Option<Result<String, Error>>,
}

impl AlbAuthConfig {
    /// The route's custom checks, failing with the verified claims.
    fn check(&self, verified: &AlbToken) -> Result<(), Error> {
        let claims = verified.claims_json().as_bytes();
        self.checks
            .check_custom(claims)
            .map_err(|error| error.with_verified_claims(claims))
    }

    fn pending(&self, token: &str, headers: &HeaderMap) -> AlbPending {
        AlbPending {
            token: token.to_owned(),
            access: self
                .access
                .as_ref()
                .map(|_| access_token(headers).map(str::to_owned)),
        }
    }
}

impl Authenticator for AlbAuthConfig {
    type Verified = AlbPass;
    type Pending = AlbPending;

    fn first_pass(
        &self,
        headers: &HeaderMap,
        _uri: &Uri,
        extensions: &Extensions,
    ) -> Decision<AlbPass, AlbPending> {
        // A layer further out with the same verifier verified this request's token: only this
        // layer's own checks remain. An access token this layer requires is checked here even
        // then, unless a layer further out already bound one of the same verifier to this user.
        let outer = extensions
            .get::<AlbToken>()
            .filter(|outer| outer.verifier_id() == self.verifier.id());
        let verified = match outer {
            Some(outer) => self.check(outer).map(|()| outer.clone()),
            None => {
                let token = match find_token(headers) {
                    Ok(Some(token)) => token,
                    Ok(None) => return Decision::Refuse(AuthRejection::missing_token()),
                    Err(problem) => {
                        return Decision::Refuse(AuthRejection::invalid_request(problem));
                    }
                };
                match self.verifier.attempt(token, Now::read()) {
                    Ok(result) => {
                        result.and_then(|verified| self.check(&verified).map(|()| verified))
                    }
                    Err(_) => return Decision::Later(self.pending(token, headers)),
                }
            }
        };
        let verified = match verified {
            Ok(verified) => verified,
            Err(error) => return Decision::Refuse(AuthRejection::from_error(error)),
        };
        let Some(access_verifier) = &self.access else {
            return Decision::Pass(outer.is_none().then_some((verified, None)));
        };
        let bound = outer.is_some()
            && extensions
                .get::<VerifiedToken>()
                .is_some_and(|access| binds(access_verifier, &verified, access));
        if bound {
            return Decision::Pass(None);
        }
        match check_now(access_verifier, headers, &verified) {
            Some(Ok(access)) => Decision::Pass(Some((verified, Some(access)))),
            Some(Err(error)) => Decision::Refuse(AuthRejection::from_error(error)),
            // The access token's key needs a refetch: verify both again on the async path
            // (the ALB token from its cache).
            None => match find_token(headers) {
                Ok(Some(token)) => Decision::Later(self.pending(token, headers)),
                _ => Decision::Refuse(AuthRejection::missing_token()),
            },
        }
    }

    async fn go_on(&self, pending: AlbPending) -> Result<AlbPass, Error> {
        let verified = self.verifier.verify(&pending.token).await?;
        self.check(&verified)?;
        let access = match (&self.access, pending.access) {
            (Some(verifier), Some(access)) => {
                let access = verifier.verify_token(&access?, &access_only()).await?;
                Some(same_user(&verified, access)?)
            }
            _ => None,
        };
        Ok(Some((verified, access)))
    }

    fn admit(&self, pass: AlbPass, extensions: &mut Extensions) {
        if let Some((verified, access)) = pass {
            tracing::debug!(
                sub = verified.sub(),
                signer = verified.signer(),
                "alb: token accepted"
            );
            extensions.insert(verified);
            if let Some(access) = access {
                extensions.insert(access);
            }
        }
    }
}

/// The one `x-amzn-oidc-data` value: none, or visible ASCII. Its shape is the verifier's to
/// check (the padded segments are no token68).
fn find_token(headers: &HeaderMap) -> Result<Option<&str>, TokenProblem> {
    let mut values = headers.get_all(&ALB_DATA_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(TokenProblem::Repeated);
    }
    match value.to_str() {
        Ok(token) if !token.is_empty() && !token.contains(' ') => Ok(Some(token)),
        _ => Err(TokenProblem::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_one_header_value() {
        let mut headers = HeaderMap::new();
        assert_eq!(find_token(&headers), Ok(None));
        headers.insert(&ALB_DATA_HEADER, HeaderValue::from_static("e30=.e30=.e30="));
        assert_eq!(find_token(&headers), Ok(Some("e30=.e30=.e30=")));
        headers.append(&ALB_DATA_HEADER, HeaderValue::from_static("x"));
        assert_eq!(find_token(&headers), Err(TokenProblem::Repeated));
        for value in [&b""[..], b"Bearer e30=.e30=.e30=", b"\xe9"] {
            let mut headers = HeaderMap::new();
            headers.insert(&ALB_DATA_HEADER, HeaderValue::from_bytes(value).unwrap());
            assert_eq!(
                find_token(&headers),
                Err(TokenProblem::Malformed),
                "{value:?}"
            );
        }
    }
}
