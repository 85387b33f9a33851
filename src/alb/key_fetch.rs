//! The HTTP GET of one load balancer key, bounded in time and size, no redirects, no proxy
//! unless one is configured: the client and limits of JWKS fetches.

use std::time::Duration;

use http::StatusCode;

use super::{key_id::AlbKeyId, public_key::AlbPublicKey};
use crate::jwks::{JwksError, JwksFetcher, KeyClient, key_client};

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
        // A client is shared (an `Arc` inside); the rest is the URL.
        let fetcher = JwksFetcher::with_client(
            KeyClient::given(self.client.clone()),
            url,
            self.timeout,
            self.max_bytes,
        );
        let shown = fetcher.shown_url();
        let accept = "application/x-pem-file, text/plain, */*";
        let answer = match fetcher.get(accept, None, self.timeout).await {
            Ok(answer) => answer,
            Err(error) => return KeyFetch::Failed(error),
        };
        match answer.status {
            StatusCode::OK => match AlbPublicKey::from_pem(&answer.body) {
                Ok(key) => KeyFetch::Key(key),
                Err(reason) => KeyFetch::NoSuchKey(format!("{shown}: {reason}")),
            },
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN => {
                KeyFetch::NoSuchKey(format!("{shown} answered {}", answer.status))
            }
            status => KeyFetch::Failed(JwksError::Status(status.as_u16())),
        }
    }
}
