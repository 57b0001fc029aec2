//! The replicated state machine in sled: hands committed entries to the
//! [`App`] (one atomic sled batch per `apply` call), builds and installs
//! snapshots, and exposes a read-only [`View`]. It must never apply anything
//! that is not a committed entry, and never be written to by anything but
//! openraft.

mod snapshot;

/// Keys raft keeps in the state-machine tree; an application never writes
/// under the `_/` prefix.
pub(crate) mod keys {
    pub const APPLIED: &[u8] = b"_/applied";
    pub const MEMBERSHIP: &[u8] = b"_/membership";
}

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
    tree: sled::Tree,
    snapshots: sled::Tree,
    counter: Arc<std::sync::atomic::AtomicU64>,
    app: Arc<dyn App>,
}

impl SledStateMachine {
    /// Opens (or creates) the state-machine trees in `db`, applying with `app`.
    pub fn open(db: &sled::Db, app: Arc<dyn App>) -> Result<Self, sled::Error> {
        Ok(Self {
            db: db.clone(),
            tree: db.open_tree("sm")?,
            snapshots: db.open_tree("snapshot")?,
            counter: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            app,
        })
    }

    /// A read-only view of the current (local, possibly stale) state.
    pub fn view(&self) -> View {
        View::new(self.tree.clone())
    }

    fn tx(&self) -> Tx<'_> {
        Tx::new(&self.tree)
    }
}

impl RaftStateMachine<TypeConfig> for SledStateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError<NodeId>> {
        let ov = self.tx();
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
        let mut ov = Tx::new(&self.tree);
        let mut out = Vec::new();
        let mut last = None;
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
            last = Some(entry.log_id);
            out.push(response);
        }
        if let Some(last) = last {
            ov.put(keys::APPLIED.to_vec(), &Some(last))
                .map_err(|e| sm_err(ErrorVerb::Write, e))?;
            metrics::gauge!("smsgw_raft_applied_index").set(last.index as f64);
        }
        self.tree
            .apply_batch(ov.into_batch())
            .map_err(|e| sm_err(ErrorVerb::Write, e))?;
        metrics::histogram!("smsgw_raft_apply_seconds").record(started.elapsed().as_secs_f64());
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder::capture(&self.tree, &self.snapshots, self.counter.clone())
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<std::io::Cursor<Vec<u8>>>, StorageError<NodeId>> {
        Ok(Box::new(std::io::Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<std::io::Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<NodeId>> {
        let data = snapshot.into_inner();
        snapshot::install(&self.tree, &self.snapshots, meta, data).map_err(|e| StorageError::IO {
            source: StorageIOError::new(
                ErrorSubject::Snapshot(Some(meta.signature())),
                ErrorVerb::Write,
                AnyError::new(&e),
            ),
        })?;
        self.db
            .flush_async()
            .await
            .map_err(|e| sm_err(ErrorVerb::Write, e))?;
        metrics::counter!("smsgw_raft_snapshots_installed_total").increment(1);
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<openraft::Snapshot<TypeConfig>>, StorageError<NodeId>> {
        snapshot::load_current(&self.snapshots).map_err(|e| sm_err(ErrorVerb::Read, e))
    }
}
