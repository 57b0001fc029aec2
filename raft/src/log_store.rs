//! The raft log, vote and committed index, persisted in sled. `append`
//! reports completion only after sled has flushed the entries to disk; a
//! flusher thread groups the flushes of appends that arrive while one flush
//! runs (group commit) and completes their callbacks in order. It must
//! never interpret entries (that is the state machine's job) nor drop an entry
//! openraft has not asked to truncate or purge. A purge removes entries on a
//! thread of its own (`purge`), never on openraft's core task.
//!
//! With a durable mark file ([`SledLogStore::with_durable_mark`]) the
//! flusher also records, after a flush, the committed index that flush made
//! durable: sled recovers a damaged file by silently dropping what follows
//! the damage, and this mark is how the next start tells (see
//! `cluster::verify`).

use std::fmt::Debug;
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{AnyError, ErrorSubject, ErrorVerb, OptionalSend, RaftLogReader, StorageError};

use crate::codec;
use crate::types::{Entry, LogId, NodeId, TypeConfig, Vote};

mod purge;

const KEY_VOTE: &[u8] = b"vote";
const KEY_COMMITTED: &[u8] = b"committed";
const KEY_PURGED: &[u8] = b"last_purged";

/// Log storage over two sled trees: `log` (index -> entry) and `raft_meta`.
#[derive(Clone)]
pub struct SledLogStore {
    db: sled::Db,
    log: sled::Tree,
    meta: sled::Tree,
    /// Bounded: when [`FLUSH_QUEUE`] appends wait for a flush, the next
    /// append waits too (openraft then stops sending more).
    flusher: tokio::sync::mpsc::Sender<LogFlushed<TypeConfig>>,
    /// Last committed index saved, plus one (0: none).
    committed: Arc<AtomicU64>,
    /// Where the flusher records the durable committed index.
    mark: Arc<std::sync::Mutex<Option<PathBuf>>>,
    /// Below it, entries are purged (or about to be, by the purge thread).
    purged: purge::PurgePoint,
}

fn io_err(
    subject: ErrorSubject<NodeId>,
    verb: ErrorVerb,
    e: impl std::error::Error + 'static,
) -> StorageError<NodeId> {
    StorageError::IO {
        source: openraft::StorageIOError::new(subject, verb, AnyError::new(&e)),
    }
}

fn index_key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// The key bound of an index bound, for a sled range read.
fn key_bound(b: std::ops::Bound<u64>) -> std::ops::Bound<[u8; 8]> {
    b.map(index_key)
}

/// The index of an entry read from one end of the log.
fn key_index(kv: Option<(sled::IVec, sled::IVec)>) -> Option<u64> {
    kv.and_then(|(k, _)| <[u8; 8]>::try_from(k.as_ref()).ok())
        .map(u64::from_be_bytes)
}

/// Keys removed per sled batch by a purge or truncation.
const REMOVE_BATCH: u64 = 1024;

/// The index of the log's first entry.
fn first_index_of(log: &sled::Tree) -> sled::Result<Option<u64>> {
    Ok(key_index(log.first()?))
}

/// Removes the entries `from..=to` by their keys, [`REMOVE_BATCH`] per
/// sled batch, lowest first for a purge and highest first for a
/// truncation, so that a crash in between leaves a contiguous log. The
/// keys are known, so nothing is read: reading the range to find them
/// pulled every purged entry's value through sled's cache (a purge of
/// 9,740 entries raised the leader's RSS by 360 MiB).
fn remove_range(log: &sled::Tree, from: u64, to: u64, highest_first: bool) -> sled::Result<()> {
    let mut chunks: Vec<(u64, u64)> = (from..=to)
        .step_by(REMOVE_BATCH as usize)
        .map(|start| (start, to.min(start.saturating_add(REMOVE_BATCH - 1))))
        .collect();
    if highest_first {
        chunks.reverse();
    }
    for (start, end) in chunks {
        let mut batch = sled::Batch::default();
        for i in start..=end {
            batch.remove(&index_key(i));
        }
        crate::reclaim::apply_batch(log, batch, (end - start + 1) as usize)?;
    }
    Ok(())
}

impl SledLogStore {
    /// Opens (or creates) the log trees in `db`, and starts the flusher's
    /// thread, which ends when the last clone of the store is dropped.
    pub fn open(db: &sled::Db) -> Result<Self, sled::Error> {
        let (tx, rx) = tokio::sync::mpsc::channel(FLUSH_QUEUE);
        let committed = Arc::new(AtomicU64::new(0));
        let mark = Arc::new(std::sync::Mutex::new(None));
        let (flushing, c, m) = (db.clone(), committed.clone(), mark.clone());
        std::thread::Builder::new()
            .name("raft-log-flush".into())
            .spawn(move || flusher(flushing, rx, c, m))?;
        let (log, meta) = (db.open_tree("log")?, db.open_tree("raft_meta")?);
        // Unreadable here, it is reported by `get_log_state` (as an error
        // openraft stops on); nothing is purged meanwhile.
        let purged = meta
            .get(KEY_PURGED)?
            .and_then(|b| codec::decode::<LogId>(&b).ok())
            .map(|id| id.index);
        let purged = purge::PurgePoint::start(db, &log, purged)?;
        Ok(Self {
            db: db.clone(),
            log,
            meta,
            flusher: tx,
            committed,
            mark,
            purged,
        })
    }

    /// Records the committed index made durable by each flush in `file`
    /// (at most every [`MARK_EVERY`]).
    pub fn with_durable_mark(self, file: PathBuf) -> Self {
        *self.mark.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
        self
    }

    fn read_meta<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, StorageError<NodeId>> {
        let subject = ErrorSubject::Store;
        match self
            .meta
            .get(key)
            .map_err(|e| io_err(subject.clone(), ErrorVerb::Read, e))?
        {
            None => Ok(None),
            Some(bytes) => codec::decode(&bytes)
                .map(Some)
                .map_err(|e| io_err(subject, ErrorVerb::Read, e)),
        }
    }

    fn write_meta<T: serde::Serialize>(&self, key: &[u8], value: &T) -> Result<(), StorageError<NodeId>> {
        let bytes = codec::encode(value).map_err(|e| io_err(ErrorSubject::Store, ErrorVerb::Write, e))?;
        self.meta
            .insert(key, bytes)
            .map_err(|e| io_err(ErrorSubject::Store, ErrorVerb::Write, e))?;
        Ok(())
    }

    /// A flush outside the appends' group commit (vote, truncation, purge:
    /// rare), on tokio's blocking pool.
    async fn flush(&self, subject: ErrorSubject<NodeId>) -> Result<(), StorageError<NodeId>> {
        let db = self.db.clone();
        let flushed = match tokio::task::spawn_blocking(move || flush_db(&db)).await {
            Ok(flushed) => flushed.map_err(std::io::Error::other),
            Err(e) => Err(std::io::Error::other(format!("the flush stopped: {e}"))),
        };
        flushed.map_err(|e| io_err(subject, ErrorVerb::Write, e))
    }

    /// Number of entries currently held (not purged). The log is contiguous,
    /// so this is last index - first index + 1, read from the two ends of
    /// the tree: `sled::Tree::len` walks every entry, and on the append path
    /// (the raft core's own task) that cost grew with the log until the
    /// next snapshot purged it.
    pub fn len(&self) -> usize {
        let first = self
            .first_index()
            .map(|f| f.map(|f| f.max(self.purged.first_kept())));
        match (first, self.last_index()) {
            (Ok(Some(first)), Ok(Some(last))) if last >= first => {
                usize::try_from(last - first + 1).unwrap_or(usize::MAX)
            }
            _ => 0,
        }
    }

    fn first_index(&self) -> Result<Option<u64>, StorageError<NodeId>> {
        first_index_of(&self.log).map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))
    }

    fn last_index(&self) -> Result<Option<u64>, StorageError<NodeId>> {
        let kv = self.log.last();
        Ok(key_index(
            kv.map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?,
        ))
    }

    fn remove_range(&self, from: u64, to: u64, highest_first: bool) -> Result<(), StorageError<NodeId>> {
        remove_range(&self.log, from, to, highest_first)
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Delete, e))
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    fn last_entry_log_id(&self) -> Result<Option<LogId>, StorageError<NodeId>> {
        match self
            .log
            .last()
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?
        {
            None => Ok(None),
            Some((_, v)) => {
                let entry: Entry =
                    codec::decode(&v).map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?;
                Ok(Some(entry.log_id))
            }
        }
    }
}

impl RaftLogReader<TypeConfig> for SledLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError<NodeId>> {
        // Entries below the purge point may still be in the tree.
        let start = self.purged.clamp(range.start_bound().cloned());
        let end = range.end_bound().cloned();
        if purge::starts_past_end(start, end) {
            return Ok(Vec::new());
        }
        let (start, end) = (key_bound(start), key_bound(end));
        let mut out = Vec::new();
        for item in self.log.range::<[u8; 8], _>((start, end)) {
            let (_, v) = item.map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?;
            out.push(codec::decode(&v).map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for SledLogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let last_purged_log_id: Option<LogId> = self.read_meta(KEY_PURGED)?;
        // Entries the purge thread has not removed yet are not the log's end.
        let last_log_id = match (self.last_entry_log_id()?, last_purged_log_id) {
            (Some(last), Some(purged)) if last.index > purged.index => Some(last),
            (last, None) => last,
            (_, purged) => purged,
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError<NodeId>> {
        self.write_meta(KEY_VOTE, vote)?;
        self.flush(ErrorSubject::Vote).await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError<NodeId>> {
        self.read_meta(KEY_VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError<NodeId>> {
        if let Some(c) = &committed {
            metrics::gauge!("smsgw_raft_commit_index").set(c.index as f64);
            self.committed.store(c.index + 1, Ordering::Release);
        }
        self.write_meta(KEY_COMMITTED, &committed)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError<NodeId>> {
        Ok(self.read_meta::<Option<LogId>>(KEY_COMMITTED)?.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        #[cfg(feature = "fault-injection")]
        if crate::fault::disk_full() {
            let e = std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "No space left on device (injected)",
            );
            return Err(io_err(ErrorSubject::Logs, ErrorVerb::Write, e));
        }
        // One insert per entry, in index order, not a sled batch: a batch
        // rolls sled's IO buffer before and after it (`pin_log`), two
        // writes and two wake-ups of sled's IO threads per append, and the
        // log needs no atomicity here. Writes from one thread are recovered
        // as a prefix (sled's own crash test checks that), so a crash
        // before the flush leaves the log contiguous, ending early, and no
        // append is reported done before its flush.
        let mut keys = 0;
        for entry in entries {
            let bytes = codec::encode(&entry).map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Write, e))?;
            crate::entry_size::record(bytes.len());
            self.log
                .insert(index_key(entry.log_id.index), bytes)
                .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Write, e))?;
            keys += 1;
        }
        crate::reclaim::collect(keys);
        metrics::gauge!("smsgw_raft_log_entries").set(self.len() as f64);
        if let Err(e) = self.flusher.send(callback).await {
            e.0.log_io_completed(Err(std::io::Error::other("log flusher stopped")));
        }
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError<NodeId>> {
        if let Some(last) = self.last_index()? {
            self.remove_range(log_id.index, last, true)?;
        }
        self.flush(ErrorSubject::Logs).await
    }

    /// Records the purge point and hands the removal to the purge thread
    /// (see `purge`): openraft asks for no durability here, and the entries
    /// below the point are unreadable from now on.
    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError<NodeId>> {
        self.write_meta(KEY_PURGED, &log_id)?;
        self.purged.advance(log_id.index);
        metrics::gauge!("smsgw_raft_log_entries").set(self.len() as f64);
        Ok(())
    }
}

/// Appends that may wait for one flush before the next append waits.
pub const FLUSH_QUEUE: usize = 1024;

/// What the flusher completes after a flush (openraft's callback; a test's).
trait Flushed: Send + 'static {
    fn completed(self, result: Result<(), std::io::Error>);
}

impl Flushed for LogFlushed<TypeConfig> {
    fn completed(self, result: Result<(), std::io::Error>) {
        self.log_io_completed(result);
    }
}

#[cfg(test)]
mod flush_tests;

/// How often at most the durable mark file is rewritten.
pub const MARK_EVERY: Duration = Duration::from_millis(500);

/// Flushes sled once for every group of pending appends, then completes their
/// callbacks in order. Runs on a thread of its own, which waits for each
/// flush itself: no job for sled's IO pool or tokio's blocking pool per
/// flush.
fn flusher<F: Flushed>(
    db: sled::Db,
    mut rx: tokio::sync::mpsc::Receiver<F>,
    committed: Arc<AtomicU64>,
    mark: Arc<std::sync::Mutex<Option<PathBuf>>>,
) {
    let mut pending = Vec::new();
    let mut marked = (0u64, Instant::now());
    while let Some(first) = rx.blocking_recv() {
        pending.push(first);
        while let Ok(more) = rx.try_recv() {
            pending.push(more);
        }
        // Read before the flush: everything saved up to it is in this flush.
        let durable = committed.load(Ordering::Acquire);
        let result = flush_db(&db).map_err(|e| e.to_string());
        for cb in pending.drain(..) {
            cb.completed(result.clone().map_err(std::io::Error::other));
        }
        if result.is_ok() && durable > marked.0 && marked.1.elapsed() >= MARK_EVERY {
            let file = mark.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(file) = file {
                write_mark(&file, durable - 1);
                marked = (durable, Instant::now());
            }
        }
    }
}

/// Makes everything written to `db` durable, on the calling thread.
/// Not sled's `flush_async`: that hands the flush to sled's IO pool, whose
/// queue wakes every idle IO thread (seven) for each job it is given.
fn flush_db(db: &sled::Db) -> sled::Result<()> {
    let flushed = db.flush().map(|_| ());
    // A flush that seals sled's IO buffer leaves the old one to this
    // thread's epoch garbage, and a thread that seldom pins again keeps it
    // there, with its segment's 512 KiB buffer.
    crate::reclaim::collect(1);
    flushed
}

/// Replaces the mark file (write, then rename: never half-written). Not
/// synced: a mark lost in a crash is only older, never ahead of the data.
fn write_mark(file: &Path, index: u64) {
    let tmp = file.with_extension("tmp");
    let r = std::fs::write(&tmp, format!("committed {index}\n")).and_then(|_| std::fs::rename(&tmp, file));
    if let Err(e) = r {
        tracing::debug!(file = %file.display(), "durable mark not written: {e}");
    }
}

/// Reads a durable mark file: `Ok(None)` when there is none.
pub fn read_mark(file: &Path) -> Result<Option<u64>, String> {
    match std::fs::read_to_string(file) {
        Ok(text) => text
            .trim()
            .strip_prefix("committed ")
            .and_then(|n| n.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| format!("holds {:?}, not `committed N`", text.trim())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::{index_key, SledLogStore};

    #[tokio::test]
    async fn the_entry_count_is_read_from_the_ends_of_the_log_not_by_walking_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sled::open(dir.path()).expect("sled");
        let store = SledLogStore::open(&db).expect("log store");
        assert_eq!(store.len(), 0);
        assert!(store.is_empty());
        for i in 5..=9u64 {
            store.log.insert(index_key(i), b"x".to_vec()).expect("insert");
        }
        assert_eq!(store.len(), 5);
        store.log.remove(index_key(5)).expect("purge 5");
        store.log.remove(index_key(6)).expect("purge 6");
        assert_eq!(store.len(), 3);
    }

    #[tokio::test]
    async fn ranges_spanning_several_batches_are_removed_from_either_end_and_nothing_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sled::open(dir.path()).expect("sled");
        let store = SledLogStore::open(&db).expect("log store");
        for i in 1..=3000u64 {
            store.log.insert(index_key(i), b"x".to_vec()).expect("insert");
        }
        // A purge through 2,100, as from the first entry.
        store.remove_range(1, 2100, false).expect("purge");
        // A truncation from 2,900, as up to the last entry.
        store.remove_range(2900, 3000, true).expect("truncate");
        assert_eq!(store.first_index().expect("first"), Some(2101));
        assert_eq!(store.last_index().expect("last"), Some(2899));
        assert_eq!(store.len(), 799);
        assert_eq!(store.log.iter().count(), 799);
    }
}
