//! Drift: where the live clusters no longer match the declared model and the applied state.
//!
//! Pure: [`detect`] reads the desired model, a snapshot of both clusters and the state file, and
//! returns findings; `ferry drift` renders them and exits 2 when any counts as drift.

mod detect;
mod finding;
mod report;

pub use detect::detect;
pub use finding::{DriftFinding, DriftKind, Side};
pub use report::{DRIFT_FORMAT_VERSION, DriftReport};

#[cfg(test)]
mod tests;
