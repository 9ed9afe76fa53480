//! `ferry fmt`: canonical layout of HCL files that keeps every comment.
//!
//! Neither hcl-rs (`hcl::format` drops comments) nor hcl-edit (which keeps them) formats, so this
//! is a small normalizer over hcl-edit's tree, in the spirit of `terraform fmt`: two spaces of
//! indentation per nesting level, one space around `=` with the `=` of consecutive one-line
//! attributes aligned, trailing whitespace removed, comments re-indented with what they precede.
//! Values themselves (strings, numbers, function calls, heredocs) are written as they were.

use hcl_edit::Decorate;
use hcl_edit::expr::{Array, Expression, Object, ObjectKey, ObjectValueTerminator};
use hcl_edit::structure::{Body, Structure};

/// The formatted text, or the parser's message with line and column when `text` is not HCL.
pub fn format_hcl(text: &str) -> Result<String, String> {
    let mut body = hcl_edit::parser::parse_body(text).map_err(|e| {
        format!(
            "{}:{}: {}",
            e.location().line(),
            e.location().column(),
            e.message()
        )
    })?;
    format_body(&mut body, 0, true);
    let mut out = body.to_string();
    // One newline at the end of the file, none at the start of it.
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    if !out.is_empty() {
        out.push('\n');
    }
    Ok(out.trim_start_matches('\n').to_string())
}

fn indent(depth: usize) -> String {
    "  ".repeat(depth)
}

/// Formats the structures of a body whose lines start at `depth`.
fn format_body(body: &mut Body, depth: usize, top: bool) {
    let widths = alignment(
        (0..body.len())
            .map(|i| match body.get(i) {
                Some(Structure::Attribute(a)) => Some(AlignItem {
                    width: a.key.as_str().chars().count(),
                    one_line: !a.value.to_string().contains('\n'),
                    breaks_before: breaks_group(a.decor().prefix().map(|p| &**p)),
                }),
                _ => None,
            })
            .collect(),
    );
    for (i, width) in widths.into_iter().enumerate() {
        let Some(structure) = body.get_mut(i) else {
            continue;
        };
        let decor = structure.decor_mut();
        let prefix = leading(decor.prefix().map(|p| &**p), depth, i == 0 && top);
        let suffix = trailing_comment(decor.suffix().map(|s| &**s));
        decor.set_prefix(prefix);
        decor.set_suffix(suffix);
        match structure {
            Structure::Attribute(attr) => {
                let key_width = attr.key.as_str().chars().count();
                let pad = width.map_or(0, |w| w.saturating_sub(key_width));
                attr.key.decor_mut().set_prefix("");
                attr.key.decor_mut().set_suffix(" ".repeat(pad + 1));
                let value_suffix = trailing_comment(attr.value.decor().suffix().map(|s| &**s));
                attr.value.decor_mut().set_prefix(" ");
                attr.value.decor_mut().set_suffix(value_suffix);
                format_expr(&mut attr.value, depth);
            }
            Structure::Block(block) => {
                block.ident.decor_mut().set_prefix("");
                block.ident.decor_mut().set_suffix(" ");
                for label in &mut block.labels {
                    label.decor_mut().set_prefix("");
                    label.decor_mut().set_suffix(" ");
                }
                let body = &mut block.body;
                let one_line = body.prefer_oneline()
                    && (body.is_empty()
                        || (body.len() == 1 && body.get(0).is_some_and(Structure::is_attribute)));
                if one_line {
                    body.decor_mut().set_prefix("");
                    body.decor_mut().set_suffix("");
                    if let Some(Structure::Attribute(attr)) = body.get_mut(0) {
                        attr.decor_mut().set_prefix(" ");
                        attr.decor_mut().set_suffix(" ");
                        attr.key.decor_mut().set_prefix("");
                        attr.key.decor_mut().set_suffix(" ");
                        attr.value.decor_mut().set_prefix(" ");
                        attr.value.decor_mut().set_suffix("");
                        format_expr(&mut attr.value, depth);
                    }
                    continue;
                }
                let open = same_line(body.decor().prefix().map(|p| &**p));
                let close = closing(body.decor().suffix().map(|s| &**s), depth);
                body.decor_mut().set_prefix(open);
                body.decor_mut().set_suffix(close);
                format_body(body, depth + 1, false);
            }
        }
    }
}

/// What decides one attribute's place in an alignment group.
#[derive(Clone, Copy)]
struct AlignItem {
    width: usize,
    one_line: bool,
    /// A blank line or a comment line stands before it.
    breaks_before: bool,
}

/// The key width each attribute pads to: the widest key of its group. A group is a run of
/// consecutive attributes with nothing but line breaks between them; a multi-line value ends
/// its group (its own `=` still aligns with those above, as terraform does).
fn alignment(items: Vec<Option<AlignItem>>) -> Vec<Option<usize>> {
    let mut out = vec![None; items.len()];
    let mut start = 0;
    while start < items.len() {
        let Some(first) = items[start] else {
            start += 1;
            continue;
        };
        let mut end = start + 1;
        if first.one_line {
            while end < items.len() {
                match items[end] {
                    Some(item) if !item.breaks_before => {
                        end += 1;
                        if !item.one_line {
                            break;
                        }
                    }
                    _ => break,
                }
            }
        }
        let width = items[start..end].iter().flatten().map(|i| i.width).max();
        for slot in &mut out[start..end] {
            *slot = width;
        }
        start = end;
    }
    out
}

/// Whether trivia before a structure holds a blank line or a comment.
fn breaks_group(prefix: Option<&str>) -> bool {
    let Some(prefix) = prefix else { return false };
    let lines: Vec<&str> = prefix.split('\n').collect();
    lines.len() > 1 || !lines[0].trim().is_empty()
}

/// Trivia before a structure on its own lines: comments re-indented, runs of blank lines kept
/// as one, the structure itself at `depth`. At the very top of a file leading blank lines go.
fn leading(prefix: Option<&str>, depth: usize, file_start: bool) -> String {
    let mut lines: Vec<&str> = prefix.unwrap_or("").split('\n').collect();
    let last = lines.pop().unwrap_or("").trim();
    let mut out = String::new();
    for line in comment_lines(&lines, depth, file_start) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&indent(depth));
    if !last.is_empty() {
        // An inline /* comment */ right before the structure.
        out.push_str(last);
        out.push(' ');
    }
    out
}

/// Whole lines of trivia: comments at `depth`, the inner lines of a `/* ... */` comment as
/// written, runs of blank lines as one (none at all at the start when `drop_leading_blank`).
fn comment_lines(lines: &[&str], depth: usize, drop_leading_blank: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut blank = drop_leading_blank;
    let mut in_block = false;
    for line in lines {
        if in_block {
            out.push(line.trim_end().to_string());
            in_block = !line.contains("*/");
            blank = false;
            continue;
        }
        let line = line.trim();
        if line.is_empty() {
            if !blank {
                out.push(String::new());
            }
            blank = true;
        } else {
            out.push(format!("{}{line}", indent(depth)));
            in_block = !line.starts_with('#')
                && !line.starts_with("//")
                && line
                    .rfind("/*")
                    .is_some_and(|i| !line[i + 2..].contains("*/"));
            blank = false;
        }
    }
    out
}

/// A comment after a structure on its line, one space from it; nothing else.
fn trailing_comment(suffix: Option<&str>) -> String {
    match suffix.map(str::trim) {
        Some(c) if !c.is_empty() => format!(" {c}"),
        _ => String::new(),
    }
}

/// Trivia before a closing brace: comment lines indented one level deeper, the brace at `depth`.
fn closing(suffix: Option<&str>, depth: usize) -> String {
    let mut lines: Vec<&str> = suffix.unwrap_or("").split('\n').collect();
    let last = lines.pop().unwrap_or("").trim();
    let mut kept = comment_lines(&lines, depth + 1, true);
    // Blank lines right before the brace go.
    while kept.last().is_some_and(String::is_empty) {
        kept.pop();
    }
    let mut out = String::new();
    for line in kept {
        out.push_str(&line);
        out.push('\n');
    }
    if !last.is_empty() {
        out.push_str(&indent(depth + 1));
        out.push_str(last);
        out.push('\n');
    }
    out.push_str(&indent(depth));
    out
}

/// Re-indents multi-line arrays and objects whose first line is at `depth`; one-line values are
/// left as written.
fn format_expr(expr: &mut Expression, depth: usize) {
    match expr {
        Expression::Array(array) => format_array(array, depth),
        Expression::Object(object) => format_object(object, depth),
        _ => {}
    }
}

fn format_array(array: &mut Array, depth: usize) {
    let multi_line = array
        .iter()
        .any(|e| e.decor().prefix().is_some_and(|p| p.contains('\n')))
        || array.trailing().contains('\n');
    if !multi_line {
        for e in array.iter_mut() {
            format_expr(e, depth);
        }
        return;
    }
    for e in array.iter_mut() {
        let prefix = e
            .decor()
            .prefix()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let new = if prefix.contains('\n') {
            element_prefix(&prefix, depth + 1)
        } else {
            " ".to_string()
        };
        let suffix = trailing_comment(e.decor().suffix().map(|s| &**s));
        e.decor_mut().set_prefix(new);
        e.decor_mut().set_suffix(suffix);
        format_expr(e, depth + 1);
    }
    // The first element stays on the bracket's line when it was written there.
    if let Some(first) = array.iter_mut().next()
        && first.decor().prefix().is_some_and(|p| &**p == " ")
    {
        first.decor_mut().set_prefix("");
    }
    let trailing = array.trailing().to_string();
    array.set_trailing(if trailing.contains('\n') {
        closing_inline(&trailing, depth)
    } else {
        String::new()
    });
}

fn format_object(object: &mut Object, depth: usize) {
    let multi_line = object
        .iter()
        .any(|(k, _)| k.decor().prefix().is_some_and(|p| p.contains('\n')))
        || object.trailing().contains('\n');
    if !multi_line {
        for (_, v) in object.iter_mut() {
            format_expr(v.expr_mut(), depth);
        }
        return;
    }
    let items: Vec<Option<AlignItem>> = object
        .iter()
        .map(|(k, v)| {
            let prefix = k.decor().prefix().map(|p| &**p).unwrap_or("");
            Some(AlignItem {
                width: key_width(k),
                one_line: !v.expr().to_string().contains('\n'),
                breaks_before: prefix.matches('\n').count() > 1
                    || prefix.split('\n').any(|l| !l.trim().is_empty()),
            })
        })
        .collect();
    let widths = alignment(items);
    let newline_after: Vec<bool> = object
        .iter()
        .map(|(_, v)| v.terminator() == ObjectValueTerminator::Newline)
        .collect();
    for (i, (mut key, value)) in object.iter_mut().enumerate() {
        let prefix = key
            .decor()
            .prefix()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let width = key_width(key.get());
        let pad = widths[i].map_or(0, |w| w.saturating_sub(width));
        let text = if i > 0 && newline_after[i - 1] {
            format!("\n{prefix}")
        } else if prefix.contains('\n') {
            prefix
        } else {
            format!("\n{}", prefix.trim_start())
        };
        key.decor_mut().set_prefix(element_prefix(&text, depth + 1));
        key.decor_mut().set_suffix(" ".repeat(pad + 1));
        let suffix = trailing_comment(value.expr().decor().suffix().map(|s| &**s));
        value.expr_mut().decor_mut().set_prefix(" ");
        value.expr_mut().decor_mut().set_suffix(suffix);
        value.set_terminator(ObjectValueTerminator::None);
        format_expr(value.expr_mut(), depth + 1);
    }
    let last_newline = newline_after.last().copied().unwrap_or(false);
    let trailing = object.trailing().to_string();
    let trailing = if last_newline || !trailing.contains('\n') {
        format!("\n{trailing}")
    } else {
        trailing
    };
    object.set_trailing(closing_inline(&trailing, depth));
}

/// The encoded width of an object key, decor left out.
fn key_width(key: &ObjectKey) -> usize {
    match key {
        ObjectKey::Ident(ident) => ident.as_str().chars().count(),
        ObjectKey::Expression(expr) => {
            let mut e = expr.clone();
            e.decor_mut().clear();
            e.to_string().chars().count()
        }
    }
}

/// Trivia before an element that starts its own line: what followed the previous token on its
/// line stays there, comment lines are re-indented, the element lands at `depth`.
fn element_prefix(prefix: &str, depth: usize) -> String {
    let mut lines: Vec<&str> = prefix.split('\n').collect();
    let last = lines.pop().unwrap_or("").trim();
    let mut out = same_line(lines.first().copied());
    for line in comment_lines(lines.get(1..).unwrap_or_default(), depth, true) {
        out.push('\n');
        out.push_str(&line);
    }
    out.push('\n');
    out.push_str(&indent(depth));
    if !last.is_empty() {
        out.push_str(last);
        out.push(' ');
    }
    out
}

/// Trivia before the closing bracket of a multi-line array or object.
fn closing_inline(trailing: &str, depth: usize) -> String {
    let mut lines: Vec<&str> = trailing.split('\n').collect();
    lines.pop();
    let mut out = same_line(lines.first().copied());
    let mut kept = comment_lines(lines.get(1..).unwrap_or_default(), depth + 1, true);
    while kept.last().is_some_and(String::is_empty) {
        kept.pop();
    }
    for line in kept {
        out.push('\n');
        out.push_str(&line);
    }
    out.push('\n');
    out.push_str(&indent(depth));
    out
}

/// What followed a token on its own line (a comment), one space from it.
fn same_line(text: Option<&str>) -> String {
    trailing_comment(text)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        format_hcl(text).expect("valid HCL")
    }

    /// Formatting must never change what the file means.
    fn same_meaning(a: &str, b: &str) {
        let a: hcl::Body = hcl::from_str(a).unwrap();
        let b: hcl::Body = hcl::from_str(b).unwrap();
        assert_eq!(a, b);
    }

    const MESSY: &str = r#"# header comment

migration "x" {
    scheme = "mirror"   # trailing
  settle_period="30s"
  // a comment before the closing brace
}
cluster "source" { bootstrap_servers = ["a:1",
   "b:2"] }



topic "t" {
  /* block
     comment */
  config = {
    "retention.ms" = 1000
       "cleanup.policy"  = "compact"  # why compact
    # last entry comment
  }
}
# end of file
"#;

    const CANONICAL: &str = r#"# header comment

migration "x" {
  scheme        = "mirror" # trailing
  settle_period = "30s"
  // a comment before the closing brace
}
cluster "source" { bootstrap_servers = ["a:1",
  "b:2"] }

topic "t" {
  /* block
     comment */
  config = {
    "retention.ms"   = 1000
    "cleanup.policy" = "compact" # why compact
    # last entry comment
  }
}
# end of file
"#;

    #[test]
    fn indents_aligns_and_keeps_every_comment() {
        let out = fmt(MESSY);
        assert_eq!(out, CANONICAL);
        for comment in [
            "# header comment",
            "# trailing",
            "// a comment before the closing brace",
            "/* block\n     comment */",
            "# why compact",
            "# last entry comment",
            "# end of file",
        ] {
            assert!(out.contains(comment), "lost {comment:?}:\n{out}");
        }
        same_meaning(MESSY, &out);
    }

    #[test]
    fn formatting_is_idempotent() {
        let once = fmt(MESSY);
        assert_eq!(fmt(&once), once);
    }

    #[test]
    fn alignment_groups_end_at_blank_lines_comments_and_blocks() {
        let out = fmt("a = 1\nlonger = 2\n\nb = 3\n# c\nmuch_longer = 4\nx {\n}\ny = 5\n");
        assert_eq!(
            out,
            "a      = 1\nlonger = 2\n\nb = 3\n# c\nmuch_longer = 4\nx {\n}\ny = 5\n"
        );
    }

    #[test]
    fn nested_blocks_and_multi_line_lists_are_indented_by_depth() {
        let out = fmt(
            "cluster \"target\" {\nsasl {\nmechanism = \"PLAIN\"\n}\nbootstrap_servers = [\n\"a:1\", # first\n\"b:2\",\n]\n}\n",
        );
        assert_eq!(
            out,
            "cluster \"target\" {\n  sasl {\n    mechanism = \"PLAIN\"\n  }\n  bootstrap_servers = [\n    \"a:1\", # first\n    \"b:2\",\n  ]\n}\n"
        );
    }

    #[test]
    fn heredocs_and_one_line_values_are_left_as_written() {
        let text = "hook \"h\" {\n  command = [\"sh\", \"-c\", <<EOT\n  echo   hi\nEOT\n  ]\n  env = { A = \"1\",  B = \"2\" }\n}\n";
        let out = fmt(text);
        assert!(out.contains("<<EOT\n  echo   hi\nEOT\n"), "{out}");
        assert!(out.contains("  env = { A = \"1\",  B = \"2\" }"), "{out}");
        same_meaning(text, &out);
    }

    #[test]
    fn object_entries_go_one_per_line_and_align() {
        let text = "topics {\n  config = { \"a.b\" = \"1\", \"c\" = 2,\n  }\n}\n";
        let out = fmt(text);
        assert_eq!(
            out,
            "topics {\n  config = {\n    \"a.b\" = \"1\"\n    \"c\"   = 2\n  }\n}\n"
        );
        same_meaning(text, &out);
    }

    #[test]
    fn a_syntax_error_names_line_and_column() {
        let err = format_hcl("a = {\n  b = \n").unwrap_err();
        assert!(err.starts_with("2:") || err.starts_with("3:"), "{err}");
    }

    #[test]
    fn every_example_and_valid_fixture_formats_idempotently_without_changing_meaning() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for dir in ["examples", "fixtures/config/valid", "fixtures/plans"] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "hcl") {
                        let text = std::fs::read_to_string(&path).unwrap();
                        let once = fmt(&text);
                        assert_eq!(fmt(&once), once, "{}", path.display());
                        same_meaning(&text, &once);
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen >= 8, "found only {seen} files");
    }

    #[test]
    fn check_diff_is_unified_with_file_names() {
        let d = unified_diff("main.hcl", "a=1\n", "a = 1\n");
        assert!(d.contains("--- a/main.hcl"), "{d}");
        assert!(d.contains("+++ b/main.hcl"), "{d}");
        assert!(d.contains("-a=1\n+a = 1\n"), "{d}");
    }
}
