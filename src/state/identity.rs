//! Whether a state file belongs to the migration the configuration declares, decided from the
//! files alone: a state file of another migration is refused before any cluster is contacted,
//! by every command that reads it as this migration's.

use std::path::Path;

use super::{State, StateError};
use crate::config::Scheme;

/// What the configuration says the state must record. A cluster pin is the `cluster_id` of a
/// cluster block; without one, the cluster ids are compared after connecting.
#[derive(Debug, Clone, Copy)]
pub struct StateIdentity<'a> {
    pub migration: &'a str,
    pub scheme: Scheme,
    pub source_pin: Option<&'a str>,
    pub target_pin: Option<&'a str>,
}

impl StateIdentity<'_> {
    /// The first way `state` (read from `path`) is not this migration's.
    pub fn check(&self, state: &State, path: &Path) -> Result<(), StateError> {
        if state.migration != self.migration {
            return Err(StateError::OtherMigration {
                path: path.to_path_buf(),
                recorded: state.migration.clone(),
                recorded_scheme: state.scheme,
                declared: self.migration.to_string(),
            });
        }
        if state.scheme != self.scheme {
            return Err(StateError::OtherScheme {
                path: path.to_path_buf(),
                migration: state.migration.clone(),
                recorded: state.scheme,
                declared: self.scheme,
            });
        }
        for (role, pin, recorded) in [
            (
                "source",
                self.source_pin,
                state.source_cluster_id.as_deref(),
            ),
            (
                "target",
                self.target_pin,
                state.target_cluster_id.as_deref(),
            ),
        ] {
            if let (Some(pin), Some(recorded)) = (pin, recorded)
                && pin != recorded
            {
                return Err(StateError::PinnedOtherCluster {
                    path: path.to_path_buf(),
                    role,
                    recorded: recorded.to_string(),
                    pinned: pin.to_string(),
                });
            }
        }
        Ok(())
    }
}
