//! `ferry init`: a starter configuration, or (`--from-source`) topic blocks written from the
//! live source cluster so a team starts from the truth instead of typing hundreds of blocks.

mod from_source;
mod starter;

pub use from_source::{GROUPS_FILE, Generated, SourceView, TOPICS_FILE, generate, read_source};
pub use starter::starter;

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Writes `files` (name, text) into `dir`, refusing to replace an existing file without
/// `force`. Checks every name first, so a refusal writes nothing.
pub fn write_files(
    dir: &Path,
    files: &[(String, String)],
    force: bool,
) -> Result<Vec<PathBuf>, Error> {
    if !force && let Some((name, _)) = files.iter().find(|(name, _)| dir.join(name).exists()) {
        return Err(Error::Usage(format!(
            "{} already exists; ferry init does not overwrite files. Move it away, or pass --force to replace it.",
            dir.join(name).display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// Loads the configuration of `config_dir` with `files` added (replacing files of the same
/// name), in a scratch copy: generated files must pass `ferry validate` before they are written.
pub fn check_loads(
    config_dir: &Path,
    files: &[(String, String)],
    options: &crate::config::LoadOptions,
) -> Result<(), Error> {
    let scratch = std::env::temp_dir().join(format!("ferry-init-{}", uuid::Uuid::new_v4()));
    let result = (|| {
        std::fs::create_dir_all(&scratch).map_err(|source| Error::Write {
            path: scratch.clone(),
            source,
        })?;
        let existing = crate::hcl_format::hcl_files(config_dir).unwrap_or_default();
        for path in existing {
            let Some(name) = path.file_name() else {
                continue;
            };
            if files.iter().any(|(n, _)| std::ffi::OsStr::new(n) == name) {
                continue;
            }
            std::fs::copy(&path, scratch.join(name)).map_err(|source| Error::Write {
                path: scratch.join(name),
                source,
            })?;
        }
        for (name, text) in files {
            std::fs::write(scratch.join(name), text).map_err(|source| Error::Write {
                path: scratch.join(name),
                source,
            })?;
        }
        crate::config::load(&scratch, options).map(|_| ()).map_err(|e| {
            Error::Usage(format!(
                "the generated files would not load with the configuration, so nothing was written:\n{}",
                e.0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n")
            ))
        })
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}
