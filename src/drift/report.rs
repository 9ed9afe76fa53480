//! The result of `ferry drift`: findings that count, findings only listed, and what was checked.

use serde::{Deserialize, Serialize};

use super::detect::ferry_offsets;
use super::{DriftFinding, DriftKind};
use crate::config::{Desired, Scheme};
use crate::snapshot::Snapshot;
use crate::state::State;

/// Version of the drift report's JSON form; fields are only added within a version.
pub const DRIFT_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    pub format_version: u32,
    pub migration: String,
    pub scheme: Scheme,
    /// Serial of the state file compared against (`None`: no apply has run).
    pub state_serial: Option<u64>,
    pub source_cluster_id: Option<String>,
    pub target_cluster_id: Option<String>,
    /// Findings that count as drift (exit code 2).
    pub findings: Vec<DriftFinding>,
    /// Findings listed but not counted (unmanaged topics under `--ignore-unmanaged`).
    pub ignored: Vec<DriftFinding>,
    /// Target topics compared with the declared model.
    pub topics_checked: usize,
    /// Group partitions whose committed offset was compared with ferry's own commit.
    pub offsets_checked: usize,
}

impl DriftReport {
    /// The report over `findings` (from [`super::detect`]); with `ignore_unmanaged`, unmanaged
    /// target topics are listed but do not count.
    pub fn build(
        desired: &Desired,
        snapshot: &Snapshot,
        state: Option<&State>,
        findings: Vec<DriftFinding>,
        ignore_unmanaged: bool,
    ) -> DriftReport {
        let (ignored, findings) = findings
            .into_iter()
            .partition(|f| ignore_unmanaged && f.kind == DriftKind::UnmanagedTopic);
        DriftReport {
            format_version: DRIFT_FORMAT_VERSION,
            migration: desired.migration.name.clone(),
            scheme: desired.migration.scheme,
            state_serial: state.map(|s| s.serial),
            source_cluster_id: snapshot.source.cluster_id.clone(),
            target_cluster_id: snapshot.target.cluster_id.clone(),
            findings,
            ignored,
            topics_checked: snapshot.target.topics.len(),
            offsets_checked: state.map_or(0, |s| ferry_offsets(s).len()),
        }
    }

    pub fn has_drift(&self) -> bool {
        !self.findings.is_empty()
    }
}
