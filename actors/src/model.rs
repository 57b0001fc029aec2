//! The values that travel between the actors: messages to send (MT) and the
//! parts they split into, carrier verdicts, inbound messages (MO).
//!
//! Plain data (splitting text into parts is [`crate::split`]); this module
//! never does I/O and never talks to actors.

use std::time::{Duration, Instant};

use bytes::Bytes;
use smsgw_protocols::text::Encoding;
use smsgw_protocols::udh::Concat;

use crate::store::PartOutcome;

/// The protocol family, shared with the simulator and the tools.
pub use smsgw_protocols::Protocol;

/// Priority classes, highest first. Strict between classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    Alarm = 0,
    High = 1,
    Normal = 2,
    Bulk = 3,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Alarm, Priority::High, Priority::Normal, Priority::Bulk];

    pub fn name(self) -> &'static str {
        match self {
            Priority::Alarm => "alarm",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Bulk => "bulk",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Our id of an accepted message (assigned by the replicated state).
pub type MessageId = u64;

/// One part of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartId {
    pub message: MessageId,
    /// 1-based part number.
    pub seq: u8,
}

impl std::fmt::Display for PartId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.message, self.seq)
    }
}

/// A message accepted and committed, waiting to be sent.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    pub id: MessageId,
    /// The client account that sent it (fairness is between accounts).
    pub account: String,
    pub priority: Priority,
    /// The number the handset sees as the sender.
    pub source: String,
    pub destination: String,
    pub text: String,
    pub report: bool,
    /// After this instant a message without a final report is EXPIRED.
    pub valid_until: Instant,
    /// When it was accepted (for the queue-age gauge).
    pub accepted: Instant,
    /// What the replicated state already holds for some of its parts (a
    /// message resumed by a new leader): those parts are never sent again.
    /// Empty for a message no part of which has gone yet.
    pub known: Vec<KnownPart>,
}

/// A fact already committed for one part of a message a new leader resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPart {
    /// 1-based part number.
    pub seq: u8,
    /// The carrier and the carrier message id its submit was accepted
    /// under: the part waits for its report, it is not sent again.
    pub submitted: Option<(String, String)>,
    /// Its final outcome, when one was committed.
    pub outcome: Option<PartOutcome>,
}

impl Part {
    /// The `sar_*` numbers this part goes with: a part of a long message
    /// whose content carries no UDH.
    pub fn sar(&self) -> Option<Concat> {
        self.concat.filter(|_| !self.udhi)
    }
}

impl OutboundMessage {
    /// A message valid for `validity` from now, asking for a report.
    pub fn new(
        id: MessageId,
        account: &str,
        priority: Priority,
        source: &str,
        destination: &str,
        text: &str,
        validity: Duration,
    ) -> Self {
        OutboundMessage {
            id,
            account: account.to_string(),
            priority,
            source: source.to_string(),
            destination: destination.to_string(),
            text: text.to_string(),
            report: true,
            valid_until: Instant::now() + validity,
            accepted: Instant::now(),
            known: Vec::new(),
        }
    }
}

/// One submit's worth of a message, encoded for one protocol family.
#[derive(Debug, Clone)]
pub struct Part {
    pub id: PartId,
    /// Parts in the message.
    pub total: u8,
    pub account: String,
    pub priority: Priority,
    pub source: String,
    pub destination: String,
    /// UDH first when `udhi`.
    pub content: Bytes,
    /// `data_coding` for SMPP, `Msg_Fmt` for the others.
    pub coding: u8,
    /// Whether the content starts with a UDH.
    pub udhi: bool,
    /// Which part of a long message this is (from the UDH, or for the
    /// profile's `sar` style sent as SMPP `sar_*` TLVs).
    pub concat: Option<Concat>,
    pub report: bool,
    /// Times this part was handed to a session (retries count).
    pub attempts: u32,
}

/// The carrier's verdict on one submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitStatus {
    /// Accepted under this carrier message id (canonical display form).
    Accepted(String),
    /// Flow control: too fast. Back off, requeue the part.
    Throttled,
    /// Refused for another reason (the protocol's code).
    Rejected(u32),
}

/// One inbound segment as a session received it.
#[derive(Debug, Clone)]
pub struct MoPart {
    pub carrier: String,
    /// The handset it comes from.
    pub source: String,
    /// The service code it was sent to.
    pub destination: String,
    pub content: Bytes,
    pub udhi: bool,
    /// Which part of a long message this is when the carrier numbered it
    /// with SMPP `sar_*` TLVs instead of a UDH.
    pub sar: Option<Concat>,
    pub encoding: Option<Encoding>,
    /// What tells this segment from any other of the carrier's: its
    /// message id (CMPP/SMGP `Msg_Id`, the SGIP sequence number), or for
    /// SMPP, which has none, a hash of what it carries
    /// ([`crate::mo_key::content_key`]). `None`: not known (a standby of an
    /// older version forwarded it), and the MO is recorded without a key.
    pub carrier_id: Option<String>,
}

/// A whole inbound message, reassembled and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mo {
    pub carrier: String,
    pub source: String,
    pub destination: String,
    pub text: String,
    /// False when parts never arrived (the text has gaps).
    pub complete: bool,
    /// Its dedupe key within its carrier: the `carrier_id` of its first
    /// segment (the lowest numbered one received). A re-delivery of the
    /// same MO has the same key, and is recorded once.
    pub key: Option<String>,
    /// The `carrier_id` of every segment received, lowest numbered first
    /// (`key` is the first): a multi-segment MO is recorded under each, so
    /// a segment the carrier delivers again alone is known as recorded.
    pub segments: Vec<String>,
}

/// Where splitting lived before [`crate::split`]; kept so existing paths resolve.
pub use crate::split::split_message;
