//! When this node builds a raft snapshot. openraft's own policy counts
//! entries (`LogsSinceLast`), so a state of millions of rows was written
//! out whole every `snapshot_every` entries: the cost per message grew
//! with the state (a state of 5 GB after a million messages, written out
//! every few hundred thousand). This task asks for a snapshot when at
//! least `snapshot_every` entries were applied since the last one and,
//! once the state is large (its last snapshot over [`LARGE_STATE_BYTES`]),
//! the log written since is at least half that snapshot: rows written
//! out per byte logged stay under two whatever the state's size, and the
//! log kept between snapshots is at most half the state. It must never
//! block raft (it only reads the metrics channel and triggers).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::types::Raft;

/// Past this snapshot size, the log written since the last snapshot
/// decides too (smaller states snapshot by entries alone).
pub(crate) const LARGE_STATE_BYTES: u64 = 64 * 1024 * 1024;
/// The log written since must be at least 1/`LOG_SHARE` of the snapshot.
pub(crate) const LOG_SHARE: u64 = 2;
const CHECK_EVERY: Duration = Duration::from_millis(500);
/// After a trigger, wait this long for the build before asking again.
const BUILD_WAIT: Duration = Duration::from_secs(30);

/// Whether a snapshot is due: `entries` applied and `logged` bytes written
/// to the log since the last one, whose file is `snapshot` bytes.
pub(crate) fn due(entries: u64, logged: u64, every: u64, snapshot: u64) -> bool {
    entries >= every && (snapshot < LARGE_STATE_BYTES || logged.saturating_mul(LOG_SHARE) >= snapshot)
}

/// Spawns the trigger; it ends when raft shuts down.
pub(super) fn spawn(raft: Raft, every: u64, snapshot_bytes: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut rx = raft.metrics();
        let mut last = rx.borrow().snapshot;
        let mut logged_at = crate::entry_size::appended();
        let mut asked: Option<tokio::time::Instant> = None;
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            if rx.has_changed().is_err() {
                return;
            }
            let (snapshot, applied) = {
                let m = rx.borrow_and_update();
                (m.snapshot, m.last_applied)
            };
            if snapshot != last {
                last = snapshot;
                logged_at = crate::entry_size::appended();
                asked = None;
            }
            if asked.is_some_and(|t| t.elapsed() < BUILD_WAIT) {
                continue;
            }
            let entries = applied
                .map_or(0, |a| a.index)
                .saturating_sub(snapshot.map_or(0, |s| s.index));
            let logged = crate::entry_size::appended().saturating_sub(logged_at);
            if due(entries, logged, every, snapshot_bytes.load(Ordering::Relaxed)) {
                asked = Some(tokio::time::Instant::now());
                if raft.trigger().snapshot().await.is_err() {
                    return;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_state_snapshots_by_entries_alone() {
        assert!(!due(19_999, 0, 20_000, 0));
        assert!(due(20_000, 0, 20_000, 1024));
        assert!(due(20_000, 0, 20_000, LARGE_STATE_BYTES - 1));
    }

    #[test]
    fn a_large_state_waits_for_half_its_size_of_log() {
        let state = 4 * 1024 * 1024 * 1024u64;
        assert!(!due(1_000_000, state / 2 - 1, 20_000, state));
        assert!(due(1_000_000, state / 2, 20_000, state));
        // Entries still count: a large log of few entries is not enough.
        assert!(!due(10, state, 20_000, state));
    }
}
