//! A local Application Load Balancer: P-256 keys per `kid`, their PEM documents served on
//! 127.0.0.1, and `x-amzn-oidc-data` tokens minted as the load balancer writes them.

use crate::lock::lock;
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, atomic::Ordering},
};

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::json;

use super::{
    JwksFault, TokenBuilder,
    local_server::LocalServer,
    token_builder::{TokenKey, now, random_uuid},
};
use crate::alb::AlbVerifierBuilder;

/// A way for the key endpoint to misbehave, for tests of a failing load balancer key service:
/// the faults of the JWKS endpoint, [`JwksFault`].
///
/// ```
/// use axum_cognito::{ErrorKind, test_util::{AlbKeyFault, TestAlb}};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let alb = TestAlb::start().await;
/// let verifier = alb.verifier_builder().build().unwrap();
/// alb.set_fault(Some(AlbKeyFault::Redirect("https://attacker.example/key.pem".into())));
/// let error = verifier.verify(&alb.token().sign()).await.unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::KeysUnavailable); // a redirect is never followed
/// # }
/// ```
pub type AlbKeyFault = JwksFault;

/// A local load balancer; see the [module docs](super).
///
/// ```
/// use axum_cognito::{ErrorKind, test_util::{AlbKeyFault, TestAlb}};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let alb = TestAlb::start().await;
/// let verifier = alb.verifier_builder().build().unwrap();
/// assert!(verifier.verify(&alb.token().sign()).await.is_ok());
/// assert_eq!(alb.key_requests(), 1);
///
/// alb.rotate(); // a new key under a new kid
/// alb.set_fault(Some(AlbKeyFault::Status(500)));
/// let error = verifier.verify(&alb.token().sign()).await.unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::KeysUnavailable);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TestAlb {
    arn: String,
    client_id: String,
    issuer: String,
    keys: Arc<Mutex<AlbKeys>>,
    server: Arc<LocalServer>,
}

#[derive(Debug)]
struct AlbKeys {
    /// The document served per `kid`.
    documents: HashMap<String, String>,
    /// The key new tokens are signed with, and its `kid`.
    signer: (String, Arc<EcdsaKeyPair>),
}

impl TestAlb {
    /// Starts a load balancer `arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/test-alb/50dc6c495c0c9188`
    /// for app client `test-client` of pool `us-east-1_TestPool01`, with one key, serving it
    /// on an ephemeral port of 127.0.0.1.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (test code only).
    pub async fn start() -> Self {
        Self::start_with(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/test-alb/50dc6c495c0c9188",
            "test-client",
        )
        .await
    }

    /// Starts a load balancer of this ARN for this app client.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (test code only).
    pub async fn start_with(arn: &str, client_id: &str) -> Self {
        let region = arn.split(':').nth(3).unwrap_or("us-east-1");
        let (kid, pair) = new_key();
        let keys = Arc::new(Mutex::new(AlbKeys {
            documents: HashMap::from([(kid.clone(), public_key_pem_of(&pair))]),
            signer: (kid, pair),
        }));
        let served = Arc::clone(&keys);
        let documents = move |kid: &str| lock(&served).documents.get(kid).cloned();
        let server = LocalServer::start("/{kid}", "application/x-pem-file", documents);
        Self {
            arn: arn.to_owned(),
            client_id: client_id.to_owned(),
            issuer: format!("https://cognito-idp.{region}.amazonaws.com/{region}_TestPool01"),
            keys,
            server: Arc::new(server),
        }
    }

    /// The load balancer's ARN: the `signer` of its tokens.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The app client id: the `client` of its tokens.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The `iss` of its tokens: a Cognito pool's issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The address the key server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// `http://127.0.0.1:PORT/{kid}`: the key URL template.
    pub fn key_url(&self) -> String {
        format!("http://{}/{{kid}}", self.addr())
    }

    /// A verifier builder for this load balancer, its client, its issuer and its local keys.
    pub fn verifier_builder(&self) -> AlbVerifierBuilder {
        AlbVerifierBuilder::default()
            .load_balancer(self.arn())
            .client_id(self.client_id())
            .issuer(self.issuer())
            .key_url(self.key_url())
    }

    /// A token for user `test-user`, valid for an hour, signed with the current key; change it
    /// with the builder.
    pub fn token(&self) -> AlbTokenBuilder {
        let exp = now() + 3600;
        TokenBuilder {
            header: json!({
                "typ": "JWT",
                "kid": self.kid(),
                "alg": "ES256",
                "iss": self.issuer(),
                "client": self.client_id(),
                "signer": self.arn(),
                "exp": exp,
            }),
            claims: json!({
                "sub": "test-user-sub",
                "email_verified": "true",
                "email": "test-user@example.com",
                "username": "test-user",
                "exp": exp,
                "iss": self.issuer(),
            }),
            key: TokenKey::Alb(self.clone()),
        }
    }

    /// The `kid` new tokens are signed with.
    pub fn kid(&self) -> String {
        lock(&self.keys).signer.0.clone()
    }

    /// Makes a new key under a new `kid`, publishes it and signs new tokens with it; old keys
    /// stay published. Returns the new `kid`.
    pub fn rotate(&self) -> String {
        let (kid, pair) = new_key();
        self.publish(&kid, public_key_pem_of(&pair));
        lock(&self.keys).signer = (kid.clone(), pair);
        kid
    }

    /// Serves `document` as the key of `kid` (another key type, garbage, ...).
    pub fn publish(&self, kid: &str, document: impl Into<String>) {
        lock(&self.keys)
            .documents
            .insert(kid.to_owned(), document.into());
    }

    /// The raw ES256 signature (`r || s`, 64 bytes) of `message` with the current key.
    ///
    /// # Panics
    ///
    /// If signing fails (test code only).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let pair = Arc::clone(&lock(&self.keys).signer.1);
        pair.sign(&SystemRandom::new(), message)
            .expect("ECDSA signing")
            .as_ref()
            .to_vec()
    }

    /// The PEM document of the current key.
    pub fn public_key_pem(&self) -> String {
        public_key_pem_of(&lock(&self.keys).signer.1)
    }

    /// A PEM `PUBLIC KEY` document of this DER SubjectPublicKeyInfo, 64 characters a line.
    pub fn pem_of_der(der: &[u8]) -> String {
        let body = STANDARD.encode(der);
        let lines: String = body
            .as_bytes()
            .chunks(64)
            .map(|line| format!("{}\n", String::from_utf8_lossy(line)))
            .collect();
        format!("-----BEGIN PUBLIC KEY-----\n{lines}-----END PUBLIC KEY-----\n")
    }

    /// A random `kid` in the load balancer's form: a version 4 UUID.
    ///
    /// # Panics
    ///
    /// If the system random source fails (test code only).
    pub fn random_kid() -> String {
        random_uuid()
    }

    /// How many key requests the server has received.
    pub fn key_requests(&self) -> u64 {
        self.server.endpoint.requests.load(Ordering::SeqCst)
    }

    /// Makes the key endpoint misbehave (`Some`) or behave again (`None`).
    pub fn set_fault(&self, fault: Option<AlbKeyFault>) {
        *lock(&self.server.endpoint.fault) = fault;
    }
}

fn new_key() -> (String, Arc<EcdsaKeyPair>) {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key");
    (TestAlb::random_kid(), Arc::new(pair))
}

fn public_key_pem_of(pair: &EcdsaKeyPair) -> String {
    let der = pair.public_key().as_der().expect("public key DER");
    TestAlb::pem_of_der(der.as_ref())
}

/// Builds an `x-amzn-oidc-data` token of a [`TestAlb`]: a [`TokenBuilder`] of the header and
/// claims the load balancer writes, each changeable, segments base64url with `=` padding,
/// signed with the load balancer's current key.
///
/// ```
/// use axum_cognito::test_util::TestAlb;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let alb = TestAlb::start().await;
/// let token = alb.token().username("bob").claim("custom:tenant", "t-1").sign();
/// assert_eq!(token.split('.').count(), 3);
/// # }
/// ```
pub type AlbTokenBuilder = TokenBuilder;
