//! The local issuer: keys, a JWKS server on 127.0.0.1, and token minting.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, atomic::Ordering},
};

use axum::http::HeaderValue;
use serde_json::json;

use super::{JwksFault, SigningKey, TokenBuilder, local_server::LocalServer};
use crate::{
    lock::lock,
    verified_token::VerifiedToken,
    verifier::{CognitoVerifier, CognitoVerifierBuilder, TokenRequirements, UserPool},
};

/// A local Cognito user pool: see the [module docs](super).
///
/// ```
/// use axum_cognito::{ErrorKind, test_util::{JwksFault, TestIssuer}};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await;
/// let verifier = issuer.verifier_builder().build().await.unwrap();
/// let old = issuer.access_token().sign();
///
/// issuer.rotate(); // a new signing key; the old one stays published
/// let new = issuer.access_token().sign();
/// assert!(verifier.verify_access(&new).await.is_ok()); // an unknown kid: one refetch
/// assert!(verifier.verify_access(&old).await.is_ok());
/// assert_eq!(issuer.jwks_requests(), 2);
///
/// issuer.set_fault(Some(JwksFault::Status(503))); // the endpoint fails from now on
/// assert_eq!(verifier.refresh().await.unwrap_err().kind(), ErrorKind::KeysUnavailable);
/// assert!(verifier.verify_access(&new).await.is_ok(), "the last good keys stay");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TestIssuer {
    pool_id: String,
    region: String,
    client_id: String,
    /// Shared with this issuer's replicas: every region serves the same keys.
    keys: Arc<Mutex<PublishedKeys>>,
    server: Arc<LocalServer>,
}

#[derive(Debug)]
struct PublishedKeys {
    /// Published keys, in JWKS order.
    published: Vec<SigningKey>,
    /// The key new tokens are signed with.
    signer: SigningKey,
}

impl TestIssuer {
    /// Starts an issuer for pool `us-east-1_TestPool01` and app client `test-client`, with one
    /// key, on an ephemeral port of 127.0.0.1.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (test code only).
    pub async fn start() -> Self {
        Self::start_with("us-east-1_TestPool01", "test-client").await
    }

    /// Starts an issuer for this pool id and app client id.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (test code only).
    pub async fn start_with(pool_id: &str, client_id: &str) -> Self {
        let signer = SigningKey::generate();
        let keys = Arc::new(Mutex::new(PublishedKeys {
            published: vec![signer.clone()],
            signer,
        }));
        Self {
            pool_id: pool_id.to_owned(),
            region: pool_id
                .split_once('_')
                .map_or("us-east-1", |(r, _)| r)
                .to_owned(),
            client_id: client_id.to_owned(),
            server: jwks_server(pool_id, &keys),
            keys,
        }
    }

    /// A replica of this pool in `region` (Cognito Multi-Region Replication), on a port of
    /// its own: it serves the same keys (a rotation shows in every region), has its own
    /// faults, request counter and stop switch, and mints tokens whose `iss` names `region`.
    ///
    /// ```
    /// use axum_cognito::{CognitoVerifier, test_util::{JwksFault, TestIssuer}};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let primary = TestIssuer::start().await;
    /// let replica = primary.replica("us-west-2");
    /// let pool = primary
    ///     .user_pool()
    ///     .replica_regions(["us-west-2"])
    ///     .jwks_urls([primary.jwks_url(), replica.jwks_url()]);
    /// let verifier = CognitoVerifier::builder().user_pool(pool).any_token_use().build().await.unwrap();
    /// assert!(verifier.verify(&replica.access_token().sign()).await.is_ok());
    ///
    /// primary.set_fault(Some(JwksFault::Status(500)));
    /// let new_kid = primary.rotate();
    /// assert!(verifier.verify(&primary.access_token().sign()).await.is_ok(), "learned from the replica");
    /// assert!(verifier.status().pools[0].key_ids.contains(&new_kid));
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (test code only).
    pub fn replica(&self, region: &str) -> Self {
        Self {
            region: region.to_owned(),
            server: jwks_server(&self.pool_id, &self.keys),
            ..self.clone()
        }
    }

    /// The region in the `iss` of minted tokens: the pool id's, or a replica's.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The pool id.
    pub fn pool_id(&self) -> &str {
        &self.pool_id
    }

    /// The default app client id of minted tokens.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The issuer URL that minted tokens carry: Cognito's, as emulators keep it.
    pub fn issuer(&self) -> String {
        self.issuer_of("cognito-idp")
    }

    /// The issuer in Cognito's updated format (`issuer-cognito-idp`).
    pub fn updated_issuer(&self) -> String {
        self.issuer_of("issuer-cognito-idp")
    }

    fn issuer_of(&self, service: &str) -> String {
        let (region, pool) = (self.region(), self.pool_id());
        format!("https://{service}.{region}.amazonaws.com/{pool}")
    }

    /// The address the JWKS server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// `http://127.0.0.1:PORT/{pool}/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        let (addr, pool) = (self.addr(), self.pool_id());
        format!("http://{addr}/{pool}/.well-known/jwks.json")
    }

    /// This pool for a verifier: its id, its client, and the local JWKS URL.
    pub fn user_pool(&self) -> UserPool {
        UserPool::new(self.pool_id())
            .client_id(self.client_id())
            .jwks_url(self.jwks_url())
    }

    /// A verifier builder for this pool that accepts both token uses, ready to `build()` or to
    /// adjust.
    pub fn verifier_builder(&self) -> CognitoVerifierBuilder {
        CognitoVerifier::builder()
            .user_pool(self.user_pool())
            .any_token_use()
    }

    /// `token` verified with this issuer's published keys, as a handler receives it: for unit
    /// tests of handlers that take a [`VerifiedToken`] or
    /// [`CognitoClaims`](crate::CognitoClaims) (through
    /// [`CognitoClaims::from_verified`](crate::CognitoClaims::from_verified)), with no router.
    ///
    /// # Panics
    ///
    /// When the token does not verify: a test that hands it on wants it valid.
    pub async fn verified_token(&self, token: &str) -> VerifiedToken {
        let pool = UserPool::new(self.pool_id())
            .any_client()
            .jwks_json(self.jwks_json());
        let verifier = CognitoVerifier::builder()
            .user_pool(pool)
            .any_token_use()
            .token_cache_bytes(0)
            .build()
            .await
            .expect("a verifier of the issuer's own keys");
        verifier
            .verify_token(token, &TokenRequirements::new())
            .await
            .unwrap_or_else(|e| panic!("the token does not verify: {e}"))
    }

    /// The JWKS document currently published.
    pub fn jwks_json(&self) -> String {
        jwks_document(&lock(&self.keys).published)
    }

    /// An ID token for user `test-user`, valid for an hour; change it with the builder.
    pub fn id_token(&self) -> TokenBuilder {
        TokenBuilder::new(self, "id")
            .claim("aud", self.client_id())
            .claim("cognito:username", "test-user")
            .claim("email", "test-user@example.com")
            .claim("email_verified", true)
    }

    /// An access token for user `test-user` with scope `aws.cognito.signin.user.admin`.
    pub fn access_token(&self) -> TokenBuilder {
        TokenBuilder::new(self, "access")
            .claim("client_id", self.client_id())
            .claim("username", "test-user")
            .claim("scope", "aws.cognito.signin.user.admin")
            .claim("version", 2)
    }

    /// A machine-to-machine access token (client credentials grant): `sub` is the client id,
    /// no user name, no groups, scope `default-m2m-resource-server/read`.
    pub fn machine_token(&self) -> TokenBuilder {
        TokenBuilder::new(self, "access")
            .claim("sub", self.client_id())
            .claim("client_id", self.client_id())
            .claim("scope", "default-m2m-resource-server/read")
            .claim("version", 2)
            .without("auth_time")
            .without("origin_jti")
    }

    /// The key new tokens are signed with.
    pub fn signing_key(&self) -> SigningKey {
        lock(&self.keys).signer.clone()
    }

    /// The key ids published now, in order.
    pub fn published_kids(&self) -> Vec<String> {
        lock(&self.keys)
            .published
            .iter()
            .map(|k| k.kid().to_owned())
            .collect()
    }

    /// Publishes a new key and signs new tokens with it; old keys stay published. Returns the
    /// new key id.
    pub fn rotate(&self) -> String {
        let key = self.add_key();
        let kid = key.kid().to_owned();
        lock(&self.keys).signer = key;
        kid
    }

    /// Publishes a new key without signing with it. Returns it.
    pub fn add_key(&self) -> SigningKey {
        let key = SigningKey::generate();
        self.publish(key.clone());
        key
    }

    /// Publishes `key` as given (for keys with chosen key ids).
    pub fn publish(&self, key: SigningKey) {
        lock(&self.keys).published.push(key);
    }

    /// Stops publishing the key `kid`. Tokens already signed with it stay signed with it.
    /// Returns whether it was published.
    pub fn remove_key(&self, kid: &str) -> bool {
        let mut keys = lock(&self.keys);
        let before = keys.published.len();
        keys.published.retain(|k| k.kid() != kid);
        keys.published.len() != before
    }

    /// How many JWKS requests the server has received.
    pub fn jwks_requests(&self) -> u64 {
        self.server.endpoint.requests.load(Ordering::SeqCst)
    }

    /// How many of those requests were answered 304 Not Modified: the key set is served with
    /// an `ETag`, and a request whose `If-None-Match` names the current one gets no body.
    pub fn not_modified_responses(&self) -> u64 {
        self.server.endpoint.not_modified.load(Ordering::SeqCst)
    }

    /// Makes the JWKS endpoint misbehave (`Some`) or behave again (`None`).
    pub fn set_fault(&self, fault: Option<JwksFault>) {
        *lock(&self.server.endpoint.fault) = fault;
    }

    /// Sends this `Cache-Control` header with the key set.
    pub fn set_cache_control(&self, value: Option<&str>) {
        *lock(&self.server.endpoint.cache_control) =
            value.and_then(|v| HeaderValue::from_str(v).ok());
    }

    /// Stops the JWKS server: the port refuses connections until [`restart`](Self::restart).
    pub async fn stop(&self) {
        self.server.stop().await;
    }

    /// Serves again on the same port.
    ///
    /// # Panics
    ///
    /// If the port cannot be bound again (test code only).
    pub async fn restart(&self) {
        self.server.restart().await;
    }
}

/// A server of the JWKS of `keys` at `/{pool_id}/.well-known/jwks.json`.
fn jwks_server(pool_id: &str, keys: &Arc<Mutex<PublishedKeys>>) -> Arc<LocalServer> {
    let (pool, keys) = (pool_id.to_owned(), Arc::clone(keys));
    let jwks = move |name: &str| (name == pool).then(|| jwks_document(&lock(&keys).published));
    let route = "/{pool}/.well-known/jwks.json";
    Arc::new(LocalServer::start(route, "application/json", jwks))
}

fn jwks_document(keys: &[SigningKey]) -> String {
    json!({ "keys": keys.iter().map(SigningKey::jwk).collect::<Vec<_>>() }).to_string()
}
