//! `ferry fmt`: canonical layout of HCL files that keeps every comment.
//!
//! Neither hcl-rs (`hcl::format` drops comments) nor hcl-edit (which keeps them) formats, so this
//! is a small normalizer over hcl-edit's tree, in the spirit of `terraform fmt`: two spaces of
//! indentation per nesting level, one space around `=` with the `=` of consecutive one-line
//! attributes aligned, trailing whitespace removed, comments re-indented with what they precede.
//! Values themselves (strings, numbers, function calls, heredocs, one-line arrays and objects)
//! are written as they were.
//!
//! Two promises, both tested over a corpus of awkward files and every `*.hcl` of the repository:
//! no comment is ever dropped, and one run reaches the fixed point (`fmt(fmt(x)) == fmt(x)`).
//! The first is also checked on every run ([`verify`]): a result that lost a comment or means
//! something else is refused with [`FormatError::Unsafe`] and the file is left alone.
//!
//! Line endings: CRLF becomes LF, as `terraform fmt` and `gofmt` do. A canonical layout has one
//! line ending, and a carriage return inside a heredoc is an editor's artefact that a hook
//! command would trip over, not part of the value.
//!
//! - [`trivia`]: comments and line breaks between tokens, in the one shape layout decides on;
//! - [`body`]: structures, blocks, attributes; [`expr`]: multi-line arrays and objects;
//! - [`align`]: groups of aligned `=`; [`verify`]: the safety net.

mod align;
mod body;
mod expr;
mod trivia;
pub mod verify;

#[cfg(test)]
mod tests;

use hcl_edit::Decorate;

/// Why a file was not formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// Not HCL: the parser's message at its line and column.
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// The formatted text would have lost a comment or changed the file's meaning: a formatter
    /// bug, so nothing is written.
    Unsafe(String),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Syntax {
                line,
                column,
                message,
            } => write!(f, "{line}:{column}: {message}"),
            FormatError::Unsafe(what) => write!(
                f,
                "formatting would {what}, so the file is left as written (a ferry bug: please report it with the file)"
            ),
        }
    }
}

impl std::error::Error for FormatError {}

/// The formatted text, or why there is none.
pub fn format_hcl(text: &str) -> Result<String, FormatError> {
    let text = text.replace("\r\n", "\n");
    let mut body = hcl_edit::parser::parse_body(&text).map_err(|e| FormatError::Syntax {
        line: e.location().line(),
        column: e.location().column(),
        message: e.message().to_string(),
    })?;
    body::format_file(&mut body, &text);
    let mut out = body.to_string();
    // One newline at the end of the file, none at the start of it.
    let end = out.trim_end().len();
    out.truncate(end);
    if !out.is_empty() {
        out.push('\n');
    }
    let out = out.trim_start_matches('\n').to_string();
    verify::check(&text, &out).map_err(FormatError::Unsafe)?;
    Ok(out)
}

/// The raw trivia before an item, empty when it has none.
fn prefix(item: &(impl Decorate + ?Sized)) -> String {
    item.decor()
        .prefix()
        .map(|raw| raw.to_string())
        .unwrap_or_default()
}

/// The raw trivia after an item, empty when it has none.
fn suffix(item: &(impl Decorate + ?Sized)) -> String {
    item.decor()
        .suffix()
        .map(|raw| raw.to_string())
        .unwrap_or_default()
}

/// The `*.hcl` files of `dir` (not hidden, not in subdirectories) in name order: the files the
/// loader reads.
pub fn hcl_files(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(".hcl") && !name.starts_with('.') && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// A unified diff of `before` -> `after` with file names as `a/NAME` and `b/NAME`, as
/// `ferry fmt --check` prints it.
pub fn unified_diff(name: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}
