//! Durations written like "90s", "10m" or "1h".

use std::time::Duration;

use crate::config::body::Cx;
use crate::config::eval::Evaluated;
use crate::config::value;

/// A positive humantime duration, or an error at the attribute.
pub(crate) fn duration(cx: &mut Cx, ev: &Evaluated) -> Option<Duration> {
    let text = cx.convert(ev, value::string)?;
    match humantime::parse_duration(&text) {
        Ok(d) if !d.is_zero() => Some(d),
        Ok(_) => {
            cx.errors.push(ev.error("must be longer than zero"));
            None
        }
        Err(e) => {
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
    }
}
