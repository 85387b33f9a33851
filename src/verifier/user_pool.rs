//! One user pool's configuration: its id, region, app clients, and where its keys come from.

use std::fmt;

/// A Cognito user pool the verifier trusts.
///
/// The region is read from the id (`eu-west-1_AbC123456` is in `eu-west-1`). Tokens are
/// accepted from both issuer forms, `https://cognito-idp.{region}.amazonaws.com/{id}` and
/// `https://issuer-cognito-idp.{region}.amazonaws.com/{id}`, and keys are fetched from
/// `https://cognito-idp.{region}.amazonaws.com/{id}/.well-known/jwks.json` unless
/// [`UserPool::jwks_url`] or [`UserPool::jwks_json`] says otherwise.
///
/// ```
/// use axum_cognito::UserPool;
///
/// // moto or LocalStack: tokens carry the AWS issuer, keys are served locally.
/// let pool = UserPool::new("us-east-1_0123456789abcdef")
///     .client_id("my-app-client")
///     .jwks_url("http://127.0.0.1:5000/us-east-1_0123456789abcdef/.well-known/jwks.json");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct UserPool {
    pub(crate) id: String,
    pub(crate) region: Option<String>,
    pub(crate) clients: Option<AppClients>,
    pub(crate) keys: KeySource,
    pub(crate) issuers: Option<Vec<String>>,
}

/// Which app clients a pool's tokens may be issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AppClients {
    Listed(Vec<String>),
    Any,
}

impl AppClients {
    /// Adds a client id to a list; a list replaces `Any`, the last choice wins.
    pub(crate) fn add(clients: &mut Option<AppClients>, client_id: String) {
        match clients {
            Some(AppClients::Listed(list)) => list.push(client_id),
            _ => *clients = Some(AppClients::Listed(vec![client_id])),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeySource {
    Default,
    Url(String),
    Json(String),
}

impl UserPool {
    /// A pool by its id, such as `eu-west-1_AbC123456`. The id is checked when the verifier is
    /// built.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            region: None,
            clients: None,
            keys: KeySource::Default,
            issuers: None,
        }
    }

    /// Overrides the region read from the pool id.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Allows tokens issued to this app client; may be called several times.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        AppClients::add(&mut self.clients, client_id.into());
        self
    }

    /// Allows tokens issued to any of these app clients.
    pub fn client_ids<I, S>(mut self, client_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for id in client_ids {
            AppClients::add(&mut self.clients, id.into());
        }
        self
    }

    /// Accepts tokens issued to any app client of this pool. An explicit choice: without it and
    /// without a client id, building fails.
    pub fn any_client(mut self) -> Self {
        self.clients = Some(AppClients::Any);
        self
    }

    /// Fetches the keys from this URL instead of Cognito's, for local emulators that serve
    /// them at `http://host:port/{pool}/.well-known/jwks.json` while their tokens keep the AWS
    /// issuer.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.keys = KeySource::Url(url.into());
        self
    }

    /// Uses this JWKS document and never fetches: for air-gapped hosts and tests.
    pub fn jwks_json(mut self, json: impl Into<String>) -> Self {
        self.keys = KeySource::Json(json.into());
        self
    }

    /// Replaces the accepted `iss` values, for emulators configured with an issuer of their
    /// own. May be called several times.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers
            .get_or_insert_with(Vec::new)
            .push(issuer.into());
        self
    }

    /// The pool id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The region: the override, or the part of the id before the underscore.
    pub fn region_name(&self) -> &str {
        match &self.region {
            Some(region) => region,
            None => self.id.split_once('_').map_or("", |(region, _)| region),
        }
    }

    /// The `iss` values accepted for this pool.
    pub fn issuers(&self) -> Vec<String> {
        if let Some(issuers) = &self.issuers {
            return issuers.clone();
        }
        let (region, id) = (self.region_name(), &self.id);
        vec![
            format!("https://cognito-idp.{region}.amazonaws.com/{id}"),
            format!("https://issuer-cognito-idp.{region}.amazonaws.com/{id}"),
        ]
    }

    /// Where the keys are fetched from; `None` when they were given in memory.
    pub fn jwks_location(&self) -> Option<String> {
        match &self.keys {
            KeySource::Default => Some(format!(
                "https://cognito-idp.{}.amazonaws.com/{}/.well-known/jwks.json",
                self.region_name(),
                self.id
            )),
            KeySource::Url(url) => Some(url.clone()),
            KeySource::Json(_) => None,
        }
    }

    /// Checks the id: `{region}_{alphanumerics}`, the region of lowercase letters, digits and
    /// dashes.
    pub(crate) fn id_is_valid(&self) -> bool {
        let Some((region, suffix)) = self.id.split_once('_') else {
            return false;
        };
        let region_ok = |r: &str| {
            !r.is_empty()
                && r.len() <= 32
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        region_ok(region)
            && self.region.as_deref().is_none_or(region_ok)
            && !suffix.is_empty()
            && suffix.len() <= 64
            && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
    }
}

impl From<&str> for UserPool {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl From<String> for UserPool {
    fn from(id: String) -> Self {
        Self::new(id)
    }
}

impl fmt::Debug for UserPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserPool")
            .field("id", &self.id)
            .field("region", &self.region_name())
            .field("clients", &self.clients)
            .field(
                "jwks",
                &self.jwks_location().unwrap_or_else(|| "in memory".into()),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_and_urls_come_from_the_id() {
        let pool = UserPool::new("eu-west-1_AbC123456");
        assert_eq!(pool.region_name(), "eu-west-1");
        assert_eq!(
            pool.issuers(),
            [
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123456",
                "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123456"
            ]
        );
        assert_eq!(
            pool.jwks_location().unwrap(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123456/.well-known/jwks.json"
        );
        let pool = pool.region("us-east-2");
        assert!(pool.issuers()[0].starts_with("https://cognito-idp.us-east-2."));
    }

    #[test]
    fn ids_are_checked() {
        for ok in [
            "eu-west-1_AbC123456",
            "us-east-1_0123456789abcdef0123456789abcdef",
            "us-gov-west-1_x",
        ] {
            assert!(UserPool::new(ok).id_is_valid(), "{ok}");
        }
        for bad in [
            "",
            "eu-west-1",
            "_abc",
            "eu-west-1_",
            "EU_abc",
            "eu-west-1_a/b",
            "eu west_a",
            "a_b_c",
        ] {
            assert!(!UserPool::new(bad).id_is_valid(), "{bad}");
        }
    }

    #[test]
    fn client_ids_accumulate() {
        let pool = UserPool::new("a_b").client_id("x").client_ids(["y", "z"]);
        assert_eq!(
            pool.clients,
            Some(AppClients::Listed(vec!["x".into(), "y".into(), "z".into()]))
        );
        assert_eq!(pool.any_client().clients, Some(AppClients::Any));
    }
}
