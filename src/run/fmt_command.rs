//! `ferry fmt`.

use std::process::ExitCode;

use crate::cli::{Cli, FmtArgs};
use crate::error::Error;
use crate::hcl_format;

/// `ferry fmt`: rewrites files not in canonical layout; `--check` changes nothing, prints the
/// diff and exits 3 when some file would change (as `terraform fmt -check` does).
pub(super) fn fmt(cli: &Cli, args: &FmtArgs) -> Result<ExitCode, Error> {
    let files = hcl_format::hcl_files(&cli.dir).map_err(|e| {
        Error::Usage(format!(
            "cannot read the configuration directory {}: {e}",
            cli.dir.display()
        ))
    })?;
    let mut unformatted = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let text = crate::bounded_file::read_text(&path, crate::limits::HCL_MAX_BYTES)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        let formatted = match hcl_format::format_hcl(&text) {
            Ok(f) => f,
            Err(at @ hcl_format::FormatError::Syntax { .. }) => {
                problems.push(format!("{}:{at}", path.display()));
                continue;
            }
            Err(refused) => {
                problems.push(format!("{}: {refused}", path.display()));
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if args.check {
            print!("{}", hcl_format::unified_diff(&name, &text, &formatted));
        } else {
            std::fs::write(&path, &formatted).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
            println!("{name}");
        }
        unformatted.push(name);
    }
    if !problems.is_empty() {
        return Err(Error::Usage(format!(
            "cannot format these files (nothing was changed in them):\n  {}\nFix syntax errors and run `ferry fmt` again; a file refused as unsafe to format is a ferry bug worth reporting, and stays as written.",
            problems.join("\n  ")
        )));
    }
    Ok(if args.check && !unformatted.is_empty() {
        eprintln!(
            "{} not formatted; run `ferry fmt` to fix.",
            if unformatted.len() == 1 {
                format!("{} is", unformatted[0])
            } else {
                format!("{} files are", unformatted.len())
            }
        );
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
