//! Errors of the cluster API, serializable so a node can return them to
//! another node or to the CLI. Messages are written for operators: they say
//! what happened and what it means. It must never hide a raft error kind
//! behind a generic one.

use serde::{Deserialize, Serialize};

use crate::types::NodeId;

/// A write could not be committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ProposeError {
    /// No leader was known within the timeout.
    #[error("no leader elected within {waited_ms} ms: a majority of the cluster may be down; the write was not accepted")]
    NoLeader {
        /// How long the proposer waited.
        waited_ms: u64,
    },
    /// The leader cannot reach a majority (the write is refused, not queued).
    #[error(
        "leader {leader} has no quorum (last majority ack {since_ack_ms} ms ago): the write was not accepted"
    )]
    NoQuorum {
        /// The leader that refused.
        leader: NodeId,
        /// Milliseconds since a majority last acknowledged it.
        since_ack_ms: u64,
    },
    /// The entry was appended but not committed within the timeout.
    #[error("not committed within {waited_ms} ms: the cluster may have lost its majority; the outcome is unknown, retry with the same request id")]
    Timeout {
        /// How long the proposer waited.
        waited_ms: u64,
    },
    /// This node is shutting down or raft failed there.
    #[error("raft stopped on node {node}: {reason}")]
    Fatal {
        /// The node.
        node: NodeId,
        /// Why.
        reason: String,
    },
    // Appended last: variants are encoded by index between nodes.
    /// The storage of node `node` failed (a full disk or an I/O error): raft
    /// there stopped until the node rebuilds it.
    #[error("storage of node {node} failed{}: {reason}", if *full { " (disk full)" } else { "" })]
    Storage {
        /// The node whose storage failed.
        node: NodeId,
        /// What the storage layer reported.
        reason: String,
        /// The disk (or a quota) is full, as opposed to another I/O error.
        full: bool,
        /// The failure happened while this write was in flight: it may have
        /// committed (it was already stopped otherwise, and this write was
        /// never proposed).
        may_have_committed: bool,
    },
    /// Node `node`'s proposal queue holds `queued` proposals already: the
    /// write was refused before it was queued (not accepted; retry later).
    #[error("node {node} has {queued} writes waiting: the write was not accepted; retry shortly")]
    Backlog {
        /// The node whose queue is full.
        node: NodeId,
        /// Its bound.
        queued: u64,
    },
}

/// Whether an error text reports a full disk or quota (ENOSPC, EDQUOT or
/// `StorageFull`), as opposed to another I/O error. Errors cross sled and
/// openraft as text, so the text is all there is to look at.
pub fn is_disk_full(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "no space left",
        "storagefull",
        "storage full",
        "os error 28",
        "quota exceeded",
        "os error 122",
    ]
    .iter()
    .any(|k| t.contains(k))
}

/// An admin operation or a read failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AdminError {
    /// The node at the given address could not be reached.
    #[error("cannot reach node at {addr}: {reason}")]
    Unreachable {
        /// The address tried.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The operation needs a leader and none is known.
    #[error("no leader known: the cluster is not initialised or has lost its majority")]
    NoLeader,
    /// The request is not valid in the current state.
    #[error("{0}")]
    Invalid(String),
    /// Raft refused or failed the operation.
    #[error("raft: {0}")]
    Raft(String),
    /// The operation did not finish in time.
    #[error("timed out: {0}")]
    Timeout(String),
    // Appended last: variants are encoded by index between nodes.
    /// The node refused our cluster secret, or does not hold it.
    #[error("authentication failed with {addr}: {reason}")]
    AuthFailed {
        /// The node.
        addr: String,
        /// What went wrong (never the secret).
        reason: String,
    },
}

/// The network layer failed to deliver a request or read its response.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Connecting failed.
    #[error("connect to {addr}: {source}")]
    Connect {
        /// Target address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Reading or writing the connection failed.
    #[error("i/o with {addr}: {source}")]
    Io {
        /// Target address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// No response within the deadline.
    #[error("no response from {addr} within {ms} ms")]
    Timeout {
        /// Target address.
        addr: String,
        /// The deadline.
        ms: u64,
    },
    /// The peer closed the connection.
    #[error("{addr} closed the connection")]
    Closed {
        /// Target address.
        addr: String,
    },
    /// The frame did not decode.
    #[error("bad frame from {addr}: {source}")]
    Codec {
        /// Target address.
        addr: String,
        /// Cause.
        source: crate::codec::CodecError,
    },
    /// The handshake failed: wrong secret on either side, or not an smsgw node.
    #[error("authentication failed with {addr}: {reason}")]
    Auth {
        /// Target address.
        addr: String,
        /// Why (never the secret).
        reason: String,
    },
    /// The peer answered with a different kind of response.
    #[error("unexpected response kind from {addr}")]
    Unexpected {
        /// Target address.
        addr: String,
    },
}

#[cfg(test)]
mod tests {
    use super::is_disk_full;

    #[test]
    fn disk_full_is_told_from_other_io_errors() {
        assert!(is_disk_full(
            "when Write StateMachine: No space left on device (os error 28)"
        ));
        assert!(is_disk_full("Io(Kind(StorageFull))"));
        assert!(!is_disk_full("Input/output error (os error 5)"));
    }
}
