//! The HTTP GET of one load balancer key, bounded in time and size, no redirects, no proxy
//! unless one is configured: the client and limits of JWKS fetches.

use std::time::Duration;

use http::{StatusCode, header};

use super::{key_id::AlbKeyId, public_key::AlbPublicKey};
use crate::jwks::{JwksError, key_client, read_capped, request_error, without_userinfo};

/// What a fetch of one `kid` found.
#[derive(Debug)]
pub(crate) enum KeyFetch {
    Key(AlbPublicKey),
    /// The endpoint has no usable key of that id: 404 (403 from an S3 bucket, which answers so
    /// for a missing object), or a document that is not a P-256 public key.
    NoSuchKey(String),
    /// The endpoint could not be asked, or answered otherwise.
    Failed(JwksError),
}

/// Fetches keys from URLs of one shape, `{kid}` standing for the key id.
#[derive(Debug)]
pub(crate) struct KeyFetcher {
    client: reqwest::Client,
    timeout: Duration,
    max_bytes: usize,
}

impl KeyFetcher {
    pub(crate) fn new(
        timeout: Duration,
        max_bytes: usize,
        proxy: Option<&str>,
    ) -> Result<Self, String> {
        Ok(Self {
            client: key_client(timeout, proxy)?,
            timeout,
            max_bytes,
        })
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// One GET of `template` for `kid`; the whole exchange, body included, ends within the
    /// timeout.
    pub(crate) async fn fetch(&self, template: &str, kid: &AlbKeyId) -> KeyFetch {
        let url = template.replace("{kid}", kid.as_str());
        let shown = without_userinfo(&url);
        match tokio::time::timeout(self.timeout, self.exchange(&url, &shown)).await {
            Ok(fetched) => fetched,
            Err(_) => KeyFetch::Failed(JwksError::Timeout(self.timeout)),
        }
    }

    async fn exchange(&self, url: &str, shown: &str) -> KeyFetch {
        let request = self
            .client
            .get(url)
            .header(header::ACCEPT, "application/x-pem-file, text/plain, */*");
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return KeyFetch::Failed(request_error(&e, shown, self.timeout)),
        };
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN => {
                return KeyFetch::NoSuchKey(format!("{shown} answered {}", response.status()));
            }
            status => return KeyFetch::Failed(JwksError::Status(status.as_u16())),
        }
        match read_capped(response, self.max_bytes, shown, self.timeout).await {
            Ok(body) => match AlbPublicKey::from_pem(&body) {
                Ok(key) => KeyFetch::Key(key),
                Err(reason) => KeyFetch::NoSuchKey(format!("{shown}: {reason}")),
            },
            Err(error) => KeyFetch::Failed(error),
        }
    }
}
