//! The supervisor of raft on this node: openraft 0.9 stops a raft instance
//! for good on a storage error (a full disk, an I/O error). This task sees
//! it, marks the node not ready, waits until the disk has room again, and
//! rebuilds raft in-process ([`smsgw_raft::Cluster::rebuild`]: the store is
//! reopened, the log and state read back, the node rejoins), saying so in
//! one log line. A stop for any other reason (shutdown, panic) is left alone.
//! It must never rebuild while the disk is still under the mark (the
//! rebuilt instance would fail at once) nor log once per attempt unbounded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use smsgw_raft::{Cluster, ProposeError};

use super::Disk;

const POLL: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Free space a disk that filled up must have again before a rebuild.
const MIN_ROOM_AFTER_FULL: u64 = 4 * super::MIB;
/// A rebuild this long ago counts as a fresh start (no backoff).
const STABLE_AFTER: Duration = Duration::from_secs(60);

/// Watches `cluster` until the task is aborted.
pub fn spawn(cluster: Cluster, disk: Arc<Disk>) -> tokio::task::JoinHandle<()> {
    // Exported from the start, so dashboards and alerts see 0, not nothing.
    metrics::gauge!("smsgw_raft_stopped_on_storage_error").set(0.0);
    metrics::counter!("smsgw_raft_rebuilds_total").increment(0);
    metrics::counter!("smsgw_log_suppressed_total").increment(0);
    tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        let mut last_attempt: Option<Instant> = None;
        loop {
            tokio::time::sleep(POLL).await;
            let Some(ProposeError::Storage { reason, full, .. }) = cluster.stopped() else {
                continue;
            };
            // A full disk needs some room besides the mark (which may be 0)
            // before raft can write again.
            let need = if full { MIN_ROOM_AFTER_FULL } else { 0 };
            metrics::gauge!("smsgw_raft_stopped_on_storage_error").set(1.0);
            disk.set_raft_failure(Some(reason.clone()));
            smsgw_actors::error_limited!(
                "raft-stopped-storage",
                "raft stopped on a storage error: {reason}; new messages are refused, and raft is rebuilt \
                 in-process once the disk has room"
            );
            // Stopped again soon after a rebuild, or the rebuild failed: the
            // fault is still there (the mark is too low for this disk, or the
            // device fails); back off rather than rebuild and log in a loop.
            if last_attempt.is_some_and(|t| t.elapsed() < STABLE_AFTER) {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            } else {
                backoff = Duration::from_secs(1);
            }
            while !disk.has_room_now(need).await {
                tokio::time::sleep(POLL).await;
            }
            tracing::info!(free = disk.free(), "the disk has room again: rebuilding raft");
            last_attempt = Some(Instant::now());
            match cluster.rebuild().await {
                Ok(()) => {
                    tracing::warn!(
                        "storage: raft rebuilt in-process after a storage error ({reason}); the disk has room \
                         again and the node accepts messages"
                    );
                    metrics::counter!("smsgw_raft_rebuilds_total").increment(1);
                    metrics::gauge!("smsgw_raft_stopped_on_storage_error").set(0.0);
                    disk.set_raft_failure(None);
                }
                Err(e) => {
                    smsgw_actors::warn_limited!(
                        "raft-rebuild-failed",
                        "rebuilding raft after a storage error failed: {e}; retrying"
                    );
                }
            }
        }
    })
}
