//! The pure building blocks of the mirror copy (no I/O).
//!
//! The copy reads each source partition in order and writes partition i to partition i on the
//! target, one record after another, so target offsets are consecutive. Every copied record carries
//! its source offset in a header ([`header`]): after a crash the resume point is read back from the
//! tail of each target partition, with any broker and without transactions. While copying, ferry
//! records the source-to-target offset map in runs ([`offset_map`]), persisted in the state, and
//! translates each group's committed offset exactly; verification compares per-partition record
//! counts and order-sensitive checksums of key, value, headers and timestamp ([`checksum`]).

pub mod checksum;
pub mod header;

pub use crate::domain::offset_map;
pub use crate::domain::{OffsetMap, OffsetMapError, Run, Translation};
pub use checksum::PartitionChecksum;
pub use header::{SOURCE_OFFSET_HEADER, decode_source_offset, encode_source_offset};

mod clients;
mod copier;
mod copy_error;
mod copy_progress;
mod delivery;
mod fencing;
mod reader;
mod replicator;
mod resume;
mod target_tail;
pub use copier::*;
pub use copy_error::CopyError;
pub use copy_progress::{CopyProgress, HeldPartition};
pub use fencing::{CopyOptions, transactional_id};
pub use replicator::{
    AssignedPartition, ReplicateEvent, ReplicateOptions, ReplicateSummary, replicate,
};
