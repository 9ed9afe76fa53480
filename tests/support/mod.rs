//! Helpers shared by the integration tests that call cluster access directly.
#![allow(dead_code)]

pub mod apply_process;
pub mod cli;
pub mod copying;
pub mod mirror_config;
pub mod records;

use std::collections::BTreeMap;

use ferry::config::ClusterSettings;

pub fn settings(bootstrap: &str) -> ClusterSettings {
    let mut settings = ClusterSettings::plaintext(bootstrap);
    // Statistics feed request_counts; ferry turns them on only under -v.
    settings
        .properties
        .insert("statistics.interval.ms".to_string(), "100".to_string());
    settings
}

pub fn offsets(pairs: &[(&str, &[(i32, i64)])]) -> BTreeMap<String, BTreeMap<i32, i64>> {
    pairs
        .iter()
        .map(|(t, p)| (t.to_string(), p.iter().copied().collect()))
        .collect()
}

/// Requests of each type sent between two `request_counts` readings.
pub fn delta(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.saturating_sub(before.get(k).copied().unwrap_or(0)),
            )
        })
        .filter(|(_, v)| *v > 0)
        .collect()
}
