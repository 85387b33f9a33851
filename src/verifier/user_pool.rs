//! One user pool's configuration: its id, region, app clients, and where its keys come from.

use std::fmt;

use crate::limits::setters;

/// A Cognito user pool the verifier trusts.
///
/// The region is read from the id (`eu-west-1_AbC123456` is in `eu-west-1`). Tokens are
/// accepted from both issuer forms, `https://cognito-idp.{region}.amazonaws.com/{id}` and
/// `https://issuer-cognito-idp.{region}.amazonaws.com/{id}`, and keys are fetched from
/// `https://cognito-idp.{region}.amazonaws.com/{id}/.well-known/jwks.json` unless
/// [`UserPool::jwks_url`], [`UserPool::jwks_urls`] or [`UserPool::jwks_json`] says otherwise.
/// Keys are never fetched from the `issuer-cognito-idp` host, and never from a URL a token
/// names.
///
/// A pool replicated to other regions ([`UserPool::replica_regions`]) also accepts
/// `https://cognito-idp.{replica}.amazonaws.com/{id}` for each replica region (the pool id
/// keeps its primary region), and fetches its keys from every region, primary first, failing
/// over to the next when one is down:
///
/// ```
/// use axum_cognito::UserPool;
///
/// let pool = UserPool::new("eu-west-1_AbC123456")
///     .client_id("1example23456789")
///     .replica_regions(["eu-central-1", "us-east-1"]);
/// assert_eq!(pool.issuers().len(), 4); // three regions, plus the updated issuer form
/// assert_eq!(pool.jwks_locations().len(), 3);
/// assert!(pool.jwks_locations()[2].starts_with("https://cognito-idp.us-east-1."));
/// ```
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
    /// A key set to start with, refreshed from the URLs (`initial_jwks`).
    pub(crate) initial_keys: Option<String>,
    pub(crate) issuers: Option<Vec<String>>,
    pub(crate) replica_regions: Vec<String>,
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

/// `client_id`, `client_ids` and `any_client` for a builder with a `clients:
/// Option<AppClients>` field: a [`UserPool`] (its own clients) and the verifier's builder (the
/// clients of every pool that names none).
macro_rules! client_setters {
    ($of:literal) => {
        #[doc = concat!("Allows tokens issued to this app client, in ", $of, "; may be called several times.")]
        pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
            AppClients::add(&mut self.clients, client_id.into());
            self
        }

        /// Allows tokens issued to any of these app clients; see
        /// [`client_id`](Self::client_id).
        pub fn client_ids<I: IntoIterator<Item = impl Into<String>>>(self, client_ids: I) -> Self {
            client_ids.into_iter().fold(self, Self::client_id)
        }

        $crate::limits::setters! {
            #[doc = concat!("Accepts tokens issued to any app client, in ", $of, ". An explicit choice: without it and without a client id, building fails.")]
            pub fn any_client() => clients = Some(AppClients::Any);
        }
    };
}

pub(super) use client_setters;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeySource {
    Default,
    /// One URL, or a template with `{region}` that stands for each of the pool's regions.
    Url(String),
    /// Several URLs of one key set, tried in order.
    Urls(Vec<String>),
    Json(String),
}

/// What stands for each of a pool's regions in a JWKS URL.
const REGION_PLACEHOLDER: &str = "{region}";

impl UserPool {
    /// A pool by its id, such as `eu-west-1_AbC123456`. The id is checked when the verifier is
    /// built.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            region: None,
            clients: None,
            keys: KeySource::Default,
            initial_keys: None,
            issuers: None,
            replica_regions: Vec::new(),
        }
    }

    client_setters!("this pool");

    setters! {
        /// Overrides the region read from the pool id.
        pub fn region(region: impl Into<String>) => region = Some(region.into());

        /// Fetches the keys from this URL instead of Cognito's, for local emulators that serve
        /// them at `http://host:port/{pool}/.well-known/jwks.json` while their tokens keep the AWS
        /// issuer.
        ///
        /// `{region}` in the URL stands for each of the pool's regions (its own, then its
        /// [replica regions](Self::replica_regions)): one location per region, tried in that
        /// order.
        pub fn jwks_url(url: impl Into<String>) => keys = KeySource::Url(url.into());

        /// Uses this JWKS document and never fetches: for air-gapped hosts and tests.
        pub fn jwks_json(json: impl Into<String>) => keys = KeySource::Json(json.into());
    }

    /// Fetches the keys from these URLs, which serve one key set: the first that answers
    /// serves it, and a refresh fails over to the next on any failure (connection, timeout,
    /// an HTTP error, an unreadable document). See [`replica_regions`](Self::replica_regions)
    /// for how the order is kept.
    pub fn jwks_urls<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.keys = KeySource::Urls(urls.into_iter().map(Into::into).collect());
        self
    }

    /// The regions this pool is replicated to (Cognito Multi-Region Replication). Tokens
    /// issued in a replica region carry `iss = https://cognito-idp.{replica}.amazonaws.com/{id}`
    /// (the id keeps its primary region): those are accepted, no other region's. The updated
    /// issuer form `https://issuer-cognito-idp.{primary}.amazonaws.com/{id}` stays accepted for
    /// the primary region only, as Cognito issues it.
    ///
    /// The keys, the same set in every region, are fetched from each region's endpoint in
    /// turn: the location that answered last is asked first; on a failure the next is asked,
    /// all within one [`fetch_timeout`](crate::CognitoVerifierBuilder::fetch_timeout) (each
    /// location gets an equal share of what is left). A refresh takes the whole set from the
    /// one location that answered, never a mix of two.
    pub fn replica_regions<I, S>(mut self, regions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.replica_regions
            .extend(regions.into_iter().map(Into::into));
        self
    }

    /// Starts with this JWKS document, bundled with the program (`include_str!`, or
    /// [`initial_jwks_file`](Self::initial_jwks_file)): `build()` fetches nothing and the keys
    /// serve at once, then they are refreshed from the pool's URL after the refresh interval as
    /// if just fetched. A failing refresh keeps them until `max_staleness`; a token of a `kid`
    /// they lack (keys rotated since they were bundled) refetches as usual. Unlike
    /// [`jwks_json`](Self::jwks_json), whose keys are never refreshed.
    ///
    /// ```
    /// use axum_cognito::UserPool;
    ///
    /// # let jwks = r#"{"keys": []}"#;
    /// // let jwks = include_str!("../jwks.json"); // saved from the pool's JWKS URL
    /// let pool = UserPool::new("eu-west-1_AbC123456").initial_jwks(jwks);
    /// assert!(pool.jwks_location().is_some(), "still refreshed from Cognito");
    /// ```
    pub fn initial_jwks(mut self, json: impl Into<String>) -> Self {
        self.initial_keys = Some(json.into());
        self
    }

    /// [`initial_jwks`](Self::initial_jwks) with the document read from `path` now.
    ///
    /// # Errors
    ///
    /// The file cannot be read as UTF-8 text (the document itself is checked at build).
    pub fn initial_jwks_file(self, path: impl AsRef<std::path::Path>) -> std::io::Result<Self> {
        Ok(self.initial_jwks(std::fs::read_to_string(path)?))
    }

    /// Replaces the accepted `iss` values, for emulators configured with an issuer of their
    /// own. May be called several times. The issuers of [replica
    /// regions](Self::replica_regions) are replaced too: list them here if they apply.
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

    /// The replica regions, as given.
    pub fn replica_region_names(&self) -> &[String] {
        &self.replica_regions
    }

    /// The pool's regions: its own first, then its replicas.
    fn regions(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.region_name()).chain(self.replica_regions.iter().map(String::as_str))
    }

    /// The `iss` values accepted for this pool.
    pub fn issuers(&self) -> Vec<String> {
        if let Some(issuers) = &self.issuers {
            return issuers.clone();
        }
        let id = &self.id;
        let mut issuers: Vec<String> = (self.regions())
            .map(|region| format!("https://cognito-idp.{region}.amazonaws.com/{id}"))
            .collect();
        // The updated issuer form, for the primary region only.
        let primary = self.region_name();
        issuers.insert(
            1,
            format!("https://issuer-cognito-idp.{primary}.amazonaws.com/{id}"),
        );
        issuers
    }

    /// Where the keys are fetched from first; `None` when they were given in memory.
    pub fn jwks_location(&self) -> Option<String> {
        self.jwks_locations().into_iter().next()
    }

    /// Every location the keys are fetched from, in the order they are first tried; empty
    /// when they were given in memory.
    pub fn jwks_locations(&self) -> Vec<String> {
        match &self.keys {
            KeySource::Default => self
                .regions()
                .map(|region| {
                    format!(
                        "https://cognito-idp.{region}.amazonaws.com/{}/.well-known/jwks.json",
                        self.id
                    )
                })
                .collect(),
            KeySource::Url(url) if url.contains(REGION_PLACEHOLDER) => self
                .regions()
                .map(|region| url.replace(REGION_PLACEHOLDER, region))
                .collect(),
            KeySource::Url(url) => vec![url.clone()],
            KeySource::Urls(urls) => urls.clone(),
            KeySource::Json(_) => Vec::new(),
        }
    }

    /// The first replica region that is not a region name, or names the pool's own region or
    /// another replica again.
    pub(crate) fn invalid_replica_region(&self) -> Option<&str> {
        self.replica_regions.iter().enumerate().find_map(|(i, r)| {
            let repeated = r == self.region_name() || self.replica_regions[..i].contains(r);
            (!region_is_valid(r) || repeated).then_some(r.as_str())
        })
    }

    /// Checks the id: `{region}_{alphanumerics}`, the region of lowercase letters, digits and
    /// dashes.
    pub(crate) fn id_is_valid(&self) -> bool {
        let Some((region, suffix)) = self.id.split_once('_') else {
            return false;
        };
        region_is_valid(region)
            && self.region.as_deref().is_none_or(region_is_valid)
            && !suffix.is_empty()
            && suffix.len() <= 64
            && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
    }
}

/// A region name: lowercase letters, digits and dashes, at most 32.
fn region_is_valid(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A pool by its id alone, as [`UserPool::new`] makes it.
impl<S: Into<String>> From<S> for UserPool {
    fn from(id: S) -> Self {
        Self::new(id)
    }
}

impl fmt::Debug for UserPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserPool")
            .field("id", &self.id)
            .field("region", &self.region_name())
            .field("replica_regions", &self.replica_regions)
            .field("clients", &self.clients)
            .field("jwks", &self.jwks_locations())
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
    fn replica_regions_add_issuers_and_locations() {
        let pool = UserPool::new("eu-west-1_AbC").replica_regions(["us-east-1"]);
        assert_eq!(
            pool.issuers(),
            [
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
                "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
                "https://cognito-idp.us-east-1.amazonaws.com/eu-west-1_AbC",
            ]
        );
        assert_eq!(
            pool.jwks_locations(),
            [
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC/.well-known/jwks.json",
                "https://cognito-idp.us-east-1.amazonaws.com/eu-west-1_AbC/.well-known/jwks.json",
            ]
        );
        let templated = pool.clone().jwks_url("http://127.0.0.1:9/{region}/keys");
        assert_eq!(
            templated.jwks_locations(),
            [
                "http://127.0.0.1:9/eu-west-1/keys",
                "http://127.0.0.1:9/us-east-1/keys"
            ]
        );
        let plain = pool.clone().jwks_url("http://127.0.0.1:9/keys");
        assert_eq!(plain.jwks_locations(), ["http://127.0.0.1:9/keys"]);
        let listed = pool.clone().jwks_urls(["https://a/k", "https://b/k"]);
        assert_eq!(listed.jwks_locations(), ["https://a/k", "https://b/k"]);
        assert_eq!(pool.invalid_replica_region(), None);
        for bad in ["eu-west-1", "US-EAST-1", "", "a/b"] {
            let pool = pool.clone().replica_regions([bad]);
            assert_eq!(pool.invalid_replica_region(), Some(bad), "{bad:?}");
        }
        let twice = pool.replica_regions(["us-east-1"]);
        assert_eq!(twice.invalid_replica_region(), Some("us-east-1"));
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
