//! Send jobs, replicated: a request to many recipients (a group, picked
//! contacts, a template filled per contact), sent now or at a time. The job
//! is stored once with its recipients in chunks; the leader turns one chunk
//! at a time into accepted messages with [`JobCommand::Advance`], which
//! names the chunk it expands. Apply takes a chunk only if it is the job's
//! next one, so a chunk proposed twice (a leader killed after proposing, a
//! timer fired by two leaders) is accepted once: a scheduled job fires
//! exactly once without any clock in apply.
//!
//! Tables: `j/ACCOUNT\0ID` the job, `J/ID CHUNK` its recipients, `d/DUE ID`
//! the timers of jobs with chunks left (read by the leader from the start
//! up to now: only due work, never a scan), `H/ID` the jobs held for review, `m/MESSAGE` the job a message
//! belongs to (for progress counters kept by apply). It must never expand
//! a chunk anywhere but in apply of `Advance`.

mod apply;
mod view;

pub(crate) use apply::{apply_job, job_progress};
pub use view::{DueJob, JobView};

use serde::{Deserialize, Serialize};

use crate::command::MtPart;

/// Recipients per chunk (one `Advance` entry).
pub const CHUNK: usize = 500;

/// One recipient of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// Number (normalised).
    pub to: String,
    /// The contact it came from, if any.
    pub contact: Option<u64>,
    /// The text for this recipient (template already filled).
    pub text: String,
    /// Parts it was counted (and, on a prepaid account, charged) for.
    pub parts: u16,
}

/// What a job was asked to do (everything but its recipients).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// Priority class name.
    pub priority: String,
    /// Sender extension.
    pub sender: Option<String>,
    /// Reports asked for (None: the cluster default).
    pub report: Option<bool>,
    /// Template used, by name.
    pub template: Option<String>,
    /// Groups sent to, by name.
    pub groups: Vec<String>,
    /// The client's idempotency key.
    pub client_ref: Option<String>,
    /// When it was asked for (ms since the epoch).
    pub created_ms: u64,
    /// When to send (ms since the epoch); `None` is now.
    pub send_at_ms: Option<u64>,
    /// Held for review (content rules): nothing is sent until an admin
    /// approves it.
    pub held: bool,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    /// Waiting for its time.
    Scheduled,
    /// Chunks are being accepted.
    Running,
    /// Every recipient's message was accepted.
    Done,
    /// Cancelled before every chunk was accepted.
    Cancelled,
    /// Waiting for an admin's review.
    Held,
}

impl JobStatus {
    /// Upper-case name for the API.
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Scheduled => "SCHEDULED",
            JobStatus::Running => "RUNNING",
            JobStatus::Done => "DONE",
            JobStatus::Cancelled => "CANCELLED",
            JobStatus::Held => "HELD",
        }
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Id (global, assigned by apply).
    pub id: u64,
    /// Owner.
    pub account: String,
    /// The request.
    pub spec: JobSpec,
    /// Status.
    pub status: JobStatus,
    /// Recipients in all.
    pub recipients: u64,
    /// Chunks in all.
    pub chunks: u32,
    /// The next chunk to accept.
    pub next_chunk: u32,
    /// Messages accepted so far.
    pub accepted: u64,
    /// Parts accepted so far.
    pub parts: u64,
    /// When the first chunk was accepted (leader's clock, in the command).
    pub fired_at_ms: Option<u64>,
    /// When it was cancelled.
    pub cancelled_at_ms: Option<u64>,
    /// The review's note (why it was rejected), if reviewed.
    pub review: Option<String>,
    /// Charged to a prepaid account at creation (so cancelled and skipped
    /// recipients are refunded).
    pub charged: bool,
    /// Its messages remember the account as their recipients' last sender.
    pub remember_recipients: bool,
}

impl JobRecord {
    /// When it is due.
    pub fn due_ms(&self) -> u64 {
        self.spec.send_at_ms.unwrap_or(self.spec.created_ms)
    }

    /// Recipients in its next chunk (0 when none is left), from its counts
    /// alone: `Create` cuts the recipients into chunks of [`CHUNK`], so the
    /// chunk need not be read to know its size.
    pub fn next_chunk_len(&self) -> u64 {
        let before = u64::from(self.next_chunk) * CHUNK as u64;
        self.recipients.saturating_sub(before).min(CHUNK as u64)
    }
}

/// A change to jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobCommand {
    /// Create a job.
    Create {
        /// The request.
        spec: JobSpec,
        /// Its recipients, deduplicated, in order.
        recipients: Vec<Recipient>,
    },
    /// Accept chunk `chunk` of job `job` as `messages`.
    Advance {
        /// The job.
        job: u64,
        /// The chunk (must be the job's next).
        chunk: u32,
        /// The chunk's messages (heads and parts).
        messages: Vec<MtPart>,
        /// Parts of the chunk's recipients the runner could not build (a
        /// route removed since): refunded on a charged job.
        skipped_parts: u64,
        /// When (leader's clock).
        at_ms: u64,
    },
    /// An admin's decision on a held job: approved jobs are scheduled (due
    /// at once if their time has passed), rejected ones cancelled.
    Review {
        /// The job.
        job: u64,
        /// Approve (else reject).
        approve: bool,
        /// Why, told to the account.
        note: String,
        /// When.
        at_ms: u64,
    },
    /// Cancel what has not been accepted yet.
    Cancel {
        /// The job.
        job: u64,
        /// When.
        at_ms: u64,
    },
}

/// What a job command did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobResponse {
    /// A job was created.
    Created {
        /// Its id.
        id: u64,
    },
    /// A chunk was accepted.
    Advanced {
        /// Heads accepted.
        messages: u64,
        /// Whether that was the last chunk.
        done: bool,
    },
    /// The chunk was not the job's next (already accepted, or the job
    /// ended): nothing changed.
    Stale,
    /// A held job was approved and scheduled.
    Approved,
    /// The job was cancelled; `left` recipients will not be sent to.
    Cancelled {
        /// Recipients never accepted.
        left: u64,
    },
    /// No such job for this account, or it has already ended.
    Refused {
        /// Why, for people.
        reason: String,
        /// Whether the job does not exist at all.
        missing: bool,
    },
}

#[cfg(test)]
pub(crate) mod tests;
