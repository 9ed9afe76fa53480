//! The executor: runs a plan's steps against the clusters, with hooks and waits, recording each
//! step in the state file.

mod apply_error;
mod executor;
mod hook;
mod hook_error;
mod mirror;
mod offsets_step;
mod replicate_jobs;
pub mod reporter;
mod rollback;
mod topics_step;
mod waits;

pub use apply_error::ApplyError;
pub use executor::Executor;
pub use hook::*;
pub use hook_error::HookError;
pub use offsets_step::start_offsets;
pub use replicate_jobs::replicate_jobs;
pub use rollback::{POINT_OF_NO_RETURN, Returned, rollback};
pub use waits::{WaitTiming, group_lags};
