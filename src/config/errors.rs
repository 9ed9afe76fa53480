//! Located configuration errors, and how they print: `FILE:LINE:COL: KEY: MESSAGE`.

use std::fmt;
use std::path::Path;

use super::Location;

/// One problem in the configuration, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub location: Location,
    /// Dotted path of the offending key, e.g. `topic "orders".partitions`; empty for syntax errors.
    pub key: String,
    pub message: String,
}

/// All problems found in one load, in file and line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigError {
    pub fn new(location: Location, key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            location,
            key: key.into(),
            message: message.into(),
        }
    }

    /// An error about the directory as a whole (no `*.hcl` files, a missing block): line 0.
    pub fn in_dir(dir: &Path, key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::new(
            Location {
                file: dir.to_path_buf(),
                line: 0,
                column: 0,
            },
            key,
            message,
        )
    }
}

impl fmt::Display for ConfigError {
    /// `FILE:LINE:COL: KEY: MESSAGE`; errors about the whole directory print `DIR: KEY: MESSAGE`,
    /// syntax errors (no key) `FILE:LINE:COL: MESSAGE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.line == 0 {
            write!(f, "{}", self.location.file.display())?;
        } else {
            write!(f, "{}", self.location)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigErrors {
    /// Sorts by file, line and column; errors about the directory come first.
    pub(crate) fn sorted(mut errors: Vec<ConfigError>) -> Self {
        errors.sort_by(|a, b| {
            (&a.location.file, a.location.line, a.location.column).cmp(&(
                &b.location.file,
                b.location.line,
                b.location.column,
            ))
        });
        ConfigErrors(errors)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }
}

impl fmt::Display for ConfigErrors {
    /// One error per line, no trailing newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
