//! CMPP 3.0 (or 2.0, by profile) from the SP side: CONNECT with the MD5
//! authenticator stamped in the profile's zone (Beijing), SUBMIT with
//! Registered_Delivery, TP_udhi and the profile's fee defaults, result 8 as
//! flow control, reports in DELIVER with Registered_Delivery = 1 (read as
//! far as they go when their length is odd), ACTIVE_TEST both ways.
//!
//! Pure translation (see [`super`]): it never touches sockets or timers.

use smsgw_protocols::cmpp::{self, result, Body, Cmpp, CmppVersion, Connect, Deliver, Pdu, Submit};
use smsgw_protocols::text::Encoding;
use smsgw_protocols::{EncodeError, FixedStr};

use super::{fee_field, login_time, CarrierProfile, ClientProtocol, Credentials, Incoming};
use crate::model::{MoPart, Part, Protocol, SubmitStatus};

/// CMPP client, speaking the version and fee defaults of its profile.
#[derive(Debug)]
pub struct CmppClient {
    profile: CarrierProfile,
}

impl CmppClient {
    pub fn new(profile: CarrierProfile) -> CmppClient {
        CmppClient { profile }
    }

    pub fn version(&self) -> CmppVersion {
        match self.profile.version.as_str() {
            "2.0" => CmppVersion::V20,
            _ => CmppVersion::V30,
        }
    }
}

impl Default for CmppClient {
    fn default() -> Self {
        CmppClient::new(super::default_profile(Protocol::Cmpp))
    }
}

fn deliver_ack(seq: u32, d: &Deliver) -> Pdu {
    Pdu::new(
        seq,
        Body::DeliverResp(cmpp::DeliverResp {
            msg_id: d.msg_id,
            result: result::OK,
        }),
    )
}

impl ClientProtocol for CmppClient {
    type Wire = Cmpp;
    type Pdu = Pdu;
    type Options = cmpp::Options;
    const PROTOCOL: Protocol = Protocol::Cmpp;
    const HEARTBEAT_SECS: u64 = 30;

    fn options(&self) -> cmpp::Options {
        cmpp::Options::new(self.version())
    }

    fn login(&self, seq: u32, creds: &Credentials) -> Result<Pdu, EncodeError> {
        let c = Connect::new(
            &creds.login,
            &creds.password,
            cmpp::timestamp_of(&login_time(&self.profile)),
            self.version(),
        )?;
        Ok(Pdu::new(seq, Body::Connect(c)))
    }

    fn submit(&self, seq: u32, part: &Part, creds: &Credentials) -> Result<Pdu, EncodeError> {
        let fee = &self.profile.fee;
        let mut s = Submit {
            service_id: fee_field(&fee.service_id),
            fee_user_type: fee.fee_user_type,
            fee_type: fee_field(&fee.fee_type),
            fee_code: fee_field(&fee.fee_code),
            pk_total: part.total,
            pk_number: part.id.seq,
            registered_delivery: u8::from(part.report),
            msg_fmt: self.profile.wire_coding(part.coding),
            msg_src: FixedStr::for_field("msg_src", &creds.login)?,
            src_id: FixedStr::for_field("src_id", &part.source)?,
            dest_terminal_ids: vec![FixedStr::for_field("dest_terminal_id", &part.destination)?],
            msg_content: part.content.clone(),
            ..Submit::default()
        };
        s.set_udhi(part.udhi);
        Ok(Pdu::new(seq, Body::Submit(Box::new(s))))
    }

    fn classify(&self, pdu: Pdu, carrier: &str) -> Incoming<Pdu> {
        let seq = pdu.sequence_id;
        match pdu.body {
            Body::ConnectResp(r) => Incoming::LoginResp {
                ok: r.status == result::OK,
                status: r.status,
            },
            Body::SubmitResp(r) => Incoming::SubmitResp {
                seq,
                status: match r.result {
                    result::OK => SubmitStatus::Accepted(r.msg_id.to_string()),
                    result::THROTTLED => SubmitStatus::Throttled,
                    code => SubmitStatus::Rejected(code),
                },
            },
            Body::Deliver(d) => {
                let ack = deliver_ack(seq, &d);
                if d.is_report() {
                    match d.report() {
                        Ok(Some(r)) => Incoming::Report {
                            report: r.to_delivery_report(),
                            ack,
                        },
                        Ok(None) => Incoming::BadDeliver {
                            ack: Some(ack),
                            error: "report flag without report".into(),
                        },
                        // Too short to match (no Msg_Id and Stat): not
                        // acknowledged, so the ISMG keeps it and sends it
                        // again rather than it being acked and lost.
                        Err(e) => Incoming::BadDeliver {
                            ack: None,
                            error: format!("unreadable report: {e}"),
                        },
                    }
                } else {
                    Incoming::Mo {
                        mo: MoPart {
                            carrier: carrier.to_string(),
                            source: d.src_terminal_id.to_string(),
                            destination: d.dest_id.to_string(),
                            udhi: d.udhi(),
                            sar: None,
                            encoding: Encoding::from_msg_fmt(self.profile.standard_coding(d.msg_fmt)),
                            carrier_id: Some(d.msg_id.to_string()),
                            content: d.msg_content,
                        },
                        ack,
                    }
                }
            }
            Body::ActiveTest => Incoming::KeepAlive {
                ack: Pdu::new(seq, Body::ActiveTestResp(cmpp::ActiveTestResp { reserved: 0 })),
            },
            Body::ActiveTestResp(_) => Incoming::KeepAliveResp,
            Body::Terminate => Incoming::Logout {
                ack: Pdu::new(seq, Body::TerminateResp),
            },
            Body::TerminateResp => Incoming::LogoutResp,
            other => Incoming::Other(other.name()),
        }
    }

    fn heartbeat(&self, seq: u32) -> Option<Pdu> {
        Some(Pdu::new(seq, Body::ActiveTest))
    }

    fn logout(&self, seq: u32) -> Pdu {
        Pdu::new(seq, Body::Terminate)
    }
}
