//! The SP (client) side of each carrier protocol, as pure translation: the
//! login PDU and how to read its answer, a submit PDU for one [`Part`], how
//! to read a submit response (sequence, carrier id, ok / throttled /
//! rejected), how to recognise a delivery report or an MO in a deliver and
//! what to answer, heartbeats and logout.
//!
//! One file per protocol. Like the simulator's `Dialect` (its mirror image),
//! an implementation never touches sockets, timers or actors; the session
//! ([`crate::session`]) and the link ([`crate::link`]) do.

pub mod cmpp;
pub mod sgip;
pub mod smgp;
pub mod smpp;

pub use smsgw_config::CarrierProfile;
use smsgw_config::CarrierProtocol;
use smsgw_protocols::framing::Wire;
use smsgw_protocols::report::DeliveryReport;
use smsgw_protocols::EncodeError;

use crate::model::{MoPart, Part, Protocol, SubmitStatus};

/// The shipped profile of a protocol (CMPP: 3.0), what a carrier gets
/// when its document names none.
pub fn default_profile(p: Protocol) -> CarrierProfile {
    CarrierProfile::for_protocol(match p {
        Protocol::Cmpp => CarrierProtocol::Cmpp3,
        Protocol::Sgip => CarrierProtocol::Sgip,
        Protocol::Smgp => CarrierProtocol::Smgp,
        Protocol::Smpp => CarrierProtocol::Smpp,
    })
}

/// A fee field of the profile, cut to its width (the config checked the
/// digits; this keeps an out-of-band value from failing every submit).
fn fee_field<const N: usize>(s: &str) -> smsgw_protocols::FixedStr<N> {
    smsgw_protocols::FixedStr::truncating(s)
}

/// The login clock of a profile: the wall-clock time now in its zone
/// (Beijing for the Chinese carriers), never the host's zone.
fn login_time(p: &CarrierProfile) -> chrono::NaiveDateTime {
    smsgw_protocols::clock::now_at_offset(p.login_utc_offset_secs)
}

/// Who we are to a carrier: the account we log in with. `Debug` masks the
/// password: sessions are logged with `{:?}` in places.
#[derive(Clone)]
pub struct Credentials {
    /// CMPP sp_id / SGIP login name / SMGP ClientID / SMPP system_id.
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("login", &self.login)
            .field("password", &"***")
            .finish()
    }
}

/// What an inbound PDU means to the SP.
pub enum Incoming<Pdu> {
    /// The answer to our login.
    LoginResp { ok: bool, status: u32 },
    /// The answer to a submit with request key `seq`.
    SubmitResp { seq: u32, status: SubmitStatus },
    /// A delivery report; `ack` must be sent back.
    Report { report: DeliveryReport, ack: Pdu },
    /// An inbound message (segment); `ack` must be sent back.
    Mo { mo: MoPart, ack: Pdu },
    /// A deliver we could not read; answered with `ack` so the carrier does
    /// not resend forever, and counted.
    BadDeliver { ack: Option<Pdu>, error: String },
    /// The carrier's heartbeat: send `ack`.
    KeepAlive { ack: Pdu },
    /// The answer to our heartbeat.
    KeepAliveResp,
    /// The carrier logs us out: send `ack`, then close.
    Logout { ack: Pdu },
    /// The answer to our logout.
    LogoutResp,
    /// A negative answer to a request by key (SMPP generic_nack).
    Nack { seq: u32, status: u32 },
    /// Anything else: ignored (logged by the caller).
    Other(&'static str),
}

/// One protocol's SP side. `carrier` names the configured carrier in the
/// reports and MOs this produces.
pub trait ClientProtocol: Send + Sync + 'static {
    type Wire: Wire<Pdu = Self::Pdu, Options = Self::Options> + Send + 'static;
    type Pdu: Send + std::fmt::Debug + 'static;
    type Options: Clone + Default + Send + Sync + 'static;

    const PROTOCOL: Protocol;
    /// Seconds between heartbeats on an idle link (0: the protocol has none).
    const HEARTBEAT_SECS: u64;

    /// The next request key when keys must be unique across all the
    /// carrier's connections (SGIP, where the key is part of the carrier
    /// message id); `None`: each session numbers its own requests.
    fn shared_seq(&self) -> Option<u32> {
        None
    }

    /// The codec options for a new connection.
    fn options(&self) -> Self::Options {
        Self::Options::default()
    }
    fn login(&self, seq: u32, creds: &Credentials) -> Result<Self::Pdu, EncodeError>;
    /// A submit of `part` with request key `seq`, asking for a report when
    /// the part says so.
    fn submit(&self, seq: u32, part: &Part, creds: &Credentials) -> Result<Self::Pdu, EncodeError>;
    fn classify(&self, pdu: Self::Pdu, carrier: &str) -> Incoming<Self::Pdu>;
    /// Our heartbeat, `None` when the protocol has none (SGIP).
    fn heartbeat(&self, seq: u32) -> Option<Self::Pdu>;
    fn logout(&self, seq: u32) -> Self::Pdu;
}

#[cfg(test)]
mod debug_tests {
    use super::Credentials;

    #[test]
    fn debug_masks_the_password() {
        let c = Credentials {
            login: "900001".into(),
            password: "pw-s3cret-1".into(),
        };
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("pw-s3cret-1"), "{shown}");
        assert!(shown.contains("900001") && shown.contains("***"), "{shown}");
        // The carrier's whole configuration, as a supervisor would log it.
        let cfg = crate::supervisor::CarrierConfig::new("cm", "127.0.0.1:7890", "900001", "pw-s3cret-1");
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("pw-s3cret-1") && shown.contains("127.0.0.1:7890"),
            "{shown}"
        );
    }
}
