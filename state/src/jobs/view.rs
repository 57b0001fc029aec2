//! Typed reads of jobs: one job, an account's jobs by id, the timers due by
//! a time (bounded by a limit, from the start of the timer table, which
//! only holds jobs with work left), a chunk, and a job's outcome counters.
//! It must never write.

use std::ops::Bound;

use smsgw_raft::{ApplyError, View};

use super::{JobRecord, Recipient};
use crate::keys::{self, prefix_end};

/// A job whose time has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueJob {
    /// When it was due.
    pub due_ms: u64,
    /// The job.
    pub id: u64,
    /// Its account.
    pub account: String,
}

/// Reads of jobs.
#[derive(Clone)]
pub struct JobView {
    view: View,
}

impl JobView {
    pub(crate) fn new(view: View) -> Self {
        Self { view }
    }

    /// One of `account`'s jobs.
    pub fn job(&self, account: &str, id: u64) -> Result<Option<JobRecord>, ApplyError> {
        self.view.get(&keys::job(account, id))
    }

    /// Up to `limit` of `account`'s jobs with ids above `after`.
    pub fn jobs(&self, account: &str, after: u64, limit: usize) -> Result<Vec<JobRecord>, ApplyError> {
        let from = keys::job(account, after);
        let rows = self
            .view
            .range(Bound::Excluded(&from), &prefix_end(&keys::jobs(account)), limit)?;
        rows.iter()
            .map(|(_, v)| smsgw_raft::codec::decode(v).map_err(ApplyError::from))
            .collect()
    }

    /// Up to `limit` jobs with work left that were due at or before `now_ms`, oldest first.
    pub fn due(&self, now_ms: u64, limit: usize) -> Result<Vec<DueJob>, ApplyError> {
        let until = keys::timer(now_ms.saturating_add(1), 0);
        let rows = self.view.range(Bound::Included(keys::TIMER), &until, limit)?;
        let mut out = Vec::with_capacity(rows.len());
        for (k, v) in rows {
            let Some((due_ms, id)) = keys::parse_timer(&k) else {
                continue;
            };
            let account: String = smsgw_raft::codec::decode(&v)?;
            out.push(DueJob { due_ms, id, account });
        }
        Ok(out)
    }

    /// Up to `limit` jobs held for review with ids above `after`: (id, account).
    pub fn held(&self, after: u64, limit: usize) -> Result<Vec<(u64, String)>, ApplyError> {
        let from = keys::held(after);
        let rows = self
            .view
            .range(Bound::Excluded(&from), &prefix_end(keys::HELD), limit)?;
        let mut out = Vec::new();
        for (k, v) in rows {
            let Some(id) = keys::book::trailing_id(&k) else {
                continue;
            };
            out.push((id, smsgw_raft::codec::decode(&v)?));
        }
        Ok(out)
    }

    /// The recipients of one chunk not yet accepted.
    pub fn chunk(&self, id: u64, chunk: u32) -> Result<Option<Vec<Recipient>>, ApplyError> {
        self.view.get(&keys::job_chunk(id, chunk))
    }

    /// The job message `mid` belongs to, if any.
    pub fn job_of(&self, mid: &str) -> Result<Option<u64>, ApplyError> {
        self.view.get(&keys::message_job(mid))
    }

    /// Messages of job `id` by final state (apply's counters).
    pub fn outcomes(&self, id: u64) -> Result<Vec<(String, u64)>, ApplyError> {
        let prefix = keys::counter(&keys::counter::job_state(id, ""));
        let mut out = Vec::new();
        for (k, v) in self.view.scan_prefix(&prefix, 64)? {
            let state = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            out.push((state, smsgw_raft::codec::decode(&v)?));
        }
        Ok(out)
    }
}
