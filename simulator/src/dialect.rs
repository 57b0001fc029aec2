//! What differs between the four carrier protocols, as seen by a carrier.
//!
//! The session engine ([`crate::session`]) is written once; each protocol
//! implements [`Dialect`]: how to recognise a login, a submit, a heartbeat in
//! its PDUs, and how to build its answers, reports and MOs. A dialect is pure
//! translation: it never touches sockets, counters or timers.

use chrono::NaiveDateTime;
use smsgw_protocols::framing::{BadPdu, Wire};
use smsgw_protocols::report::ReportState;
use smsgw_protocols::udh::{Concat, ConcatStyle};

use crate::config::{Account, Protocol};

/// What an inbound PDU asks of the carrier.
pub enum Request {
    /// A login attempt with the account name it gives.
    Login {
        login: String,
    },
    Submit(Box<SubmitInfo>),
    /// The client's heartbeat: answer it.
    KeepAlive,
    /// The client logs out: answer and close.
    Logout,
    /// A response to something we sent (heartbeat, deliver, report): nothing
    /// to answer.
    Response,
    /// Anything else: answered with the dialect's error (if it has one).
    Unsupported,
}

/// The parts of a submit the simulator records and reports on.
#[derive(Debug, Clone)]
pub struct SubmitInfo {
    pub source: String,
    pub destinations: Vec<String>,
    /// The content of this part without its UDH.
    pub payload: bytes::Bytes,
    /// The content's code (`data_coding` / `Msg_Fmt`) as received.
    pub coding: u8,
    pub concat: Option<Concat>,
    /// How it was numbered, when it is part of a long message.
    pub numbering: Option<ConcatStyle>,
    pub report_requested: bool,
    pub client_ref: Option<String>,
    /// The charging fields as received (see `SubmitRecord::fee`), so tests
    /// can check what went on the wire.
    pub fee: Option<String>,
}

/// The carrier's verdict on a submit.
#[derive(Debug, Clone)]
pub enum SubmitOutcome {
    /// Accepted under this carrier message id (canonical display form).
    Accepted(String),
    /// Refused by the TPS ceiling.
    Throttled,
    /// Refused because the window was full.
    WindowFull,
}

/// A delivery report to send to the account.
#[derive(Debug, Clone)]
pub struct ReportOrder {
    pub carrier_msg_id: String,
    /// The SP's number the message came from.
    pub source: String,
    /// The handset it went to.
    pub destination: String,
    pub state: ReportState,
    pub submit_time: NaiveDateTime,
    pub done_time: NaiveDateTime,
    /// The account's quirks the report is written with.
    pub quirks: crate::quirks::Quirks,
}

/// One inbound (MO) segment to send to the account.
#[derive(Debug, Clone)]
pub struct MoPart {
    /// The handset it comes from.
    pub source: String,
    /// The service code it was sent to (e.g. 110, 1101, 10658899123).
    pub destination: String,
    /// The encoded content, UDH first when `udhi` is set.
    pub content: bytes::Bytes,
    pub udhi: bool,
    /// SMPP: the `sar_*` numbers to send this part with (no UDH).
    pub sar: Option<Concat>,
    /// The protocol's data coding / msg_fmt byte.
    pub coding: u8,
    /// This segment's id, fixed when it was injected (a CMPP-style Msg_Id:
    /// time, gateway code, sequence): every delivery of it, re-deliveries
    /// included, carries the same wire id, as a real carrier's does (CMPP
    /// and SMGP `Msg_Id`, the SGIP sequence number, the SMPP
    /// `user_message_reference`). The gateway dedupes MOs by it.
    pub id: u64,
}

/// Something for a client's receiving side: a report or an MO.
#[derive(Debug, Clone)]
pub enum Deliverable {
    Report(ReportOrder),
    Mo(MoPart),
}

/// One protocol's translation layer.
pub trait Dialect: Send + Sync + 'static {
    type Wire: Wire<Pdu = Self::Pdu, Options = Self::Options> + Send + 'static;
    type Pdu: Send + 'static;
    type Options: Clone + Default + Send + Sync + 'static;

    const PROTOCOL: Protocol;
    /// The longest gap between PDUs before the link is considered idle.
    const KEEPALIVE_SECS: u64 = 60;

    fn classify(&self, pdu: &Self::Pdu) -> Request;
    /// The protocol version byte a login announces (`None`: the protocol
    /// has none, as SGIP).
    fn login_version(&self, _pdu: &Self::Pdu) -> Option<u8> {
        None
    }
    /// Whether the login in `pdu` carries `account`'s password.
    fn verify_login(&self, pdu: &Self::Pdu, account: &Account) -> bool;
    /// Whether a successful login with `pdu` may receive reports and MOs
    /// (an SMPP transmitter may not).
    fn login_receives(&self, pdu: &Self::Pdu) -> bool;
    /// The answer to a login; `account` is `Some` when it succeeded. May
    /// adjust the connection's codec options (CMPP answers in the client's
    /// version).
    fn login_resp(&self, pdu: &Self::Pdu, account: Option<&Account>, opts: &mut Self::Options) -> Self::Pdu;
    fn submit_info(&self, pdu: &Self::Pdu) -> Option<SubmitInfo>;
    /// A fresh carrier message id for a submit that is about to be accepted.
    fn new_msg_id(&self, pdu: &Self::Pdu) -> String;
    fn submit_resp(&self, pdu: &Self::Pdu, outcome: &SubmitOutcome) -> Self::Pdu;
    fn keepalive_resp(&self, pdu: &Self::Pdu) -> Self::Pdu;
    fn logout_resp(&self, pdu: &Self::Pdu) -> Self::Pdu;
    /// The answer to an unsupported request or to a request before login.
    fn error_resp(&self, pdu: &Self::Pdu, before_login: bool) -> Option<Self::Pdu>;
    /// The answer to a frame that could not be decoded.
    fn bad_pdu_resp(&self, bad: &BadPdu<<Self::Wire as Wire>::Header>) -> Option<Self::Pdu>;
    /// Our own heartbeat, sent on an idle link (SGIP has none).
    fn keepalive(&self, seq: u32) -> Option<Self::Pdu>;
    /// The sequence of the report/MO this PDU acknowledges, if it is such an
    /// acknowledgement (what was sent with that sequence is then done).
    fn ack_of(&self, pdu: &Self::Pdu) -> Option<u32>;
    /// A report or MO as this protocol's PDU, in the connection's options.
    fn deliverable(&self, d: &Deliverable, seq: u32, opts: &Self::Options) -> Self::Pdu;
}
