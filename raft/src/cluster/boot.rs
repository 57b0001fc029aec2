//! Starting one raft instance on an opened database: the log store, the
//! state machine and the tasks that serve them (the raft port is bound once
//! per process and routed to the instance in service, see [`Current`]). Used at the
//! node's start and again by [`super::Cluster::rebuild`] after a storage
//! failure. It must never open the data dir itself (the caller checked it).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use std::net::SocketAddr;

use super::{lease, proposer, ClusterOptions, Inner, Running, StartError};
use crate::app::App;
use crate::network::server::Handler;
use crate::network::{Keyring, NetworkFactory, RpcClient, RpcRequest, RpcResponse};
use crate::state_machine::SledStateMachine;
use crate::types::Raft;
use crate::SledLogStore;

/// Where raft's snapshot files live, in the data dir.
pub(crate) const SNAPSHOT_DIR: &str = "raft-snapshots";

/// Starts raft on `db`; `addr` is the bound raft port (advertised to peers).
pub(super) async fn boot(
    opts: ClusterOptions,
    app: Arc<dyn App>,
    db: sled::Db,
    keyring: Keyring,
    addr: SocketAddr,
) -> Result<Running, StartError> {
    let log = SledLogStore::open(&db)?.with_durable_mark(opts.data_dir.join(super::storage::DURABLE_MARK));
    let sm = SledStateMachine::open(&db, app.clone(), &opts.data_dir.join(SNAPSHOT_DIR))?;
    let view = sm.view();
    let snapshot_bytes = sm.snapshot_bytes();
    let config = openraft::Config {
        cluster_name: "smsgw".into(),
        heartbeat_interval: opts.heartbeat_ms,
        election_timeout_min: opts.election_timeout_ms.0,
        election_timeout_max: opts.election_timeout_ms.1,
        // `snapshots::spawn` asks for them: by entries, and by the log
        // written since once the state is large.
        snapshot_policy: openraft::SnapshotPolicy::Never,
        max_in_snapshot_log_to_keep: opts.keep_after_snapshot,
        snapshot_max_chunk_size: 1024 * 1024,
        // Per chunk, and the last chunk's answer waits for the follower's
        // install (a streamed load of the whole state, ~20 s for 116 MB in
        // a debug build): too short, and the leader gives up on a chunk
        // the follower is still installing and sends the snapshot again.
        install_snapshot_timeout: 60_000,
        // Entries are batches of up to `batch.max_bytes`: keep an
        // AppendEntries frame well under the frame limit.
        max_payload_entries: 64,
        ..Default::default()
    };
    let config = Arc::new(config.validate().map_err(|e| StartError::Raft(e.to_string()))?);
    let client = RpcClient::with_keyring(keyring);
    let raft = Raft::new(opts.node_id, config, NetworkFactory::new(client.clone()), log, sm)
        .await
        .map_err(|e| StartError::Raft(e.to_string()))?;
    let (proposals, proposals_rx) = proposer::channel(opts.batch.max_queued);
    let inner = Arc::new(Inner {
        id: opts.node_id,
        raft: raft.clone(),
        view: std::sync::RwLock::new(view),
        app,
        client,
        opts,
        addr,
        transferring: AtomicBool::new(false),
        writing: std::sync::atomic::AtomicUsize::new(0),
        transfer_hook: std::sync::RwLock::new(None),
        lease: lease::Lease::default(),
        proposals,
        db: std::sync::Mutex::new(Some(db)),
    });
    let snapshots = super::snapshots::spawn(raft.clone(), inner.opts.snapshot_every, snapshot_bytes);
    let proposer = proposer::spawn(inner.clone(), proposals_rx);
    let lease = lease::spawn(inner.clone());
    let exporter = crate::metrics::spawn_exporter(raft);
    Ok(Running {
        inner,
        tasks: vec![exporter, proposer, lease, snapshots],
    })
}

/// The raft port's handler: every request goes to the raft instance in
/// service when it arrives, so that connections peers keep open across a
/// [`super::Cluster::rebuild`] reach the new instance, not the stopped one.
pub(super) struct Current(pub(super) Arc<std::sync::RwLock<Running>>);

impl Handler for Current {
    async fn handle(self: Arc<Self>, req: RpcRequest) -> RpcResponse {
        let inner = self.0.read().unwrap_or_else(|p| p.into_inner()).inner.clone();
        inner.handle(req).await
    }
}
