//! The CKafka API 3.0 client: signed JSON POSTs, paced under the documented rate limits,
//! retried with backoff on limit and transient errors.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::api_error::ApiError;
use super::limits::METADATA_PER_SECOND;
use super::signer::{self, CONTENT_TYPE, SigningInput};
use crate::config::{CkafkaSettings, Secret};

pub const SERVICE: &str = "ckafka";
pub const VERSION: &str = "2019-08-19";
pub const DEFAULT_ENDPOINT: &str = "ckafka.tencentcloudapi.com";
pub const SECRET_ID_ENV: &str = "TENCENTCLOUD_SECRET_ID";
pub const SECRET_KEY_ENV: &str = "TENCENTCLOUD_SECRET_KEY";

/// Attempts per request, the first included.
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// API credentials. Never printed: `Secret` hides them in Debug and serialization.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub secret_id: Secret,
    pub secret_key: Secret,
}

impl Credentials {
    /// From the ckafka block when it sets them, else from the environment; `None` when neither.
    pub fn resolve(settings: &CkafkaSettings) -> Option<Credentials> {
        if let (Some(id), Some(key)) = (&settings.secret_id, &settings.secret_key) {
            return Some(Credentials {
                secret_id: id.clone(),
                secret_key: key.clone(),
            });
        }
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(Credentials {
            secret_id: Secret::new(var(SECRET_ID_ENV)?),
            secret_key: Secret::new(var(SECRET_KEY_ENV)?),
        })
    }
}

/// Where requests go: the URL posted to and the host that is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub host: String,
}

impl Endpoint {
    /// `host` alone means HTTPS on the default port; a URL (`http://127.0.0.1:8080`) is taken
    /// as it is, which is how tests and the quickstart reach the local emulator.
    pub fn parse(endpoint: Option<&str>) -> Endpoint {
        let raw = endpoint.unwrap_or(DEFAULT_ENDPOINT).trim();
        let (scheme, rest) = match raw.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("https".to_string(), raw),
        };
        let host = rest.split('/').next().unwrap_or_default().to_string();
        Endpoint {
            url: format!("{scheme}://{host}/"),
            host,
        }
    }
}

/// Keeps requests at most `per_second` apart, so bursts never reach the API's limits.
#[derive(Debug)]
struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    fn new(per_second: u32) -> Pacer {
        Pacer {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(Instant::now()),
        }
    }

    fn wait(&self) {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if *next > now {
            std::thread::sleep(*next - now);
        }
        *next = Instant::now() + self.interval;
    }
}

/// Backoff before attempt `n` (1-based retries): doubling from 250 ms, at most 4 s.
pub fn backoff(retry: u32) -> Duration {
    (FIRST_BACKOFF * 2u32.saturating_pow(retry.saturating_sub(1))).min(MAX_BACKOFF)
}

#[derive(Debug)]
pub struct ApiClient {
    http: reqwest::blocking::Client,
    endpoint: Endpoint,
    region: String,
    credentials: Credentials,
    pacer: Pacer,
}

impl ApiClient {
    pub fn new(
        settings: &CkafkaSettings,
        credentials: Credentials,
        timeout: Duration,
    ) -> Result<ApiClient, ApiError> {
        let endpoint = Endpoint::parse(settings.endpoint.as_deref());
        let http = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ApiError::Transport {
                action: "creating the HTTP client".into(),
                endpoint: endpoint.url.clone(),
                detail: e.to_string(),
            })?;
        // One request at a time, paced: under both CreateTopic's 20/s and the 20 concurrent
        // metadata requests per instance (with a margin, so a window never holds 21).
        let per_second = METADATA_PER_SECOND.saturating_sub(2);
        Ok(ApiClient {
            http,
            endpoint,
            region: settings.region.clone(),
            credentials,
            pacer: Pacer::new(per_second),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint.url
    }

    /// Sends `action` with `params`, retrying retryable failures with backoff; the `Result`
    /// object of the response, or the last failure.
    pub fn call(&self, action: &str, params: &Value) -> Result<Value, ApiError> {
        let mut retry = 0;
        loop {
            match self.call_once(action, params) {
                Err(e) if e.is_retryable() && retry + 1 < ATTEMPTS => {
                    retry += 1;
                    let pause = backoff(retry);
                    tracing::debug!(action, error = %e, ?pause, "retrying CKafka API call");
                    std::thread::sleep(pause);
                }
                other => return other,
            }
        }
    }

    fn call_once(&self, action: &str, params: &Value) -> Result<Value, ApiError> {
        self.pacer.wait();
        let payload = serde_json::to_vec(params).expect("JSON values serialize");
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let input = SigningInput {
            host: &self.endpoint.host,
            service: SERVICE,
            timestamp,
            payload: &payload,
        };
        let authorization = signer::authorization(
            self.credentials.secret_id.expose(),
            self.credentials.secret_key.expose(),
            &input,
        );
        let started = Instant::now();
        let response = self
            .http
            .post(&self.endpoint.url)
            .header("Authorization", authorization)
            .header("Content-Type", CONTENT_TYPE)
            .header("Host", &self.endpoint.host)
            .header("X-TC-Action", action)
            .header("X-TC-Version", VERSION)
            .header("X-TC-Region", &self.region)
            .header("X-TC-Timestamp", timestamp.to_string())
            .body(payload)
            .send()
            .map_err(|e| ApiError::Transport {
                action: action.to_string(),
                endpoint: self.endpoint.url.clone(),
                detail: without_url(&e),
            })?;
        let status = response.status();
        let body = response.bytes().map_err(|e| ApiError::Transport {
            action: action.to_string(),
            endpoint: self.endpoint.url.clone(),
            detail: without_url(&e),
        })?;
        tracing::debug!(
            action,
            ms = started.elapsed().as_millis() as u64,
            status = status.as_u16(),
            "CKafka API call"
        );
        parse_response(action, &body)
    }
}

/// reqwest's messages repeat the URL; the endpoint is named separately.
fn without_url(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = e.to_string();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    detail
}

/// `{"Response": {"Result": ..., "RequestId"}}` -> the result; `{"Response": {"Error": {Code,
/// Message}, "RequestId"}}` -> [`ApiError::Refused`].
pub fn parse_response(action: &str, body: &[u8]) -> Result<Value, ApiError> {
    let bad = |detail: String| ApiError::BadResponse {
        action: action.to_string(),
        detail,
    };
    let json: Value = serde_json::from_slice(body).map_err(|e| {
        let start = String::from_utf8_lossy(&body[..body.len().min(200)]).to_string();
        bad(format!("not JSON ({e}): {start}"))
    })?;
    let response = json
        .get("Response")
        .ok_or_else(|| bad("no Response object".into()))?;
    let request_id = response
        .get("RequestId")
        .and_then(Value::as_str)
        .unwrap_or("(none)")
        .to_string();
    if let Some(error) = response.get("Error") {
        let text = |k: &str| {
            error
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        return Err(ApiError::Refused {
            action: action.to_string(),
            code: text("Code"),
            message: text("Message"),
            request_id,
        });
    }
    Ok(response.get("Result").cloned().unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_default_to_https_and_keep_an_explicit_scheme_and_port() {
        assert_eq!(
            Endpoint::parse(None),
            Endpoint {
                url: "https://ckafka.tencentcloudapi.com/".into(),
                host: "ckafka.tencentcloudapi.com".into()
            }
        );
        assert_eq!(
            Endpoint::parse(Some("http://127.0.0.1:8123")),
            Endpoint {
                url: "http://127.0.0.1:8123/".into(),
                host: "127.0.0.1:8123".into()
            }
        );
    }

    #[test]
    fn errors_carry_code_message_and_request_id() {
        let body = br#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"too fast"},"RequestId":"abc-1"}}"#;
        let e = parse_response("CreateTopic", body).unwrap_err();
        assert_eq!(
            e,
            ApiError::Refused {
                action: "CreateTopic".into(),
                code: "RequestLimitExceeded".into(),
                message: "too fast".into(),
                request_id: "abc-1".into()
            }
        );
        let ok = parse_response(
            "CreateTopic",
            br#"{"Response":{"Result":{"TopicId":"topic-1"},"RequestId":"x"}}"#,
        )
        .unwrap();
        assert_eq!(ok["TopicId"], "topic-1");
        assert!(matches!(
            parse_response("CreateTopic", b"<html>"),
            Err(ApiError::BadResponse { .. })
        ));
    }

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(10), Duration::from_secs(4));
    }

    #[test]
    fn the_pacer_spaces_requests() {
        let pacer = Pacer::new(20);
        let started = Instant::now();
        for _ in 0..3 {
            pacer.wait();
        }
        assert!(started.elapsed() >= Duration::from_millis(100));
    }
}
