//! `-target topic.NAME`: limit a plan or apply to some topics, as Terraform's `-target` does.
//!
//! Pure: the desired model and the snapshot are narrowed to the named source topics before the
//! plan is built, so the diff, the steps and the snapshot fingerprint cover only them.

use std::collections::BTreeSet;

use crate::config::{Desired, Pattern, TopicDefaults};
use crate::error::Error;
use crate::snapshot::{Snapshot, managed_target_names, target_name};

/// `topic.NAME` -> `NAME`; anything else is a usage error.
pub fn parse(raw: &[String]) -> Result<Vec<String>, Error> {
    let mut names = BTreeSet::new();
    for r in raw {
        match r.strip_prefix("topic.") {
            Some(name) if !name.is_empty() => {
                names.insert(name.to_string());
            }
            _ => {
                return Err(Error::Usage(format!(
                    "-target expects topic.NAME (a source topic, as in a topic \"NAME\" block), got \"{r}\""
                )));
            }
        }
    }
    Ok(names.into_iter().collect())
}

/// Every name must be a topic this configuration migrates: a selected source topic or a
/// `topic` block. An unknown one is an error that lists what could be meant.
pub fn check(desired: &Desired, snapshot: &Snapshot, names: &[String]) -> Result<(), Error> {
    let known: BTreeSet<&str> = snapshot
        .source
        .topics
        .keys()
        .map(String::as_str)
        .chain(desired.topic_blocks.iter().map(|b| b.name.as_str()))
        .collect();
    let unknown: Vec<&String> = names
        .iter()
        .filter(|n| !known.contains(n.as_str()))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let hint = unknown
        .iter()
        .filter_map(|n| {
            let near = known
                .iter()
                .filter(|k| strsim_close(n, k))
                .map(|k| format!("topic.{k}"))
                .collect::<Vec<_>>();
            (!near.is_empty()).then(|| format!(" Did you mean {}?", near.join(" or ")))
        })
        .next()
        .unwrap_or_default();
    let list: Vec<String> = unknown.iter().map(|n| format!("topic.{n}")).collect();
    Err(Error::Usage(format!(
        "-target {}: no such topic in this migration (the source has no selected topic of that name and no topic block declares it).{hint} Names are source topic names; `ferry plan` without -target lists them.",
        list.join(", ")
    )))
}

/// Cheap closeness for suggestions: same name ignoring case, or one a prefix of the other.
fn strsim_close(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    a == b || (a.len() >= 3 && b.starts_with(&a)) || (b.len() >= 3 && a.starts_with(&b))
}

/// The desired model with only these topics selected (their blocks kept, include narrowed to the
/// exact names); groups, hooks and everything else unchanged.
pub fn narrow_desired(desired: &Desired, names: &[String]) -> Desired {
    let mut narrowed = desired.clone();
    narrowed.topic_blocks.retain(|b| names.contains(&b.name));
    narrowed.topics = TopicDefaults {
        include: names
            .iter()
            .map(|n| {
                Pattern(
                    regex::Regex::new(&format!("^{}$", regex::escape(n)))
                        .expect("an escaped name is a valid pattern"),
                )
            })
            .collect(),
        ..desired.topics.clone()
    };
    narrowed
}

/// The snapshot with only these topics' details (names of every topic stay, so nothing looks
/// new or gone), and group offsets on them only.
pub fn narrow_snapshot(desired: &Desired, snapshot: &Snapshot, names: &[String]) -> Snapshot {
    let sources: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let targets: BTreeSet<String> = names.iter().map(|n| target_name(desired, n)).collect();
    let mut narrowed = snapshot.clone();
    narrowed
        .source
        .topics
        .retain(|t, _| sources.contains(t.as_str()));
    for g in narrowed.source.groups.values_mut() {
        g.offsets.retain(|t, _| sources.contains(t.as_str()));
    }
    narrowed.target.topics.retain(|t, _| targets.contains(t));
    for g in narrowed.target.groups.values_mut() {
        g.offsets.retain(|t, _| targets.contains(t));
    }
    narrowed
}

/// Target topics the whole configuration (not only the targeted part) does not manage.
pub fn unmanaged(desired: &Desired, snapshot: &Snapshot) -> Vec<String> {
    let managed = managed_target_names(desired, &snapshot.source);
    snapshot
        .target
        .topic_names
        .iter()
        .filter(|t| !managed.contains(*t))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_topic_addresses_are_accepted_and_duplicates_fold() {
        assert_eq!(
            parse(&["topic.b".into(), "topic.a".into(), "topic.b".into()]).unwrap(),
            ["a", "b"]
        );
        for bad in ["orders", "group.billing", "topic."] {
            let err = parse(&[bad.to_string()]).unwrap_err().to_string();
            assert!(err.contains("expects topic.NAME"), "{bad}: {err}");
        }
    }

    #[test]
    fn suggestions_are_close_names() {
        assert!(strsim_close("Orders", "orders"));
        assert!(strsim_close("ord", "orders"));
        assert!(!strsim_close("payments", "orders"));
    }
}
