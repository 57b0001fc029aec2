//! The replicated commands, their responses and the records they leave in the
//! state machine. Later issues extend [`Command`] with new variants (append
//! only: never reorder or change a variant, old logs must still decode;
//! storage format 2 started this list afresh). Commands carry every time
//! they need: nothing here reads a clock.

use serde::{Deserialize, Serialize};

/// One MT part accepted for sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MtPart {
    /// Gateway-wide unique part id (assigned by the accepting node).
    pub id: String,
    /// Account the part is billed to.
    pub account: String,
    /// Destination number.
    pub to: String,
    /// How many parts the message this part belongs to has.
    pub parts: u16,
    /// Encoded payload of this part (already split, with its UDH if any).
    #[serde(with = "smsgw_raft::codec::bytes")]
    pub payload: Vec<u8>,
    /// When the request was accepted (ms since the Unix epoch, set by the proposer).
    pub accepted_at_ms: u64,
    /// On a message head (`M.0`) only: the ready queue it waits in until it
    /// is finished.
    pub queue: Option<ReadySlot>,
}

/// Where a message waits to be sent: its route (the carrier chosen at
/// accept) and priority class (0 alarm, 1 high, 2 normal, 3 bulk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadySlot {
    /// Route (carrier name).
    pub route: String,
    /// Priority class, 0 (alarm) to 3 (bulk).
    pub priority: u8,
}

/// An MO as received from a carrier session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoMessage {
    /// Carrier (session) name it arrived on.
    pub carrier: String,
    /// Sender number.
    pub from: String,
    /// Destination (service code plus extension).
    pub to: String,
    /// Decoded or raw payload.
    #[serde(with = "smsgw_raft::codec::bytes")]
    pub payload: Vec<u8>,
    /// When the session received it (ms since the Unix epoch).
    pub received_at_ms: u64,
}

/// A command replicated through raft and applied by every node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Store a cluster configuration document (JSON text) under `key`.
    PutConfig {
        /// Document key, e.g. `carriers/cmcc-1`.
        key: String,
        /// JSON text of the document.
        #[serde(with = "smsgw_raft::codec::bytes")]
        value: Vec<u8>,
    },
    /// Accept a batch of MT parts; a repeated `request_id` has one effect.
    AcceptBatch {
        /// Client-supplied idempotency key.
        request_id: Option<String>,
        /// The parts to accept.
        messages: Vec<MtPart>,
    },
    /// Record the carrier's answer to a submit of a part.
    RecordSubmit {
        /// The part that was submitted.
        part_id: String,
        /// The carrier that answered (carrier ids are unique per carrier only).
        carrier: String,
        /// The carrier's message id from the submit response.
        carrier_msg_id: String,
        /// Carrier result code as text (`0` is success for most protocols).
        status: String,
        /// When the response arrived (ms since the Unix epoch).
        at_ms: u64,
    },
    /// Record a delivery report; kept pending until its submit is recorded.
    RecordReport {
        /// The carrier the report came from.
        carrier: String,
        /// The carrier's message id the report refers to.
        carrier_msg_id: String,
        /// Normalised final state (`DELIVRD`, `UNDELIV`, `EXPIRED`, ...).
        state: String,
        /// When the report arrived (ms since the Unix epoch).
        at_ms: u64,
    },
    /// Record an MO; a repeated `request_id` has one effect.
    RecordMo {
        /// Idempotency key (e.g. carrier + carrier message id).
        request_id: Option<String>,
        /// The message.
        message: MoMessage,
    },
    /// Several commands proposed as one raft entry (built by the proposer from
    /// concurrent proposals): applied in order, each with its own response and
    /// its own idempotency, as if each were an entry of its own at this index.
    Batch(Vec<Command>),
    /// Record the final outcome of a part (`DELIVRD`, `UNDELIV`, `EXPIRED`,
    /// `REJECTD`, `FAILED`, `ACCEPTED` when no report was asked for, ...).
    /// The first outcome recorded for a part stands. Part ids follow the
    /// node's layout `M.k`: when every part `M.1..=M.n` has an outcome, the
    /// head `M.0` gets the message's final state (the worst of its parts);
    /// an outcome for `M.0` itself closes the message directly.
    RecordOutcome {
        /// The part (or head `M.0`).
        part_id: String,
        /// Normalised final state.
        state: String,
        /// Why, for people (carrier stat word, failure reason); may be empty.
        detail: String,
        /// When it was established (ms since the Unix epoch).
        at_ms: u64,
    },
    /// Change `account`'s address book.
    Book {
        /// The account.
        account: String,
        /// When (proposer's clock).
        at_ms: u64,
        /// The change.
        change: crate::book::BookCommand,
    },
    /// Create, advance or cancel one of `account`'s send jobs; a repeated
    /// `request_id` has one effect.
    Job {
        /// Idempotency key (the client's `client_ref` on create).
        request_id: Option<String>,
        /// The account.
        account: String,
        /// The change.
        change: crate::jobs::JobCommand,
    },
    /// Apply `command` (an `AcceptBatch` or a job's `Create`) only if the
    /// prepaid `account` can pay `parts`, and charge what it accepted.
    Charged {
        /// The prepaid account.
        account: String,
        /// Parts the whole request needs.
        parts: u64,
        /// When (proposer's clock).
        at_ms: u64,
        /// Remember this account as the last that sent to each recipient (a
        /// marketing account: an opt-out MO without a service code is its).
        remember_recipients: bool,
        /// The accept.
        command: Box<Command>,
    },
    /// The leader's MO intake read the MOs after `after` up to `through`:
    /// `mos` names the account of each that has one (by service code), and
    /// apply counts them in that account's statistics. Taken only if the
    /// intake cursor is still at `after`, so no MO is counted twice.
    MoIntake {
        /// The cursor the leader read from.
        after: u64,
        /// The last MO read.
        through: u64,
        /// (account, MO sequence) of the MOs with an account.
        mos: Vec<(String, u64)>,
    },
    /// Change a prepaid account; a repeated `request_id` (a top-up's
    /// reference) has one effect.
    Account {
        /// Idempotency key (`topup/ACCOUNT/REF`).
        request_id: Option<String>,
        /// The account.
        account: String,
        /// The change.
        change: crate::accounts::AccountCommand,
    },
    /// Change the callback event queues.
    Events(crate::events::EventsCommand),
    /// Change the 110 alarm desk (cases, roster, rules, outbox).
    Alarm {
        /// When (proposer's clock).
        at_ms: u64,
        /// The change.
        change: crate::alarm::AlarmCommand,
    },
    /// Change the console users.
    Users(crate::users::UserCommand),
    /// Retention (see [`crate::retention`]): delete closed messages
    /// accepted and MOs received before `before_ms`, and expiring request
    /// ids remembered before `keys_before_ms`; at most `limit` rows, the
    /// response says whether more remain. Proposed by the leader.
    Purge {
        /// Records cut-off (ms since the epoch, the leader's clock).
        before_ms: u64,
        /// Idempotency keys cut-off.
        keys_before_ms: u64,
        /// Most index rows read by this command.
        limit: u32,
    },
    /// Record a multi-segment MO once per segment: `request_ids` holds
    /// [`crate::mo_keys::request_id`] of every segment received. If any is
    /// already remembered the MO is a repeat (answered `Replayed` with the
    /// first record), else it is recorded and every segment's key points
    /// at it (see [`crate::mo_keys`]).
    RecordMoSegments {
        /// The key of each segment received, lowest numbered first.
        request_ids: Vec<String>,
        /// The message.
        message: MoMessage,
    },
    /// A staged accept (see [`crate::staging`]): parts parked in bounded
    /// entries, then one commit that accepts them all or none.
    Stage(crate::staging::StageCommand),
}

impl Command {
    /// A `PutConfig` holding `value` as JSON text.
    pub fn put_config_json(key: impl Into<String>, value: &serde_json::Value) -> Self {
        Command::PutConfig {
            key: key.into(),
            value: value.to_string().into_bytes(),
        }
    }

    /// The idempotency key of this command, if it has one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Command::AcceptBatch { request_id, .. }
            | Command::RecordMo { request_id, .. }
            | Command::Job { request_id, .. }
            | Command::Account { request_id, .. } => request_id.as_deref(),
            Command::Charged { command, .. } => command.request_id(),
            _ => None,
        }
    }
}

/// What applying a command produced. Deterministic: every node computes the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Response {
    /// Entries that carry no command (blank, membership).
    #[default]
    None,
    /// A config document was stored at `version` (the log index that wrote it).
    ConfigStored {
        /// The key written.
        key: String,
        /// Log index of this write.
        version: u64,
    },
    /// A batch was accepted.
    Accepted {
        /// Ids newly accepted, in order.
        ids: Vec<String>,
        /// Ids that already existed and were left untouched.
        already_known: Vec<String>,
        /// Log index of the entry that accepted them.
        index: u64,
    },
    /// A submit result was recorded.
    SubmitRecorded {
        /// The part it belongs to.
        part_id: String,
        /// A report that was waiting for this submit and is now applied.
        report_applied: Option<String>,
    },
    /// A delivery report was recorded.
    ReportRecorded {
        /// The part it matched, or `None` when it waits for its submit.
        part_id: Option<String>,
    },
    /// An MO was recorded under `seq`.
    MoRecorded {
        /// Position of the MO in the replicated MO sequence.
        seq: u64,
    },
    /// The command was valid raft data but refers to unknown state.
    Rejected {
        /// Why (for people).
        reason: String,
    },
    /// The command repeated a request id already applied; this is the first response.
    Replayed(Box<Response>),
    /// The responses of a [`Command::Batch`], one per command, in order.
    Batch(Vec<Response>),
    /// What a [`Command::Book`] did.
    Book(crate::book::BookResponse),
    /// What a [`Command::Job`] did.
    Job(crate::jobs::JobResponse),
    /// A [`Command::Charged`] the account could not pay: nothing changed.
    Refused(crate::accounts::Refusal),
    /// What a [`Command::Account`] did.
    Account(crate::accounts::AccountResponse),
    /// What a [`Command::Events`] did.
    Events(crate::events::EventsResponse),
    /// What a [`Command::Alarm`] did.
    Alarm(crate::alarm::AlarmResponse),
    /// What a [`Command::Users`] did.
    Users(crate::users::UserResponse),
    /// What a [`Command::Purge`] removed.
    Purged(crate::retention::PurgeReport),
    /// What a [`Command::Stage`] put or purge did (a commit answers as its
    /// accept would).
    Staged(crate::staging::StageResponse),
}

/// The state of a part as kept by the state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// The part as accepted.
    pub part: MtPart,
    /// Log index that accepted it.
    pub accepted_index: u64,
    /// Carrier message id once the submit answered.
    pub carrier_msg_id: Option<String>,
    /// Carrier result code of the submit.
    pub submit_status: Option<String>,
    /// When the submit answered.
    pub submitted_at_ms: Option<u64>,
    /// Final delivery state once the report came.
    pub report_state: Option<String>,
    /// When the report came.
    pub reported_at_ms: Option<u64>,
    /// On a head waiting in a ready queue: its sequence there.
    pub ready_seq: Option<u64>,
}

/// An MO as kept by the state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoRecord {
    /// Sequence number (1-based, dense).
    pub seq: u64,
    /// The message.
    pub message: MoMessage,
}

/// A delivery report waiting for its submit response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReport {
    /// Final state.
    pub state: String,
    /// When it arrived.
    pub at_ms: u64,
}

/// A read of the replicated state that can travel over the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Query {
    /// One config document.
    GetConfig {
        /// Its key.
        key: String,
    },
    /// One part.
    GetPart {
        /// Its id.
        id: String,
    },
    /// Ids of parts whose id starts with `prefix` (sorted, at most `limit`).
    PartIds {
        /// Id prefix (empty for all).
        prefix: String,
        /// Maximum number returned.
        limit: usize,
    },
    /// Number of parts, MOs and config documents.
    Counts,
    /// Unfinished messages by priority class (alarm, high, normal, bulk).
    ReadyCounts,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryResult {
    /// A config document (JSON text), if present.
    Config(Option<Vec<u8>>),
    /// A part, if present.
    Part(Option<Box<PartRecord>>),
    /// Part ids.
    PartIds(Vec<String>),
    /// Unfinished messages by priority class.
    ReadyCounts([u64; 4]),
    /// Sizes of the state.
    Counts {
        /// Parts.
        parts: u64,
        /// MOs.
        mos: u64,
        /// Config documents.
        configs: u64,
        /// Log index the state reflects.
        applied_index: u64,
    },
}
