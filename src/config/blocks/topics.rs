//! `topics { ... }` and `consumer_groups { ... }`: which topics and groups migrate, plus the
//! helpers both share with `topic` blocks (regex lists, topic config maps).

use std::collections::BTreeMap;

use regex::Regex;

use super::TopBlock;
use crate::config::body::{Cx, Fields, optional};
use crate::config::eval::Evaluated;
use crate::config::suggest::did_you_mean;
use crate::config::{GroupSelection, Pattern, TopicDefaults, value};
use crate::limits::MAX_PATTERNS;
use crate::platform::Platform;

/// Replication factors Kafka accepts (a 16-bit field on the wire).
pub(crate) const REPLICATION_FACTOR: (i64, i64) = (1, 32767);

pub(crate) fn read_topics(cx: &mut Cx, b: &TopBlock) -> Option<TopicDefaults> {
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &["include", "exclude", "replication_factor", "config"],
        &[],
    );
    let include = f.get(cx, "include").map(|ev| patterns(cx, &ev));
    let exclude = f.get(cx, "exclude").map(|ev| patterns(cx, &ev));
    let replication_factor = f.get(cx, "replication_factor").map(|ev| {
        cx.convert(&ev, |v| {
            value::integer_in(v, REPLICATION_FACTOR.0, REPLICATION_FACTOR.1)
        })
    });
    let config = f.get(cx, "config").map(|ev| topic_config(cx, &ev));
    Some(TopicDefaults {
        include: include.unwrap_or(Some(Vec::new()))?,
        exclude: exclude.unwrap_or(Some(Vec::new()))?,
        replication_factor: optional(replication_factor)?,
        config: config.unwrap_or(Some(BTreeMap::new()))?,
    })
}

pub(crate) fn read_groups(cx: &mut Cx, b: &TopBlock) -> Option<GroupSelection> {
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &["include", "exclude"],
        &[],
    );
    let include = f.get(cx, "include").map(|ev| patterns(cx, &ev));
    let exclude = f.get(cx, "exclude").map(|ev| patterns(cx, &ev));
    Some(GroupSelection {
        include: include.unwrap_or(Some(Vec::new()))?,
        exclude: exclude.unwrap_or(Some(Vec::new()))?,
    })
}

/// A list of regular expressions, each compiled; a bad one is reported at its list element.
pub(crate) fn patterns(cx: &mut Cx, ev: &Evaluated) -> Option<Vec<Pattern>> {
    let texts = cx.convert(ev, value::string_list)?;
    if texts.len() > MAX_PATTERNS {
        cx.errors.push(ev.error(format!(
            "holds {} patterns, more than the {MAX_PATTERNS} ferry compiles (each takes memory): combine them into fewer regular expressions, such as \"^orders\\\\.\" for every topic starting with \"orders.\"",
            texts.len()
        )));
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, text) in texts.iter().enumerate() {
        match Regex::new(text) {
            Ok(re) => out.push(Pattern(re)),
            Err(e) => {
                ok = false;
                cx.error(
                    ev.element_location(i),
                    format!("{}[{i}]", ev.key),
                    format!(
                        "invalid regular expression {}: {}",
                        ev.show(text),
                        regex_error(&e)
                    ),
                );
            }
        }
    }
    ok.then_some(out)
}

/// The regex crate prints a multi-line diagram; keep the one line that says what is wrong.
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("error: ").map(str::to_string))
        .unwrap_or_else(|| text.lines().last().unwrap_or_default().trim().to_string())
}

/// A topic config map: keys must be topic configs Kafka accepts, values become Kafka's strings.
pub(crate) fn topic_config(cx: &mut Cx, ev: &Evaluated) -> Option<BTreeMap<String, String>> {
    let entries = cx.convert(ev, value::string_map)?;
    let platform = Platform::Kafka;
    let mut ok = true;
    for (key, v) in &entries {
        let at = ev.entry_location(key);
        let path = format!("{}[\"{key}\"]", ev.key);
        if platform.key(key).is_none() {
            ok = false;
            let message = if platform.why_not_carried(key) == Some("broker-specific") {
                "broker-specific: ferry never sets it on the target".to_string()
            } else {
                let hint = did_you_mean(key, platform.keys().iter().map(|k| k.key));
                format!("unknown topic config key for {}{hint}", platform.name())
            };
            cx.error(at, path, message);
        } else if let Err(message) = v {
            ok = false;
            cx.error(at, path, message.clone());
        }
    }
    ok.then(|| value::ok_entries(&entries))
}
