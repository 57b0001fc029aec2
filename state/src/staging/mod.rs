//! Staged accepts: how a request too large for one raft entry is accepted
//! without ever writing an entry over [`smsgw_raft::entry_size::MAX_ENTRY_BYTES`].
//!
//! Its parts travel in several bounded [`StageCommand::Put`] entries that
//! only park them in the staging table (`S/`), which no read, no dispatch
//! and no statistic ever looks at; then ONE small [`StageCommand::Commit`]
//! entry carries the request as it would have been proposed, with its parts
//! left out (or a job's creation with its recipients left out). Apply of
//! the commit puts the staged rows back into that command and applies it through the ordinary path
//! ([`crate::apply::apply_command`]: `AcceptBatch`, `Charged` around it, or
//! a job's `Advance`), so indexes, counters, the charge, statistics,
//! `client_ref` idempotency and ready queues come out exactly as for a
//! small request, atomically, in the commit's entry. Whatever the commit
//! answers (accepted, refused, replayed), the staged rows go with it.
//!
//! Stage ids are the first part's id (gateway-wide unique), so two
//! requests never share a stage. A commit without a client key gets
//! `stage/ID` as its request id, so a commit applied twice accepts once.
//! Stages whose commit never comes (a leader killed in between) are
//! dropped by [`StageCommand::Purge`], proposed by the leader's retention
//! worker, which reads the staging time index (`S/i`) from its cursor:
//! never a scan.
//!
//! It must never make a staged part visible anywhere but in the commit's
//! apply, and never accept part of a request.

mod apply;
pub mod keys;
mod propose;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub(crate) use apply::apply_stage;
pub use propose::{
    chunks, fits, part_bytes, propose_bounded, propose_bounded_as, recipient_bytes, SHELL_BYTES,
};

use crate::command::MtPart;
use crate::jobs::Recipient;

/// Most bytes one command may encode to: the entry bound less room for
/// the entry's own framing (log id, proposal, length prefixes). The
/// proposer never adds a command to an entry past the bound itself.
pub const MAX_COMMAND_BYTES: usize = smsgw_raft::entry_size::MAX_ENTRY_BYTES - 64 * 1024;

/// Most bytes of parts in one staging entry. Well under the bound so that
/// stage entries pipeline through the proposer instead of each taking a
/// whole entry's worth of one fsync.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// How long a stage may wait for its commit before the retention worker
/// drops it: far longer than any commit takes (the proposal timeout is
/// seconds), short enough that an abandoned request does not linger.
pub const STAGE_TTL_MS: u64 = 10 * 60 * 1000;

/// A change to the staging table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StageCommand {
    /// Park chunk `chunk` of stage `stage`'s parts (invisible until the
    /// commit). Proposed again, it writes the same row.
    Put {
        /// The stage (the first part's id, or an id drawn for it).
        stage: String,
        /// Chunk number, from 0.
        chunk: u32,
        /// When (proposer's clock): the stage's age for the purge.
        at_ms: u64,
        /// The parts or recipients.
        rows: StagedRows,
    },
    /// Apply `command` with chunks `0..chunks` of `stage` as its parts
    /// (an `AcceptBatch`, a `Charged` around one, or a job's `Advance`,
    /// each proposed with no parts) or as its recipients (a job's
    /// `Create`, plain or charged, proposed with none), then drop the stage.
    Commit {
        /// The stage.
        stage: String,
        /// How many chunks it has.
        chunks: u32,
        /// The request, its parts left out.
        command: Box<crate::command::Command>,
    },
    /// Drop stages staged before `before_ms` that were never committed,
    /// at most `limit` of them.
    Purge {
        /// Cut-off (leader's clock less [`STAGE_TTL_MS`]).
        before_ms: u64,
        /// Most stages dropped by this command.
        limit: u32,
    },
}

/// One chunk of what a stage holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StagedRows {
    /// Parts of an accept or a job's advance.
    Parts(Vec<MtPart>),
    /// Recipients of a job being created.
    Recipients(Vec<Recipient>),
}

/// What a [`StageCommand`] other than a commit did (a commit answers with
/// what its request's own apply answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StageResponse {
    /// A chunk was parked.
    Put {
        /// Its number.
        chunk: u32,
    },
    /// Abandoned stages were dropped.
    Purged {
        /// Stages dropped.
        stages: u64,
        /// The limit was reached: more may be due.
        more: bool,
    },
}

/// The row of one stage (`S/s STAGE \0`): what its purge or commit must
/// delete besides itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StageHead {
    /// Its time in the `S/i` index.
    pub indexed_at: u64,
    /// Chunk rows written (one past the highest chunk number).
    pub chunks: u32,
}
