//! Which files make up a configuration: every `*.hcl` in the directory, in name order, and the
//! fingerprint a saved plan uses to notice that they changed.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::ConfigError;
use super::span::SourceFile;
use crate::bounded_file::{self, FileProblem};
use crate::limits::{HCL_MAX_BYTES, show_bytes};

/// Reads every `*.hcl` file of `dir` (not subdirectories), sorted by file name so that
/// evaluation, error order and the fingerprint do not depend on the filesystem. An entry named
/// `*.hcl` that is not a regular file (a directory, a FIFO, a device behind a symlink) is an
/// error, not skipped: it was meant to be configuration, or is in the way. All files together may
/// hold at most [`HCL_MAX_BYTES`], which bounds the memory a load takes.
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
        if name.ends_with(".hcl") && !name.starts_with('.') {
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
    let mut left = HCL_MAX_BYTES;
    for name in names {
        let path = dir.join(&name);
        match bounded_file::read_text(&path, left) {
            Ok(text) => {
                left -= text.len() as u64;
                files.push(SourceFile::new(path, text));
            }
            Err(problem) => {
                let too_large = matches!(problem, FileProblem::TooLarge { .. });
                // Over the cap by itself, or only with the files before it?
                let alone =
                    too_large && std::fs::metadata(&path).is_ok_and(|m| m.len() > HCL_MAX_BYTES);
                errors.push(ConfigError::in_dir(&path, "", message(&problem, alone)));
                if too_large {
                    break;
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// What is wrong with one `*.hcl` entry, and what to do about it.
fn message(problem: &FileProblem, alone: bool) -> String {
    let cap = show_bytes(HCL_MAX_BYTES);
    match problem {
        FileProblem::NotRegular(_) | FileProblem::Missing => format!(
            "cannot read this configuration file: {problem}{}. ferry reads every *.hcl entry of the configuration directory as configuration: move it out of the directory, or rename it so that its name does not end in .hcl",
            if matches!(problem, FileProblem::Missing) {
                " (a symbolic link to nothing?)"
            } else {
                ""
            }
        ),
        FileProblem::TooLarge { .. } if alone => format!(
            "cannot read this configuration file: it is larger than {cap}, the most ferry reads from a configuration. Check that it is a configuration file and not data or generated output, and keep the configuration under {cap}"
        ),
        FileProblem::TooLarge { .. } => format!(
            "cannot read this configuration file: with the *.hcl files before it, the configuration would hold more than {cap}, the most ferry reads. Check that every *.hcl file in the directory is configuration, and keep them under {cap} together"
        ),
        FileProblem::NotUtf8 => "the file is not valid UTF-8".to_string(),
        FileProblem::Io(e) => format!("cannot read the file: {e}"),
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
