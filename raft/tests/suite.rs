//! openraft's own storage test suite (`openraft::testing::Suite`) run
//! against the sled log store and state machine: vote, log append,
//! truncate and purge, membership in log and state machine, applied state,
//! snapshot build and transfer. Application commands are opaque to raft,
//! so an application that does nothing is enough here (the domain's apply
//! is tested in `smsgw-state`).

use std::sync::Arc;

use openraft::testing::{StoreBuilder, Suite};
use openraft::StorageError;
use smsgw_raft::types::NodeId;
use smsgw_raft::{App, ApplyError, SledLogStore, SledStateMachine, Tx, TypeConfig, View};

/// An application that applies nothing and answers nothing.
struct Inert;

impl App for Inert {
    fn apply(&self, _tx: &mut Tx<'_>, _index: u64, _command: &[u8]) -> Result<Vec<u8>, ApplyError> {
        Ok(Vec::new())
    }

    fn query(&self, _view: &View, _query: &[u8]) -> Result<Vec<u8>, ApplyError> {
        Ok(Vec::new())
    }
}

/// Fresh stores in a temp dir (kept alive by the suite as the guard).
struct SledStores;

fn io(e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageError::IO {
        source: openraft::StorageIOError::write(&e),
    }
}

impl StoreBuilder<TypeConfig, SledLogStore, SledStateMachine, tempfile::TempDir> for SledStores {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, SledLogStore, SledStateMachine), StorageError<NodeId>> {
        let dir = tempfile::tempdir().map_err(io)?;
        let db = sled::open(dir.path()).map_err(io)?;
        let log = SledLogStore::open(&db).map_err(io)?;
        let sm = SledStateMachine::open(&db, Arc::new(Inert), &dir.path().join("snapshots")).map_err(io)?;
        Ok((dir, log, sm))
    }
}

#[test]
fn sled_log_store_and_state_machine_pass_openraft_storage_suite() {
    if let Err(e) = Suite::test_all(SledStores) {
        panic!("openraft storage suite: {e}");
    }
}
