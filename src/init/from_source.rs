//! `ferry init --from-source`: the source cluster as HCL. Reading is one batched round of
//! cluster calls ([`read_source`]); turning it into files is pure ([`generate`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

use crate::cluster::{ClusterAccess, ClusterError, TopicConfig};
use crate::config::Desired;
use crate::hcl_format::format_hcl;
use crate::platform::Platform;
use crate::snapshot::is_internal;

/// What `init --from-source` needs from the source cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceView {
    pub cluster_id: Option<String>,
    /// Selected topics with their partition counts.
    pub topics: BTreeMap<String, i32>,
    pub configs: BTreeMap<String, TopicConfig>,
    /// Groups (selected by `consumer_groups`, or all without one) and the selected topics they
    /// committed offsets on.
    pub groups: BTreeMap<String, BTreeSet<String>>,
}

/// The files to write and what they hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// (file name, text), in canonical layout.
    pub files: Vec<(String, String)>,
    pub topics: usize,
    /// Source topic configs written only as `# not carried` comments.
    pub not_carried: usize,
    pub groups: Vec<String>,
    /// Topics left out because a topic block elsewhere in the configuration declares them.
    pub already_declared: Vec<String>,
}

pub const TOPICS_FILE: &str = "topics.hcl";
pub const GROUPS_FILE: &str = "groups.hcl";

/// A topic `init` writes: what `topics` selects, or every topic when it selects nothing (no
/// include patterns), `exclude` applying either way. Internal topics never.
fn selected(desired: &Desired, topic: &str) -> bool {
    if is_internal(topic) {
        return false;
    }
    if desired.topics.include.is_empty() {
        desired.topic_block(topic).is_some()
            || !desired.topics.exclude.iter().any(|p| p.is_match(topic))
    } else {
        desired.selects_topic(topic)
    }
}

fn group_selected(desired: &Desired, group: &str) -> bool {
    if desired.groups.include.is_empty() {
        !desired.groups.exclude.iter().any(|p| p.is_match(group))
    } else {
        desired.selects_group(group)
    }
}

pub fn read_source(
    desired: &Desired,
    source: &dyn ClusterAccess,
) -> Result<SourceView, ClusterError> {
    let meta = source.metadata()?;
    let topics: BTreeMap<String, i32> = meta
        .topics
        .iter()
        .filter(|(name, _)| selected(desired, name))
        .map(|(name, t)| (name.clone(), t.partitions.len() as i32))
        .collect();
    let names: Vec<String> = topics.keys().cloned().collect();
    let configs = if names.is_empty() {
        BTreeMap::new()
    } else {
        source.topic_configs(&names)?
    };
    let listed: Vec<String> = source
        .list_groups()?
        .into_iter()
        .map(|g| g.name)
        .filter(|g| group_selected(desired, g))
        .collect();
    let mut groups = BTreeMap::new();
    if !listed.is_empty() {
        for (group, offsets) in source.group_offsets(&listed)? {
            let on: BTreeSet<String> = offsets
                .into_iter()
                .filter(|(t, parts)| topics.contains_key(t) && !parts.is_empty())
                .map(|(t, _)| t)
                .collect();
            if !on.is_empty() {
                groups.insert(group, on);
            }
        }
    }
    Ok(SourceView {
        cluster_id: meta.cluster_id,
        topics,
        configs,
        groups,
    })
}

/// One `topic` block per source topic (partitions and the configs set on the topic), and a
/// `consumer_groups` block naming the groups when the configuration has none. Topics a block
/// in another file already declares are left to that block; `output` is the file being
/// (re)written, whose own blocks do not count.
pub fn generate(desired: &Desired, view: &SourceView, output: &Path) -> Generated {
    let platform = Platform::Kafka;
    let declared_elsewhere = |topic: &str| {
        desired
            .topic_block(topic)
            .is_some_and(|b| b.location.file.file_name() != output.file_name())
    };
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Written by `ferry init --from-source` from the source cluster{}: one block per selected",
        view.cluster_id
            .as_deref()
            .map_or(String::new(), |id| format!(" (id \"{id}\")"))
    );
    let _ = writeln!(
        text,
        "# topic with its partition count and the configs set on it (keys at their default are left out)."
    );
    let _ = writeln!(
        text,
        "# Edit freely; `ferry init --from-source --force` writes this file again.\n"
    );
    let mut topics = 0;
    let mut not_carried = 0;
    let mut already_declared = Vec::new();
    for (name, partitions) in &view.topics {
        if declared_elsewhere(name) {
            already_declared.push(name.clone());
            continue;
        }
        topics += 1;
        let mut carried = Vec::new();
        let mut comments = Vec::new();
        if let Some(config) = view.configs.get(name) {
            for (key, value) in &config.entries {
                // A complete response marks defaults; a partial one holds only the set keys.
                if config.complete && value.is_default {
                    continue;
                }
                let shown = match (&value.value, value.sensitive) {
                    (_, true) => "(sensitive)".to_string(),
                    (Some(v), false) => quote(v),
                    (None, false) => continue,
                };
                if platform.key(key).is_some() && !value.sensitive {
                    carried.push((key.clone(), shown));
                } else {
                    let reason = platform.why_not_carried(key).unwrap_or(if value.sensitive {
                        "sensitive"
                    } else {
                        "not a topic config ferry knows"
                    });
                    comments.push(format!("# not carried: {key} = {shown} ({reason})"));
                }
            }
        }
        not_carried += comments.len();
        let _ = writeln!(text, "topic \"{name}\" {{");
        let _ = writeln!(text, "  partitions = {partitions}");
        if !carried.is_empty() {
            let _ = writeln!(text, "  config = {{");
            for (key, value) in &carried {
                let _ = writeln!(text, "    \"{key}\" = {value}");
            }
            let _ = writeln!(text, "  }}");
        }
        for c in &comments {
            let _ = writeln!(text, "  {c}");
        }
        let _ = writeln!(text, "}}\n");
    }
    let mut files = vec![(TOPICS_FILE.to_string(), canonical(&text))];

    let groups: Vec<String> = view.groups.keys().cloned().collect();
    if desired.groups.include.is_empty() && !groups.is_empty() {
        let mut g = String::from(
            "# Written by `ferry init --from-source`: the source's consumer groups with committed offsets\n# on the selected topics. A regular expression per group; widen them as you like.\n\nconsumer_groups {\n  include = [\n",
        );
        for name in &groups {
            let _ = writeln!(g, "    {},", quote(&format!("^{}$", regex::escape(name))));
        }
        g.push_str("  ]\n}\n");
        files.push((GROUPS_FILE.to_string(), canonical(&g)));
    }
    Generated {
        files,
        topics,
        not_carried,
        groups,
        already_declared,
    }
}

/// An HCL string literal, escaped by hcl-rs (quotes, backslashes, `${` and `%{`).
fn quote(text: &str) -> String {
    hcl::format::to_string(&hcl::Value::String(text.to_string())).expect("a string formats")
}

fn canonical(text: &str) -> String {
    format_hcl(text).expect("generated HCL parses")
}
