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
