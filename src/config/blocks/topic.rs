//! `topic "NAME" { ... }`: one source topic declared explicitly.

use super::TopBlock;
use super::topics::{REPLICATION_FACTOR, topic_config};
use crate::config::body::{Cx, Fields, optional};
use crate::config::{TopicBlock, value};

/// Partition counts ferry accepts: Kafka has no hard limit, this catches typos.
pub(crate) const PARTITIONS: (i64, i64) = (1, 100_000);

pub(crate) fn read(cx: &mut Cx, b: &TopBlock) -> Option<TopicBlock> {
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &[
            "partitions",
            "replication_factor",
            "config",
            "target_name",
            "accept_adjustments",
        ],
        &[],
    );
    let name = b.label().to_string();
    let mut ok = true;
    if let Err(problem) = check_topic_name(&name) {
        cx.errors
            .push(b.error(format!("not a valid Kafka topic name: {problem}")));
        ok = false;
    }
    let partitions = f
        .get(cx, "partitions")
        .map(|ev| cx.convert(&ev, |v| value::integer_in(v, PARTITIONS.0, PARTITIONS.1)));
    let replication_factor = f.get(cx, "replication_factor").map(|ev| {
        cx.convert(&ev, |v| {
            value::integer_in(v, REPLICATION_FACTOR.0, REPLICATION_FACTOR.1)
        })
    });
    let config = f.get(cx, "config").map(|ev| topic_config(cx, &ev));
    let target_name = f.get(cx, "target_name").map(|ev| {
        let text = cx.convert(&ev, value::string)?;
        match check_topic_name(&text) {
            Ok(()) => Some(text),
            Err(problem) => {
                cx.errors
                    .push(ev.error(format!("not a valid Kafka topic name: {problem}")));
                None
            }
        }
    });
    let accept_adjustments = f
        .get(cx, "accept_adjustments")
        .map(|ev| cx.convert(&ev, value::boolean));
    let topic = TopicBlock {
        accept_adjustments: optional(accept_adjustments)?,
        target_name: optional(target_name)?.filter(|t| *t != name),
        name,
        partitions: optional(partitions)?,
        replication_factor: optional(replication_factor)?,
        config: optional(config)?.unwrap_or_default(),
        location: b.location.clone(),
    };
    ok.then_some(topic)
}

/// Kafka's rule: 1 to 249 characters from `[a-zA-Z0-9._-]`, and not `.` or `..`.
pub(crate) fn check_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name == "." || name == ".." {
        return Err("\".\" and \"..\" are reserved".into());
    }
    if name.len() > 249 {
        return Err(format!(
            "it has {} characters, at most 249 are allowed",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "{c:?} is not allowed; use letters, digits, '.', '_' and '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(check_topic_name("orders.v1_2-x").is_ok());
        assert!(check_topic_name("").is_err());
        assert!(check_topic_name("..").is_err());
        assert!(check_topic_name("a b").unwrap_err().contains("' '"));
        assert!(check_topic_name(&"x".repeat(249)).is_ok());
        assert!(check_topic_name(&"x".repeat(250)).is_err());
    }
}
