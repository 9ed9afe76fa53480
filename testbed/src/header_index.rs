//! Works around a tansu 0.6.0 storage quirk: its sqlite `header` table has no index, and a fetch
//! looks up each record's headers with its own query, so reading a partition whose records carry
//! headers takes time quadratic in the partition's size (tens of thousands of records with headers
//! already make one fetch outlast librdkafka's 60 s socket timeout, and the reader stalls).
//!
//! The index below changes no data and no behaviour seen over the Kafka protocol; it only makes
//! the broker's own lookup `header WHERE topition = ? AND offset_id = ?` use an index, as any
//! real Kafka broker's log does.

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rusqlite::Connection;

/// How long tansu may take to create its tables after it listens.
const SCHEMA_TIMEOUT: Duration = Duration::from_secs(10);

const INDEX: &str =
    "CREATE INDEX IF NOT EXISTS ferry_testbed_header_record ON header (topition, offset_id)";

/// Adds the header index to the broker database at `db` (idempotent; kept across restarts).
pub fn index_headers(db: &Path) -> Result<()> {
    let connection =
        Connection::open(db).with_context(|| format!("cannot open {}", db.display()))?;
    connection.busy_timeout(Duration::from_secs(5))?;
    let deadline = Instant::now() + SCHEMA_TIMEOUT;
    loop {
        match connection.execute(INDEX, []) {
            Ok(_) => return Ok(()),
            // tansu creates its tables at start-up; wait for the header table.
            Err(error)
                if Instant::now() < deadline && error.to_string().contains("no such table") =>
            {
                sleep(Duration::from_millis(20));
            }
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("cannot add the header index to {}", db.display()));
            }
        }
    }
}
