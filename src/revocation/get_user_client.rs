//! The `GetUser` call: one bounded POST per token and ttl, shared by concurrent requests, its
//! answers kept by the SHA-256 of the token's signature.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use aws_lc_rs::digest;
use http::{StatusCode, header};

use super::{
    call_slots::{CallSlots, Slot},
    get_user::{FailurePolicy, GetUserCheck},
};
use crate::{
    error::{Error, ErrorKind},
    jwks::{JwksError, client_builder, read_capped, request_error},
    loopback::is_loopback,
    metrics,
    rate_limited_log::RateLimit,
    single_flight::{Flight, SingleFlight},
    verified_token::VerifiedToken,
};

/// How the endpoint is named in errors: never its URL, whose query could hold anything.
const ENDPOINT: &str = "the GetUser endpoint";

/// The most of an answer read: Cognito's are a few hundred bytes of user attributes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What a client refused under the fail-closed policy is told to wait.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A token's key in the answer cache: the SHA-256 of its signature, so that no token is kept.
/// The signature alone identifies a token that passed the standard checks: it is valid, and
/// an RSA signature over another signing input is another signature. A quarter of a token's
/// bytes, so a quarter of the hashing on every request.
type TokenHash = [u8; 32];

/// What Cognito said of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Valid,
    Revoked,
    /// No usable answer: the failure policy decides.
    Failed,
}

/// The longest a kept answer may be reused.
const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest timeout of one call.
const MAX_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Calls in flight at once, for distinct tokens.
const MAX_CALLS_IN_FLIGHT: usize = 256;
/// Calls in flight at once for one user pool: a quarter, so that one tenant's burst leaves
/// the others three quarters.
const MAX_CALLS_PER_POOL: usize = MAX_CALLS_IN_FLIGHT / 4;

/// The check's warnings, at most one per window whatever the rate of failing calls.
static WARNINGS: RateLimit = RateLimit::new();

/// Calls `GetUser`, and keeps its answers.
pub(crate) struct GetUserClient {
    http: reqwest::Client,
    config: GetUserCheck,
    /// Answers other than [`Answer::Failed`], each with the end of its ttl.
    answers: quick_cache::sync::Cache<TokenHash, (Answer, Instant)>,
    /// Uncapped: the slots bound the calls.
    calls: Arc<SingleFlight<TokenHash, Answer>>,
    slots: CallSlots,
}

/// Why no call was started.
enum Unstarted {
    /// No endpoint for the token's region.
    NoRegion,
    /// Every slot the call may take is busy.
    NoSlot,
}

impl GetUserClient {
    pub(crate) fn new(config: &GetUserCheck) -> Result<Self, &'static str> {
        if config.ttl.is_zero() || config.timeout.is_zero() || config.max_cached == 0 {
            return Err("the GetUser check's ttl, timeout and max_cached must be above zero");
        }
        if config.ttl > MAX_TTL || config.timeout > MAX_TIMEOUT {
            return Err("the GetUser check's ttl is at most a day, its timeout at most 5 minutes");
        }
        if let Some(endpoint) = &config.endpoint {
            let url = reqwest::Url::parse(endpoint)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https"))
                .ok_or("the GetUser endpoint is not an absolute http(s) URL")?;
            if url.scheme() == "http" && !is_loopback(&url) {
                return Err(
                    "the GetUser endpoint may be http:// only to a loopback host: the request carries the access token",
                );
            }
        }
        let http = client_builder(config.timeout)
            .build()
            .map_err(|_| "the GetUser HTTP client could not be built")?;
        Ok(Self {
            http,
            config: config.clone(),
            answers: quick_cache::sync::Cache::new(config.max_cached),
            calls: Arc::new(SingleFlight::new(usize::MAX)),
            slots: CallSlots::new(MAX_CALLS_IN_FLIGHT, MAX_CALLS_PER_POOL),
        })
    }

    /// The answer kept for `token`, if still fresh.
    pub(crate) fn kept(&self, token: &str) -> Option<Answer> {
        let (answer, until) = self.answers.get(&hash(token))?;
        (Instant::now() < until).then_some(answer)
    }

    /// Asks Cognito about `token`, or joins the call in flight for it, and judges the answer
    /// by the failure policy. A call waits at most the timeout for a slot, then the timeout
    /// (and a margin for scheduling) for its answer.
    ///
    /// # Errors
    ///
    /// [`Revoked`](ErrorKind::Revoked), or as the failure policy says when Cognito could not
    /// be asked. When no slot came free,
    /// [`RevocationUnavailable`](ErrorKind::RevocationUnavailable) whatever the policy: the
    /// crate's own bound on calls is not Cognito failing, and a revoked token must not pass
    /// because many others were being asked about.
    pub(crate) async fn ask(
        self: &Arc<Self>,
        token: &str,
        verified: &VerifiedToken,
    ) -> Result<(), Error> {
        let key = hash(token);
        let mut flight = self.join_or_start(key, token, verified, None);
        if matches!(flight, Flight::Declined(Unstarted::NoSlot)) {
            let slot = self
                .slots
                .take(verified.pool_id(), self.config.timeout)
                .await;
            flight = self.join_or_start(key, token, verified, slot);
        }
        let waiting = match flight {
            Flight::Joined(waiting) | Flight::Started(waiting) => waiting,
            Flight::Declined(Unstarted::NoSlot) | Flight::Full => {
                WARNINGS.warn(format_args!(
                    "GetUser check: no call slot came free within {:?} (at most {MAX_CALLS_IN_FLIGHT} calls in flight, {MAX_CALLS_PER_POOL} for one pool); refusing with 503",
                    self.config.timeout
                ));
                return Err(Error::revocation_unavailable(RETRY_AFTER));
            }
            Flight::Declined(Unstarted::NoRegion) => {
                WARNINGS.warn(format_args!(
                    "GetUser check: no region in the issuer of pool {}; set GetUserCheck::endpoint",
                    verified.pool_id()
                ));
                return self.verdict(Answer::Failed);
            }
        };
        let limit = self
            .config
            .timeout
            .saturating_add(Duration::from_millis(250));
        // The task ended without answering, or took too long: no usable answer.
        self.verdict(waiting.result(limit).await.unwrap_or(Answer::Failed))
    }

    /// Joins the call in flight for `key`, or starts one with `slot`, else with a slot free
    /// now.
    fn join_or_start(
        self: &Arc<Self>,
        key: TokenHash,
        token: &str,
        verified: &VerifiedToken,
        slot: Option<Slot>,
    ) -> Flight<Answer, Unstarted> {
        self.calls.join_or_start(key, || {
            let url = self.url_for(verified).ok_or(Unstarted::NoRegion)?;
            let slot = slot
                .or_else(|| self.slots.try_take(verified.pool_id()))
                .ok_or(Unstarted::NoSlot)?;
            let client = Arc::clone(self);
            let token = token.to_owned();
            Ok(async move {
                let answer = client.call(&url, &token).await;
                // Moved into the call: held until Cognito answers, or the task is dropped.
                drop(slot);
                if answer != Answer::Failed {
                    let until = Instant::now().checked_add(client.config.ttl);
                    client
                        .answers
                        .insert(key, (answer, until.unwrap_or_else(Instant::now)));
                }
                answer
            })
        })
    }

    /// The verdict on an answer, by the failure policy.
    pub(crate) fn verdict(&self, answer: Answer) -> Result<(), Error> {
        match (answer, self.config.failure_policy) {
            (Answer::Valid, _) | (Answer::Failed, FailurePolicy::FailOpen) => Ok(()),
            (Answer::Revoked, _) => Err(Error::new(ErrorKind::Revoked)),
            (Answer::Failed, FailurePolicy::FailClosed) => {
                Err(Error::revocation_unavailable(RETRY_AFTER))
            }
        }
    }

    /// The override, or Cognito's endpoint in the region of the token's issuer (a configured
    /// issuer: the token matched it), else of its pool id.
    fn url_for(&self, verified: &VerifiedToken) -> Option<String> {
        if let Some(endpoint) = &self.config.endpoint {
            return Some(endpoint.clone());
        }
        let iss = verified.standard_claims().iss.unwrap_or_default();
        let from_issuer = iss
            .strip_prefix("https://cognito-idp.")
            .or_else(|| iss.strip_prefix("https://issuer-cognito-idp."))
            .and_then(|rest| rest.split_once(".amazonaws.com/"))
            .map(|(region, _)| region);
        let region = from_issuer.or_else(|| verified.pool_id().split_once('_').map(|(r, _)| r))?;
        let valid = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        valid.then(|| format!("https://cognito-idp.{region}.amazonaws.com/"))
    }

    async fn call(&self, url: &str, token: &str) -> Answer {
        let started = Instant::now();
        let timeout = self.config.timeout;
        let exchange = tokio::time::timeout(timeout, self.exchange(url, token)).await;
        let answer = exchange
            .unwrap_or_else(|_| Err(format!("timed out after {timeout:?}")))
            .unwrap_or_else(|why| {
                WARNINGS.warn(format_args!("GetUser check failed: {why}"));
                Answer::Failed
            });
        let label = match answer {
            Answer::Valid => "valid",
            Answer::Revoked => "revoked",
            Answer::Failed => "error",
        };
        metrics::get_user_call(label, started.elapsed());
        answer
    }

    async fn exchange(&self, url: &str, token: &str) -> Result<Answer, String> {
        let body = serde_json::json!({ "AccessToken": token }).to_string();
        let response = self
            .http
            .post(url)
            .header("X-Amz-Target", "AWSCognitoIdentityProviderService.GetUser")
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.1")
            .body(body)
            .send()
            .await
            .map_err(|e| described(&request_error(&e, ENDPOINT, self.config.timeout)))?;
        let status = response.status();
        let header_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if status == StatusCode::OK {
            return Ok(Answer::Valid);
        }
        let body = read_capped(response, MAX_ANSWER_BYTES, ENDPOINT, self.config.timeout)
            .await
            .map_err(|e| described(&e))?;
        let error_type = header_type.or_else(|| {
            serde_json::from_slice::<serde_json::Value>(&body)
                .ok()?
                .get("__type")?
                .as_str()
                .map(str::to_owned)
        });
        let error_type = error_type.as_deref().map(short_type);
        match (status, error_type) {
            (StatusCode::BAD_REQUEST, Some("NotAuthorizedException" | "UserNotFoundException")) => {
                Ok(Answer::Revoked)
            }
            (status, error_type) => Err(format!(
                "Cognito answered HTTP {} {}",
                status.as_u16(),
                error_type.unwrap_or("without an error type")
            )),
        }
    }
}

/// The key of a kept answer: the SHA-256 of the token's header (its `kid`, so its key) and its
/// signature. The token was verified before, so these identify it; the payload, the largest
/// part, need not be hashed. (The header too: with a key set of one's own, an RSA key can be
/// made that accepts a given signature over other content.)
fn hash(token: &str) -> TokenHash {
    let header = token.split('.').next().unwrap_or(token);
    let signature = token.rsplit('.').next().unwrap_or(token);
    let mut context = digest::Context::new(&digest::SHA256);
    for part in [header, ".", signature] {
        context.update(part.as_bytes());
    }
    // A SHA-256 digest is 32 bytes.
    context.finish().as_ref().try_into().unwrap_or_default()
}

/// `NotAuthorizedException` of `com.amazonaws...#NotAuthorizedException` or of the header's
/// `NotAuthorizedException:http://...`.
fn short_type(error_type: &str) -> &str {
    let after_hash = error_type.rsplit('#').next().unwrap_or(error_type);
    after_hash.split(':').next().unwrap_or(after_hash).trim()
}

/// Why an exchange failed, in the words of the check rather than of a JWKS fetch.
fn described(error: &JwksError) -> String {
    match error {
        JwksError::Request(why) => why.clone(),
        JwksError::Timeout(_) => "timed out".into(),
        JwksError::TooLarge { limit } => format!("the answer exceeds {limit} bytes"),
        other => other.to_string(),
    }
}

impl std::fmt::Debug for GetUserClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetUserClient")
            .field("endpoint", &self.config.endpoint)
            .field("ttl", &self.config.ttl)
            .field("policy", &self.config.failure_policy)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_read_in_every_form() {
        for form in [
            "NotAuthorizedException",
            "com.amazonaws.cognito.identityprovider.model#NotAuthorizedException",
            "NotAuthorizedException:http://internal.amazon.com/coral/com.amazon.coral.service/",
        ] {
            assert_eq!(short_type(form), "NotAuthorizedException", "{form}");
        }
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        let config = |url: &str| GetUserClient::new(&GetUserCheck::new().endpoint(url)).err();
        assert_eq!(config("http://127.0.0.1:5000"), None);
        assert_eq!(config("http://localhost:5000/"), None);
        assert_eq!(config("https://idp.example/"), None);
        assert!(config("http://idp.example/").is_some());
        assert!(config("ftp://127.0.0.1/").is_some());
        assert!(config("not a url").is_some());
    }
}
