//! The machine-readable plan: the Plan itself, versioned by `format_version` (docs/plan-json.md).

use crate::plan::Plan;

pub fn json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).expect("a plan always serializes") + "\n"
}
