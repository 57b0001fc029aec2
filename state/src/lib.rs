//! The replicated domain of smsgw: typed tables (messages and parts, ready
//! queues per priority, carrier ids, reports, MOs, counters), the commands
//! that change them and their deterministic apply, and typed reads.
//!
//! Replication itself (log, network, snapshots, batching) is `smsgw-raft`'s:
//! this crate plugs into it through [`Domain`], raft's [`App`]. It must never
//! read a clock, draw randomness or do I/O in apply, and never know about
//! carrier sessions or HTTP.

pub mod accounts;
pub mod alarm;
mod apply;
pub mod book;
pub mod command;
pub mod events;
pub mod jobs;
pub mod keys;
pub mod mo_keys;
mod parked;
mod parts;
pub mod retention;
pub mod staging;
pub mod stats;
#[cfg(test)]
mod test_support;
pub mod users;
mod view;

use std::sync::Arc;

use smsgw_raft::{App, ApplyError, Cluster, ProposeError, ReadError, Tx, View};

pub use command::{
    Command, MoMessage, MoRecord, MtPart, PartRecord, Query, QueryResult, ReadySlot, Response,
};
pub use view::{MessageParts, ReadyEntry, StateView};

/// The smsgw domain as raft's application.
#[derive(Debug, Default, Clone, Copy)]
pub struct Domain;

impl Domain {
    /// The application to start a [`Cluster`] with.
    pub fn app() -> Arc<dyn App> {
        Arc::new(Domain)
    }
}

impl App for Domain {
    fn apply(&self, tx: &mut Tx<'_>, index: u64, command: &[u8]) -> Result<Vec<u8>, ApplyError> {
        let cmd: Command = smsgw_raft::codec::decode(command)?;
        let response = apply::apply_command(tx, index, &cmd)?;
        Ok(smsgw_raft::codec::encode(&response)?)
    }

    fn query(&self, view: &View, query: &[u8]) -> Result<Vec<u8>, ApplyError> {
        let q: Query = smsgw_raft::codec::decode(query)?;
        let r = StateView::new(view.clone()).query(&q)?;
        Ok(smsgw_raft::codec::encode(&r)?)
    }
}

fn fatal(cluster: &Cluster, what: &str, e: impl std::fmt::Display) -> ProposeError {
    ProposeError::Fatal {
        node: cluster.id(),
        reason: format!("{what}: {e}"),
    }
}

/// Proposes `cmd` through `cluster`; its response once committed and applied.
pub async fn propose(cluster: &Cluster, cmd: &Command) -> Result<Response, ProposeError> {
    let bytes = smsgw_raft::codec::encode(cmd).map_err(|e| fatal(cluster, "encoding a command", e))?;
    let answer = cluster.propose(bytes).await?;
    smsgw_raft::codec::decode(&answer).map_err(|e| fatal(cluster, "decoding a response", e))
}

/// Answers `query` through the leader (never stale).
pub async fn read_linearizable(cluster: &Cluster, query: &Query) -> Result<QueryResult, ReadError> {
    let bytes = smsgw_raft::codec::encode(query).map_err(ApplyError::from)?;
    let answer = cluster.read_linearizable(&bytes).await?;
    Ok(smsgw_raft::codec::decode(&answer).map_err(ApplyError::from)?)
}

/// This node's applied state (possibly stale on a follower).
pub fn local_view(cluster: &Cluster) -> StateView {
    StateView::new(cluster.read_local_possibly_stale())
}
