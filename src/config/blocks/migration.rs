//! `migration "NAME" { scheme = ... }`: what is migrated, and how.

use super::TopBlock;
use std::time::Duration;

use super::duration::duration;
use crate::config::body::{Cx, Fields, Shown, optional};
use crate::config::suggest::did_you_mean;
use crate::config::{Migration, Scheme, value};

/// How long a wait condition must hold before it counts (lag 0 that stays 0).
pub(crate) const DEFAULT_SETTLE_PERIOD: Duration = Duration::from_secs(30);
/// How long apply waits on one condition before it stops with an error.
pub(crate) const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(3600);

pub(crate) fn read(cx: &mut Cx, b: &TopBlock) -> Option<Migration> {
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &["scheme", "settle_period", "wait_timeout"],
        &[],
    );
    let settle = f.get(cx, "settle_period").map(|ev| duration(cx, &ev));
    let wait = f.get(cx, "wait_timeout").map(|ev| duration(cx, &ev));
    let settle_period = optional(settle)?.unwrap_or(DEFAULT_SETTLE_PERIOD);
    let wait_timeout = optional(wait)?.unwrap_or(DEFAULT_WAIT_TIMEOUT);
    let ev = f.required(cx, "scheme", Shown::Public)?;
    let text = cx.convert(&ev, value::string)?;
    let Some(scheme) = Scheme::ALL.into_iter().find(|s| s.as_str() == text) else {
        let names: Vec<&str> = Scheme::ALL.iter().map(|s| s.as_str()).collect();
        let hint = did_you_mean(&text, names.iter().copied());
        let message = if hint.is_empty() {
            format!(
                "unknown scheme {}; expected one of {}",
                ev.show(&text),
                names.join(", ")
            )
        } else {
            format!("unknown scheme {}{hint}", ev.show(&text))
        };
        cx.errors.push(ev.error(message));
        return None;
    };
    Some(Migration {
        name: b.label().to_string(),
        scheme,
        settle_period,
        wait_timeout,
        location: b.location.clone(),
    })
}
