//! The messages exchanged on a node's raft port: raft RPCs, forwarded client
//! writes and admin requests, each a bincode frame behind a 4-byte length
//! (tokio-util `LengthDelimitedCodec`). It must never change the meaning of
//! an existing variant: nodes of different builds talk to each other.

use openraft::error::{InstallSnapshotError, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::{Deserialize, Serialize};

use crate::error::{AdminError, ProposeError};
use crate::types::{NodeId, NodeInfo, TypeConfig};

/// Largest frame accepted (snapshots travel in chunks well below this).
pub const MAX_FRAME: usize = crate::codec::FRAME_LIMIT;

/// A request on the raft port.
#[derive(Debug, Serialize, Deserialize)]
pub enum RpcRequest {
    /// Raft log replication and heartbeats.
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    /// Raft election.
    Vote(VoteRequest<NodeId>),
    /// One chunk of a snapshot.
    InstallSnapshot(#[serde(with = "snapshot_chunk")] InstallSnapshotRequest<TypeConfig>),
    /// A client write forwarded to the node believed to lead; never forwarded again.
    ClientWrite(#[serde(with = "crate::codec::bytes")] Vec<u8>),
    /// An admin request from the CLI or a peer; leader-only ones are forwarded once.
    Admin(AdminRequest),
    /// An admin request already forwarded by a peer; never forwarded again.
    AdminForwarded(AdminRequest),
    /// Client writes batched by a follower's proposer, forwarded to the node
    /// believed to lead; never forwarded again. Answered one result per command.
    ClientWriteBatch(#[serde(with = "crate::codec::bytes_list")] Vec<Vec<u8>>),
}

/// The response to an [`RpcRequest`] of the same kind.
#[derive(Debug, Serialize, Deserialize)]
pub enum RpcResponse {
    /// See [`RpcRequest::AppendEntries`].
    AppendEntries(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    /// See [`RpcRequest::Vote`].
    Vote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    /// See [`RpcRequest::InstallSnapshot`].
    InstallSnapshot(Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>),
    /// See [`RpcRequest::ClientWrite`]; `Err(None)` means "not the leader, ask `leader`".
    ClientWrite(Result<Vec<u8>, WriteRefusal>),
    /// See [`RpcRequest::Admin`].
    Admin(Result<AdminResponse, AdminError>),
    /// See [`RpcRequest::ClientWriteBatch`]: one result per command, in order.
    ClientWriteBatch(Vec<Result<Vec<u8>, WriteRefusal>>),
}

/// Why a forwarded write was not applied.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WriteRefusal {
    /// The receiver is not the leader; it believes `leader` is.
    NotLeader {
        /// The leader it knows of.
        leader: Option<(NodeId, NodeInfo)>,
    },
    /// A definitive failure.
    Failed(ProposeError),
}

/// Cluster administration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AdminRequest {
    /// This node's view of the cluster.
    Status,
    /// Initialise the cluster with these voters (empty: this node and its configured peers).
    Init {
        /// Voters with their addresses.
        members: Vec<(NodeId, NodeInfo)>,
    },
    /// Add a node: as learner, wait until it caught up, then (if `voter`) as voter.
    AddNode {
        /// New node's id.
        id: NodeId,
        /// Its addresses.
        info: NodeInfo,
        /// Promote to voter once caught up.
        voter: bool,
    },
    /// Remove a node from the membership (voter or learner).
    RemoveNode {
        /// The node.
        id: NodeId,
    },
    /// Planned switchover to node `to`.
    TransferLeader {
        /// The new leader.
        to: NodeId,
    },
    /// Internal: start an election on the receiving node now (used by transfer).
    Elect,
    /// Internal: do not start elections for `ms` milliseconds (used by transfer).
    HoldElections {
        /// How long.
        ms: u64,
    },
    /// Read the state.
    Read {
        /// What to read (an encoded application query).
        query: Vec<u8>,
        /// Linearizable (through the leader) or local (possibly stale).
        linearizable: bool,
    },
    /// Propose an encoded application command through the receiving node
    /// (which forwards it if needed).
    Propose(Vec<u8>),
    /// Build a snapshot now and purge the log it covers.
    Compact,
}

/// The result of an admin request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AdminResponse {
    /// A node's status.
    Status(Box<NodeStatus>),
    /// Done; a line for the operator.
    Done(String),
    /// Result of a read (an encoded application answer).
    Read(Vec<u8>),
    /// Result of a proposal (the encoded application response).
    Proposed(Result<Vec<u8>, ProposeError>),
}

/// One node's view of the cluster.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct NodeStatus {
    /// The node answering.
    pub id: NodeId,
    /// Its raft address.
    pub raft_addr: String,
    /// Leader, Follower, Candidate or Learner.
    pub state: String,
    /// Current term.
    pub term: u64,
    /// Leader it knows of.
    pub leader: Option<NodeId>,
    /// Index of its last log entry.
    pub last_log_index: Option<u64>,
    /// Index of its last applied entry.
    pub applied_index: Option<u64>,
    /// Index its last snapshot covers.
    pub snapshot_index: Option<u64>,
    /// Index up to which its log was purged.
    pub purged_index: Option<u64>,
    /// Voters and their addresses.
    pub voters: Vec<(NodeId, NodeInfo)>,
    /// Learners and their addresses.
    pub learners: Vec<(NodeId, NodeInfo)>,
    /// On a leader: each member's matched log index.
    pub replication: Vec<(NodeId, Option<u64>)>,
    /// On a leader: ms since a majority acknowledged it.
    pub millis_since_quorum_ack: Option<u64>,
    /// Whether the cluster was initialised (as seen by this node).
    pub initialized: bool,
}

/// openraft's `InstallSnapshotRequest` as it goes on the wire: the same
/// fields in the same order, so the same bytes, with the chunk written as
/// one byte string ([`crate::codec::bytes`]) instead of serde's byte by
/// byte (a megabyte chunk was a million calls on each side).
mod snapshot_chunk {
    use openraft::raft::InstallSnapshotRequest;
    use openraft::{SnapshotMeta, Vote};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::types::{NodeId, NodeInfo, TypeConfig};

    #[derive(Serialize)]
    struct Ref<'a> {
        vote: &'a Vote<NodeId>,
        meta: &'a SnapshotMeta<NodeId, NodeInfo>,
        offset: u64,
        #[serde(with = "crate::codec::bytes")]
        data: &'a [u8],
        done: bool,
    }

    #[derive(Deserialize)]
    struct Owned {
        vote: Vote<NodeId>,
        meta: SnapshotMeta<NodeId, NodeInfo>,
        offset: u64,
        #[serde(with = "crate::codec::bytes")]
        data: Vec<u8>,
        done: bool,
    }

    pub(super) fn serialize<S: Serializer>(
        r: &InstallSnapshotRequest<TypeConfig>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        Ref {
            vote: &r.vote,
            meta: &r.meta,
            offset: r.offset,
            data: &r.data,
            done: r.done,
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<InstallSnapshotRequest<TypeConfig>, D::Error> {
        let o = Owned::deserialize(d)?;
        Ok(InstallSnapshotRequest {
            vote: o.vote,
            meta: o.meta,
            offset: o.offset,
            data: o.data,
            done: o.done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_frame, encode};

    #[test]
    fn a_snapshot_chunk_is_written_as_openrafts_own_encoding_and_reads_back() {
        let chunk = InstallSnapshotRequest::<TypeConfig> {
            vote: openraft::Vote::new_committed(7, 2),
            meta: openraft::SnapshotMeta {
                snapshot_id: "7-2-1234".into(),
                ..Default::default()
            },
            offset: 3 * 1024 * 1024,
            data: (0..=255u8).cycle().take(70_000).collect(),
            done: false,
        };
        let ours = encode(&RpcRequest::InstallSnapshot(chunk.clone())).expect("encode");
        // Variant 2 of RpcRequest, then openraft's own derive, byte for byte:
        // nodes of earlier builds read it and write what this one reads.
        assert_eq!(ours[0], 2);
        assert_eq!(&ours[1..], &encode(&chunk).expect("openraft's encoding")[..]);
        match decode_frame::<RpcRequest>(&ours).expect("decode") {
            RpcRequest::InstallSnapshot(back) => assert_eq!(back, chunk),
            other => panic!("decoded as {other:?}"),
        }
    }
}
