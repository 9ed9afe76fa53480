//! Views of a Plan. They only read it; no decision is made here.

mod human;
mod json;
pub mod numbers;
mod theme;

pub use human::{describe_step, human};
pub use json::json;
pub use numbers::thousands;
pub use theme::Theme;
