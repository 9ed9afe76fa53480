//! Durations written like "90s", "10m" or "1h", at most [`MAX_DURATION`] (7 days): a longer one
//! would overflow deadline arithmetic or make a wait endless.

use std::time::Duration;

use crate::config::body::Cx;
use crate::config::eval::Evaluated;
use crate::config::value;
use crate::limits::{MAX_DURATION, MAX_DURATION_TEXT, duration_error};

/// A positive humantime duration of at most 7 days, or an error at the attribute.
pub(crate) fn duration(cx: &mut Cx, ev: &Evaluated) -> Option<Duration> {
    let text = cx.convert(ev, value::string)?;
    let parsed = humantime::parse_duration(&text);
    match (
        &parsed,
        duration_error(&parsed, MAX_DURATION, MAX_DURATION_TEXT),
    ) {
        (Ok(d), None) if !d.is_zero() => Some(*d),
        (Ok(_), None) => {
            cx.errors.push(ev.error("must be longer than zero"));
            None
        }
        (Err(e), _) if !matches!(e, humantime::DurationError::NumberOverflow) => {
            // humantime quotes parts of the text: not for a sensitive value.
            let why = if ev.sensitive {
                String::new()
            } else {
                format!(" ({e})")
            };
            cx.errors.push(ev.error(format!(
                "not a duration{why}; write it like \"90s\", \"10m\" or \"1h\""
            )));
            None
        }
        (_, why) => {
            let why = why.unwrap_or_default();
            cx.errors.push(ev.error(format!(
                "{} {why}: write a shorter duration, like \"1h\" or \"2d\"",
                ev.show(&text)
            )));
            None
        }
    }
}
