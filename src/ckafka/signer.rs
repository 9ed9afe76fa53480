//! TC3-HMAC-SHA256 request signing (Tencent Cloud API 3.0), as pure functions so the published
//! worked example can be reproduced byte for byte.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// The headers ferry signs, lower-cased and in order (what the SDKs sign).
pub const SIGNED_HEADERS: &str = "content-type;host";

/// The content type every request is sent (and signed) with.
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Everything the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SigningInput<'a> {
    pub host: &'a str,
    pub service: &'a str,
    /// Seconds since the epoch; also the `X-TC-Timestamp` header.
    pub timestamp: i64,
    pub payload: &'a [u8],
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `YYYY-MM-DD` (UTC) of a timestamp: the credential scope's date.
pub fn utc_date(timestamp: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(timestamp.max(0) as u64);
    humantime::format_rfc3339_seconds(at).to_string()[..10].to_string()
}

/// POST to `/` with an empty query; headers `content-type` and `host`.
pub fn canonical_request(input: &SigningInput) -> String {
    format!(
        "POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{}\n\n{SIGNED_HEADERS}\n{}",
        input.host.trim().to_ascii_lowercase(),
        sha256_hex(input.payload)
    )
}

pub fn credential_scope(input: &SigningInput) -> String {
    format!(
        "{}/{}/tc3_request",
        utc_date(input.timestamp),
        input.service
    )
}

pub fn string_to_sign(input: &SigningInput) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        input.timestamp,
        credential_scope(input),
        sha256_hex(canonical_request(input).as_bytes())
    )
}

/// Hex signature: the key is derived from the secret key through date, service and `tc3_request`.
pub fn signature(secret_key: &str, input: &SigningInput) -> String {
    let date = hmac_sha256(
        format!("TC3{secret_key}").as_bytes(),
        utc_date(input.timestamp).as_bytes(),
    );
    let service = hmac_sha256(&date, input.service.as_bytes());
    let signing = hmac_sha256(&service, b"tc3_request");
    hex::encode(hmac_sha256(&signing, string_to_sign(input).as_bytes()))
}

/// The `Authorization` header value.
pub fn authorization(secret_id: &str, secret_key: &str, input: &SigningInput) -> String {
    format!(
        "{ALGORITHM} Credential={secret_id}/{}, SignedHeaders={SIGNED_HEADERS}, Signature={}",
        credential_scope(input),
        signature(secret_key, input)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of tencentcloud.com/document/product/597/35336 (see ckafka.md).
    const BODY: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

    fn example() -> SigningInput<'static> {
        SigningInput {
            host: "cvm.tencentcloudapi.com",
            service: "cvm",
            timestamp: 1551113065,
            payload: BODY.as_bytes(),
        }
    }

    #[test]
    fn published_worked_example_is_reproduced_byte_for_byte() {
        let input = example();
        assert_eq!(
            sha256_hex(input.payload),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            sha256_hex(canonical_request(&input).as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            string_to_sign(&input),
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
             5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        let key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
        assert_eq!(
            signature(key, &input),
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        assert_eq!(
            authorization("AKID**********************0123456789EXAMPLE", key, &input),
            "TC3-HMAC-SHA256 Credential=AKID**********************0123456789EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn the_date_is_utc() {
        assert_eq!(utc_date(0), "1970-01-01");
        // 2019-02-25T23:59:59Z and one second later.
        assert_eq!(utc_date(1551139199), "2019-02-25");
        assert_eq!(utc_date(1551139200), "2019-02-26");
    }
}
