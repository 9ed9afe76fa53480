//! Plan warnings for a CKafka target that block nothing: client settings CKafka will refuse or
//! misread, and how long a copy takes over a narrow route.

use crate::config::{Desired, Scheme};
use crate::diff::TopicChange;
use crate::plan::CopyVolume;

/// Bandwidth of CKafka's default public route, in Mbit/s.
pub const PUBLIC_ROUTE_MBPS: f64 = 3.0;

/// Record size assumed for the estimate when the source gives no byte count.
pub const ASSUMED_RECORD_BYTES: u64 = 1024;

/// A copy estimated to take longer than this gets a warning.
pub const SLOW_COPY_SECONDS: f64 = 600.0;

pub fn warnings(desired: &Desired, topics: &[TopicChange], volume: CopyVolume) -> Vec<String> {
    let Some(ckafka) = &desired.target.ckafka else {
        return Vec::new();
    };
    let mut w = Vec::new();
    if let Some(sasl) = &desired.target.sasl {
        w.extend(sasl_username(&sasl.username, &ckafka.instance_id));
    }
    let producer_gzip = ["compression.type", "compression.codec"]
        .iter()
        .any(|k| is_gzip(desired.target.properties.get(*k)));
    if producer_gzip {
        w.push("cluster \"target\" sets gzip compression in properties; CKafka does not support gzip (Snappy and LZ4 work): ferry's own copy producer would use it".to_string());
    }
    let gzip_topics: Vec<&str> = topics
        .iter()
        .filter(|t| {
            t.adjustments
                .iter()
                .any(|a| a.key == "config.compression.type" && is_gzip(a.from.as_ref()))
        })
        .map(|t| t.target_name.as_str())
        .collect();
    if !gzip_topics.is_empty() {
        w.push(format!(
            "topics {} use gzip on the source; CKafka does not support gzip, so producers moving to the target should switch to Snappy or LZ4",
            gzip_topics.join(", ")
        ));
    }
    if desired.migration.scheme == Scheme::Mirror {
        let (mbps, why) = match ckafka.route_bandwidth_mbps {
            Some(m) => (Some(m), "route_bandwidth_mbps in the ckafka block"),
            None if public_route(&desired.target.bootstrap_servers) => (
                Some(PUBLIC_ROUTE_MBPS),
                "CKafka's default public route; set route_bandwidth_mbps in the ckafka block if yours is wider",
            ),
            None => (None, ""),
        };
        if let Some(mbps) = mbps
            && let Some(text) = slow_copy(volume, mbps, why)
        {
            w.push(text);
        }
    }
    w
}

/// CKafka's SASL usernames are `<instance id>#<user>`; anything else is almost always a mistake.
pub fn sasl_username(username: &str, instance_id: &str) -> Option<String> {
    match username.split_once('#') {
        None => Some(format!(
            "sasl username \"{username}\" of cluster \"target\" is not in CKafka's instance#user form; CKafka expects \"{instance_id}#{username}\""
        )),
        Some((instance, _)) if instance != instance_id => Some(format!(
            "sasl username \"{username}\" of cluster \"target\" names instance \"{instance}\" but the ckafka block names \"{instance_id}\""
        )),
        Some(_) => None,
    }
}

fn is_gzip(v: Option<&String>) -> bool {
    v.is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"))
}

/// Bootstrap servers under CKafka's public domain go over the public route.
fn public_route(servers: &[String]) -> bool {
    servers.iter().any(|s| {
        let host = s.rsplit_once(':').map_or(s.as_str(), |(h, _)| h);
        host.ends_with(".tencentcloudmq.com")
    })
}

/// The warning for a copy that takes longer than [`SLOW_COPY_SECONDS`] at `mbps`.
pub fn slow_copy(volume: CopyVolume, mbps: f64, why: &str) -> Option<String> {
    let (bytes, basis) = match volume.bytes {
        Some(b) => (b, String::new()),
        None => (
            volume.records * ASSUMED_RECORD_BYTES,
            format!(
                " at an assumed {ASSUMED_RECORD_BYTES} bytes per record (the Kafka protocol gives no byte counts)"
            ),
        ),
    };
    let seconds = bytes as f64 * 8.0 / (mbps * 1_000_000.0);
    if seconds < SLOW_COPY_SECONDS {
        return None;
    }
    Some(format!(
        "the mirror copy moves about {:.1} GiB ({} records{basis}); over a route of {mbps} Mbit/s ({why}) that takes about {}. Widen the route or copy over a VPC route",
        bytes as f64 / (1u64 << 30) as f64,
        volume.records,
        duration(seconds)
    ))
}

fn duration(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round() as u64;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_copy_over_three_megabits_is_estimated() {
        let volume = CopyVolume {
            partitions: 3,
            records: 1_000_000,
            bytes: None,
        };
        // 1_024_000_000 bytes * 8 / 3e6 = 2731 s: about 46 minutes.
        let text = slow_copy(volume, 3.0, "test").unwrap();
        assert!(text.contains("about 46 min"), "{text}");
        assert!(text.contains("assumed 1024 bytes"), "{text}");
        assert!(slow_copy(volume, 1000.0, "test").is_none());
    }

    #[test]
    fn sasl_usernames_must_name_the_instance() {
        assert!(sasl_username("ckafka-abc#ferry", "ckafka-abc").is_none());
        let bare = sasl_username("ferry", "ckafka-abc").unwrap();
        assert!(bare.contains("\"ckafka-abc#ferry\""), "{bare}");
        let other = sasl_username("ckafka-xyz#ferry", "ckafka-abc").unwrap();
        assert!(other.contains("ckafka-xyz"), "{other}");
    }

    #[test]
    fn gzip_is_recognised_in_any_case() {
        assert!(is_gzip(Some(&" GZIP".to_string())));
        assert!(!is_gzip(Some(&"lz4".to_string())));
        assert!(!is_gzip(None));
    }

    #[test]
    fn public_domains_are_the_public_route() {
        assert!(public_route(&[
            "ckafka-abc.ap-guangzhou.ckafka.tencentcloudmq.com:50000".into()
        ]));
        assert!(!public_route(&["10.0.0.5:9092".into()]));
    }
}
