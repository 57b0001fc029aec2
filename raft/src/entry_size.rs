//! The size of log entries as written: every entry is a batch of commands
//! whose encoding must stay under [`MAX_ENTRY_BYTES`] (an entry travels
//! whole in one AppendEntries frame and is applied in one sled batch). The
//! largest seen is exported (`smsgw_raft_entry_bytes_max`) so that tests and
//! operators can check the bound; this module must never refuse anything
//! itself (the proposer bounds batches, the API bounds requests).

use std::sync::atomic::{AtomicU64, Ordering};

/// The bound a log entry must stay under.
pub const MAX_ENTRY_BYTES: usize = 1024 * 1024;

static LARGEST: AtomicU64 = AtomicU64::new(0);
static APPENDED: AtomicU64 = AtomicU64::new(0);

/// Records one entry of `bytes` encoded bytes.
pub(crate) fn record(bytes: usize) {
    let b = bytes as u64;
    APPENDED.fetch_add(b, Ordering::Relaxed);
    metrics::histogram!("smsgw_raft_entry_bytes").record(b as f64);
    if LARGEST.fetch_max(b, Ordering::Relaxed) < b {
        metrics::gauge!("smsgw_raft_entry_bytes_max").set(b as f64);
    }
}

/// The largest entry this process has written to its log.
pub fn largest() -> u64 {
    LARGEST.load(Ordering::Relaxed)
}

/// Bytes of entries this process has written to its log, in total.
pub fn appended() -> u64 {
    APPENDED.load(Ordering::Relaxed)
}
