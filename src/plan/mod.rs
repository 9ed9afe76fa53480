//! The Plan: the diff plus the ordered steps of the chosen scheme, as plain data.

mod build;
mod copy_volume;
mod left_behind;
#[allow(clippy::module_inception)]
mod plan;
mod saved_plan;
mod size_limit;

pub use crate::domain::{CopyVolume, GroupsOn, Step};
pub use build::build;
pub use copy_volume::copy_volume;
pub use plan::{ClusterSummary, FORMAT_VERSION, Fingerprint, Plan, Summary};
pub use saved_plan::{SAVED_PLAN_VERSION, SavedPlan, Staleness};
