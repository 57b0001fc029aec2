//! SGIP 1.2 from the SP side. SUBMIT carries the profile's charging
//! defaults (FeeType as a number, FeeValue, GivenValue "0", CorpId,
//! ServiceType, a ChargeNumber from FeeUserType) and its data_coding for
//! UCS-2 and GBK. Two directions: we BIND (login type 1) to the SMG and
//! SUBMIT; the SMG BINDs (login type 2) to our own server to push
//! DELIVER and REPORT (see [`crate::sgip_listener`]). A SUBMIT's 12-byte
//! sequence number is also its carrier message id, so the request key here
//! is the sequence's counter and the id its display form. Result 11 (node
//! busy) is flow control. SGIP has no heartbeat: an idle side unbinds.

use std::sync::atomic::{AtomicU32, Ordering};

use smsgw_protocols::sgip::submit::report_flag;
use smsgw_protocols::sgip::{self, result, Bind, Body, Pdu, SequenceNumber, Sgip, Submit};
use smsgw_protocols::text::Encoding;
use smsgw_protocols::{EncodeError, FixedStr};

use super::{fee_field, login_time, CarrierProfile, ClientProtocol, Credentials, Incoming};
use crate::model::{MoPart, Part, Protocol, SubmitStatus};

/// SGIP 1.2 client; `node_id` is our SP node id as the carrier assigned it.
#[derive(Debug)]
pub struct SgipClient {
    pub node_id: u32,
    profile: CarrierProfile,
    /// Shared by every session of the account: the counter is part of the
    /// carrier message id, so two links must never use the same one.
    counter: AtomicU32,
}

impl SgipClient {
    pub fn new(node_id: u32) -> SgipClient {
        SgipClient::with_profile(node_id, super::default_profile(Protocol::Sgip))
    }

    pub fn with_profile(node_id: u32, profile: CarrierProfile) -> SgipClient {
        SgipClient {
            node_id,
            profile,
            counter: AtomicU32::new(1),
        }
    }

    fn sequence(&self, seq: u32) -> SequenceNumber {
        sequence_at(self.node_id, &login_time(&self.profile), seq)
    }
}

impl Default for SgipClient {
    fn default() -> Self {
        SgipClient::new(3_000_000_001)
    }
}

/// A sequence number for request key `seq`, stamped in China time as the
/// SMG expects (whatever the host's zone).
pub fn sequence(node_id: u32, seq: u32) -> SequenceNumber {
    sequence_at(node_id, &smsgw_protocols::clock::beijing_now(), seq)
}

fn sequence_at(node_id: u32, t: &chrono::NaiveDateTime, seq: u32) -> SequenceNumber {
    SequenceNumber::new(node_id, SequenceNumber::time_of(t), seq)
}

/// SGIP's ChargeNumber for the profile's FeeUserType: the receiver's
/// number (0), the sender's (1), all zeros for the SP (2, the spec's way
/// of saying the SP pays); empty (3: a charge number the profile has none
/// of), which the SMG takes as the receiver.
fn charge_number(fee_user_type: u8, part: &Part) -> &str {
    match fee_user_type {
        0 => &part.destination,
        1 => &part.source,
        2 => "000000000000000000000",
        _ => "",
    }
}

/// What a PDU on the carrier's own connection to us means (the listener's
/// half of [`ClientProtocol::classify`]); also used by `classify`.
pub fn classify_pdu(pdu: Pdu, carrier: &str, profile: &CarrierProfile) -> Incoming<Pdu> {
    let seq = pdu.sequence;
    let ok = |body: Body| {
        Pdu::new(
            seq,
            body.response(result::OK as u8)
                .unwrap_or(Body::UnbindResp(sgip::UnbindResp {})),
        )
    };
    match pdu.body {
        Body::BindResp(r) => Incoming::LoginResp {
            ok: r.is_ok(),
            status: u32::from(r.result),
        },
        Body::SubmitResp(r) => Incoming::SubmitResp {
            seq: seq.counter,
            status: match u32::from(r.result) {
                result::OK => SubmitStatus::Accepted(seq.to_string()),
                result::THROTTLED => SubmitStatus::Throttled,
                code => SubmitStatus::Rejected(code),
            },
        },
        Body::Report(r) => Incoming::Report {
            report: r.to_delivery_report(),
            ack: ok(Body::Report(r)),
        },
        Body::Deliver(d) => {
            // SMGs may pad with spaces; routing by service code and
            // matching need the bare numbers.
            let mo = MoPart {
                carrier: carrier.to_string(),
                source: d.user_number.trimmed().to_string(),
                destination: d.sp_number.trimmed().to_string(),
                udhi: d.udhi(),
                sar: None,
                encoding: Encoding::from_msg_fmt(profile.standard_coding(d.message_coding)),
                content: d.message_content.clone(),
                // The SMG's sequence number names the DELIVER; it sends
                // the same one again when our answer went missing.
                carrier_id: Some(seq.to_string()),
            };
            Incoming::Mo {
                mo,
                ack: ok(Body::Deliver(d)),
            }
        }
        b @ Body::Userrpt(_) => Incoming::KeepAlive { ack: ok(b) },
        Body::Unbind(_) => Incoming::Logout {
            ack: Pdu::new(seq, Body::UnbindResp(sgip::UnbindResp {})),
        },
        Body::UnbindResp(_) => Incoming::LogoutResp,
        other => Incoming::Other(other.name()),
    }
}

impl ClientProtocol for SgipClient {
    type Wire = Sgip;
    type Pdu = Pdu;
    type Options = sgip::Options;
    const PROTOCOL: Protocol = Protocol::Sgip;
    const HEARTBEAT_SECS: u64 = 0;

    fn shared_seq(&self) -> Option<u32> {
        Some(
            self.counter
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_add(1)
                .max(2),
        )
    }

    fn login(&self, seq: u32, creds: &Credentials) -> Result<Pdu, EncodeError> {
        let b = Bind::new(Bind::SP_TO_SMG, &creds.login, &creds.password)?;
        Ok(Pdu::new(self.sequence(seq), Body::Bind(b)))
    }

    fn submit(&self, seq: u32, part: &Part, _creds: &Credentials) -> Result<Pdu, EncodeError> {
        let fee = &self.profile.fee;
        let mut s = Submit {
            sp_number: FixedStr::for_field("sp_number", &part.source)?,
            charge_number: FixedStr::truncating(charge_number(fee.fee_user_type, part)),
            user_numbers: vec![FixedStr::for_field("user_number", &part.destination)?],
            corp_id: fee_field(&fee.corp_id),
            service_type: fee_field(&fee.service_id),
            // SGIP's FeeType is a number where CMPP/SMGP write two digits.
            fee_type: fee.fee_type.trim().parse().unwrap_or(0),
            fee_value: fee_field(&fee.fee_code),
            // No gift of credit; an SMG that validates wants digits, not NULs.
            given_value: fee_field("0"),
            report_flag: if part.report {
                report_flag::ALWAYS
            } else {
                report_flag::NEVER
            },
            message_coding: self.profile.wire_coding(part.coding),
            message_content: part.content.clone(),
            ..Submit::default()
        };
        s.set_udhi(part.udhi);
        Ok(Pdu::new(self.sequence(seq), Body::Submit(s)))
    }

    fn classify(&self, pdu: Pdu, carrier: &str) -> Incoming<Pdu> {
        classify_pdu(pdu, carrier, &self.profile)
    }

    fn heartbeat(&self, _seq: u32) -> Option<Pdu> {
        None
    }

    fn logout(&self, seq: u32) -> Pdu {
        Pdu::new(self.sequence(seq), Body::Unbind(sgip::Unbind {}))
    }
}
