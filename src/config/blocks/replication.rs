//! `replication { start_from = ..., compression = ..., max_lag = ..., max_lag_time = ... }`:
//! where a mirror copy starts, how the copy producer compresses, and the lag bound that counts
//! as caught up.

use super::TopBlock;
use super::duration::duration;
use crate::config::body::{Cx, Fields, optional};
use crate::config::timestamp::parse_rfc3339_ms;
use crate::config::{COMPRESSIONS, Replication, StartFrom, value};

pub(crate) fn read(cx: &mut Cx, b: &TopBlock) -> Option<Replication> {
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &["start_from", "compression", "max_lag", "max_lag_time"],
        &[],
    );
    let max_lag = match f.get(cx, "max_lag") {
        None if f.has("max_lag") => return None,
        None => Replication::default().max_lag,
        Some(ev) => match cx.convert(&ev, value::integer)? {
            n if n >= 0 => n,
            _ => {
                cx.errors.push(
                    ev.error("expected a number of records (0 or more) a partition may be behind"),
                );
                return None;
            }
        },
    };
    let lag_time = f.get(cx, "max_lag_time").map(|ev| duration(cx, &ev));
    let max_lag_time = optional(lag_time)?.unwrap_or(Replication::default().max_lag_time);
    let compression = match f.get(cx, "compression") {
        None if f.has("compression") => return None,
        None => Replication::default().compression,
        Some(ev) => match &ev.value {
            hcl::Value::String(s) if COMPRESSIONS.contains(&s.as_str()) => s.clone(),
            _ => {
                cx.errors.push(ev.error(format!(
                    "expected one of {}",
                    COMPRESSIONS
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
                return None;
            }
        },
    };
    let Some(ev) = f.get(cx, "start_from") else {
        // Absent is the default; present but failed to evaluate was reported.
        return (!f.has("start_from")).then_some(Replication {
            start_from: StartFrom::Earliest,
            compression,
            max_lag,
            max_lag_time,
        });
    };
    let start_from = match &ev.value {
        hcl::Value::Number(_) => cx.convert(&ev, value::integer).and_then(|ms| {
            if ms < 0 {
                cx.errors
                    .push(ev.error("a timestamp in milliseconds cannot be negative"));
                None
            } else {
                Some(StartFrom::Timestamp(ms))
            }
        }),
        hcl::Value::String(s) => match s.as_str() {
            "earliest" => Some(StartFrom::Earliest),
            "latest" => Some(StartFrom::Latest),
            "committed" => Some(StartFrom::Committed),
            text => match text.parse::<i64>().ok().filter(|ms| *ms >= 0) {
                Some(ms) => Some(StartFrom::Timestamp(ms)),
                None => match parse_rfc3339_ms(text) {
                    Ok(ms) => Some(StartFrom::Timestamp(ms)),
                    Err(why) if text.starts_with(|c: char| c.is_ascii_digit()) => {
                        cx.errors.push(ev.error(format!(
                            "not an RFC 3339 timestamp ({why}); write it like \"2024-05-01T00:00:00Z\" or \"2024-05-01T08:00:00+08:00\""
                        )));
                        None
                    }
                    Err(_) => {
                        cx.errors.push(ev.error(
                            "expected \"earliest\", \"latest\", \"committed\", an RFC 3339 timestamp or milliseconds since the epoch",
                        ));
                        None
                    }
                },
            },
        },
        other => {
            let found = value::type_name(other);
            cx.errors.push(ev.error(format!(
                "expected a string or a number of milliseconds, found {found}"
            )));
            None
        }
    };
    Some(Replication {
        start_from: start_from?,
        compression,
        max_lag,
        max_lag_time,
    })
}
