//! The 110 SMS alarm desk, replicated: cases (one per citizen's alarm, with
//! its texts, triage rank, assignee and timeline), the duty roster
//! (officers, duty groups with shifts), forwarding rules, the outbox of SMS
//! the desk owes (auto-replies, forwards, answers to officers' commands),
//! escalation timers and statistics counters.
//!
//! Who decides what: the leader's intake (node `alarm`) reads new MOs from
//! a replicated cursor, decides which are alarms (by the document's lines)
//! and which are officers' commands, and proposes one [`AlarmCommand::Intake`]
//! naming the cursor it read from; apply takes it only if the cursor is
//! still there, so an MO becomes exactly one case however often leaders
//! change. Everything after that is decided here, deterministically, with
//! the proposer's clock carried in the command: joining a citizen's open
//! case, flood flags, triage rank, who is on duty (shifts are Beijing
//! time, which has no daylight saving, so a fixed +8 h is exact), the
//! forward target, escalation deadlines, statistics.
//!
//! SMS leave through the outbox: apply appends an [`Outgoing`] row; the
//! leader turns each row into an ordinary alarm-priority message and
//! proposes the accept together with [`AlarmCommand::Sent`] in one entry
//! (the accept's request id is the row's), so a row is sent once across a
//! leader kill.
//!
//! This module never does I/O, never reads a clock, and never parses the
//! cluster document: lines, keywords and timeouts arrive in the commands.

mod apply;
mod cases;
pub mod keys;
mod officer_sms;
mod roster;
pub mod stats;
mod view;

pub(crate) use apply::apply_alarm;
pub use cases::DISPATCHER;
pub use officer_sms::{is_command, parse_officer_sms, OfficerSms, USAGE};
pub use roster::on_duty_at;
pub use view::AlarmView;

use serde::{Deserialize, Serialize};

/// Texts kept per case; later texts are counted, not stored.
pub const MAX_TEXTS: usize = 50;
/// Timeline steps kept per case; later steps are counted, not stored.
pub const MAX_STEPS: usize = 200;
/// Most MOs one [`AlarmCommand::Intake`] may cover.
pub const MAX_INTAKE: u64 = 1_000;
/// Change-log rows kept for live views (`/v1/alarm/events`).
pub const CHANGES_KEPT: u64 = 10_000;

/// A case's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaseStatus {
    /// Taken in, nobody told yet.
    New,
    /// Forwarded to an officer or a duty group, not accepted yet.
    Dispatched,
    /// An officer took it.
    Accepted,
    /// Handled.
    Closed,
    /// The same alarm as another case.
    Duplicate,
    /// Not an alarm.
    Invalid,
}

impl CaseStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::New,
        CaseStatus::Dispatched,
        CaseStatus::Accepted,
        CaseStatus::Closed,
        CaseStatus::Duplicate,
        CaseStatus::Invalid,
    ];

    /// Whether the case still needs someone.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CaseStatus::New | CaseStatus::Dispatched | CaseStatus::Accepted
        )
    }

    /// The name shown by the API and kept in statistics keys.
    pub fn name(self) -> &'static str {
        match self {
            CaseStatus::New => "NEW",
            CaseStatus::Dispatched => "DISPATCHED",
            CaseStatus::Accepted => "ACCEPTED",
            CaseStatus::Closed => "CLOSED",
            CaseStatus::Duplicate => "DUPLICATE",
            CaseStatus::Invalid => "INVALID",
        }
    }

    /// The status named `s` (case-insensitive).
    pub fn parse(s: &str) -> Option<CaseStatus> {
        CaseStatus::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
    }
}

/// Through what a step was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// A citizen's or officer's SMS.
    Sms,
    /// The web console.
    Web,
    /// The HTTP API.
    Api,
    /// A forwarding rule.
    Rule,
    /// The escalation timer.
    Escalation,
}

/// One step of a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// When (proposer's clock).
    pub at_ms: u64,
    /// What: `created`, `text`, `dispatched`, `accepted`, `transferred`,
    /// `escalated`, `note`, `closed`, `duplicate`, `invalid`, `rank`, `flagged`.
    pub step: String,
    /// Who: a badge, `citizen`, `dispatcher`, `rule`, `system`.
    pub by: String,
    /// Through what.
    pub via: Via,
    /// Free text (the note, the officer told, the reason).
    pub note: String,
}

/// One text of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseText {
    /// The MO's place in the MO sequence.
    pub mo_seq: u64,
    /// The text.
    pub text: String,
    /// When the carrier delivered it.
    pub at_ms: u64,
}

/// One alarm case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// `A20261203-0001`: Beijing date of the first text, then the day's sequence.
    pub id: String,
    /// The line's number (`110`).
    pub line: String,
    /// The line's kind (`crime`, `help`).
    pub kind: String,
    /// Triage rank, lower first (line priority, then keyword rules).
    pub rank: u16,
    /// The citizen's number.
    pub citizen: String,
    /// The carrier the first text came through.
    pub carrier: String,
    /// Texts, in order (at most [`MAX_TEXTS`]).
    pub texts: Vec<CaseText>,
    /// Every text received, stored or not.
    pub texts_total: u32,
    /// Where it is.
    pub status: CaseStatus,
    /// The officer it is with (dispatched to or accepted by).
    pub officer: Option<String>,
    /// The duty group it was sent to as a whole.
    pub group: Option<String>,
    /// Officers it was forwarded to, in order (escalation goes past them).
    pub tried: Vec<String>,
    /// When it was created.
    pub created_ms: u64,
    /// When it was last changed.
    pub updated_ms: u64,
    /// When it was accepted.
    pub accepted_ms: Option<u64>,
    /// When it was closed (or marked duplicate or invalid).
    pub closed_ms: Option<u64>,
    /// While DISPATCHED: when it escalates if nobody accepts.
    pub ack_deadline_ms: Option<u64>,
    /// While open: when it is flagged as open too long.
    pub open_deadline_ms: Option<u64>,
    /// `flood`, `overdue`, `unanswered` (escalation ran out of officers).
    pub flags: Vec<String>,
    /// The case this one duplicates.
    pub duplicate_of: Option<String>,
    /// Steps, in order (at most [`MAX_STEPS`]).
    pub timeline: Vec<Step>,
    /// Escalations so far.
    pub escalations: u32,
}

impl Case {
    /// The first text (what the desk shows in its queue).
    pub fn first_text(&self) -> &str {
        self.texts.first().map(|t| t.text.as_str()).unwrap_or("")
    }
}

/// An officer of the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Officer {
    /// Badge number (unique).
    pub badge: String,
    /// Name.
    pub name: String,
    /// Mobile number (normalised): forwards go here, commands come from here.
    pub phone: String,
    /// `Some(true)` after `ZB ON`, `Some(false)` after `ZB OFF`; `None`:
    /// on duty when a shift of one of his groups covers the time.
    pub duty: Option<bool>,
    /// Cases currently with him (dispatched or accepted).
    pub open_cases: u32,
    /// SHA-256 (hex) of his API key, if he has one.
    pub key_sha256: Option<String>,
}

/// A time range of a day, in Beijing minutes (`start > end` crosses midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// First minute (0..1440).
    pub start_min: u16,
    /// Minute it ends (exclusive, 0..=1440).
    pub end_min: u16,
}

/// A duty group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutyGroup {
    /// Name (unique).
    pub name: String,
    /// Badge of the group leader (the last step of escalation).
    pub leader: Option<String>,
    /// Members' badges.
    pub members: Vec<String>,
    /// When the group is on duty; empty: always.
    pub shifts: Vec<Shift>,
}

/// How one officer is picked among those on duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    /// In turn.
    RoundRobin,
    /// The one with the fewest open cases (then in turn).
    FewestOpen,
}

/// Where a rule sends a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// This officer, on duty or not.
    Officer(String),
    /// One on-duty officer of `group` (every on-duty officer when `None`).
    OneOf {
        /// The group, or everyone.
        group: Option<String>,
        /// How.
        pick: Pick,
    },
    /// Every on-duty member of the group at once.
    WholeGroup(String),
}

/// A forwarding rule: for a line, or for texts with a keyword (on one line
/// or any). Keyword rules win over line rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// The line it is for (`None`: every line).
    pub line: Option<String>,
    /// A word the text must contain.
    pub keyword: Option<String>,
    /// Where cases go.
    pub target: Target,
    /// Round-robin position.
    pub turn: u64,
}

impl Rule {
    /// The rule's identity: at most one rule per line and keyword.
    pub fn key(&self) -> String {
        rule_key(self.line.as_deref(), self.keyword.as_deref())
    }
}

/// The identity of the rule for `line` and `keyword`.
pub fn rule_key(line: Option<&str>, keyword: Option<&str>) -> String {
    format!("{}\u{1}{}", line.unwrap_or("*"), keyword.unwrap_or(""))
}

/// The desk's timing and limits, from the document, carried in commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// A DISPATCHED case escalates after this long.
    pub ack_timeout_ms: u64,
    /// An open case is flagged after this long.
    pub open_limit_ms: u64,
    /// A citizen's text joins his open case if it came within this long of the last.
    pub join_window_ms: u64,
    /// Texts a number may send per minute before it is flagged and no longer answered.
    pub flood_per_minute: u32,
}

/// What an SMS the desk owes is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutKind {
    /// The automatic reply to the citizen.
    Reply,
    /// A case forwarded to an officer.
    Forward,
    /// The answer to an officer's command.
    Answer,
}

/// An SMS the desk owes (outbox row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Outbox sequence.
    pub seq: u64,
    /// Number.
    pub to: String,
    /// Text.
    pub text: String,
    /// Why.
    pub kind: OutKind,
    /// The case it is about, if any.
    pub case: Option<String>,
    /// When it was owed.
    pub at_ms: u64,
}

/// A line as the intake matched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRef {
    /// Its number (`110`).
    pub number: String,
    /// Its kind (`crime`).
    pub kind: String,
    /// Its priority (1 first).
    pub priority: u8,
    /// The reply to the citizen with `{case}` for the case id (none: no reply).
    pub reply: Option<String>,
}

/// One MO as the intake classified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntakeItem {
    /// A citizen's text to a line.
    Alarm {
        /// MO sequence.
        mo_seq: u64,
        /// The line.
        line: LineRef,
        /// Triage rank (lower first): the line's priority × 10, or a
        /// matching keyword rule's rank when that is lower.
        rank: u16,
        /// Sender.
        citizen: String,
        /// Text.
        text: String,
        /// When the carrier delivered it.
        at_ms: u64,
        /// Carrier name.
        carrier: String,
    },
    /// A registered officer's command.
    Officer {
        /// MO sequence.
        mo_seq: u64,
        /// His badge.
        badge: String,
        /// The command (parsed by [`parse_officer_sms`]) or why it did not parse.
        command: Result<OfficerSms, String>,
    },
    /// Texted the desk number without being an officer: counted, nothing sent.
    Unknown {
        /// MO sequence.
        mo_seq: u64,
    },
}

/// A change to a case, from the API, the web console or an officer's SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaseOp {
    /// Accept (as `badge`).
    Accept {
        /// Case id.
        case: String,
        /// The officer who accepts.
        badge: String,
    },
    /// Close with a note.
    Close {
        /// Case id.
        case: String,
        /// What was done.
        note: String,
    },
    /// Give the case to another officer.
    Transfer {
        /// Case id.
        case: String,
        /// The new officer.
        badge: String,
    },
    /// Add a note.
    Note {
        /// Case id.
        case: String,
        /// The note.
        note: String,
    },
    /// Mark duplicate (of another case) or invalid.
    Mark {
        /// Case id.
        case: String,
        /// `Duplicate` or `Invalid`.
        status: CaseStatus,
        /// For a duplicate: the case it repeats.
        of: Option<String>,
    },
    /// Set the triage rank.
    Rank {
        /// Case id.
        case: String,
        /// New rank (lower first).
        rank: u16,
    },
}

impl CaseOp {
    /// The case it changes.
    pub fn case(&self) -> &str {
        match self {
            CaseOp::Accept { case, .. }
            | CaseOp::Close { case, .. }
            | CaseOp::Transfer { case, .. }
            | CaseOp::Note { case, .. }
            | CaseOp::Mark { case, .. }
            | CaseOp::Rank { case, .. } => case,
        }
    }
}

/// A change to the alarm desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmCommand {
    /// The MOs after `after` up to `through` were classified; taken only
    /// if the alarm cursor is still `after`.
    Intake {
        /// Cursor read.
        after: u64,
        /// Last MO looked at.
        through: u64,
        /// Timing and limits.
        policy: Policy,
        /// The MOs that concern the desk, in order.
        items: Vec<IntakeItem>,
    },
    /// A change to a case by `by` (a badge, or `dispatcher`).
    Act {
        /// Who.
        by: String,
        /// Through what.
        via: Via,
        /// What.
        op: CaseOp,
        /// Timing and limits.
        policy: Policy,
    },
    /// The escalation timer of `case` (due at `deadline_ms`) ran out.
    Escalate {
        /// Case id.
        case: String,
        /// The deadline the proposer saw (a stale one changes nothing).
        deadline_ms: u64,
        /// Timing and limits.
        policy: Policy,
    },
    /// `case` has been open past the limit.
    Overdue {
        /// Case id.
        case: String,
        /// The deadline the proposer saw.
        deadline_ms: u64,
    },
    /// Outbox row `seq` was accepted for sending (in the same entry).
    Sent {
        /// Outbox sequence.
        seq: u64,
    },
    /// Add or replace an officer (his `open_cases` is kept).
    PutOfficer(Officer),
    /// Remove an officer.
    RemoveOfficer {
        /// Badge.
        badge: String,
    },
    /// Set an officer's duty (`None`: by shifts).
    Duty {
        /// Badge.
        badge: String,
        /// On, off or by shifts.
        on: Option<bool>,
        /// Through what (an SMS is answered).
        via: Via,
    },
    /// Add or replace a duty group.
    PutGroup(DutyGroup),
    /// Remove a duty group.
    RemoveGroup {
        /// Name.
        name: String,
    },
    /// Add or replace a forwarding rule (its turn is kept).
    PutRule {
        /// The rule.
        rule: Rule,
        /// Who set it (a badge, `dispatcher`).
        by: String,
        /// Through what (an SMS is answered).
        via: Via,
    },
    /// Remove a forwarding rule.
    RemoveRule {
        /// Its key ([`rule_key`]).
        key: String,
    },
}

/// What an [`AlarmCommand`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmResponse {
    /// Intake: the cases created and joined.
    Taken {
        /// New case ids.
        created: Vec<String>,
        /// Case ids a text joined.
        joined: Vec<String>,
    },
    /// The change was made; the case (if it is about one) as it is now.
    Done(Option<Box<Case>>),
    /// Someone got there first (the cursor or deadline moved): nothing changed.
    Stale,
    /// Refused, with why (for people; the API maps `code`).
    Refused {
        /// `not_found`, `conflict`, `invalid`.
        code: String,
        /// Why.
        message: String,
    },
}

impl AlarmResponse {
    pub(crate) fn refused(code: &str, message: impl Into<String>) -> Self {
        AlarmResponse::Refused {
            code: code.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests;
