//! Sensitive values masked out of every message ferry prints: the error at exit, the log lines
//! (librdkafka's included), the configuration errors. A value read from a sensitive variable
//! may sit in a bootstrap address, a client property or a hook command, and a message about
//! them (a refused connection, an invalid property) quotes it; masking the text as it is
//! printed covers every such message, including the ones librdkafka words.
//!
//! Hand-written rather than a plain `str::replace` per value: every value's matches are found
//! in the original text first and replaced in one pass, so a short secret cannot match inside
//! the mask a longer one left, and values shorter than [`ANYWHERE`] characters are masked only
//! as whole tokens (a sensitive `42` must not turn `1420` into nonsense).

use std::borrow::Cow;
use std::io::Write;
use std::sync::RwLock;

/// What a masked value reads as, as in the configuration's own messages.
pub const MASK: &str = "(sensitive value)";

/// Values this long are masked wherever they occur; shorter ones only as whole tokens.
const ANYWHERE: usize = 6;

/// The values to hide.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    values: Vec<String>,
}

impl Masker {
    pub fn new(values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let mut values: Vec<String> = values
            .into_iter()
            .map(Into::into)
            .filter(|v| !v.trim().is_empty())
            .collect();
        values.sort_unstable();
        values.dedup();
        Masker { values }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every value replaced by [`MASK`].
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for value in &self.values {
            for (start, _) in text.match_indices(value.as_str()) {
                let end = start + value.len();
                if value.chars().count() >= ANYWHERE || whole_token(text, start, end) {
                    ranges.push((start, end));
                }
            }
        }
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        ranges.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in ranges {
            if end <= at {
                continue;
            }
            if start >= at {
                out.push_str(&text[at..start]);
                out.push_str(MASK);
            }
            at = end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }
}

/// Neither neighbour of `text[start..end]` is a letter or digit.
fn whole_token(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

/// The process's values to hide, installed once the configuration is read.
static INSTALLED: RwLock<Option<Masker>> = RwLock::new(None);

/// Hides `masker`'s values from every later [`mask`] call (and so from logs and the exit error).
pub fn install(masker: Masker) {
    *INSTALLED.write().unwrap_or_else(|e| e.into_inner()) = Some(masker);
}

/// `text` with the installed values masked.
pub fn mask(text: &str) -> String {
    match &*INSTALLED.read().unwrap_or_else(|e| e.into_inner()) {
        Some(m) => m.mask(text).into_owned(),
        None => text.to_string(),
    }
}

/// Standard error through [`mask`]: the log subscriber's writer. The fmt layer writes each
/// event as one buffer, so a value is never split across two writes.
pub struct MaskedStderr;

impl Write for MaskedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(mask(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_masked_anywhere_when_long_and_as_tokens_when_short() {
        let m = Masker::new(["hunter2x", "42", "sensitive", ""]);
        #[rustfmt::skip]
        let cases = [
            ("cannot reach hunter2x:9092", "cannot reach (sensitive value):9092"),
            ("in a word: xhunter2xy", "in a word: x(sensitive value)y"),
            ("found 42, not 1420", "found (sensitive value), not 1420"),
            ("port 42", "port (sensitive value)"),
            // The mask a longer value left is not matched again by a shorter one.
            ("sensitive", "(sensitive value)"),
            ("nothing here", "nothing here"),
        ];
        for (text, want) in cases {
            assert_eq!(m.mask(text), want, "{text}");
        }
    }

    #[test]
    fn overlapping_values_are_masked_once() {
        let m = Masker::new(["abcdef", "cdefgh"]);
        assert_eq!(m.mask("xabcdefghx"), "x(sensitive value)x");
    }

    #[test]
    fn empty_and_blank_values_mask_nothing() {
        let m = Masker::new(["", "  "]);
        assert!(m.is_empty());
        assert_eq!(m.mask("a b"), "a b");
    }
}
