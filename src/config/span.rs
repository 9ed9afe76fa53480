//! Byte spans from hcl-edit -> line and column in a file, for error locations.

use std::ops::Range;
use std::path::PathBuf;

use super::Location;

/// One configuration file, kept whole so spans can be turned into lines and columns.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// The directory joined with the file name: what error messages print.
    pub path: PathBuf,
    pub text: String,
    /// Byte offset of the start of every line.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    /// The location of a span's start (1-based line, 1-based column in characters).
    /// Parsed nodes always carry a span; a missing one falls back to the top of the file.
    pub fn location(&self, span: Option<Range<usize>>) -> Location {
        match span {
            Some(range) => self.location_at(range.start),
            None => Location {
                file: self.path.clone(),
                line: 1,
                column: 1,
            },
        }
    }

    pub fn location_at(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        Location {
            file: self.path.clone(),
            line,
            column,
        }
    }

    /// A location from the parser's own line and column (syntax errors).
    pub fn location_line_col(&self, line: usize, column: usize) -> Location {
        Location {
            file: self.path.clone(),
            line,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_one_based_lines_and_columns() {
        let f = SourceFile::new("a.hcl".into(), "ab\ncé d\n".into());
        assert_eq!((f.location_at(0).line, f.location_at(0).column), (1, 1));
        assert_eq!((f.location_at(3).line, f.location_at(3).column), (2, 1));
        // "é" is two bytes but one column.
        assert_eq!((f.location_at(7).line, f.location_at(7).column), (2, 4));
    }
}
