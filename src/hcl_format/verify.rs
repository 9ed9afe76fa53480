//! The safety net: a formatted file must hold every comment of the original and mean the same.
//!
//! The comments are found by a scanner of its own rather than through hcl-edit's tree, so a
//! comment that the parser itself mislaid is still noticed.

/// Why the formatted text may not replace the original, if it may not.
pub(super) fn check(original: &str, formatted: &str) -> Result<(), String> {
    let mut before = comments(original);
    let mut after = comments(formatted);
    before.sort();
    after.sort();
    if before != after {
        for comment in &before {
            let count = |list: &[String]| list.iter().filter(|c| *c == comment).count();
            if count(&after) < count(&before) {
                return Err(format!("drop the comment {comment:?}"));
            }
        }
        return Err("add or change a comment".to_string());
    }
    let meaning = |text: &str| hcl::parse(text).map_err(|e| e.to_string());
    match (meaning(original), meaning(formatted)) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Ok(_), Ok(_)) => Err("change what the file means".to_string()),
        (Ok(_), Err(e)) => Err(format!("write text that does not parse ({e})")),
        // The original did not parse for hcl-rs: nothing to compare with.
        (Err(_), _) => Ok(()),
    }
}

/// Every comment of an HCL text in order: `#` and `//` comments without their trailing
/// whitespace, `/* */` comments exactly. Strings, template interpolations (whose own comments
/// count) and heredocs are skipped.
pub fn comments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    scan(text, &mut i, &mut out, false);
    out
}

/// Scans from `*i`; `nested`: inside `${ ... }`, up to and past its closing brace.
fn scan(text: &str, i: &mut usize, out: &mut Vec<String>, nested: bool) {
    let b = text.as_bytes();
    let mut braces = 0usize;
    while *i < b.len() {
        match (b[*i], b.get(*i + 1).copied()) {
            (b'#', _) | (b'/', Some(b'/')) => {
                let end = text[*i..].find('\n').map_or(b.len(), |e| *i + e);
                out.push(text[*i..end].trim_end().to_string());
                *i = end;
            }
            (b'/', Some(b'*')) => {
                let end = text[*i + 2..].find("*/").map_or(b.len(), |e| *i + e + 4);
                out.push(text[*i..end].to_string());
                *i = end;
            }
            (b'"', _) => {
                *i += 1;
                skip_string(text, i, out);
            }
            (b'<', Some(b'<')) => *i = heredoc_end(text, *i).unwrap_or(*i + 2),
            (b'{', _) => {
                braces += 1;
                *i += 1;
            }
            (b'}', _) => {
                *i += 1;
                if nested && braces == 0 {
                    return;
                }
                braces = braces.saturating_sub(1);
            }
            _ => *i += 1,
        }
    }
}

/// Skips a quoted string from after its opening quote to after its closing one.
fn skip_string(text: &str, i: &mut usize, out: &mut Vec<String>) {
    let b = text.as_bytes();
    while *i < b.len() {
        match (b[*i], b.get(*i + 1).copied(), b.get(*i + 2).copied()) {
            (b'\\', _, _) => *i += 2,
            (b'"', _, _) => {
                *i += 1;
                return;
            }
            (b'\n', _, _) => return,
            // `$${` and `%%{` are escapes, not interpolations.
            (b'$', Some(b'$'), Some(b'{')) | (b'%', Some(b'%'), Some(b'{')) => *i += 3,
            (b'$' | b'%', Some(b'{'), _) => {
                *i += 2;
                scan(text, i, out, true);
            }
            _ => *i += 1,
        }
    }
}

/// Where a heredoc starting at `start` (`<<ID` or `<<-ID` and a newline) ends: after the
/// marker on its closing line. `None` when no heredoc starts there.
fn heredoc_end(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start + 2..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let id_len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    let id = &rest[..id_len];
    if id.is_empty() || !rest[id_len..].starts_with('\n') {
        return None;
    }
    let mut pos = text.len() - rest.len() + id_len + 1;
    while pos < text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |e| pos + e);
        let line = &text[pos..line_end];
        let trimmed = line.trim_start();
        if let Some(after) = trimmed.strip_prefix(id)
            && !after.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-')
        {
            return Some(line_end - after.len());
        }
        pos = line_end + 1;
    }
    Some(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_in_strings_and_heredocs_are_not_comments() {
        let text = "a = \"# no // no /* no */\" # yes\nb = <<EOT\n# no\nEOT\nc = \"${x /* yes */}\" // yes  \n/* yes\n */";
        assert_eq!(
            comments(text),
            ["# yes", "/* yes */", "// yes", "/* yes\n */"]
        );
    }

    #[test]
    fn escapes_and_nested_braces_do_not_end_a_string_early() {
        let text = "a = \"\\\" $${x} ${ {a = \"}\"}.a } # no\" # yes\n";
        assert_eq!(comments(text), ["# yes"]);
    }

    #[test]
    fn the_check_names_a_dropped_comment_and_a_change_of_meaning() {
        assert_eq!(
            check("a = 1 # c\n", "a = 1\n").unwrap_err(),
            "drop the comment \"# c\""
        );
        assert_eq!(
            check("a = 1\n", "a = 2\n").unwrap_err(),
            "change what the file means"
        );
        assert!(check("a = 1 # c\n", "a   =   1   # c\n").is_ok());
    }
}
