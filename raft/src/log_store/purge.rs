//! Purging the log behind a snapshot, off the raft core's task.
//!
//! openraft awaits `purge` on its core task, which also answers heartbeats
//! and the leader lease's quorum rounds. Removing hundreds of thousands of
//! entries there (and flushing sled first, behind a large snapshot's own
//! writes) held the core for up to 0.6 s, and the lease lapsed. So `purge`
//! only records the purge point (in sled, and in [`PurgePoint`] for reads)
//! and wakes a thread of its own, which makes the point durable and then
//! removes the entries below it.
//!
//! Until the thread is done, entries at or below the point stay in the
//! tree; reads never return them ([`PurgePoint::clamp`]), so the log looks
//! purged at once. The thread must never remove an entry above the
//! recorded point, nor any entry before that point is on disk: a crash then
//! leaves extra entries below the point (removed at the next open), never a
//! hole.

use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use super::{first_index_of, flush_db, remove_range};

/// The purge point, shared by the store's clones and its purge thread.
#[derive(Clone)]
pub(super) struct PurgePoint {
    /// One past the last purged index: the lowest index still in the log
    /// (0: nothing purged).
    next: Arc<AtomicU64>,
    /// Wakes the purge thread; a wake-up already pending covers a newer
    /// point too, since the thread reads the point when it runs.
    wake: SyncSender<()>,
}

impl PurgePoint {
    /// Starts the purge thread for `log`, beginning at `purged` (the purge
    /// point recorded, if any): entries a crash left below it are removed
    /// now. The thread ends when the last clone of the point is dropped.
    pub(super) fn start(db: &sled::Db, log: &sled::Tree, purged: Option<u64>) -> std::io::Result<Self> {
        let (wake, rx) = std::sync::mpsc::sync_channel(1);
        let next = Arc::new(AtomicU64::new(purged.map_or(0, |i| i + 1)));
        let (db, log, n) = (db.clone(), log.clone(), next.clone());
        std::thread::Builder::new()
            .name("raft-log-purge".into())
            .spawn(move || run(&db, &log, &n, &rx))?;
        let point = Self { next, wake };
        point.wake();
        Ok(point)
    }

    /// Moves the purge point to `index` (never back) and wakes the thread.
    /// The caller has written the point to sled already.
    pub(super) fn advance(&self, index: u64) {
        self.next.fetch_max(index + 1, Ordering::AcqRel);
        self.wake();
    }

    fn wake(&self) {
        // Full: a wake-up is pending and will see the new point.
        // Disconnected: the thread could not run; entries stay, reads
        // still skip them.
        if let Err(TrySendError::Disconnected(())) = self.wake.try_send(()) {
            tracing::warn!("the raft log's purge thread has stopped: purged entries stay on disk");
        }
    }

    /// The lowest index a read may return.
    pub(super) fn first_kept(&self) -> u64 {
        self.next.load(Ordering::Acquire)
    }

    /// `start` raised past the purge point, so that entries the thread has
    /// not removed yet are never read.
    pub(super) fn clamp(&self, start: Bound<u64>) -> Bound<u64> {
        let next = self.first_kept();
        if next == 0 {
            return start;
        }
        match start {
            Bound::Included(i) if i >= next => Bound::Included(i),
            Bound::Excluded(i) if i >= next => Bound::Excluded(i),
            _ => Bound::Included(next),
        }
    }
}

/// The purge thread: on each wake-up, flushes sled (the purge point was
/// written before the wake-up, so it is now durable), then removes every
/// entry below the point. A failure is logged and retried at the next
/// purge or open; the entries meanwhile only take room.
fn run(db: &sled::Db, log: &sled::Tree, next: &AtomicU64, wake: &Receiver<()>) {
    while wake.recv().is_ok() {
        let upto = next.load(Ordering::Acquire);
        let first = match first_index_of(log) {
            Ok(Some(first)) if first < upto => first,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!("raft log purge: reading the first entry: {e}");
                continue;
            }
        };
        if let Err(e) = flush_db(db) {
            tracing::warn!("raft log purge: making the purge point durable: {e}; entries kept");
            continue;
        }
        let started = std::time::Instant::now();
        match remove_range(log, first, upto - 1, false) {
            Ok(()) => tracing::debug!(
                from = first,
                to = upto - 1,
                ms = started.elapsed().as_millis() as u64,
                "raft log purged"
            ),
            Err(e) => tracing::warn!("raft log purge of {first}..={}: {e}", upto - 1),
        }
    }
}

/// Whether a range starts after its end (a clamped read of entries all
/// purged): empty, and sled must not be asked for it.
pub(super) fn starts_past_end(start: Bound<u64>, end: Bound<u64>) -> bool {
    match (start, end) {
        (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) => s > e,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use openraft::storage::RaftLogStorage;
    use openraft::{CommittedLeaderId, EntryPayload, RaftLogReader};

    use super::super::{index_key, SledLogStore, KEY_PURGED};
    use crate::codec;
    use crate::types::{Entry, LogId};

    fn log_id(index: u64) -> LogId {
        LogId::new(CommittedLeaderId::new(1, 1), index)
    }

    /// A store in a fresh database holding entries `indexes` (the guard and
    /// the database come back too: the last test reopens it).
    fn store_with(indexes: std::ops::RangeInclusive<u64>) -> (tempfile::TempDir, sled::Db, SledLogStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sled::open(dir.path()).expect("sled");
        let store = SledLogStore::open(&db).expect("log store");
        for i in indexes {
            let e = Entry {
                log_id: log_id(i),
                payload: EntryPayload::Blank,
            };
            store
                .log
                .insert(index_key(i), codec::encode(&e).expect("encode"))
                .expect("insert");
        }
        (dir, db, store)
    }

    /// Waits until the tree's first index is `first` (the purge thread
    /// removed what is below it; `None`: every entry); panics after 10 s.
    fn wait_first(store: &SledLogStore, first: Option<u64>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while store.first_index().expect("first") != first {
            assert!(
                Instant::now() < deadline,
                "the purge thread did not get the log to start at {first:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn indexes(entries: &[Entry]) -> Vec<u64> {
        entries.iter().map(|e| e.log_id.index).collect()
    }

    #[tokio::test]
    async fn reads_never_return_entries_below_the_purge_point_still_in_the_tree() {
        let (_dir, _db, mut store) = store_with(1..=5000);
        // The point moved, the thread not woken: its removal still to come.
        store
            .purged
            .next
            .store(3001, std::sync::atomic::Ordering::Release);
        let read = store.try_get_log_entries(1..=5000).await.expect("read");
        assert_eq!(indexes(&read), (3001..=5000).collect::<Vec<_>>());
        assert!(store.try_get_log_entries(10..=20).await.expect("read").is_empty());
        assert_eq!(
            indexes(&store.try_get_log_entries(..3002).await.expect("read")),
            [3001]
        );
        assert_eq!(
            indexes(&store.try_get_log_entries(4999..).await.expect("read")),
            [4999, 5000]
        );
        assert_eq!(store.len(), 2000);
        assert_eq!(store.log.iter().count(), 5000);
    }

    #[tokio::test]
    async fn a_purge_records_its_point_and_the_purge_thread_removes_the_entries_below() {
        let (_dir, _db, mut store) = store_with(1..=5000);
        store.purge(log_id(3000)).await.expect("purge");
        let state = store.get_log_state().await.expect("state");
        assert_eq!(state.last_purged_log_id, Some(log_id(3000)));
        assert_eq!(state.last_log_id, Some(log_id(5000)));
        wait_first(&store, Some(3001));
        assert_eq!(store.log.iter().count(), 2000);
    }

    #[tokio::test]
    async fn a_log_whose_entries_are_all_below_the_purge_point_ends_at_the_purge_point() {
        // A follower installing a snapshot past the end of its log.
        let (_dir, _db, mut store) = store_with(1..=10);
        store.purge(log_id(20)).await.expect("purge");
        let state = store.get_log_state().await.expect("state");
        assert_eq!(state.last_log_id, Some(log_id(20)));
        assert_eq!(store.len(), 0);
        assert!(store.try_get_log_entries(..).await.expect("read").is_empty());
        wait_first(&store, None);
    }

    #[tokio::test]
    async fn entries_a_crash_left_below_the_purge_point_are_removed_at_the_next_open() {
        // The purge point recorded, the thread never run: as after a crash.
        let (_dir, db, store) = store_with(1..=300);
        store.write_meta(KEY_PURGED, &log_id(100)).expect("purge point");
        drop(store);
        let mut reopened = SledLogStore::open(&db).expect("reopen");
        let read = reopened.try_get_log_entries(50..=150).await.expect("read");
        assert_eq!(indexes(&read), (101..=150).collect::<Vec<_>>());
        wait_first(&reopened, Some(101));
        assert_eq!(reopened.len(), 200);
    }
}
