//! The openraft type configuration of smsgw: node ids, node addresses and the
//! entry, response and snapshot types. It must never carry behaviour: only the
//! types every other module agrees on.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::app::{Applied, Proposal};

/// A node's id in the cluster (unique, never reused for another machine).
pub type NodeId = u64;

/// What the cluster knows about a member: where to reach it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Address of the node's raft port (`host:port`): raft RPC, forwarding, admin.
    pub raft_addr: String,
    /// Address of the node's HTTP API (may be empty when the node runs none).
    pub http_addr: String,
}

impl NodeInfo {
    /// A node reachable at `raft_addr`, with no HTTP address known.
    pub fn new(raft_addr: impl Into<String>) -> Self {
        Self {
            raft_addr: raft_addr.into(),
            http_addr: String::new(),
        }
    }
}

impl fmt::Display for NodeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.http_addr.is_empty() {
            write!(f, "raft={}", self.raft_addr)
        } else {
            write!(f, "raft={} http={}", self.raft_addr, self.http_addr)
        }
    }
}

openraft::declare_raft_types!(
    /// The smsgw raft type configuration.
    pub TypeConfig:
        D = Proposal,
        R = Applied,
        NodeId = NodeId,
        Node = NodeInfo,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = tokio::fs::File,
        AsyncRuntime = openraft::TokioRuntime,
);

/// The openraft handle for this type configuration.
pub type Raft = openraft::Raft<TypeConfig>;
/// A log id of this cluster.
pub type LogId = openraft::LogId<NodeId>;
/// A log entry of this cluster.
pub type Entry = openraft::Entry<TypeConfig>;
/// The membership as stored with the state.
pub type StoredMembership = openraft::StoredMembership<NodeId, NodeInfo>;
/// Snapshot metadata of this cluster.
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, NodeInfo>;
/// The vote of this cluster.
pub type Vote = openraft::Vote<NodeId>;
