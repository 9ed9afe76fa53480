//! Step "translate offsets": with the consumers stopped on the source, each group's committed
//! source offset goes through the copy's offset map and is committed on the target, then read
//! back, before any consumer starts there.

use std::time::Instant;

use crate::cluster::{GroupActivity, PartitionOffsets};
use crate::copy::Translation;
use crate::error::Error;
use crate::state::{PartitionCopy, State, StepOutcome, TranslatedOffset};

use super::super::ApplyError;
use super::super::waits::WaitTiming;
use super::pass::Copies;
use super::{Mirror, recorded_copies};

impl Mirror<'_> {
    pub fn translate_offsets(
        &self,
        groups: &[String],
        timing: WaitTiming,
        state: &State,
    ) -> Result<StepOutcome, Error> {
        let on_source = self.patiently("reading the groups' source offsets", || {
            Ok(self.source.group_offsets(groups)?)
        })?;
        self.refuse_target_members(groups)?;
        let copies = self.copy_covering(&on_source, timing, state)?;
        let on_target = self.patiently("reading the groups' target offsets", || {
            Ok(self.target.group_offsets(groups)?)
        })?;

        let mut translated = Vec::new();
        for group in groups {
            let mut commit = PartitionOffsets::new();
            let Some(offsets) = on_source.get(group) else {
                continue;
            };
            for (topic, parts) in offsets {
                for (&partition, &committed) in parts {
                    let Some(copy) = copies.get(&(topic.clone(), partition)) else {
                        continue;
                    };
                    if committed < 0 {
                        continue;
                    }
                    let (target_offset, mut method) =
                        translation(group, topic, partition, committed, copy)?;
                    let existing = on_target
                        .get(group)
                        .and_then(|o| o.get(&copy.target_topic))
                        .and_then(|o| o.get(&partition))
                        .copied();
                    let kept = match existing {
                        Some(e) if e > target_offset => {
                            method = format!(
                                "kept {e}: the group is already further on the target (translated {target_offset}); ferry never moves an offset back"
                            );
                            e
                        }
                        Some(e) if e == target_offset => target_offset,
                        _ => {
                            commit
                                .entry(copy.target_topic.clone())
                                .or_default()
                                .insert(partition, target_offset);
                            target_offset
                        }
                    };
                    self.reporter.line(&format!(
                        "  {group} {topic}[{partition}]: source {committed} -> target {kept} ({method})"
                    ));
                    translated.push(TranslatedOffset {
                        group: group.clone(),
                        topic: topic.clone(),
                        target_topic: copy.target_topic.clone(),
                        partition,
                        source_offset: committed,
                        target_offset: kept,
                        method,
                    });
                }
            }
            if !commit.is_empty() {
                self.target.commit_group_offsets(group, &commit)?;
            }
        }
        self.read_back(groups, &translated)?;
        self.reporter.line(&format!(
            "  read back {} committed offsets on the target: consumers may start there",
            translated.len()
        ));
        Ok(StepOutcome::OffsetsTranslated {
            offsets: translated,
            partitions: copies.into_values().collect(),
        })
    }

    /// A broker refuses commits to a group with live members, and members there would already
    /// consume from wherever `auto.offset.reset` put them: translation needs the group empty.
    fn refuse_target_members(&self, groups: &[String]) -> Result<(), Error> {
        for group in groups {
            if let GroupActivity::Members(n) = self.target.group_activity(group)?
                && n > 0
            {
                let members = self
                    .target
                    .group_members(group)
                    .unwrap_or_default()
                    .join(", ");
                let members = if members.is_empty() {
                    String::new()
                } else {
                    format!(" ({members})")
                };
                return Err(ApplyError::Mirror(format!(
                    "group {group} already has {n} member(s) on the target{members}: they started before ferry committed the translated offsets, so they read from wherever auto.offset.reset put them. Stop them (the hook start_target_consumers must run only after this step), then run `ferry apply` again: ferry translates and commits, and never moves a group's offset back."
                ))
                .into());
            }
        }
        Ok(())
    }

    /// The copy, once it covers every committed offset: the background copy is waited for (the
    /// consumers stopped, so the offsets no longer move); without it, one pass runs here.
    fn copy_covering(
        &self,
        on_source: &std::collections::BTreeMap<String, PartitionOffsets>,
        timing: WaitTiming,
        state: &State,
    ) -> Result<Copies, Error> {
        let started = Instant::now();
        let uncovered = |copies: &Copies| -> Option<String> {
            on_source.iter().find_map(|(group, offsets)| {
                offsets.iter().find_map(|(topic, parts)| {
                    parts.iter().find_map(|(&partition, &committed)| {
                        let copy = copies.get(&(topic.clone(), partition))?;
                        (committed > copy.next_source_offset.max(copy.map.source_end())).then(|| {
                            format!(
                                "group {group} committed offset {committed} on {topic}[{partition}], the copy covers the source up to {}",
                                copy.next_source_offset
                            )
                        })
                    })
                })
            })
        };
        let Some(follow) = self.follow else {
            let mut copies = recorded_copies(state);
            let topics: Vec<String> = copies.values().map(|c| c.target_topic.clone()).collect();
            let jobs = self.jobs(&topics, self.desired.replication.start_from, &copies)?;
            self.passes().pass(&jobs, &mut copies)?;
            return match uncovered(&copies) {
                None => Ok(copies),
                Some(why) => Err(not_yet_copied(why)),
            };
        };
        loop {
            self.copy_failed()?;
            let copies = follow.copies();
            match uncovered(&copies) {
                None => return Ok(copies),
                Some(why) if started.elapsed() >= timing.timeout => {
                    return Err(not_yet_copied(why));
                }
                Some(why) => self
                    .reporter
                    .progress(&format!("waiting for the copy: {why}")),
            }
            follow.wait_for_pass(timing.poll);
        }
    }

    /// Every commit reads back as committed: only then may consumers start on the target.
    fn read_back(&self, groups: &[String], translated: &[TranslatedOffset]) -> Result<(), Error> {
        let now = self.patiently("reading the committed offsets back", || {
            Ok(self.target.group_offsets(groups)?)
        })?;
        let wrong: Vec<String> = translated
            .iter()
            .filter_map(|t| {
                let read = now
                    .get(&t.group)
                    .and_then(|o| o.get(&t.target_topic))
                    .and_then(|o| o.get(&t.partition))
                    .copied();
                (read != Some(t.target_offset)).then(|| {
                    format!(
                        "{} {}[{}]: committed {}, read back {}",
                        t.group,
                        t.target_topic,
                        t.partition,
                        t.target_offset,
                        read.map_or("nothing".to_string(), |o| o.to_string())
                    )
                })
            })
            .collect();
        if wrong.is_empty() {
            return Ok(());
        }
        Err(ApplyError::Mirror(format!(
            "the target does not hold the offsets ferry committed ({}): something else commits for these groups on the target. Stop it, then run `ferry apply` again.",
            wrong.join("; ")
        ))
        .into())
    }
}

/// Where a group that committed `committed` on the source resumes on the target, and how that
/// was found.
fn translation(
    group: &str,
    topic: &str,
    partition: i32,
    committed: i64,
    copy: &PartitionCopy,
) -> Result<(i64, String), Error> {
    match copy.map.translate(committed, copy.next_source_offset) {
        Translation::BeforeCopyStart { .. } => Ok((
            copy.map.target_start(),
            format!(
                "copy start (source offsets {committed}..{} were not copied: replication.start_from, or the target's shorter retention, left them behind)",
                copy.map.source_start()
            ),
        )),
        Translation::NotYetCopied { copied_until } => Err(not_yet_copied(format!(
            "group {group} committed offset {committed} on {topic}[{partition}], the copy covers the source up to {copied_until}"
        ))),
        t => Ok((
            t.target_offset()
                .expect("a copied translation has an offset"),
            t.method().to_string(),
        )),
    }
}

fn not_yet_copied(why: String) -> Error {
    ApplyError::Mirror(format!(
        "{why}: something still consumes on the source. Stop the group's consumers there (hook stop_source_consumers), then run `ferry apply` again."
    ))
    .into()
}
