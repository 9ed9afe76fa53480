//! Checks across blocks: how many of each block, duplicate and colliding topics, hooks against
//! the scheme. Block readers check everything that one block can decide alone.

use std::collections::BTreeMap;
use std::path::Path;

use super::blocks::TopBlock;
use super::suggest::did_you_mean;
use super::{ConfigError, Migration, Scheme, TopicBlock};

/// The first of blocks that may appear at most once; every further one is an error.
pub(crate) fn at_most_one<'b, 'a>(
    blocks: &'b [TopBlock<'a>],
    errors: &mut Vec<ConfigError>,
) -> Option<&'b TopBlock<'a>> {
    let first = blocks.first()?;
    for extra in &blocks[1..] {
        errors.push(extra.error(format!(
            "declared twice; the first is at {} (at most one is allowed)",
            first.at()
        )));
    }
    Some(first)
}

/// Blocks that must appear exactly once; `example` shows how to declare a missing one.
pub(crate) fn exactly_one<'b, 'a>(
    blocks: &'b [TopBlock<'a>],
    dir: &Path,
    key: &str,
    example: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<&'b TopBlock<'a>> {
    if blocks.is_empty() {
        errors.push(ConfigError::in_dir(
            dir,
            key,
            format!("missing; declare it in one of the files: {example}"),
        ));
    }
    at_most_one(blocks, errors)
}

/// Blocks with a name label (`topic`, `hook`, `variable`): a name declared again is an error at
/// the later block, naming the first. Returns the first block of each name, in order.
pub(crate) fn unique_names<'b, 'a>(
    blocks: &'b [TopBlock<'a>],
    errors: &mut Vec<ConfigError>,
) -> Vec<&'b TopBlock<'a>> {
    let mut seen: BTreeMap<&str, &TopBlock> = BTreeMap::new();
    let mut out = Vec::new();
    for b in blocks {
        match seen.get(b.label()) {
            Some(first) => {
                errors.push(b.error(format!("declared twice; the first is at {}", first.at())))
            }
            None => {
                seen.insert(b.label(), b);
                out.push(b);
            }
        }
    }
    out
}

/// Two topics may not land on the same target topic (`target_name`, else the name).
pub(crate) fn target_names(topics: &[TopicBlock], errors: &mut Vec<ConfigError>) {
    let mut in_order: Vec<&TopicBlock> = topics.iter().collect();
    in_order.sort_by(|a, b| {
        (&a.location.file, a.location.line).cmp(&(&b.location.file, b.location.line))
    });
    let mut targets: BTreeMap<&str, &TopicBlock> = BTreeMap::new();
    for t in in_order {
        let target = t.target_name.as_deref().unwrap_or(&t.name);
        match targets.get(target) {
            Some(first) => {
                let file = first
                    .location
                    .file
                    .file_name()
                    .map(|f| f.to_string_lossy())
                    .unwrap_or_default();
                let key = match t.target_name {
                    Some(_) => format!("topic \"{}\".target_name", t.name),
                    None => format!("topic \"{}\"", t.name),
                };
                errors.push(ConfigError::new(
                    t.location.clone(),
                    key,
                    format!(
                        "target topic \"{target}\" is also the target of topic \"{}\" ({file}:{}); two source topics cannot migrate into one",
                        first.name, first.location.line
                    ),
                ));
            }
            None => {
                targets.insert(target, t);
            }
        }
    }
}

/// `accept_adjustments` approves what CKafka's rules change; without a `ckafka` block on the
/// target nothing is adjusted, so the key would be silently meaningless.
pub(crate) fn adjustments_need_ckafka(topics: &[TopicBlock], errors: &mut Vec<ConfigError>) {
    for t in topics.iter().filter(|t| t.accept_adjustments.is_some()) {
        errors.push(ConfigError::new(
            t.location.clone(),
            format!("topic \"{}\".accept_adjustments", t.name),
            "accept_adjustments only applies to a CKafka target: add a `ckafka` block to cluster \"target\", or remove the key",
        ));
    }
}

/// Hooks must be ones the scheme calls, and the ones it cannot run without must be there.
/// Works on the blocks, so a hook with a wrong key still counts as declared.
pub(crate) fn hooks(migration: &Migration, hooks: &[&TopBlock], errors: &mut Vec<ConfigError>) {
    let scheme = migration.scheme;
    let known: Vec<&str> = scheme.hooks().iter().map(|(name, _)| *name).collect();
    let mut replaced: Vec<&str> = Vec::new();
    for b in hooks {
        if known.contains(&b.label()) {
            continue;
        }
        if let Some((pair, why)) = mirror_split(scheme, b.label()) {
            replaced.extend(pair);
            errors.push(b.error(format!(
                "scheme mirror moves {why} in two hooks, so that ferry can act while none of them runs; replace hook \"{}\" with\n  hook \"{}\" {{ command = [\"...\"] }}\n  hook \"{}\" {{ command = [\"...\"] }}\n(docs/user-guide.md, \"The mirror cutover\", says what each must do)",
                b.label(),
                pair[0],
                pair[1]
            )));
            continue;
        }
        let hint = did_you_mean(b.label(), known.iter().copied());
        errors.push(b.error(format!(
            "scheme {scheme} does not call a hook by this name{hint} (it calls {})",
            known.join(", ")
        )));
    }
    for (name, required) in scheme.hooks() {
        if *required && !replaced.contains(name) && !hooks.iter().any(|b| b.label() == *name) {
            errors.push(ConfigError::new(
                migration.location.clone(),
                format!("migration \"{}\"", migration.name),
                format!(
                    "scheme {scheme} needs hook \"{name}\": declare hook \"{name}\" {{ command = [\"...\"] }}"
                ),
            ));
        }
    }
}

/// The two hooks that replaced one of mirror's earlier one-step switches, and what they move:
/// offsets are translated after consumers stopped on the source and before they start on the
/// target; the tail is copied and verified after producers stopped and before they start.
fn mirror_split(scheme: Scheme, hook: &str) -> Option<([&'static str; 2], &'static str)> {
    match (scheme, hook) {
        (Scheme::Mirror, "switch_consumers") => Some((
            ["stop_source_consumers", "start_target_consumers"],
            "consumers",
        )),
        (Scheme::Mirror, "switch_producers") => Some((
            ["stop_source_producers", "start_target_producers"],
            "producers",
        )),
        _ => None,
    }
}
