//! Views of a Plan. They only read it; no decision is made here.

mod human;
mod json;
mod markdown;
mod numbers;
mod theme;

pub use human::{describe_step, human};
pub use json::json;
pub use markdown::{PLAN_MARKER, markdown};
pub use numbers::thousands;
pub use theme::Theme;
