//! SMGP 3.0 (and 1.3 / 2.0) from the SP side: Login in transmit mode
//! (send and receive on one link) stamped in the profile's zone (Beijing),
//! Submit with NeedReport, the profile's fee defaults and (3.0 only) the
//! TP_udhi TLV, status 1 (system busy) as flow control, reports in Deliver
//! with IsReport = 1. Versions before 3.0 have no TLVs: Login says the
//! version and Submit carries none (so no UDHI flag).
//!
//! Pure translation (see [`super`]): it never touches sockets or timers.

use smsgw_protocols::smgp::{self, login_mode, status, Body, Deliver, Login, Pdu, Smgp, Submit};
use smsgw_protocols::text::Encoding;
use smsgw_protocols::{EncodeError, FixedStr};

use super::{fee_field, login_time, CarrierProfile, ClientProtocol, Credentials, Incoming};
use crate::model::{MoPart, Part, Protocol, SubmitStatus};

/// SMGP client, speaking the version and fee defaults of its profile.
#[derive(Debug)]
pub struct SmgpClient {
    profile: CarrierProfile,
}

impl SmgpClient {
    pub fn new(profile: CarrierProfile) -> SmgpClient {
        SmgpClient { profile }
    }

    /// The Login's ClientVersion byte: 0x13, 0x20 or 0x30.
    pub fn version_byte(&self) -> u8 {
        match self.profile.version.as_str() {
            "1.3" => 0x13,
            "2.0" => 0x20,
            _ => smgp::VERSION_30,
        }
    }

    fn has_tlvs(&self) -> bool {
        self.version_byte() >= smgp::VERSION_30
    }
}

impl Default for SmgpClient {
    fn default() -> Self {
        SmgpClient::new(super::default_profile(Protocol::Smgp))
    }
}

fn deliver_ack(seq: u32, d: &Deliver) -> Pdu {
    Pdu::new(
        seq,
        Body::DeliverResp(smgp::DeliverResp {
            msg_id: d.msg_id,
            status: status::OK,
        }),
    )
}

impl ClientProtocol for SmgpClient {
    type Wire = Smgp;
    type Pdu = Pdu;
    type Options = smgp::Options;
    const PROTOCOL: Protocol = Protocol::Smgp;
    const HEARTBEAT_SECS: u64 = 30;

    fn login(&self, seq: u32, creds: &Credentials) -> Result<Pdu, EncodeError> {
        let mut l = Login::new(
            &creds.login,
            &creds.password,
            login_mode::TRANSMIT,
            smgp::timestamp_of(&login_time(&self.profile)),
        )?;
        l.client_version = self.version_byte();
        Ok(Pdu::new(seq, Body::Login(l)))
    }

    fn submit(&self, seq: u32, part: &Part, _creds: &Credentials) -> Result<Pdu, EncodeError> {
        let fee = &self.profile.fee;
        let mut s = Submit {
            need_report: u8::from(part.report),
            service_id: fee_field(&fee.service_id),
            // An SMG that validates charging answers 32/33/40 to NULs.
            fee_type: fee_field(&fee.fee_type),
            fee_code: fee_field(&fee.fee_code),
            fixed_fee: fee_field(&fee.fixed_fee),
            msg_format: self.profile.wire_coding(part.coding),
            src_term_id: FixedStr::for_field("src_term_id", &part.source)?,
            dest_term_ids: vec![FixedStr::for_field("dest_term_id", &part.destination)?],
            msg_content: part.content.clone(),
            ..Submit::default()
        };
        if self.has_tlvs() {
            s.set_udhi(part.udhi);
        }
        Ok(Pdu::new(seq, Body::Submit(s)))
    }

    fn classify(&self, pdu: Pdu, carrier: &str) -> Incoming<Pdu> {
        let seq = pdu.sequence_id;
        match pdu.body {
            Body::LoginResp(r) => Incoming::LoginResp {
                ok: r.status == status::OK,
                status: r.status,
            },
            Body::SubmitResp(r) => Incoming::SubmitResp {
                seq,
                status: match r.status {
                    status::OK => SubmitStatus::Accepted(r.msg_id.to_string()),
                    status::THROTTLED => SubmitStatus::Throttled,
                    code => SubmitStatus::Rejected(code),
                },
            },
            Body::Deliver(d) => {
                let ack = deliver_ack(seq, &d);
                match d.delivery_report() {
                    Some(Ok(report)) => Incoming::Report { report, ack },
                    Some(Err(e)) => Incoming::BadDeliver {
                        ack: Some(ack),
                        error: e.to_string(),
                    },
                    None => Incoming::Mo {
                        mo: MoPart {
                            carrier: carrier.to_string(),
                            source: d.src_term_id.to_string(),
                            destination: d.dest_term_id.to_string(),
                            udhi: d.udhi(),
                            sar: None,
                            encoding: Encoding::from_msg_fmt(self.profile.standard_coding(d.msg_format)),
                            carrier_id: Some(d.msg_id.to_string()),
                            content: d.msg_content,
                        },
                        ack,
                    },
                }
            }
            Body::ActiveTest => Incoming::KeepAlive {
                ack: Pdu::new(seq, Body::ActiveTestResp),
            },
            Body::ActiveTestResp => Incoming::KeepAliveResp,
            Body::Exit => Incoming::Logout {
                ack: Pdu::new(seq, Body::ExitResp),
            },
            Body::ExitResp => Incoming::LogoutResp,
            other => Incoming::Other(other.name()),
        }
    }

    fn heartbeat(&self, seq: u32) -> Option<Pdu> {
        Some(Pdu::new(seq, Body::ActiveTest))
    }

    fn logout(&self, seq: u32) -> Pdu {
        Pdu::new(seq, Body::Exit)
    }
}
