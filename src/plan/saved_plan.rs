//! A plan saved by `ferry plan --out FILE`, executed later by `ferry apply FILE`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Plan;
use crate::limits::PLAN_MAX_BYTES;

/// Version of the saved-plan file; a file of another version is refused.
pub const SAVED_PLAN_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub saved_plan_version: u32,
    /// Lineage and serial of the state file the plan was made against (`None`: no state yet).
    pub state_lineage: Option<String>,
    pub state_serial: Option<u64>,
    pub plan: Plan,
}

/// Why a saved plan cannot be applied as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staleness {
    Config,
    State {
        planned: Option<u64>,
        now: Option<u64>,
    },
    /// Another state file is in place of the one planned against (another lineage): its serial
    /// may even be the same.
    OtherState {
        planned: String,
        now: String,
    },
    Metadata,
}

impl SavedPlan {
    pub fn read(path: &Path) -> Result<SavedPlan, String> {
        let text = crate::bounded_file::read_text(path, PLAN_MAX_BYTES).map_err(|problem| {
            format!(
                "cannot read the saved plan {}: {problem}. Give `ferry apply` a file written by `ferry plan --out FILE`, or run `ferry apply` without a file to plan afresh",
                path.display()
            )
        })?;
        let saved: SavedPlan = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a saved ferry plan ({e}); save one with `ferry plan --out FILE`",
                path.display()
            )
        })?;
        if saved.saved_plan_version != SAVED_PLAN_VERSION {
            return Err(format!(
                "{} is a saved plan of version {}; this ferry reads version {SAVED_PLAN_VERSION}. Make a new plan with `ferry plan --out FILE`",
                path.display(),
                saved.saved_plan_version
            ));
        }
        Ok(saved)
    }

    /// How the configuration and the state moved since the plan was saved: known before any
    /// cluster is contacted. `state` is the lineage and serial of the state file now.
    pub fn offline_staleness(&self, config: &str, state: Option<(&str, u64)>) -> Vec<Staleness> {
        let mut stale = Vec::new();
        if self.plan.fingerprint.config != config {
            stale.push(Staleness::Config);
        }
        stale.extend(state_staleness(
            self.state_lineage.as_deref(),
            self.state_serial,
            state,
        ));
        stale
    }

    /// How topic metadata on the clusters moved since the plan was saved.
    pub fn metadata_staleness(&self, metadata: &str) -> Vec<Staleness> {
        if self.plan.fingerprint.metadata != metadata {
            vec![Staleness::Metadata]
        } else {
            Vec::new()
        }
    }
}

/// How the state file moved: another lineage is another file whatever its serial (a replaced
/// file may well have reached the same serial); within a lineage, any other serial.
fn state_staleness(
    planned_lineage: Option<&str>,
    planned_serial: Option<u64>,
    now: Option<(&str, u64)>,
) -> Option<Staleness> {
    match (planned_lineage, now) {
        (Some(planned), Some((lineage, _))) if planned != lineage => Some(Staleness::OtherState {
            planned: planned.to_string(),
            now: lineage.to_string(),
        }),
        _ if planned_serial != now.map(|(_, serial)| serial) => Some(Staleness::State {
            planned: planned_serial,
            now: now.map(|(_, serial)| serial),
        }),
        _ => None,
    }
}

impl std::fmt::Display for Staleness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Staleness::Config => f.write_str("the configuration changed (the HCL files, or a value they read: --var, FERRY_VAR_*, env())"),
            Staleness::State { planned, now } => {
                let s =
                    |v: &Option<u64>| v.map_or("no state".to_string(), |n| format!("serial {n}"));
                write!(
                    f,
                    "the state file moved on ({} when planned, {} now)",
                    s(planned),
                    s(now)
                )
            }
            Staleness::OtherState { planned, now } => write!(
                f,
                "the state file was replaced by another one (lineage {planned} when planned, {now} now)"
            ),
            Staleness::Metadata => f.write_str("topic metadata on the source or target changed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_compared_by_lineage_then_serial() {
        let other = |planned: &str, now: &str| Staleness::OtherState {
            planned: planned.into(),
            now: now.into(),
        };
        let serial = |planned, now| Staleness::State { planned, now };
        #[rustfmt::skip]
        let cases = [
            ("same file, same serial", Some("L"), Some(3), Some(("L", 3)), None),
            ("no state then, none now", None, None, None, None),
            ("same file moved on", Some("L"), Some(3), Some(("L", 4)), Some(serial(Some(3), Some(4)))),
            ("replaced, same serial", Some("L"), Some(3), Some(("M", 3)), Some(other("L", "M"))),
            ("replaced, other serial", Some("L"), Some(3), Some(("M", 9)), Some(other("L", "M"))),
            ("created since", None, None, Some(("M", 1)), Some(serial(None, Some(1)))),
            ("removed since", Some("L"), Some(3), None, Some(serial(Some(3), None))),
        ];
        for (case, lineage, planned, now, want) in cases {
            assert_eq!(state_staleness(lineage, planned, now), want, "{case}");
        }
    }
}
