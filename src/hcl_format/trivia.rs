//! Trivia (whitespace and comments between tokens) in one canonical shape.
//!
//! hcl-edit keeps trivia as raw text in the decor of the token before or after it, and which
//! token owns a comment depends on the punctuation around it: after `a = 1, # c` the comment is
//! the next key's prefix, after `a = 1 # c` it is the value's suffix. The formatter removes such
//! punctuation, so deciding layout from the raw slots made a second run see the comment in
//! another slot and lay the lines out differently. Here the trivia of every slot between two
//! tokens is merged and split into [`Gap`]: what stays on the line before, whole lines, and what
//! stands on the line after. Layout is decided from the `Gap` only and a rendered `Gap` parses
//! back into the same `Gap`, which is what makes one run reach the fixed point.

/// One comment, its text exactly as written (a line comment without its trailing whitespace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Comment {
    pub text: String,
    /// `#` or `//`: runs to the end of its line, so nothing may follow it on that line.
    pub line: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Newline,
    Comment(Comment),
}

/// Splits trivia into newlines and comments; spaces, tabs and stray carriage returns go.
/// Anything else (never produced by the parser for a decor) is kept as an opaque inline piece,
/// so it survives rather than vanishes, and the safety net in `verify` judges the result.
fn pieces(raw: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if c == '\n' {
            out.push(Piece::Newline);
            rest = &rest[1..];
        } else if c == ' ' || c == '\t' || c == '\r' {
            rest = &rest[1..];
        } else if c == '#' || rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            out.push(Piece::Comment(Comment {
                text: rest[..end].trim_end().to_string(),
                line: true,
            }));
            rest = &rest[end..];
        } else if rest.starts_with("/*") {
            let end = rest[2..].find("*/").map_or(rest.len(), |i| i + 4);
            out.push(Piece::Comment(Comment {
                text: rest[..end].to_string(),
                line: false,
            }));
            rest = &rest[end..];
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '#' || c == '/')
                .filter(|&i| i > 0)
                .unwrap_or(c.len_utf8());
            out.push(Piece::Comment(Comment {
                text: rest[..end].to_string(),
                line: false,
            }));
            rest = &rest[end..];
        }
    }
    out
}

/// The comments of trivia that cannot hold a line break (between a key and `=`, between block
/// labels): all of them, in order.
pub(super) fn inline_comments(raw: &str) -> Vec<Comment> {
    pieces(raw)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Comment(c) => Some(c),
            Piece::Newline => None,
        })
        .collect()
}

/// A whole line of trivia.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Line {
    Blank,
    Comments(Vec<Comment>),
}

/// The trivia between two tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Gap {
    /// Comments on the line of the token before, after it.
    pub same_line: Vec<Comment>,
    /// Whole lines in between: comment lines and (runs of blank lines as one) blank lines.
    pub lines: Vec<Line>,
    /// Comments on the line of the token after, before it.
    pub before: Vec<Comment>,
    /// A line break separates the two tokens.
    pub broken: bool,
}

impl Gap {
    /// The trivia of the slots between two tokens, in order. `at_line_start`: the first slot
    /// starts a line (a structure's prefix starts after its predecessor's newline).
    pub fn new<'a>(slots: impl IntoIterator<Item = &'a str>, at_line_start: bool) -> Gap {
        let mut segments: Vec<Vec<Comment>> = vec![Vec::new()];
        if at_line_start {
            segments.push(Vec::new());
        }
        for slot in slots {
            for piece in pieces(slot) {
                match piece {
                    Piece::Newline => segments.push(Vec::new()),
                    Piece::Comment(c) => segments.last_mut().expect("never empty").push(c),
                }
            }
        }
        let mut gap = Gap::default();
        let mut before = segments.pop().expect("never empty");
        if segments.is_empty() {
            gap.same_line = before;
            return gap;
        }
        gap.broken = true;
        // A line comment at the very end of a file has no newline after it; it is a line.
        let eof_line = before.iter().any(|c| c.line);
        gap.same_line = segments.remove(0);
        for segment in segments {
            gap.push_line(segment);
        }
        if eof_line {
            gap.push_line(std::mem::take(&mut before));
        }
        gap.before = before;
        gap
    }

    fn push_line(&mut self, comments: Vec<Comment>) {
        if comments.is_empty() {
            if self.lines.last() != Some(&Line::Blank) {
                self.lines.push(Line::Blank);
            }
        } else {
            self.lines.push(Line::Comments(comments));
        }
    }

    /// Starts the token after on a line of its own; comments written between the two tokens on
    /// one line stay in front of the token after.
    pub fn force_break(&mut self) {
        if !self.broken {
            self.broken = true;
            self.before = std::mem::take(&mut self.same_line);
        }
    }

    pub fn trim_leading_blank(&mut self) {
        if self.lines.first() == Some(&Line::Blank) {
            self.lines.remove(0);
        }
    }

    /// Drops a blank line right before the token after (one before a comment that stands in
    /// front of it stays).
    pub fn trim_trailing_blank(&mut self) {
        if self.before.is_empty() && self.lines.last() == Some(&Line::Blank) {
            self.lines.pop();
        }
    }

    /// A comment line, a blank line or a comment in front of the token after: what ends a group
    /// of aligned `=`.
    pub fn separates(&self) -> bool {
        !self.lines.is_empty() || !self.before.is_empty()
    }

    /// The comments kept on the line of the token before: ` # c`.
    pub fn render_same_line(&self) -> String {
        after_token(&self.same_line)
    }

    /// The whole lines, each ending in a newline, comments at `depth`.
    pub fn render_lines(&self, depth: usize) -> String {
        let mut out = String::new();
        for line in &self.lines {
            if let Line::Comments(comments) = line {
                out.push_str(&indent(depth));
                out.push_str(&join(comments));
            }
            out.push('\n');
        }
        out
    }

    /// The lines and the start of the next token's line at `depth`: everything after the
    /// newline that ends the line of the token before.
    pub fn render_to_token(&self, depth: usize) -> String {
        format!(
            "{}{}{}",
            self.render_lines(depth),
            indent(depth),
            before_token(&self.before)
        )
    }

    /// The lines before a closing brace or bracket at `depth` (or the end of the file): comments
    /// at `inner`, the ones that stood in front of the bracket on a line of their own.
    pub fn render_to_closing(&self, inner: usize, depth: usize) -> String {
        let mut out = self.render_lines(inner);
        if !self.before.is_empty() {
            out.push_str(&indent(inner));
            out.push_str(&join(&self.before));
            out.push('\n');
        }
        out.push_str(&indent(depth));
        out
    }
}

pub(super) fn indent(depth: usize) -> String {
    "  ".repeat(depth)
}

fn join(comments: &[Comment]) -> String {
    comments
        .iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Comments after a token on its line, one space from it and from each other.
pub(super) fn after_token(comments: &[Comment]) -> String {
    comments.iter().map(|c| format!(" {}", c.text)).collect()
}

/// Comments in front of a token on its line, each followed by one space.
pub(super) fn before_token(comments: &[Comment]) -> String {
    comments.iter().map(|c| format!("{} ", c.text)).collect()
}

/// Trivia between two tokens on one line: `sep` when there is no comment, else the comments
/// with one space either side.
pub(super) fn between(comments: &[Comment], sep: &str) -> String {
    if comments.is_empty() {
        sep.to_string()
    } else {
        format!(" {} ", join(comments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(comments: &[Comment]) -> Vec<&str> {
        comments.iter().map(|c| c.text.as_str()).collect()
    }

    #[test]
    fn a_gap_splits_into_same_line_lines_and_before() {
        let gap = Gap::new([" # after  ", "\n\n\n  // own\n /* x */ "], false);
        assert_eq!(texts(&gap.same_line), ["# after"]);
        assert_eq!(
            gap.lines,
            [
                Line::Blank,
                Line::Comments(vec![Comment {
                    text: "// own".into(),
                    line: true
                }])
            ]
        );
        assert_eq!(texts(&gap.before), ["/* x */"]);
        assert!(gap.broken && gap.separates());
    }

    #[test]
    fn a_block_comment_with_newlines_is_one_piece_and_no_line_break() {
        let gap = Gap::new([" /* a\n   b */ "], false);
        assert!(!gap.broken);
        assert_eq!(texts(&gap.same_line), ["/* a\n   b */"]);
    }

    #[test]
    fn a_rendered_gap_reads_back_as_the_same_gap() {
        let gap = Gap::new(["  # a\n\n\n\t/* b */ # c\n  /* d */  "], false);
        let text = format!("{}\n{}", gap.render_same_line(), gap.render_to_token(1));
        assert_eq!(Gap::new([text.as_str()], false), gap);
    }

    #[test]
    fn a_line_comment_at_the_end_of_a_file_is_a_line() {
        let gap = Gap::new(["\n# last"], true);
        assert!(gap.before.is_empty());
        assert_eq!(gap.render_lines(0), "\n# last\n");
    }
}
