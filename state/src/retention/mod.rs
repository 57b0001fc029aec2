//! Retention: finished messages (their parts, carrier ids, account record
//! rows, closing sequence), MOs and expiring request ids (`client_ref`s,
//! MO dedupe keys) leave the replicated state once they are older than the
//! cluster document's `[retention]` windows.
//!
//! How it stays cheap: apply writes a time-ordered index row when a message
//! closes (`E/m AT MESSAGE`, AT its acceptance time) and when an expiring
//! request id is remembered (`E/r AT RID`, AT its command's time), and
//! when a report is parked for its submit result (`E/w AT CARRIER ID`). The
//! leader proposes [`crate::Command::Purge`] periodically; apply reads each
//! index from its purge cursor (a counter, so sled's emptied leaves behind
//! it are never walked again) up to the cut-off, at most `limit` rows per
//! command, and deletes exactly what those rows name. MOs are dense by
//! sequence and purged from their own cursor, never past what the MO
//! intake and the callback tailer have read. Statistics are per day and
//! are never touched; the `parts` counter follows what is deleted.
//!
//! It must never scan messages or MOs that have not expired, never delete
//! an unfinished message, and (like all apply) never read a clock: the
//! cut-offs travel in the command.

mod apply;
pub mod keys;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub(crate) use apply::{apply_purge, message_closed, report_parked, request_remembered, submitted};

/// What a [`crate::Command::Purge`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReport {
    /// Messages removed (with all their parts).
    pub messages: u64,
    /// Parts removed (heads included).
    pub parts: u64,
    /// MOs removed.
    pub mos: u64,
    /// Request ids that expired.
    pub requests: u64,
    /// The limit was reached: there is more to purge before the cut-offs.
    pub more: bool,
    /// Reports parked in `w/` for a submit result that never came, dropped
    /// once older than the keys' cut-off.
    pub parked_reports: u64,
}

/// The index row of a closed message: what its purge must delete besides
/// its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Closed {
    /// Its account (for the `x/` record row).
    pub account: String,
    /// When it was accepted (the `x/` row's time).
    pub accepted_at_ms: u64,
    /// Parts besides the head.
    pub parts: u16,
    /// Its `f/` sequence.
    pub finals_seq: u64,
}
