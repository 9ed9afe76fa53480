//! Domain types every layer may use: where a copy starts, how much it moves, the offset map it
//! records, and the steps of a plan. They sit at the bottom so that `state/` can hold a step or a
//! map without importing `plan/` or the copy engine.

mod accepted_gap;
mod byte_count;
mod copy_volume;
mod new_topic_defaults;
mod numbers;
pub mod offset_map;
mod retention_cut;
mod start_from;
mod step;

pub use accepted_gap::AcceptedGap;
pub use byte_count::ByteCount;
pub use copy_volume::CopyVolume;
pub use new_topic_defaults::{BrokerConfig, DefaultValue, KEYS_SET_WHEN_UNREAD, NewTopicDefaults};
pub use numbers::{duration_ms, rfc3339_ms, size, thousands};
pub use offset_map::{OffsetMap, OffsetMapError, Run, Translation};
pub use retention_cut::{
    GroupBehind, PartitionCut, RetentionCut, bytes_limit, shorter_on_target, time_limit,
};
pub use start_from::StartFrom;
pub use step::{GroupsOn, Step};

/// Bytes the `ferry.source.offset` header adds to a copied record, at most, with room to spare:
/// the header's key (19 bytes), its 8-byte value and their length varints come to 29, a longer
/// record-length varint to 2 more. A mirror target topic takes the source's
/// `max.message.bytes` plus this, so a record the source took fits on the target.
pub const COPY_HEADER_ALLOWANCE: i64 = 64;
