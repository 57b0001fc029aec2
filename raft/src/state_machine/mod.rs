//! The replicated state machine in sled: hands committed entries to the
//! [`App`] (one atomic sled batch per `apply` call), builds and installs
//! snapshots (streamed through files, see [`snapshot`]), and exposes a
//! read-only [`View`]. It must never apply anything that is not a committed
//! entry, and never be written to by anything but openraft.

mod snapfile;
mod snapshot;
mod spill;
mod undo;

/// Keys raft keeps in the state-machine tree; an application never writes
/// under the `_/` prefix.
pub(crate) mod keys {
    pub const APPLIED: &[u8] = b"_/applied";
    pub const MEMBERSHIP: &[u8] = b"_/membership";
}

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use openraft::storage::RaftStateMachine;
use openraft::{AnyError, EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, StorageError, StorageIOError};

pub use self::snapshot::SnapshotBuilder;
use crate::app::{App, Applied, Tx, View};
use crate::types::{Entry, LogId, NodeId, SnapshotMeta, StoredMembership, TypeConfig};

pub(crate) fn sm_err(verb: ErrorVerb, e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageError::IO {
        source: StorageIOError::new(ErrorSubject::StateMachine, verb, AnyError::new(&e)),
    }
}

/// The sled-backed state machine. Cheap to clone: clones share the trees.
#[derive(Clone)]
pub struct SledStateMachine {
    db: sled::Db,
    /// The tree holding the state; an install switches it (views share it).
    tree: Arc<std::sync::RwLock<sled::Tree>>,
    files: snapshot::Files,
    /// The file openraft is writing a received snapshot into.
    receiving: Option<PathBuf>,
    app: Arc<dyn App>,
    /// A snapshot pass reading the tree while applies go on.
    passes: undo::Passes,
}

/// The name of the tree holding the state in `db` (an install switches it).
pub(crate) fn state_tree(db: &sled::Db) -> Result<sled::Tree, sled::Error> {
    let name = snapshot::state_tree_name(&db.open_tree("snapshot")?)?;
    db.open_tree(name)
}

impl SledStateMachine {
    /// Opens (or creates) the state-machine trees in `db`, applying with
    /// `app`, with snapshot files in `snapshot_dir` (created if missing).
    pub fn open(db: &sled::Db, app: Arc<dyn App>, snapshot_dir: &Path) -> Result<Self, sled::Error> {
        let snapshots = db.open_tree("snapshot")?;
        let name = snapshot::state_tree_name(&snapshots)?;
        let files = snapshot::Files::new(snapshot_dir.to_path_buf(), snapshots);
        files.tidy(db, &name)?;
        Ok(Self {
            db: db.clone(),
            tree: Arc::new(std::sync::RwLock::new(db.open_tree(name)?)),
            files,
            receiving: None,
            app,
            passes: undo::Passes::default(),
        })
    }

    /// Sets how much a snapshot pass keeps of the values applies overwrite
    /// while it runs: `memory_bytes` in memory before they go to a run file
    /// in the snapshot directory, `spill_bytes` in run files before applies
    /// wait for the pass (defaults: 16 MiB and 4 GiB, see `undo::Bounds`).
    pub fn with_snapshot_bounds(mut self, memory_bytes: usize, spill_bytes: u64) -> Self {
        self.passes = undo::Passes::with_bounds(undo::Bounds {
            memory: memory_bytes,
            spill: spill_bytes,
        });
        self
    }

    /// A read-only view of the current (local, possibly stale) state.
    pub fn view(&self) -> View {
        View::shared(self.tree.clone())
    }

    /// The size of the current snapshot file, kept up to date by builds
    /// and installs (0: none yet).
    pub fn snapshot_bytes(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.files.bytes.clone()
    }

    /// Writes `ov`, whose last entry is `last`, as one sled batch.
    fn write_batch(&self, tree: &sled::Tree, ov: Tx<'_>, last: LogId) -> Result<(), StorageError<NodeId>> {
        let keys = ov.len();
        metrics::counter!("smsgw_raft_apply_keys_total").increment(keys as u64);
        metrics::counter!("smsgw_raft_apply_batches_total").increment(1);
        if let Some(pass) = self.passes.active() {
            snapshot::blocking(|| pass.before_write(tree, ov.keys()))
                .map_err(|e| sm_err(ErrorVerb::Read, e))?;
        }
        crate::reclaim::apply_batch(tree, ov.into_batch(), keys).map_err(|e| sm_err(ErrorVerb::Write, e))?;
        metrics::gauge!("smsgw_raft_applied_index").set(last.index as f64);
        Ok(())
    }

    fn current(&self) -> sled::Tree {
        self.tree.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl RaftStateMachine<TypeConfig> for SledStateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError<NodeId>> {
        let tree = self.current();
        let ov = Tx::new(&tree);
        let applied: Option<LogId> = ov
            .get::<Option<LogId>>(keys::APPLIED)
            .map_err(|e| sm_err(ErrorVerb::Read, e))?
            .flatten();
        let membership: StoredMembership = ov
            .get(keys::MEMBERSHIP)
            .map_err(|e| sm_err(ErrorVerb::Read, e))?
            .unwrap_or_default();
        Ok((applied, membership))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Applied>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let started = Instant::now();
        let tree = self.current();
        let mut ov = Tx::new(&tree);
        let mut out = Vec::new();
        // The last entry in `ov` not yet written.
        let mut pending = None;
        for entry in entries {
            let index = entry.log_id.index;
            let response = match &entry.payload {
                EntryPayload::Blank => Applied::default(),
                EntryPayload::Normal(proposal) => {
                    let mut rs = Vec::with_capacity(proposal.0.len());
                    for cmd in &proposal.0 {
                        rs.push(
                            self.app
                                .apply(&mut ov, index, cmd)
                                .map_err(|e| StorageError::IO {
                                    source: StorageIOError::apply(entry.log_id, AnyError::new(&e)),
                                })?,
                        );
                    }
                    Applied(rs)
                }
                EntryPayload::Membership(m) => {
                    let stored = StoredMembership::new(Some(entry.log_id), m.clone());
                    ov.put(keys::MEMBERSHIP.to_vec(), &stored)
                        .map_err(|e| sm_err(ErrorVerb::Write, e))?;
                    Applied::default()
                }
            };
            out.push(response);
            // Whole entries at a time, each batch with its own applied
            // mark, so a crash between two leaves a state that is some
            // entry's. Never an entry split in two.
            ov.put(keys::APPLIED.to_vec(), &Some(entry.log_id))
                .map_err(|e| sm_err(ErrorVerb::Write, e))?;
            pending = Some(entry.log_id);
            if ov.bytes() >= crate::reclaim::BATCH_BYTES {
                self.write_batch(&tree, std::mem::replace(&mut ov, Tx::new(&tree)), entry.log_id)?;
                pending = None;
            }
        }
        if let Some(last) = pending {
            self.write_batch(&tree, ov, last)?;
        }
        metrics::histogram!("smsgw_raft_apply_seconds").record(started.elapsed().as_secs_f64());
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder::begin(self.current(), &self.files, &self.passes)
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, StorageError<NodeId>> {
        if let Some(old) = self.receiving.take() {
            let _ = std::fs::remove_file(old);
        }
        let path = self
            .files
            .dir
            .join(format!("receiving-{}.tmp", self.files.next()));
        let f = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .map_err(|e| sm_err(ErrorVerb::Write, e))?;
        self.receiving = Some(path);
        Ok(Box::new(f))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError<NodeId>> {
        use tokio::io::{AsyncSeekExt, AsyncWriteExt};
        let err = |e: &dyn std::fmt::Display| StorageError::IO {
            source: StorageIOError::new(
                ErrorSubject::Snapshot(Some(meta.signature())),
                ErrorVerb::Write,
                AnyError::error(e.to_string()),
            ),
        };
        let mut f = *snapshot;
        f.flush().await.map_err(|e| err(&e))?;
        f.seek(std::io::SeekFrom::Start(0)).await.map_err(|e| err(&e))?;
        let input = f.into_std().await;
        let (db, files) = (self.db.clone(), self.files.clone());
        // A snapshot pass reads the tree this install replaces and drops.
        let passes = self.passes.clone();
        snapshot::blocking(|| passes.wait_idle());
        let tree = snapshot::blocking(|| snapshot::install(&db, &files, meta, input)).map_err(|e| err(&e))?;
        if let Some(p) = self.receiving.take() {
            let _ = std::fs::remove_file(p);
        }
        let old = std::mem::replace(&mut *self.tree.write().unwrap_or_else(|p| p.into_inner()), tree);
        // Rows of the old state are gone in one step for every reader; the
        // old tree is dropped after (a crash here leaves it for `tidy`).
        let old_name = old.name();
        drop(old);
        if let Err(e) = self.db.drop_tree(&old_name) {
            tracing::warn!("the state tree replaced by a snapshot was not dropped: {e}");
        }
        metrics::counter!("smsgw_raft_snapshots_installed_total").increment(1);
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<openraft::Snapshot<TypeConfig>>, StorageError<NodeId>> {
        self.files
            .load_current()
            .await
            .map_err(|e| sm_err(ErrorVerb::Read, e))
    }
}
