//! A test-only storage fault switch (feature `fault-injection`): while it is
//! on, log appends fail as on a full disk, which stops raft exactly as a real
//! ENOSPC does, without needing a tiny filesystem (root). It must never be
//! compiled into a shipped binary.

use std::sync::atomic::{AtomicBool, Ordering};

static DISK_FULL: AtomicBool = AtomicBool::new(false);

/// Turns the injected "disk full" on or off for the whole process.
pub fn set_disk_full(on: bool) {
    DISK_FULL.store(on, Ordering::Release);
}

/// Whether appends fail now.
pub fn disk_full() -> bool {
    DISK_FULL.load(Ordering::Acquire)
}

static PROPOSAL_DELAY_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Delays every batch the proposer writes on the leader by `ms`, between
/// its "may I write" check and handing it to openraft: widens the window
/// in which a batch is in flight while a planned transfer starts.
pub fn set_proposal_delay_ms(ms: u64) {
    PROPOSAL_DELAY_MS.store(ms, Ordering::Release);
}

/// The injected proposal delay.
pub fn proposal_delay() -> std::time::Duration {
    std::time::Duration::from_millis(PROPOSAL_DELAY_MS.load(Ordering::Acquire))
}
