//! Retention: finished messages (their parts, carrier ids, account record
//! rows, closing sequence), MOs and expiring request ids (`client_ref`s,
//! MO dedupe keys) leave the replicated state once they are older than the
//! cluster document's `[retention]` windows.
//!
//! How it stays cheap: a closed message's row in the close order (`f/SEQ`,
//! a [`Final`]) carries what its purge needs, so the close order is its
//! retention index and closing writes no row beside it; a message is kept
//! for the records window after it closed. Apply files an expiring request
//! id in `E/r AT RID` (AT its command's time) and a report parked for its
//! submit result in `E/w AT CARRIER ID`. A part's carrier id is found from
//! its head's route and its last id; only an id from another carrier or one
//! a resubmission replaced gets an `E/s` row. The leader proposes
//! [`crate::Command::Purge`] periodically; apply reads each index from its
//! purge cursor (a counter, so sled's emptied leaves behind it are never
//! walked again) up to the cut-off, at most `limit` rows per command, and
//! deletes exactly what those rows name. MOs are dense by sequence and
//! purged from their own cursor, never past what the MO intake and the
//! callback tailer have read. Statistics are per day and are never
//! touched; the `parts` counter follows what is deleted. `E/m` rows (closed
//! messages by acceptance time) were written by builds before the close
//! order carried them: they are still purged, never written.
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

/// What the purge of a closed message deletes besides its parts: the
/// value of a legacy `E/m` row, and the core of an `f/` row.
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

/// The value of an `f/SEQ` row: the message that closed, and what its
/// purge needs, so the close order is also the retention index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Final {
    /// The message id.
    pub mid: String,
    /// Its account.
    pub account: String,
    /// When it was accepted.
    pub accepted_at_ms: u64,
    /// When it closed: the purge takes it once this is past the records
    /// window.
    pub closed_at_ms: u64,
    /// Parts besides the head.
    pub parts: u16,
}

/// The first byte of an `f/` value written as a [`Final`]. Builds before
/// it stored the bare message id (digits), whose purge row is in `E/m`.
const FINAL_MARK: u8 = 0;

impl Final {
    /// The stored `f/` value.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, smsgw_raft::codec::CodecError> {
        let mut out = vec![FINAL_MARK];
        out.extend(smsgw_raft::codec::encode(self)?);
        Ok(out)
    }

    /// Reads an `f/` value: `Ok(None)` for a legacy row (the bare message
    /// id, see [`legacy_mid`]).
    pub fn decode(value: &[u8]) -> Result<Option<Self>, smsgw_raft::codec::CodecError> {
        match value.split_first() {
            Some((&FINAL_MARK, rest)) => Ok(Some(smsgw_raft::codec::decode(rest)?)),
            _ => Ok(None),
        }
    }
}

/// The message id of an `f/` value of either form.
pub fn final_mid(value: &[u8]) -> Result<String, smsgw_raft::codec::CodecError> {
    Ok(match Final::decode(value)? {
        Some(f) => f.mid,
        None => legacy_mid(value),
    })
}

fn legacy_mid(value: &[u8]) -> String {
    String::from_utf8_lossy(value).into_owned()
}
