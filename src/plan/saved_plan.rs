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

    /// Every way the world moved since the plan was saved; empty when it can be applied.
    pub fn staleness(
        &self,
        config: &str,
        state_serial: Option<u64>,
        metadata: &str,
    ) -> Vec<Staleness> {
        let mut stale = Vec::new();
        if self.plan.fingerprint.config != config {
            stale.push(Staleness::Config);
        }
        if self.state_serial != state_serial {
            stale.push(Staleness::State {
                planned: self.state_serial,
                now: state_serial,
            });
        }
        if self.plan.fingerprint.metadata != metadata {
            stale.push(Staleness::Metadata);
        }
        stale
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
            Staleness::Metadata => f.write_str("topic metadata on the source or target changed"),
        }
    }
}
