//! How a node runs its raft: ids, addresses, timers, snapshot policy,
//! batching, the store's cache and the cluster secret, with the defaults a
//! node starts from. Plain data: it must never open, bind or start anything.

use std::path::PathBuf;
use std::time::Duration;

use super::proposer::BatchOptions;
use super::storage;
use crate::network::ClusterSecret;
use crate::types::{NodeId, NodeInfo};

/// How to run this node's raft.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// This node's id.
    pub node_id: NodeId,
    /// Where the log and state live.
    pub data_dir: PathBuf,
    /// Address to bind the raft port to (`127.0.0.1:0` picks a free port).
    pub raft_bind: String,
    /// This node's HTTP address, advertised to peers.
    pub http_addr: String,
    /// Peers used by an `Init` with no member list.
    pub peers: Vec<(NodeId, NodeInfo)>,
    /// How long a proposal or a linearizable read may wait for a leader and a commit.
    pub propose_timeout: Duration,
    /// Leader heartbeat interval.
    pub heartbeat_ms: u64,
    /// Election timeout range (ms).
    pub election_timeout_ms: (u64, u64),
    /// Build a snapshot after this many applied entries.
    pub snapshot_every: u64,
    /// Entries kept in the log after a snapshot (for lagging followers).
    pub keep_after_snapshot: u64,
    /// How concurrent proposals are grouped into raft entries.
    pub batch: BatchOptions,
    /// Bytes of sled's page cache (state and log share one store).
    pub cache_bytes: u64,
    /// A fixed cluster secret, proven on every connection to and from the
    /// raft port (never reloaded); `None`: read from `secret_file`.
    pub secret: Option<ClusterSecret>,
    /// The secret file, re-read when it changes (one or two lines, see
    /// [`crate::network::keyring`]); `None`: `DATA_DIR/cluster-secret`,
    /// created at the first start.
    pub secret_file: Option<PathBuf>,
    /// How often the secret file is looked at for a change.
    pub secret_poll: Duration,
}

impl ClusterOptions {
    /// Defaults for node `node_id` in `data_dir` on `raft_bind` (the secret
    /// in the data dir).
    pub fn new(node_id: NodeId, data_dir: impl Into<PathBuf>, raft_bind: impl Into<String>) -> Self {
        Self {
            node_id,
            data_dir: data_dir.into(),
            raft_bind: raft_bind.into(),
            http_addr: String::new(),
            peers: Vec::new(),
            propose_timeout: Duration::from_secs(5),
            heartbeat_ms: 100,
            election_timeout_ms: (500, 1000),
            snapshot_every: 20_000,
            keep_after_snapshot: 1_000,
            batch: BatchOptions::default(),
            cache_bytes: storage::DEFAULT_CACHE_BYTES,
            secret: None,
            secret_file: None,
            secret_poll: crate::network::keyring::DEFAULT_POLL,
        }
    }
}
