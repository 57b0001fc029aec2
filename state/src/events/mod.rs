//! Callback events, replicated: what each account's application servers
//! must be told (its MOs, its messages reaching a final state), kept until a
//! receiver acknowledges them, so delivery is at least once across leader
//! failover. Only the leader sends (node `callbacks`); this module keeps the
//! queue, never does I/O, and never decides where an MO belongs.
//!
//! Tables (all under `e/`, built in [`crate::keys`]): `e/ACCOUNT\0` the
//! account's [`AccountEvents`] (sequence, acknowledged cursor, drops),
//! `e/ACCOUNT\0SEQ` one [`Event`] row, `e/\0` the subscribed accounts. The
//! sender reads an account's rows from its acknowledged cursor on (a range
//! with a limit, never a scan), and [`EventsCommand::Ack`] advances the
//! cursor and deletes the rows in the same entry.
//!
//! Why the proposer, not apply, decides an MO's account: `RecordMo` carries
//! no account (old logs must decode, so it stays as it is), and the owner
//! of an MO is the document's longest matching service code, which this
//! crate does not parse. The leader therefore tails the MO sequence from a
//! replicated cursor, resolves accounts with the document in force (as
//! `/v1/inbound` does) and proposes [`EventsCommand::TakeMos`] naming the
//! cursor it read from; apply takes it only if the cursor is still there,
//! so two leaders (or a retried proposal) never append an MO twice, and a
//! leader killed before its proposal commits leaves the cursor for the next.
//! Reports need no document: a message head carries its account, and apply
//! appends the event in the entry that gives the head its final state, for
//! subscribed accounts only (the leader proposes the subscription set from
//! the document's `callbacks`).
//!
//! Bounded: an account holds at most [`MAX_PENDING`] undelivered events;
//! past it the OLDEST is dropped and counted in [`AccountEvents::dropped`].
//! Dropping rather than refusing, because the events are facts that already
//! happened (an MO a carrier delivered, a final report): refusing them
//! would stall carrier sessions over one account's dead receiver.

mod apply;
mod view;

pub(crate) use apply::{apply_events, message_final};
pub use view::EventsView;

use serde::{Deserialize, Serialize};

use crate::command::MoMessage;

/// Most undelivered events per account; past it the oldest are dropped.
pub const MAX_PENDING: u64 = 100_000;

/// Most MOs one [`EventsCommand::TakeMos`] may cover.
pub const MAX_TAKE: u64 = 1_000;

/// A change to the callback event queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventsCommand {
    /// The accounts whose events are recorded from now on (the whole set;
    /// accounts left out stop collecting, their queued events stay).
    Subscribe {
        /// Account names, as the document lists those with `callbacks`.
        accounts: Vec<String>,
    },
    /// The MOs after `after` up to `through` were looked at; `mos` are
    /// those of subscribed accounts, as `(account, MO sequence)`. Taken
    /// only if the MO cursor is still `after`.
    TakeMos {
        /// The MO cursor the proposer read.
        after: u64,
        /// The last MO sequence looked at.
        through: u64,
        /// The MOs to append, in sequence order.
        mos: Vec<(String, u64)>,
    },
    /// `account`'s receivers acknowledged every event up to `through`.
    Ack {
        /// The account.
        account: String,
        /// Last acknowledged event sequence.
        through: u64,
    },
}

/// What an [`EventsCommand`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventsResponse {
    /// The subscription set was stored.
    Subscribed,
    /// MOs were taken: how many events were appended.
    MosTaken {
        /// Events appended.
        appended: u64,
    },
    /// Events were acknowledged: how many rows were removed.
    Acked {
        /// Rows removed.
        removed: u64,
    },
    /// Someone got there first (the cursor moved): nothing changed.
    Stale,
}

/// One account's queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEvents {
    /// Whether new events are recorded.
    pub subscribed: bool,
    /// Last sequence given to an event (1-based, dense, never reused).
    pub last_seq: u64,
    /// Every event up to here is acknowledged (or dropped).
    pub acked: u64,
    /// Events dropped undelivered because the queue was full.
    pub dropped: u64,
}

impl AccountEvents {
    /// Events waiting for a receiver.
    pub fn pending(&self) -> u64 {
        self.last_seq.saturating_sub(self.acked)
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// An MO for the account.
    Mo {
        /// Its place in the MO sequence.
        mo_seq: u64,
        /// The message.
        message: MoMessage,
    },
    /// A message of the account reached its final state.
    Report {
        /// Message id (as the API gave it).
        message: String,
        /// Destination number.
        to: String,
        /// Final state (`DELIVRD`, `UNDELIV`, ...).
        state: String,
        /// Number of parts.
        parts: u16,
        /// When it was accepted (ms since the Unix epoch).
        accepted_at_ms: u64,
        /// When the final state was established.
        final_at_ms: u64,
    },
}

/// One queued event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Its sequence in the account's queue.
    pub seq: u64,
    /// What happened.
    pub kind: EventKind,
}

#[cfg(test)]
mod tests;
