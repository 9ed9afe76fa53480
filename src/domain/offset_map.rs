//! The exact source-offset to target-offset map of one partition, recorded while copying.
//!
//! ferry writes copied records to the target one after another, so their target offsets are
//! consecutive; source offsets are consecutive too except where compaction removed records or
//! transaction markers sit. The map is therefore a short list of runs, one per gap, whatever the
//! number of records, and it is persisted in the state file.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Consecutive source offsets `source_start..source_start + len` copied to consecutive target
/// offsets `target_start..target_start + len`. Serialized as the triple
/// `[source_start, target_start, len]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(i64, i64, i64)", into = "(i64, i64, i64)")]
pub struct Run {
    pub source_start: i64,
    pub target_start: i64,
    pub len: i64,
}

impl Run {
    /// The source offset just after the run.
    pub fn source_end(&self) -> i64 {
        self.source_start + self.len
    }

    /// The target offset just after the run.
    pub fn target_end(&self) -> i64 {
        self.target_start + self.len
    }
}

impl From<(i64, i64, i64)> for Run {
    fn from((source_start, target_start, len): (i64, i64, i64)) -> Self {
        Run {
            source_start,
            target_start,
            len,
        }
    }
}

impl From<Run> for (i64, i64, i64) {
    fn from(run: Run) -> Self {
        (run.source_start, run.target_start, run.len)
    }
}

/// Where a consumer's committed source offset lands on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    /// The record at the committed offset was copied; the consumer resumes at its copy.
    Copied { target_offset: i64 },
    /// The committed offset names no copied record (compaction removed it, or it is a transaction
    /// marker); the consumer resumes at the copy of the next copied record, the one it would read
    /// next on the source.
    Gap {
        next_source_offset: i64,
        target_offset: i64,
    },
    /// The consumer had read everything the copy covers; it resumes at the target's end offset.
    End { target_offset: i64 },
    /// The committed offset is beyond what the copy has read so far: wait for the copy to catch up.
    NotYetCopied { copied_until: i64 },
    /// The committed offset is before the copy's start (`start_from` skipped that data): records the
    /// consumer has not read yet were never copied, so the caller decides (the plan shows it).
    BeforeCopyStart { copy_start: i64 },
}

impl Translation {
    /// The target offset to commit, when the translation has one.
    pub fn target_offset(&self) -> Option<i64> {
        match *self {
            Translation::Copied { target_offset }
            | Translation::Gap { target_offset, .. }
            | Translation::End { target_offset } => Some(target_offset),
            Translation::NotYetCopied { .. } | Translation::BeforeCopyStart { .. } => None,
        }
    }

    /// How the target offset was found, for the plan and apply output.
    pub fn method(&self) -> &'static str {
        match self {
            Translation::Copied { .. } => "exact",
            Translation::Gap { .. } => "exact (next copied record)",
            Translation::End { .. } => "exact (end of copy)",
            Translation::NotYetCopied { .. } => "not yet copied",
            Translation::BeforeCopyStart { .. } => "before copy start",
        }
    }
}

/// Why a pair could not be recorded, or a persisted map could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OffsetMapError {
    #[error(
        "copied source offset {source_offset} to target offset {target_offset}, but the last recorded pair was {last_source} -> {last_target}: offsets must only grow. The copy wrote out of order; this is a bug in ferry."
    )]
    Backwards {
        source_offset: i64,
        target_offset: i64,
        last_source: i64,
        last_target: i64,
    },
    #[error(
        "copied source offset {source_offset} to target offset {target_offset}, but the copy started at {copy_source} -> {copy_target}. This is a bug in ferry."
    )]
    BeforeStart {
        source_offset: i64,
        target_offset: i64,
        copy_source: i64,
        copy_target: i64,
    },
    #[error("the offset map in the state file is invalid: {0}. Was the state file edited by hand?")]
    Invalid(String),
}

/// The source-to-target offset map of one partition.
///
/// Created at the copy's start position: `source_start` is the first source offset the copy reads
/// (`replication.start_from` resolved) and `target_start` the target partition's end offset then.
/// Runs are sorted and disjoint on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OffsetMapRepr")]
pub struct OffsetMap {
    source_start: i64,
    target_start: i64,
    runs: Vec<Run>,
}

/// The serialized form, checked on the way in.
#[derive(Deserialize)]
struct OffsetMapRepr {
    source_start: i64,
    target_start: i64,
    runs: Vec<Run>,
}

impl TryFrom<OffsetMapRepr> for OffsetMap {
    type Error = OffsetMapError;

    fn try_from(repr: OffsetMapRepr) -> Result<Self, Self::Error> {
        let invalid = |what: String| Err(OffsetMapError::Invalid(what));
        if repr.source_start < 0 || repr.target_start < 0 {
            return invalid(format!(
                "negative copy start {} -> {}",
                repr.source_start, repr.target_start
            ));
        }
        let (mut source_end, mut target_end) = (repr.source_start, repr.target_start);
        for run in &repr.runs {
            if run.len < 1 {
                return invalid(format!("run {:?} is empty", <(i64, i64, i64)>::from(*run)));
            }
            if run.source_start < source_end || run.target_start < target_end {
                return invalid(format!(
                    "run {:?} overlaps or precedes the one before",
                    <(i64, i64, i64)>::from(*run)
                ));
            }
            (source_end, target_end) = (run.source_end(), run.target_end());
        }
        Ok(OffsetMap {
            source_start: repr.source_start,
            target_start: repr.target_start,
            runs: repr.runs,
        })
    }
}

impl OffsetMap {
    /// An empty map for a copy that starts reading the source at `source_start` while the target
    /// partition ends at `target_start`.
    pub fn new(source_start: i64, target_start: i64) -> Self {
        OffsetMap {
            source_start: source_start.max(0),
            target_start: target_start.max(0),
            runs: Vec::new(),
        }
    }

    /// Records that the record at `source_offset` was written at `target_offset`. Extends the last
    /// run when both offsets follow it directly, else starts a new run.
    pub fn push(&mut self, source_offset: i64, target_offset: i64) -> Result<(), OffsetMapError> {
        if source_offset < self.source_start || target_offset < self.target_start {
            return Err(OffsetMapError::BeforeStart {
                source_offset,
                target_offset,
                copy_source: self.source_start,
                copy_target: self.target_start,
            });
        }
        match self.runs.last_mut() {
            Some(last)
                if source_offset < last.source_end() || target_offset < last.target_end() =>
            {
                Err(OffsetMapError::Backwards {
                    source_offset,
                    target_offset,
                    last_source: last.source_end() - 1,
                    last_target: last.target_end() - 1,
                })
            }
            Some(last)
                if source_offset == last.source_end() && target_offset == last.target_end() =>
            {
                last.len += 1;
                Ok(())
            }
            _ => {
                self.runs.push(Run {
                    source_start: source_offset,
                    target_start: target_offset,
                    len: 1,
                });
                Ok(())
            }
        }
    }

    /// Appends a later map of the same partition (the next run of the copy, which resumed where
    /// this one ends): its runs follow this map's on both sides; a run that continues the last one
    /// directly is joined to it. The result starts where this map starts.
    pub fn append(&mut self, later: &OffsetMap) -> Result<(), OffsetMapError> {
        for run in &later.runs {
            match self.runs.last_mut() {
                Some(last)
                    if run.source_start < last.source_end()
                        || run.target_start < last.target_end() =>
                {
                    return Err(OffsetMapError::Backwards {
                        source_offset: run.source_start,
                        target_offset: run.target_start,
                        last_source: last.source_end() - 1,
                        last_target: last.target_end() - 1,
                    });
                }
                Some(last)
                    if run.source_start == last.source_end()
                        && run.target_start == last.target_end() =>
                {
                    last.len += run.len;
                }
                _ => {
                    if run.source_start < self.source_start || run.target_start < self.target_start
                    {
                        return Err(OffsetMapError::BeforeStart {
                            source_offset: run.source_start,
                            target_offset: run.target_start,
                            copy_source: self.source_start,
                            copy_target: self.target_start,
                        });
                    }
                    self.runs.push(*run);
                }
            }
        }
        Ok(())
    }

    /// Where a consumer whose committed offset (the next offset it would read) on the source is
    /// `committed` resumes on the target. `source_covered_until` is the source offset the copy has
    /// read up to (exclusive): the source high watermark once the copy has caught up.
    pub fn translate(&self, committed: i64, source_covered_until: i64) -> Translation {
        if committed < self.source_start {
            return Translation::BeforeCopyStart {
                copy_start: self.source_start,
            };
        }
        let index = self
            .runs
            .partition_point(|run| run.source_end() <= committed);
        if let Some(run) = self.runs.get(index) {
            return if run.source_start <= committed {
                Translation::Copied {
                    target_offset: run.target_start + (committed - run.source_start),
                }
            } else {
                Translation::Gap {
                    next_source_offset: run.source_start,
                    target_offset: run.target_start,
                }
            };
        }
        let covered = source_covered_until.max(self.source_end());
        if committed <= covered {
            Translation::End {
                target_offset: self.target_end(),
            }
        } else {
            Translation::NotYetCopied {
                copied_until: covered,
            }
        }
    }

    /// The way back: where a consumer whose committed offset on the target is `committed`
    /// resumes on the source. Inside the copy it is the source offset of the record at
    /// `committed`; at (or past) the copy's end it is `source_covered_until`, the source offset
    /// after everything copied; before the copy's start it is the copy's source start. `None`
    /// past the end of the copy: the consumer read records that were not copied (producers
    /// already write to the target), which the source never had.
    pub fn translate_back(&self, committed: i64, source_covered_until: i64) -> Option<i64> {
        if committed <= self.target_start {
            return Some(self.source_start);
        }
        let end = self.target_end();
        if committed == end {
            return Some(source_covered_until.max(self.source_end()));
        }
        if committed > end {
            return None;
        }
        let index = self
            .runs
            .partition_point(|run| run.target_end() <= committed);
        // Between two runs (a commit marker of a fenced copy sits there): the next record is the
        // next run's first.
        self.runs
            .get(index)
            .map(|run| run.source_start + (committed - run.target_start).max(0))
    }

    /// The first copied pair `(source offset, target offset)` with the source offset at or
    /// after `source_from` and the target offset at or after `target_from`: where a comparison
    /// of what both sides still hold starts once retention deleted the start of either side.
    /// `None` when no copied record lies past both.
    pub fn first_pair_from(&self, source_from: i64, target_from: i64) -> Option<(i64, i64)> {
        self.runs.iter().find_map(|run| {
            // The pair at index i of the run is (source_start + i, target_start + i).
            let i = (source_from - run.source_start)
                .max(target_from - run.target_start)
                .max(0);
            (i < run.len).then(|| (run.source_start + i, run.target_start + i))
        })
    }

    /// The first source offset the copy reads.
    pub fn source_start(&self) -> i64 {
        self.source_start
    }

    /// The target end offset when the copy started.
    pub fn target_start(&self) -> i64 {
        self.target_start
    }

    /// The source offset just after the last copied record (the copy start if none).
    pub fn source_end(&self) -> i64 {
        self.runs.last().map_or(self.source_start, Run::source_end)
    }

    /// The target offset just after the last copied record (the target start if none).
    pub fn target_end(&self) -> i64 {
        self.runs.last().map_or(self.target_start, Run::target_end)
    }

    /// The last recorded pair `(source offset, target offset)`.
    pub fn last(&self) -> Option<(i64, i64)> {
        self.runs
            .last()
            .map(|run| (run.source_end() - 1, run.target_end() - 1))
    }

    /// The runs, in offset order.
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// How many records were copied.
    pub fn records(&self) -> i64 {
        self.runs.iter().map(|run| run.len).sum()
    }

    /// Whether no record was copied yet.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Source offsets copied in order to target offsets from `target_start` on.
    fn copied(source_start: i64, target_start: i64, sources: &[i64]) -> OffsetMap {
        let mut map = OffsetMap::new(source_start, target_start);
        for (i, &source) in sources.iter().enumerate() {
            map.push(source, target_start + i as i64).unwrap();
        }
        map
    }

    fn runs(map: &OffsetMap) -> Vec<(i64, i64, i64)> {
        map.runs().iter().map(|&run| run.into()).collect()
    }

    #[test]
    fn builds_runs() {
        type Case<'a> = (&'a str, &'a [i64], &'a [(i64, i64, i64)]);
        let cases: &[Case] = &[
            ("nothing copied", &[], &[]),
            ("consecutive", &[0, 1, 2, 3], &[(0, 0, 4)]),
            ("one gap", &[0, 1, 5, 6], &[(0, 0, 2), (5, 2, 2)]),
            (
                "compaction gaps",
                &[0, 2, 3, 7, 8, 9],
                &[(0, 0, 1), (2, 1, 2), (7, 3, 3)],
            ),
            (
                "single records",
                &[1, 3, 5],
                &[(1, 0, 1), (3, 1, 1), (5, 2, 1)],
            ),
        ];
        for (name, sources, want) in cases {
            let map = copied(0, 0, sources);
            assert_eq!(runs(&map), *want, "{name}");
            assert_eq!(map.records(), sources.len() as i64, "{name}");
        }
    }

    #[test]
    fn target_jump_starts_a_new_run() {
        let mut map = OffsetMap::new(0, 0);
        map.push(0, 0).unwrap();
        map.push(1, 5).unwrap();
        assert_eq!(runs(&map), [(0, 0, 1), (1, 5, 1)]);
    }

    #[test]
    fn rejects_going_backwards() {
        let mut map = copied(10, 100, &[10, 11, 15]);
        let before = map.clone();
        let cases = [
            ("same pair again", 15, 102),
            ("source backwards", 14, 103),
            ("target backwards", 16, 101),
            ("target repeated", 16, 102),
            ("before copy start", 9, 103),
        ];
        for (name, source, target) in cases {
            assert!(map.push(source, target).is_err(), "{name}");
            assert_eq!(map, before, "{name}: map unchanged");
        }
        let err = map.push(14, 103).unwrap_err();
        assert!(err.to_string().contains("15 -> 102"), "{err}");
    }

    #[test]
    fn translates_committed_offsets() {
        // Copy started at source 10, target 100; source 12..15 and 17 were compacted away.
        let map = copied(10, 100, &[10, 11, 15, 16, 18, 19]);
        assert_eq!(runs(&map), [(10, 100, 2), (15, 102, 2), (18, 104, 2)]);
        let covered = 20;
        let cases = [
            (
                "first copied",
                10,
                Translation::Copied { target_offset: 100 },
            ),
            (
                "inside a run",
                11,
                Translation::Copied { target_offset: 101 },
            ),
            (
                "start of a later run",
                15,
                Translation::Copied { target_offset: 102 },
            ),
            (
                "last copied",
                19,
                Translation::Copied { target_offset: 105 },
            ),
            (
                "in a gap",
                12,
                Translation::Gap {
                    next_source_offset: 15,
                    target_offset: 102,
                },
            ),
            (
                "end of a gap",
                14,
                Translation::Gap {
                    next_source_offset: 15,
                    target_offset: 102,
                },
            ),
            (
                "one-record gap",
                17,
                Translation::Gap {
                    next_source_offset: 18,
                    target_offset: 104,
                },
            ),
            ("at end", 20, Translation::End { target_offset: 106 }),
            (
                "beyond end",
                21,
                Translation::NotYetCopied { copied_until: 20 },
            ),
            (
                "before start",
                9,
                Translation::BeforeCopyStart { copy_start: 10 },
            ),
            (
                "no commit (-1)",
                -1,
                Translation::BeforeCopyStart { copy_start: 10 },
            ),
        ];
        for (name, committed, want) in cases {
            assert_eq!(map.translate(committed, covered), want, "{name}");
        }
    }

    #[test]
    fn end_depends_on_what_the_copy_covered() {
        // Copied up to 19; source 20..25 are transaction markers or compacted, high watermark 25.
        let map = copied(0, 0, &(0..20).collect::<Vec<_>>());
        let cases = [
            (
                "covered up to the end",
                25,
                25,
                Translation::End { target_offset: 20 },
            ),
            (
                "covered past commit",
                23,
                25,
                Translation::End { target_offset: 20 },
            ),
            (
                "not covered yet",
                23,
                21,
                Translation::NotYetCopied { copied_until: 21 },
            ),
            (
                "covered behind the copy",
                20,
                5,
                Translation::End { target_offset: 20 },
            ),
        ];
        for (name, committed, covered, want) in cases {
            assert_eq!(map.translate(committed, covered), want, "{name}");
        }
    }

    #[test]
    fn empty_map_translates_against_copy_start() {
        let map = OffsetMap::new(500, 7);
        assert_eq!(
            map.translate(500, 500),
            Translation::End { target_offset: 7 }
        );
        assert_eq!(
            map.translate(499, 500),
            Translation::BeforeCopyStart { copy_start: 500 }
        );
        assert_eq!(
            map.translate(501, 500),
            Translation::NotYetCopied { copied_until: 500 }
        );
        // Records between the copy start and the first copied one were compacted away.
        let map = copied(500, 7, &[503, 504]);
        assert_eq!(
            map.translate(500, 505),
            Translation::Gap {
                next_source_offset: 503,
                target_offset: 7
            }
        );
    }

    #[test]
    fn translation_target_and_method() {
        assert_eq!(
            Translation::Copied { target_offset: 3 }.target_offset(),
            Some(3)
        );
        assert_eq!(
            Translation::NotYetCopied { copied_until: 3 }.target_offset(),
            None
        );
        assert_eq!(
            Translation::BeforeCopyStart { copy_start: 3 }.target_offset(),
            None
        );
        assert_eq!(Translation::Copied { target_offset: 3 }.method(), "exact");
    }

    #[test]
    fn million_records_with_ten_gaps_stay_eleven_runs() {
        let mut map = OffsetMap::new(0, 0);
        let (mut source, mut target) = (0i64, 0i64);
        for i in 0..1_000_000 {
            if i > 0 && i % 90_000 == 0 && i <= 900_000 {
                source += 3; // a compacted range or transaction markers
            }
            map.push(source, target).unwrap();
            source += 1;
            target += 1;
        }
        assert_eq!(map.runs().len(), 11);
        assert_eq!(map.records(), 1_000_000);
        assert_eq!(map.last(), Some((1_000_029, 999_999)));
        assert_eq!(
            map.translate(90_000, 2_000_000),
            Translation::Gap {
                next_source_offset: 90_003,
                target_offset: 90_000
            }
        );
        assert_eq!(
            map.translate(500_020, 2_000_000),
            Translation::Copied {
                target_offset: 500_005
            }
        );
        let json = serde_json::to_string(&map).unwrap();
        assert!(json.len() < 400, "{json}");
    }

    #[test]
    fn serde_round_trip() {
        let map = copied(10, 100, &[10, 11, 15, 16, 18]);
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(
            json,
            r#"{"source_start":10,"target_start":100,"runs":[[10,100,2],[15,102,2],[18,104,1]]}"#
        );
        let back: OffsetMap = serde_json::from_str(&json).unwrap();
        assert_eq!(back, map);

        let empty = OffsetMap::new(0, 0);
        let back: OffsetMap =
            serde_json::from_str(&serde_json::to_string(&empty).unwrap()).unwrap();
        assert_eq!(back, empty);
    }

    #[test]
    fn rejects_invalid_persisted_maps() {
        let cases = [
            (
                "empty run",
                r#"{"source_start":0,"target_start":0,"runs":[[0,0,0]]}"#,
            ),
            (
                "overlapping runs",
                r#"{"source_start":0,"target_start":0,"runs":[[0,0,5],[4,5,1]]}"#,
            ),
            (
                "target overlap",
                r#"{"source_start":0,"target_start":0,"runs":[[0,0,5],[6,4,1]]}"#,
            ),
            (
                "before copy start",
                r#"{"source_start":5,"target_start":0,"runs":[[4,0,1]]}"#,
            ),
            (
                "negative start",
                r#"{"source_start":-1,"target_start":0,"runs":[]}"#,
            ),
            (
                "not a triple",
                r#"{"source_start":0,"target_start":0,"runs":[[0,0]]}"#,
            ),
        ];
        for (name, json) in cases {
            assert!(serde_json::from_str::<OffsetMap>(json).is_err(), "{name}");
        }
    }

    #[test]
    fn append_joins_a_resumed_run_and_keeps_gaps() {
        let mut first = copied(0, 0, &[0, 1, 2]);
        // The next run resumed at source 3, target 3: joined into one run.
        first.append(&copied(3, 3, &[3, 4, 6])).unwrap();
        assert_eq!(runs(&first), vec![(0, 0, 5), (6, 5, 1)]);
        assert_eq!(first.source_start(), 0);
        assert_eq!(
            first.translate(5, 7),
            Translation::Gap {
                next_source_offset: 6,
                target_offset: 5
            }
        );
        // An empty later run changes nothing.
        first.append(&OffsetMap::new(7, 6)).unwrap();
        assert_eq!(runs(&first), vec![(0, 0, 5), (6, 5, 1)]);
        // A later map overlapping this one is refused.
        assert!(first.append(&copied(5, 6, &[5])).is_err());
        // Appending to an empty map starts at the later map's runs.
        let mut empty = OffsetMap::new(10, 0);
        empty.append(&copied(12, 0, &[12, 13])).unwrap();
        assert_eq!(runs(&empty), vec![(12, 0, 2)]);
        assert!(OffsetMap::new(10, 5).append(&copied(9, 5, &[9])).is_err());
    }

    #[test]
    fn translating_back_inverts_translation_at_every_offset() {
        // Source 10..20 with 13..15 compacted away and a marker at 18: runs 10..13, 15..18, 19..20.
        let mut map = OffsetMap::new(10, 100);
        for o in [10, 11, 12, 15, 16, 17, 19] {
            map.push(o, 100 + map.records()).unwrap();
        }
        for committed in 10..=21 {
            let Some(target) = map.translate(committed, 21).target_offset() else {
                continue;
            };
            let back = map.translate_back(target, 21).unwrap();
            // Back lands on the first source offset that maps to the same record: nothing
            // between `back` and `committed` is a record the consumer has not seen.
            assert_eq!(
                map.translate(back, 21).target_offset(),
                Some(target),
                "{committed}"
            );
            assert!(back <= committed.max(back));
        }
        assert_eq!(map.translate_back(100, 21), Some(10));
        assert_eq!(map.translate_back(103, 21), Some(15));
        assert_eq!(map.translate_back(107, 21), Some(21), "the copy's end");
        assert_eq!(
            map.translate_back(108, 21),
            None,
            "records the source never had"
        );
        assert_eq!(map.translate_back(90, 21), Some(10));
    }

    /// A fenced copy leaves a commit marker on the target after each transaction: target
    /// offsets then have gaps. A group committed at a marker has read every record before it
    /// and resumes at the next copied record.
    #[test]
    fn translating_back_from_a_commit_marker_resumes_at_the_next_record() {
        // Source 0..6 -> target 0..3, marker at 3, source 3..6 -> target 4..7, marker at 7.
        let mut map = OffsetMap::new(0, 0);
        for (s, t) in [(0, 0), (1, 1), (2, 2), (3, 4), (4, 5), (5, 6)] {
            map.push(s, t).unwrap();
        }
        let cases: &[(i64, Option<i64>)] = &[
            (0, Some(0)),
            (2, Some(2)),
            (3, Some(3)),
            (4, Some(3)),
            (6, Some(5)),
            (7, Some(6)),
            (8, None),
        ];
        for &(committed, expected) in cases {
            assert_eq!(map.translate_back(committed, 6), expected, "{committed}");
        }
    }

    #[test]
    fn the_first_pair_both_sides_still_hold() {
        // Runs 0..10 -> 100..110 and 15..20 -> 110..115 (a gap of 5 source offsets).
        let mut map = OffsetMap::new(0, 100);
        for o in (0..10).chain(15..20) {
            let t = if o < 10 { 100 + o } else { 110 + o - 15 };
            map.push(o, t).unwrap();
        }
        type Case = (i64, i64, Option<(i64, i64)>);
        let cases: &[Case] = &[
            (0, 0, Some((0, 100))),
            (0, 100, Some((0, 100))),
            (3, 0, Some((3, 103))),
            (0, 104, Some((4, 104))),
            (3, 106, Some((6, 106))),
            (9, 0, Some((9, 109))),
            // Inside the gap: the next copied record.
            (10, 0, Some((15, 110))),
            (12, 100, Some((15, 110))),
            (0, 110, Some((15, 110))),
            (16, 111, Some((16, 111))),
            (16, 113, Some((18, 113))),
            (19, 0, Some((19, 114))),
            (20, 0, None),
            (0, 115, None),
        ];
        for &(source_from, target_from, expected) in cases {
            assert_eq!(
                map.first_pair_from(source_from, target_from),
                expected,
                "from {source_from} / {target_from}"
            );
        }
        assert_eq!(OffsetMap::new(0, 0).first_pair_from(0, 0), None);
    }
}
