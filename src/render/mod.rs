//! Views of a Plan. They only read it; no decision is made here.

mod drift;
mod human;
mod json;
mod markdown;
mod theme;
mod verification;

pub use crate::domain::thousands;
pub use drift::{DRIFT_MARKER, drift_human, drift_json, drift_markdown};
pub use human::{describe_step, human};
pub use json::json;
pub use markdown::{PLAN_MARKER, markdown};
pub use theme::Theme;
pub use verification::verification_report;
