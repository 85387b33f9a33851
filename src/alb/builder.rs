//! Building a load balancer verifier: the load balancers, the app clients, where keys come
//! from, and the limits.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use super::{
    key_cache::{AlbKeys, KeyCacheSettings},
    key_fetch::KeyFetcher,
    load_balancer::LoadBalancer,
    verifier::{AlbVerifier, Inner, Signer},
};
use crate::{
    config_error::ConfigError,
    defaults::{
        DEFAULT_ALB_KEY_CACHE_KEYS, DEFAULT_ALB_KEY_FETCH_WINDOW,
        DEFAULT_ALB_KEY_FETCHES_PER_WINDOW, DEFAULT_UNKNOWN_KID_COOLDOWN,
    },
    jwks::redacted_url,
    limits::{Limits, limit_setters},
    loopback::is_loopback,
    token_cache::TokenCache,
};

/// The id of the next verifier built.
static NEXT_ALB_VERIFIER_ID: AtomicU64 = AtomicU64::new(1);

/// A `kid` to try a key URL template with.
const SAMPLE_KID: &str = "00000000-0000-0000-0000-000000000000";

/// Builds an [`AlbVerifier`]. Every default is a constant of [`defaults`](crate::defaults),
/// named on its setter.
///
/// ```
/// use axum_cognito::alb::AlbVerifier;
///
/// let verifier = AlbVerifier::builder()
///     .load_balancer("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188")
///     .client_id("1example23456789")
///     .issuer("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123456")
///     .build()
///     .unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct AlbVerifierBuilder {
    arns: Vec<String>,
    clients: Vec<String>,
    issuer: Option<String>,
    key_url: Option<String>,
    plain_http: bool,
    limits: Limits,
    key_cache_keys: usize,
    key_cooldown: Duration,
    fetches_per_window: u32,
    fetch_window: Duration,
}

impl Default for AlbVerifierBuilder {
    fn default() -> Self {
        Self {
            arns: Vec::new(),
            clients: Vec::new(),
            issuer: None,
            key_url: None,
            plain_http: false,
            limits: Limits::default(),
            key_cache_keys: DEFAULT_ALB_KEY_CACHE_KEYS,
            key_cooldown: DEFAULT_UNKNOWN_KID_COOLDOWN,
            fetches_per_window: DEFAULT_ALB_KEY_FETCHES_PER_WINDOW,
            fetch_window: DEFAULT_ALB_KEY_FETCH_WINDOW,
        }
    }
}

impl AlbVerifierBuilder {
    /// Trusts tokens signed by this load balancer: its ARN, which a token's `signer` must
    /// equal exactly. The region of its keys is read from it. May be called several times.
    pub fn load_balancer(mut self, arn: impl Into<String>) -> Self {
        self.arns.push(arn.into());
        self
    }

    /// Trusts tokens signed by any of these load balancers; see
    /// [`load_balancer`](Self::load_balancer).
    pub fn load_balancers<I: IntoIterator<Item = impl Into<String>>>(self, arns: I) -> Self {
        arns.into_iter().fold(self, Self::load_balancer)
    }

    /// Allows tokens whose `client` is this app client id. At least one is required.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.clients.push(client_id.into());
        self
    }

    /// Allows tokens whose `client` is any of these app client ids.
    pub fn client_ids<I: IntoIterator<Item = impl Into<String>>>(self, client_ids: I) -> Self {
        client_ids.into_iter().fold(self, Self::client_id)
    }

    /// Requires the `iss` header to be exactly this (for Cognito:
    /// `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`). Without it, `iss` is not
    /// checked: the load balancer's signature and `signer` already say who vouches for the
    /// user.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Fetches every key from this URL, `{kid}` standing for the key id (for example
    /// `http://127.0.0.1:9000/{kid}`), instead of AWS's regional location: for tests,
    /// emulators, and partitions whose location the crate does not know.
    pub fn key_url(mut self, template: impl Into<String>) -> Self {
        self.key_url = Some(template.into());
        self
    }

    /// Accepts an `http://` key URL to a host other than this machine. Without it, `http://`
    /// is accepted only for a loopback host, as for JWKS URLs.
    pub fn allow_plain_http_keys(mut self) -> Self {
        self.plain_http = true;
        self
    }

    limit_setters!();

    /// Largest accepted key document. Default 64 KiB
    /// ([`DEFAULT_MAX_JWKS_BYTES`](crate::defaults::DEFAULT_MAX_JWKS_BYTES)); a PEM P-256 key
    /// is about 180 bytes.
    pub fn max_key_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_key_bytes = bytes;
        self
    }

    /// How many keys are kept, one per `kid`; beyond it the least recently and least often
    /// used go. Default 256 ([`DEFAULT_ALB_KEY_CACHE_KEYS`]).
    pub fn key_cache_keys(mut self, keys: usize) -> Self {
        self.key_cache_keys = keys;
        self
    }

    /// How long a `kid` whose fetch found no key, or failed, is answered without a new fetch.
    /// Default 10 s ([`DEFAULT_UNKNOWN_KID_COOLDOWN`]).
    pub fn key_cooldown(mut self, cooldown: Duration) -> Self {
        self.key_cooldown = cooldown;
        self
    }

    /// At most `fetches` fetches of keys not yet known start per `window`, whatever their
    /// `kid`s; a request for another new `kid` in the meantime is answered 503 at once, with
    /// `Retry-After` the rest of the window. Tokens of known keys are never held up by it.
    /// Defaults 10 per 10 s ([`DEFAULT_ALB_KEY_FETCHES_PER_WINDOW`],
    /// [`DEFAULT_ALB_KEY_FETCH_WINDOW`]): a load balancer uses a handful of keys, and a flood
    /// of random `kid`s costs at most 10 fetches per window (windows can meet, so 20 in any
    /// 10 s), at most `fetches × (1 + ⌈T / window⌉)` over any time `T`.
    pub fn key_fetch_limit(mut self, fetches: u32, window: Duration) -> Self {
        self.fetches_per_window = fetches;
        self.fetch_window = window;
        self
    }

    /// Checks the configuration. Keys are fetched on first use, so this needs no network.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the setting that is wrong.
    pub fn build(self) -> Result<AlbVerifier, ConfigError> {
        if self.arns.is_empty() {
            return Err(ConfigError::NoLoadBalancer);
        }
        if self.clients.is_empty() || self.clients.iter().any(String::is_empty) {
            return Err(ConfigError::AlbClientIdsNotSet);
        }
        self.limits.check()?;
        if self.key_cache_keys == 0 {
            return Err(ConfigError::InvalidSetting(
                "size limits must be above zero",
            ));
        }
        if self.fetch_window.is_zero() {
            return Err(ConfigError::InvalidSetting(
                "the key fetch window must be above zero",
            ));
        }
        let mut templates: Vec<String> = Vec::new();
        let mut signers = Vec::with_capacity(self.arns.len());
        for arn in &self.arns {
            let alb =
                LoadBalancer::parse(arn).ok_or_else(|| ConfigError::InvalidArn(arn.clone()))?;
            let template = match &self.key_url {
                Some(template) => template.clone(),
                None => alb
                    .default_key_url()
                    .ok_or_else(|| ConfigError::NoKeyUrl(arn.clone()))?,
            };
            let location = match templates.iter().position(|t| *t == template) {
                Some(index) => index,
                None => {
                    self.check_key_url(&template)?;
                    templates.push(template);
                    templates.len() - 1
                }
            };
            signers.push(Signer {
                arn: alb.arn,
                location: u16::try_from(location)
                    .map_err(|_| ConfigError::InvalidSetting("too many load balancers"))?,
            });
        }
        let fetcher = KeyFetcher::new(
            self.limits.fetch_timeout,
            self.limits.max_key_bytes,
            self.limits.proxy.as_deref(),
        )
        .map_err(ConfigError::HttpClient)?;
        let keys = AlbKeys::new(
            templates,
            fetcher,
            &KeyCacheSettings {
                capacity: self.key_cache_keys,
                cooldown: self.key_cooldown,
                fetches_per_window: self.fetches_per_window,
                window: self.fetch_window,
            },
        );
        Ok(AlbVerifier {
            inner: Arc::new(Inner {
                id: NEXT_ALB_VERIFIER_ID.fetch_add(1, Ordering::Relaxed),
                signers,
                clients: self.clients,
                issuer: self.issuer,
                leeway_secs: self.limits.leeway_secs(),
                max_token_bytes: self.limits.max_token_bytes,
                keys: Arc::new(keys),
                cache: TokenCache::with_capacity(self.limits.token_cache_bytes),
            }),
        })
    }

    /// An absolute http(s) URL with `{kid}` in its path, and plain http only to this machine
    /// unless allowed.
    fn check_key_url(&self, template: &str) -> Result<(), ConfigError> {
        let shown = || redacted_url(template);
        let url = template.replace("{kid}", SAMPLE_KID);
        let parsed = reqwest::Url::parse(&url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .filter(|u| u.path().contains(SAMPLE_KID) && template.contains("{kid}"))
            .ok_or_else(|| ConfigError::InvalidKeyUrl(shown()))?;
        if parsed.scheme() == "http" && !self.plain_http && !is_loopback(&parsed) {
            return Err(ConfigError::PlainHttpKeyUrl(shown()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";

    fn builder() -> AlbVerifierBuilder {
        AlbVerifierBuilder::default()
            .load_balancer(ARN)
            .client_id("c")
    }

    #[test]
    fn configuration_mistakes_are_named() {
        let error = |b: AlbVerifierBuilder| b.build().unwrap_err();
        assert!(matches!(
            error(AlbVerifierBuilder::default().client_id("c")),
            ConfigError::NoLoadBalancer
        ));
        assert!(matches!(
            error(AlbVerifierBuilder::default().load_balancer(ARN)),
            ConfigError::AlbClientIdsNotSet
        ));
        assert!(matches!(
            error(builder().client_id("")),
            ConfigError::AlbClientIdsNotSet
        ));
        assert!(matches!(
            error(builder().load_balancer("arn:aws:s3:::bucket")),
            ConfigError::InvalidArn(_)
        ));
        assert!(matches!(
            error(
                AlbVerifierBuilder::default()
                    .load_balancer(ARN.replace(":aws:", ":aws-cn:"))
                    .client_id("c")
            ),
            ConfigError::NoKeyUrl(_)
        ));
        for url in [
            "http://127.0.0.1:9000/",
            "ftp://127.0.0.1/{kid}",
            "http://{kid}.example/",
            "http://127.0.0.1/x?kid={kid}",
            "/{kid}",
        ] {
            assert!(
                matches!(error(builder().key_url(url)), ConfigError::InvalidKeyUrl(_)),
                "{url}"
            );
        }
        assert!(matches!(
            error(builder().key_url("http://alice:pw@keys.example/{kid}")),
            ConfigError::PlainHttpKeyUrl(url) if url == "http://***@keys.example/%7Bkid%7D"
        ));
        for (b, _) in [
            (builder().fetch_timeout(Duration::ZERO), "timeout"),
            (builder().max_token_bytes(0), "size"),
            (builder().key_fetch_limit(1, Duration::ZERO), "window"),
        ] {
            assert!(matches!(error(b), ConfigError::InvalidSetting(_)));
        }
    }

    #[test]
    fn good_configurations_build() {
        assert!(builder().build().is_ok());
        assert!(
            builder()
                .key_url("http://127.0.0.1:9/{kid}")
                .build()
                .is_ok()
        );
        assert!(
            builder()
                .key_url("http://localhost:9/keys/{kid}")
                .build()
                .is_ok()
        );
        assert!(
            builder()
                .key_url("http://keys.example/{kid}")
                .allow_plain_http_keys()
                .build()
                .is_ok()
        );
        assert!(
            builder()
                .key_url("https://keys.example/{kid}")
                .build()
                .is_ok()
        );
    }
}
