//! The limits every builder shares: clock leeway, token size, key fetches and the
//! verified-token cache. One struct, one check, one set of setters
//! ([`limit_setters!`](crate::limits::limit_setters)), for the user-pool builder and the load
//! balancer's alike.

use std::time::Duration;

use crate::{
    config_error::ConfigError,
    defaults::{
        DEFAULT_FETCH_TIMEOUT, DEFAULT_LEEWAY, DEFAULT_MAX_JWKS_BYTES, DEFAULT_MAX_TOKEN_BYTES,
        DEFAULT_TOKEN_CACHE_BYTES, MAX_FETCH_TIMEOUT, MAX_LEEWAY,
    },
};

/// What a builder bounds, whatever the token family.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) leeway: Duration,
    pub(crate) max_token_bytes: usize,
    pub(crate) fetch_timeout: Duration,
    /// The largest key document: a JWKS, or a load balancer's PEM key.
    pub(crate) max_key_bytes: usize,
    pub(crate) token_cache_bytes: u64,
    pub(crate) proxy: Option<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            leeway: DEFAULT_LEEWAY,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
            max_key_bytes: DEFAULT_MAX_JWKS_BYTES,
            token_cache_bytes: DEFAULT_TOKEN_CACHE_BYTES,
            proxy: None,
        }
    }
}

impl Limits {
    /// Refuses a leeway over [`MAX_LEEWAY`], a fetch timeout of zero or over
    /// [`MAX_FETCH_TIMEOUT`], and a size limit of zero.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::InvalidSetting(
                "leeway must be at most 5 minutes: more accepts tokens long expired",
            ));
        }
        if self.fetch_timeout.is_zero() || self.fetch_timeout > MAX_FETCH_TIMEOUT {
            return Err(ConfigError::InvalidSetting(
                "fetch_timeout must be above zero and at most 5 minutes",
            ));
        }
        if self.max_token_bytes == 0 || self.max_key_bytes == 0 {
            return Err(ConfigError::InvalidSetting(
                "size limits must be above zero",
            ));
        }
        Ok(())
    }

    /// The leeway in whole seconds, as the claim checks compare it.
    pub(crate) fn leeway_secs(&self) -> i64 {
        i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX)
    }
}

/// Builder setters that only assign: each `pub fn name(args) => field = value, ...;` becomes
/// `pub fn name(mut self, args) -> Self` assigning each `self.field` and returning `self`.
macro_rules! setters {
    ($(
        $(#[$doc:meta])*
        pub fn $name:ident($($arg:ident: $ty:ty),*) => $($($field:ident).+ = $value:expr),+;
    )*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $($arg: $ty),*) -> Self {
                $(self.$($field).+ = $value;)+
                self
            }
        )*
    };
}

pub(crate) use setters;

/// The setters of [`Limits`], for a builder with a `limits: Limits` field: written once for
/// every builder.
macro_rules! limit_setters {
    () => {
        $crate::limits::setters! {
            /// Clock-skew leeway for `exp` (and `nbf`). Default 60 s
            /// ([`DEFAULT_LEEWAY`](crate::defaults::DEFAULT_LEEWAY)): enough for a server clock
            /// that drifts between NTP syncs, small against Cognito's shortest token lifetime of
            /// 5 minutes. At most 5 minutes
            /// ([`MAX_LEEWAY`](crate::defaults::MAX_LEEWAY)): building fails beyond it.
            pub fn leeway(leeway: std::time::Duration) => limits.leeway = leeway;

            /// Largest accepted token, checked before any decoding. Default 16 KiB
            /// ([`DEFAULT_MAX_TOKEN_BYTES`](crate::defaults::DEFAULT_MAX_TOKEN_BYTES)): Cognito
            /// tokens are about 1 KB and reach several KB with many groups and attributes.
            pub fn max_token_bytes(bytes: usize) => limits.max_token_bytes = bytes;

            /// Time limit for one key fetch, connection and body included; also the longest a
            /// request waits for a key it does not know yet. Default 3 s
            /// ([`DEFAULT_FETCH_TIMEOUT`](crate::defaults::DEFAULT_FETCH_TIMEOUT)); at most
            /// 5 minutes.
            pub fn fetch_timeout(timeout: std::time::Duration) => limits.fetch_timeout = timeout;

            /// Capacity of the verified-token cache, in bytes; `0` turns it off. Default 16 MiB
            /// ([`DEFAULT_TOKEN_CACHE_BYTES`](crate::defaults::DEFAULT_TOKEN_CACHE_BYTES)). An
            /// entry weighs what it holds on the heap, within 2x: its token, the claims' text, the
            /// typed claims (a slot for each group and scope, an entry for each other claim), half
            /// as much again for a caller's own claims type, and 256 bytes of bookkeeping (a
            /// typical 1.2 KB access token about 3.7 KB; one with 1,000 groups and 500 scopes about
            /// 85 KB); `status().cached_token_bytes` says the total. The least recently useful
            /// are evicted first. A hit skips the decoding and the signature check, never the
            /// expiry, key and rule checks.
            pub fn token_cache_bytes(bytes: u64) => limits.token_cache_bytes = bytes;

            /// Fetches the keys through this proxy (`http://host:port`, `socks5://...` where
            /// reqwest supports it). Without it no proxy is used, whatever `HTTP_PROXY`,
            /// `HTTPS_PROXY` or `ALL_PROXY` say: whoever runs a proxy could serve the keys of an
            /// `http://` URL, so trusting one is a choice made here, not in the environment.
            pub fn proxy(url: impl Into<String>) => limits.proxy = Some(url.into());
        }
    };
}

pub(crate) use limit_setters;
