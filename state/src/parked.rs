//! Reports that arrive before their submit result (`w/CARRIER\0ID`).
//!
//! A report can reach the leader before the carrier id it names is
//! committed there: the submit was made by a leader that was then cut off
//! (a partition, a kill) and its `RecordSubmit` commits later, forwarded
//! once the link heals. The reconciler holds such a report for its hold
//! time, looks the id up in the replicated index, and when it is still
//! unknown proposes the report as `RecordReport`: apply parks it in `w/`
//! (filed in the retention index `E/w` by arrival), and `RecordSubmit`
//! applies it the moment the id commits, in log order, whichever node
//! proposed which. The carrier's answer to the report is sent only once
//! the parked report is committed, so it is never acknowledged and lost.
//! Parked reports whose submit result never comes are dropped by the
//! retention purge once older than the keys' window (`client_ref_hours`),
//! read from the purge's cursor.
//!
//! This module only reads; it must never write (apply does).

use smsgw_raft::{ApplyError, Tx};

/// Whether part `pid` already has its outcome (the first one stands).
pub(crate) fn has_outcome(tx: &Tx<'_>, pid: &str) -> Result<bool, ApplyError> {
    Ok(crate::parts::get(tx, pid)?.is_some_and(|r| r.report_state.is_some()))
}

#[cfg(test)]
mod tests;
