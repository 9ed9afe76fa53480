//! Failures of CKafka API calls, keeping the API's code, message and request id for the user.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    /// The API answered with `Response.Error`.
    #[error("{action} failed: {code}: {message} (RequestId {request_id})")]
    Refused {
        action: String,
        code: String,
        message: String,
        request_id: String,
    },
    /// No HTTP answer (connection refused, TLS, timeout).
    #[error("{action} got no answer from {endpoint}: {detail}")]
    Transport {
        action: String,
        endpoint: String,
        detail: String,
    },
    /// An answer that is not the documented JSON shape.
    #[error("{action} got an answer ferry cannot read: {detail}")]
    BadResponse { action: String, detail: String },
}

impl ApiError {
    /// The API's error code, for a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether the same request may succeed when sent again after a pause: rate limits,
    /// faults on the server's side and lost connections.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Refused { code, .. } => {
                code.starts_with("RequestLimitExceeded")
                    || code.starts_with("InternalError")
                    || code.starts_with("ResourceUnavailable")
            }
            ApiError::Transport { .. } => true,
            ApiError::BadResponse { .. } => false,
        }
    }

    /// What the user should do next, by error code.
    pub fn hint(&self) -> &'static str {
        let code = match self {
            ApiError::Refused { code, .. } => code.as_str(),
            ApiError::Transport { .. } => {
                return "Check the network path to the API and the ckafka block's region and endpoint, then run the command again.";
            }
            ApiError::BadResponse { .. } => {
                return "Check that the ckafka block's endpoint is the CKafka API 3.0 endpoint.";
            }
        };
        if code == "AuthFailure.SignatureExpire" {
            "This machine's clock is more than 5 minutes off; fix the clock (NTP) and run the command again."
        } else if code.starts_with("AuthFailure") || code.starts_with("UnauthorizedOperation") {
            "Check TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (or secret_id and secret_key in the ckafka block) and that this key may manage the CKafka instance."
        } else if code.starts_with("RequestLimitExceeded") {
            "ferry retried with backoff and the API still refused; wait a minute, make sure no other tool is calling the API heavily, and run the command again."
        } else if code.starts_with("InvalidParameter") || code.starts_with("MissingParameter") {
            "The request broke a CKafka rule ferry's table does not cover; check the value named in the message, change the HCL and run `ferry plan` again."
        } else if code.starts_with("ResourceNotFound") {
            "Check instance_id and region in the ckafka block of cluster \"target\"."
        } else if code.starts_with("ResourceInUse") {
            "Something else changed the same resource; run `ferry plan` again to see the instance as it is now."
        } else if code.starts_with("UnsupportedOperation") {
            "This CKafka instance does not support the operation; leave out what needs it (see the plan) or change it in the CKafka console."
        } else {
            "Quote the RequestId to Tencent Cloud support if it persists, and run the command again later."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: &str) -> ApiError {
        ApiError::Refused {
            action: "CreateTopic".into(),
            code: code.into(),
            message: "m".into(),
            request_id: "r-1".into(),
        }
    }

    #[test]
    fn limits_and_server_faults_are_retried_but_not_refusals() {
        assert!(refused("RequestLimitExceeded").is_retryable());
        assert!(refused("InternalError.SystemError").is_retryable());
        assert!(!refused("InvalidParameterValue").is_retryable());
        assert!(!refused("AuthFailure.SignatureFailure").is_retryable());
    }

    #[test]
    fn the_message_names_code_message_and_request_id() {
        let text = refused("InvalidParameterValue").to_string();
        assert_eq!(
            text,
            "CreateTopic failed: InvalidParameterValue: m (RequestId r-1)"
        );
        assert!(
            refused("AuthFailure.SignatureExpire")
                .hint()
                .contains("clock")
        );
    }
}
