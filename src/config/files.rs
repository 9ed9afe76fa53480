//! Which files make up a configuration: every `*.hcl` in the directory, in name order, and the
//! fingerprint a saved plan uses to notice that they changed.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::ConfigError;
use super::span::SourceFile;

/// Reads every regular `*.hcl` file of `dir` (not subdirectories), sorted by file name so that
/// evaluation, error order and the fingerprint do not depend on the filesystem.
pub(crate) fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, Vec<ConfigError>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![ConfigError::in_dir(
            dir,
            "",
            format!("cannot read the configuration directory: {e}"),
        )]
    })?;
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_file = entry
            .file_type()
            .map(|t| t.is_file() || t.is_symlink())
            .unwrap_or(false);
        if is_file && name.ends_with(".hcl") && !name.starts_with('.') {
            names.push(name.to_string());
        }
    }
    names.sort();
    if names.is_empty() {
        return Err(vec![ConfigError::in_dir(
            dir,
            "",
            "no *.hcl files in this directory: run ferry in the configuration directory or pass -C DIR",
        )]);
    }
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        let path = dir.join(&name);
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => files.push(SourceFile::new(path, text)),
                Err(_) => errors.push(ConfigError::in_dir(
                    &path,
                    "",
                    "the file is not valid UTF-8",
                )),
            },
            Err(e) => errors.push(ConfigError::in_dir(
                &path,
                "",
                format!("cannot read the file: {e}"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// sha256 (hex) over each file's name and contents in name order. Every part is length-prefixed so
/// that moving text from one file to the next changes the fingerprint.
pub(crate) fn fingerprint(files: &[SourceFile]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        let name = file
            .path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update((file.text.len() as u64).to_le_bytes());
        hasher.update(file.text.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
