//! `replication { start_from = ..., compression = ..., max_lag = ..., max_lag_time = ...,
//! accept_gaps = [...] }`: where a mirror copy starts, how the copy producer compresses, the lag
//! bound that counts as caught up, and the source ranges retention deleted that may be skipped.

use super::TopBlock;
use super::duration::duration;
use crate::config::body::{Cx, Fields, optional};
use crate::config::eval::Evaluated;
use crate::config::timestamp::parse_rfc3339_ms;
use crate::config::{COMPRESSIONS, Replication, StartFrom, value};
use crate::domain::AcceptedGap;

pub(crate) fn read(cx: &mut Cx, b: &TopBlock) -> Option<Replication> {
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &[
            "start_from",
            "compression",
            "max_lag",
            "max_lag_time",
            "accept_gaps",
        ],
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
    let gaps = f.get(cx, "accept_gaps").map(|ev| accept_gaps(cx, &ev));
    let accept_gaps = optional(gaps)?.unwrap_or_default();
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
            start_from_declared: false,
            compression,
            max_lag,
            max_lag_time,
            accept_gaps,
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
        start_from_declared: true,
        compression,
        max_lag,
        max_lag_time,
        accept_gaps,
    })
}

/// `accept_gaps = [{ topic = "orders", partition = 3, from = 40, to = 54 }, ...]`.
fn accept_gaps(cx: &mut Cx, ev: &Evaluated<'_>) -> Option<Vec<AcceptedGap>> {
    const SHAPE: &str = "expected a list of { topic = \"NAME\", partition = N, from = OFFSET, to = OFFSET } \
         (the source offsets, inclusive, that retention deleted before they were copied, as the copy's error names them)";
    let hcl::Value::Array(items) = &ev.value else {
        cx.errors.push(ev.error(SHAPE));
        return None;
    };
    let mut gaps = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let gap = (|| {
            let hcl::Value::Object(fields) = item else {
                return Err(format!("item {index} is a {}", value::type_name(item)));
            };
            if let Some(unknown) = fields
                .keys()
                .find(|k| !["topic", "partition", "from", "to"].contains(&k.as_str()))
            {
                return Err(format!("item {index} has an unknown key `{unknown}`"));
            }
            let field = |name: &str| {
                fields
                    .get(name)
                    .ok_or_else(|| format!("item {index} has no `{name}`"))
            };
            let number = |name: &str| -> Result<i64, String> {
                value::integer(field(name)?).map_err(|why| format!("item {index}, `{name}`: {why}"))
            };
            let topic = value::string(field("topic")?)
                .map_err(|why| format!("item {index}, `topic`: {why}"))?;
            let partition = i32::try_from(number("partition")?)
                .ok()
                .filter(|p| *p >= 0)
                .ok_or_else(|| format!("item {index}, `partition`: expected a partition number"))?;
            let (from, to) = (number("from")?, number("to")?);
            if from < 0 || to < from {
                return Err(format!(
                    "item {index}: expected 0 <= from <= to, found from = {from}, to = {to}"
                ));
            }
            Ok(AcceptedGap {
                topic,
                partition,
                from,
                to,
            })
        })();
        match gap {
            Ok(gap) => gaps.push(gap),
            Err(why) => {
                cx.errors.push(ev.error(format!("{why}; {SHAPE}")));
                return None;
            }
        }
    }
    Some(gaps)
}
