//! The user-pool layer: its configuration, shared by every service it makes, and how it
//! authenticates a request.

use std::sync::Arc;

use super::{
    auth_layer::AuthLayer,
    authenticator::{Authenticator, Decision},
};
use crate::{
    error::{Error, ErrorKind},
    rejection::{AuthRejection, DefaultRejection, log_accepted},
    resource_server::ProtectedResource,
    token_source::{AuthorizationBearer, FoundToken, TokenSource},
    token_use::TokenUse,
    verified_token::VerifiedToken,
    verifier::{CognitoVerifier, FirstPass, Later, TokenRequirements},
};
use http::{Extensions, HeaderMap, Uri};

/// Verifies the Bearer token of every request and puts a [`VerifiedToken`](crate::VerifiedToken)
/// in its extensions for the extractors.
///
/// - Required mode (the default): no token or a bad one is refused (401).
/// - [`optional`](Self::optional): a request without a token passes with no claims; a bad
///   token of the verifier's pools is still refused.
/// - The token is read from `Authorization: Bearer` unless another
///   [`token_source`](Self::token_source) is set: a cookie, another header, a query parameter.
///
/// Use it router-wide with `.layer(..)` or per route with `.route_layer(..)`. Stacked layers
/// with the same verifier verify the token once; the inner ones only check their own rules.
/// Generic over the request body, so it also wraps tonic services.
///
/// ```
/// use axum::{Router, body::Body, http::Request, routing::get};
/// use axum_cognito::{CognitoAuthLayer, VerifiedToken, test_util::TestIssuer};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await;
/// let verifier = issuer.verifier_builder().build().await.unwrap();
/// async fn hello(token: Option<VerifiedToken>) -> String {
///     token.map_or("hello stranger".into(), |t| format!("hello {}", t.sub()))
/// }
/// let app = Router::new()
///     .route("/", get(hello))
///     .layer(CognitoAuthLayer::new(verifier).optional());
///
/// let anonymous = Request::get("/").body(Body::empty()).unwrap();
/// assert_eq!(app.clone().oneshot(anonymous).await.unwrap().status(), 200);
/// let bad = Request::get("/").header("authorization", "Bearer x.y.z").body(Body::empty()).unwrap();
/// assert_eq!(app.oneshot(bad).await.unwrap().status(), 401);
/// # }
/// ```
///
/// # CORS
///
/// A browser sends a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) without
/// credentials, so this layer would refuse it with a 401 and the browser would never send the
/// real request. Put the CORS layer *outside* this one, that is added *after* it with
/// `.layer(..)`: it answers preflights itself, and adds its headers to every other response,
/// this layer's 401s included, so that the page can read them.
///
/// ```
/// use axum::{Router, body::Body, http::Request, routing::get};
/// use axum_cognito::{CognitoAuthLayer, test_util::TestIssuer};
/// use http::{Method, header::{AUTHORIZATION, CONTENT_TYPE}};
/// use tower::ServiceExt;
/// use tower_http::cors::CorsLayer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// # let issuer = TestIssuer::start().await;
/// # let verifier = issuer.verifier_builder().build().await.unwrap();
/// let cors = CorsLayer::new()
///     .allow_origin("https://app.example.com".parse::<http::HeaderValue>().unwrap())
///     .allow_methods([Method::GET, Method::POST])
///     .allow_headers([AUTHORIZATION, CONTENT_TYPE]);
/// let app = Router::new()
///     .route("/orders", get(|| async { "orders" }))
///     .layer(CognitoAuthLayer::new(verifier)) // inner: runs second
///     .layer(cors); // outer: runs first
///
/// let preflight = Request::options("/orders")
///     .header("origin", "https://app.example.com")
///     .header("access-control-request-method", "GET")
///     .header("access-control-request-headers", "authorization")
///     .body(Body::empty())
///     .unwrap();
/// let response = app.oneshot(preflight).await.unwrap();
/// assert_eq!(response.status(), 200);
/// assert!(response.headers().contains_key("access-control-allow-origin"));
/// # }
/// ```
pub type CognitoAuthLayer<R = DefaultRejection> = AuthLayer<UserPoolAuth, R>;

/// The configuration of a [`CognitoAuthLayer`] and the services it makes: the user-pool
/// token family's [`Authenticator`].
#[derive(Clone, Debug)]
pub struct UserPoolAuth {
    verifier: CognitoVerifier,
    requirements: TokenRequirements,
    /// Whether a request without a token passes.
    optional: bool,
    source: Arc<dyn TokenSource>,
    /// The RFC 9728 metadata URL every refusal names.
    resource_metadata: Option<Arc<String>>,
    /// Whether the claims of an API Gateway authorizer are read (feature `lambda`).
    #[cfg(feature = "lambda")]
    api_gateway: bool,
}

impl CognitoAuthLayer {
    /// A layer that requires a valid token of `verifier`.
    pub fn new(verifier: CognitoVerifier) -> Self {
        Self::of(UserPoolAuth {
            verifier,
            requirements: TokenRequirements::new(),
            optional: false,
            source: Arc::new(AuthorizationBearer),
            resource_metadata: None,
            #[cfg(feature = "lambda")]
            api_gateway: false,
        })
    }
}

impl<R> CognitoAuthLayer<R> {
    /// Lets requests without a token through, with no claims. A token whose issuer none of the
    /// verifier's pools accept (and no pool resolver claims) passes on too, unverified and
    /// without claims: the extractors below verify it with their own verifier (a nested
    /// router's `.layer(Extension(staff_verifier))`) or refuse it with 401, so that an optional
    /// layer around a whole app does not lock out the users of a nested router's own pool. A
    /// token of the verifier's pools that fails a check is refused here as always.
    pub fn optional(self) -> Self {
        self.with_config(|c| c.optional = true)
    }

    /// Reads the token from `source` instead of `Authorization: Bearer`: a
    /// [`Cookie`](crate::token_source::Cookie), another [`Header`](crate::token_source::Header),
    /// a [`QueryParameter`](crate::token_source::QueryParameter) on a WebSocket route, or
    /// several of them in [`Sources`](crate::token_source::Sources). The size cap and every
    /// check of the token apply as they do to the header; what the source cannot read is
    /// refused with 401 `invalid_request`.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request, routing::get};
    /// use axum_cognito::{CognitoAuthLayer, test_util::TestIssuer, token_source::Cookie};
    /// use tower::ServiceExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let issuer = TestIssuer::start().await;
    /// let verifier = issuer.verifier_builder().build().await.unwrap();
    /// let layer = CognitoAuthLayer::new(verifier).token_source(Cookie::named("id_token").unwrap());
    /// let app = Router::new().route("/", get(|| async { "hello" })).layer(layer);
    ///
    /// let token = issuer.id_token().sign();
    /// let in_cookie = Request::get("/")
    ///     .header("cookie", format!("id_token={token}"))
    ///     .body(Body::empty())
    ///     .unwrap();
    /// assert_eq!(app.clone().oneshot(in_cookie).await.unwrap().status(), 200);
    /// let in_header = Request::get("/")
    ///     .header("authorization", format!("Bearer {token}"))
    ///     .body(Body::empty())
    ///     .unwrap();
    /// assert_eq!(app.oneshot(in_header).await.unwrap().status(), 401);
    /// # }
    /// ```
    pub fn token_source(self, source: impl TokenSource) -> Self {
        let source: Arc<dyn TokenSource> = Arc::new(source);
        self.with_config(|c| c.source = source)
    }

    /// Behind API Gateway (feature `lambda`): takes the claims its JWT authorizer (HTTP API)
    /// or Cognito authorizer (REST API) verified from the Lambda event's request context, and
    /// runs every check that follows the signature's on them. A request without such claims
    /// is verified here like any bearer token. See [`lambda`](crate::lambda).
    #[cfg(feature = "lambda")]
    pub fn trust_api_gateway(self) -> Self {
        self.with_config(|c| c.api_gateway = true)
    }

    /// Accepts only this token use (401 for the other).
    pub fn token_use(self, token_use: TokenUse) -> Self {
        self.with_config(|c| c.requirements.token_use = Some(token_use))
    }

    /// The token's `cognito:groups` must hold at least one of `groups` (403 otherwise).
    pub fn any_group<I, S>(self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.require(TokenRequirements::new().any_group(groups))
    }

    /// The token must come from the pool `pool_id` and its `cognito:groups` hold at least one
    /// of `groups` (403 otherwise); see [`TokenRequirements::any_group_in`].
    pub fn any_group_in<I, S>(self, pool_id: impl Into<String>, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.require(TokenRequirements::new().any_group_in(pool_id, groups))
    }

    /// The token's `scope` must hold at least one of `scopes` (403 otherwise).
    pub fn any_scope<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.require(TokenRequirements::new().any_scope(scopes))
    }

    /// The token's `aud` must name `resource` (401 otherwise); see
    /// [`TokenRequirements::resource`].
    pub fn resource(self, resource: impl Into<String>) -> Self {
        self.require(TokenRequirements::new().resource(resource))
    }

    /// A token without `aud` is refused (401); see [`TokenRequirements::require_audience`].
    pub fn require_audience(self) -> Self {
        self.require(TokenRequirements::new().require_audience())
    }

    /// Guards `resource`: its [`resource`](ProtectedResource::resource) is required in `aud`
    /// (as [`resource`](Self::resource)), and every 401 and 403 of the layer names its
    /// metadata in `WWW-Authenticate` (`resource_metadata`, RFC 9728); see
    /// [`resource_server`](crate::resource_server).
    pub fn protected_resource(self, resource: &ProtectedResource) -> Self {
        let url = Some(Arc::new(resource.metadata_url().to_owned()));
        self.resource(resource.resource())
            .with_config(|c| c.resource_metadata = url)
    }

    /// Adds these rules (token use, audience, groups, scopes, custom checks).
    pub fn require(self, requirements: TokenRequirements) -> Self {
        self.with_config(|c| c.requirements = c.requirements.clone().and(&requirements))
    }
}

/// Left in the extensions of a request an optional layer let through without a token: the
/// extractors behind it know that a layer ran, with which verifier, and that it found no
/// token where it was told to look, so they do not look elsewhere.
#[derive(Clone)]
pub(crate) struct PassedWithoutToken(pub(crate) CognitoVerifier);

/// What a user-pool layer let through.
#[derive(Debug)]
pub enum UserPoolPass {
    /// A token it verified.
    Verified(VerifiedToken),
    /// A token a layer further out with the same verifier verified; this layer's rules hold.
    AlreadyVerified,
    /// No token, and the layer is optional.
    Anonymous,
    /// A token whose issuer none of the verifier's pools accept (and no resolver claims), and
    /// the layer is optional: passed on unverified, for a verifier further in to judge.
    Foreign,
}

impl UserPoolAuth {
    /// A verification's end: an optional layer passes a token of a foreign issuer on.
    fn judged(&self, result: Result<VerifiedToken, Error>) -> Result<UserPoolPass, Error> {
        match result {
            Ok(verified) => Ok(UserPoolPass::Verified(verified)),
            Err(error) if error.kind() == ErrorKind::InvalidIssuer && self.optional => {
                Ok(UserPoolPass::Foreign)
            }
            Err(error) => Err(error),
        }
    }
}

impl Authenticator for UserPoolAuth {
    type Verified = UserPoolPass;
    type Pending = (String, Later);

    fn first_pass(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        extensions: &Extensions,
    ) -> Decision<UserPoolPass, (String, Later)> {
        // A layer further out with the same verifier already verified this request's token:
        // only this layer's own rules remain.
        if let Some(verified) = extensions.get::<VerifiedToken>()
            && verified.verifier_id() == self.verifier.id()
        {
            return match CognitoVerifier::recheck(verified, &self.requirements) {
                Ok(()) => Decision::Pass(UserPoolPass::AlreadyVerified),
                Err(error) => Decision::Refuse(AuthRejection::from_error(error)),
            };
        }
        #[cfg(feature = "lambda")]
        if self.api_gateway
            && let Some(claims) = crate::lambda::authorizer_claims(extensions)
        {
            let verify = |json| {
                self.verifier
                    .verify_authorizer_claims(json, &self.requirements)
            };
            return match claims.and_then(verify) {
                Ok(verified) => Decision::Pass(UserPoolPass::Verified(verified)),
                Err(error) => Decision::Refuse(AuthRejection::from_error(error)),
            };
        }
        match self.source.find(headers, uri) {
            FoundToken::Absent if self.optional => Decision::Pass(UserPoolPass::Anonymous),
            FoundToken::Absent => Decision::Refuse(AuthRejection::missing_token()),
            FoundToken::Invalid(problem) => {
                Decision::Refuse(AuthRejection::invalid_request(problem))
            }
            FoundToken::Present(token) => {
                match self.verifier.verify_token_now(token, &self.requirements) {
                    FirstPass::Done(result) => match self.judged(result) {
                        Ok(pass) => Decision::Pass(pass),
                        Err(error) => Decision::Refuse(AuthRejection::from_error(error)),
                    },
                    FirstPass::Later(later) => Decision::Later((token.to_owned(), later)),
                }
            }
        }
    }

    async fn go_on(&self, (token, later): (String, Later)) -> Result<UserPoolPass, Error> {
        let result = self
            .verifier
            .verify_token_later(&token, &self.requirements, later)
            .await;
        self.judged(result)
    }

    fn refused(&self, rejection: AuthRejection) -> AuthRejection {
        rejection.with_resource_metadata(self.resource_metadata.as_ref())
    }

    fn admit(&self, pass: UserPoolPass, extensions: &mut Extensions) {
        match pass {
            UserPoolPass::Verified(verified) => {
                log_accepted(&verified);
                extensions.insert(verified);
            }
            UserPoolPass::AlreadyVerified => {}
            // The extractors read a verified token; only a request let through without one
            // needs the verifier, so that they know a layer ran (and answer 401, not 500).
            UserPoolPass::Anonymous => {
                extensions.insert(PassedWithoutToken(self.verifier.clone()));
            }
            // The extractors below verify it with the innermost `Extension(verifier)`, or with
            // this layer's verifier, which refuses it.
            UserPoolPass::Foreign => {
                if extensions.get::<CognitoVerifier>().is_none() {
                    extensions.insert(self.verifier.clone());
                }
            }
        }
    }
}
