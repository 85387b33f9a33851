//! The HTTP GET of a key URL, bounded in time and size, without redirects: a JWKS, and a load
//! balancer's PEM key (`alb/key_fetch.rs`), fetched the same way.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use http::{HeaderMap, StatusCode, header};

use super::JwksError;

/// Fetches one key URL (a JWKS, or a load balancer key). Redirects are not followed: a key URL
/// is configured, and a redirect to elsewhere is more likely a mistake or an attack than a
/// move.
#[derive(Debug, Clone)]
pub(crate) struct JwksFetcher {
    client: KeyClient,
    url: String,
    /// The URL without any `user:password@`, for the status and logs.
    shown_url: String,
    timeout: Duration,
    max_bytes: usize,
}

/// The HTTP client of key fetches, shared by the fetchers of one verifier: handed in, or built
/// by the first fetch (building one reads the system's CA certificates: milliseconds that a
/// start with keys given or bundled does not wait on).
#[derive(Debug, Clone)]
pub(crate) struct KeyClient(Arc<LazyClient>);

#[derive(Debug)]
struct LazyClient {
    client: OnceLock<Result<reqwest::Client, String>>,
    timeout: Duration,
    proxy: Option<String>,
}

impl KeyClient {
    /// [`key_client`]'s, built on first use.
    pub(crate) fn lazy(timeout: Duration, proxy: Option<String>) -> Self {
        let client = OnceLock::new();
        Self(Arc::new(LazyClient {
            client,
            timeout,
            proxy,
        }))
    }

    /// This one.
    pub(crate) fn given(client: reqwest::Client) -> Self {
        Self(Arc::new(LazyClient {
            client: OnceLock::from(Ok(client)),
            timeout: Duration::ZERO,
            proxy: None,
        }))
    }

    fn get(&self) -> Result<&reqwest::Client, JwksError> {
        let LazyClient {
            client,
            timeout,
            proxy,
        } = &*self.0;
        let client = client.get_or_init(|| key_client(*timeout, proxy.as_deref()));
        client
            .as_ref()
            .map_err(|e| JwksError::Request(format!("HTTP client: {e}")))
    }
}

/// What a GET answered: its status and headers, and the body of a 200.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// What a successful fetch brought: a 200's document (a JWKS's bytes, or the keys read from
/// them), or `None` for a 304 to `If-None-Match` (the set is unchanged).
#[derive(Debug)]
pub(crate) struct Fetched<T> {
    pub(crate) document: Option<T>,
    /// A 200's `ETag`.
    pub(crate) etag: Option<String>,
    pub(crate) max_age: Option<Duration>,
}

impl JwksFetcher {
    /// A fetcher of `url` through `client` (from [`key_client`], shared between fetchers
    /// with the same timeout and proxy: a client costs some 100 KiB and milliseconds to build,
    /// its TLS roots, which a verifier of a thousand pools pays once instead of a thousand
    /// times).
    pub(crate) fn with_client(
        client: KeyClient,
        url: String,
        timeout: Duration,
        max_bytes: usize,
    ) -> Self {
        Self {
            client,
            shown_url: redacted_url(&url),
            url,
            timeout,
            max_bytes,
        }
    }

    /// The URL as shown in the status and logs: any `user:password@` left out.
    pub(crate) fn shown_url(&self) -> &str {
        &self.shown_url
    }

    /// The limit of one exchange, body included.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// One GET of the JWKS, with `If-None-Match` when an ETag is known, within `limit` (at
    /// most the timeout: one location's share of a failover's deadline).
    pub(crate) async fn fetch_within(
        &self,
        etag: Option<&str>,
        limit: Duration,
    ) -> Result<Fetched<Vec<u8>>, JwksError> {
        let answer = self.get("application/json", etag, limit).await?;
        let (document, etag) = match answer.status {
            StatusCode::OK => {
                let etag = answer
                    .headers
                    .get(header::ETAG)
                    .and_then(|v| v.to_str().ok());
                (Some(answer.body), etag.map(str::to_owned))
            }
            StatusCode::NOT_MODIFIED if etag.is_some() => (None, None),
            status => return Err(JwksError::Status(status.as_u16())),
        };
        Ok(Fetched {
            document,
            etag,
            max_age: max_age(&answer.headers),
        })
    }

    /// One GET with `accept` (and `If-None-Match` when an ETag is given). The whole exchange,
    /// body included, ends within `limit` (at most the timeout); only a 200's body is read.
    pub(crate) async fn get(
        &self,
        accept: &str,
        etag: Option<&str>,
        limit: Duration,
    ) -> Result<Answer, JwksError> {
        let limit = limit.min(self.timeout);
        let mut request = self
            .client
            .get()?
            .get(&self.url)
            .header(header::ACCEPT, accept);
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let exchange = async {
            let response = request
                .send()
                .await
                .map_err(|e| request_error(&e, &self.shown_url, self.timeout))?;
            let (status, headers) = (response.status(), response.headers().clone());
            let body = match status {
                StatusCode::OK => {
                    read_capped(response, self.max_bytes, &self.shown_url, self.timeout).await?
                }
                _ => Vec::new(),
            };
            Ok(Answer {
                status,
                headers,
                body,
            })
        };
        let timed = tokio::time::timeout(limit, exchange).await;
        timed.unwrap_or(Err(JwksError::Timeout(limit)))
    }
}

/// A builder of HTTP clients for calls to an identity endpoint: no proxy (reqwest would
/// otherwise honour `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY`, and whoever runs that proxy
/// would serve the keys of an `http://` URL), no redirects, `timeout` for connecting and for
/// the exchange.
pub(crate) fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("axum-cognito/", env!("CARGO_PKG_VERSION")))
}

/// The HTTP client of key fetches: [`client_builder`]'s, through `proxy` when one is named.
pub(crate) fn key_client(
    timeout: Duration,
    proxy: Option<&str>,
) -> Result<reqwest::Client, String> {
    // A fetch every few minutes gains nothing from a pooled connection, and a fresh one sees
    // an endpoint's outage at once.
    let mut builder = client_builder(timeout).pool_max_idle_per_host(0);
    if let Some(proxy) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(proxy).map_err(|e| format!("proxy: {e}"))?);
    }
    builder.build().map_err(|e| e.to_string())
}

/// The body of a 200 answer, refused as soon as it is known to exceed `max_bytes`: by its
/// `Content-Length`, else by counting what arrives.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    max_bytes: usize,
    shown_url: &str,
    timeout: Duration,
) -> Result<Vec<u8>, JwksError> {
    let too_large = JwksError::TooLarge { limit: max_bytes };
    if response
        .content_length()
        .is_some_and(|len| len > max_bytes as u64)
    {
        return Err(too_large);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| request_error(&e, shown_url, timeout))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A failed request as a [`JwksError`], naming the URL without credentials.
pub(crate) fn request_error(
    error: &reqwest::Error,
    shown_url: &str,
    timeout: Duration,
) -> JwksError {
    if error.is_timeout() {
        return JwksError::Timeout(timeout);
    }
    // reqwest's Display would name the whole URL, credentials included; the cause chain's
    // last link says what actually went wrong (refused, reset, TLS).
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let what = if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    JwksError::Request(format!("{what} for {shown_url}: {cause}"))
}

/// `url` as it may be shown (status, errors, logs): any `user:password@` replaced by `***@`
/// and any query by `***`, since either may carry a credential (a presigned URL's
/// signature, a token).
pub(crate) fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                let _ = parsed.set_password(None);
                let _ = parsed.set_username("***");
            }
            if parsed.query().is_some() {
                parsed.set_query(Some("***"));
            }
            parsed.set_fragment(None);
            parsed.to_string()
        }
        // Not a URL: still no user, password, query or fragment.
        Err(_) => {
            let url = url.split(['?', '#']).next().unwrap_or(url);
            match url.rsplit_once('@') {
                Some((start, host)) => {
                    let scheme = start.split_once("://").map(|(scheme, _)| scheme);
                    format!(
                        "{}***@{host}",
                        scheme.map_or(String::new(), |s| format!("{s}://"))
                    )
                }
                None => url.to_owned(),
            }
        }
    }
}

/// `Cache-Control: max-age=N`, when present and well-formed.
fn max_age(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|directive| {
            let (name, value) = directive.trim().split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("max-age") {
                return None;
            }
            value.trim().trim_matches('"').parse::<u64>().ok()
        })
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(header::CACHE_CONTROL, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn credentials_never_show() {
        assert_eq!(
            redacted_url("https://alice:s3cret@keys.example/jwks.json"),
            "https://***@keys.example/jwks.json"
        );
        assert_eq!(
            redacted_url("http://token@127.0.0.1:9/x"),
            "http://***@127.0.0.1:9/x"
        );
        let plain = "https://cognito-idp.eu-west-1.amazonaws.com/p/.well-known/jwks.json";
        assert_eq!(redacted_url(plain), plain);
        assert_eq!(
            redacted_url("redis://:s3cret@127.0.0.1:notaport/0?x=1"),
            "redis://***@127.0.0.1:notaport/0"
        );
        assert_eq!(
            redacted_url("https://keys.example/jwks.json?X-Amz-Signature=abc&t=1"),
            "https://keys.example/jwks.json?***"
        );
    }

    #[test]
    fn reads_max_age() {
        assert_eq!(
            max_age(&headers(&["public, max-age=300"])),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            max_age(&headers(&["no-cache", "Max-Age = \"60\""])),
            Some(Duration::from_secs(60))
        );
        assert_eq!(max_age(&headers(&["max-age=-1"])), None);
        assert_eq!(max_age(&headers(&["s-maxage=10"])), None);
        assert_eq!(max_age(&headers(&[])), None);
    }
}
