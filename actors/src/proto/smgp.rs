//! SMGP 3.0 from the SP side: Login in transmit mode (send and receive on
//! one link), Submit with NeedReport and the TP_udhi TLV, status 1 (system
//! busy) as flow control, reports in Deliver with IsReport = 1.
//!
//! Pure translation (see [`super`]): it never touches sockets or timers.

use smsgw_protocols::smgp::{self, login_mode, status, Body, Deliver, Login, Pdu, Smgp, Submit};
use smsgw_protocols::text::Encoding;
use smsgw_protocols::{EncodeError, FixedStr};

use super::{ClientProtocol, Credentials, Incoming};
use crate::model::{MoPart, Part, Protocol, SubmitStatus};

/// SMGP 3.0 client.
#[derive(Debug, Default)]
pub struct SmgpClient;

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
        let l = Login::new(
            &creds.login,
            &creds.password,
            login_mode::TRANSMIT,
            smgp::timestamp_now(),
        )?;
        Ok(Pdu::new(seq, Body::Login(l)))
    }

    fn submit(&self, seq: u32, part: &Part, _creds: &Credentials) -> Result<Pdu, EncodeError> {
        let mut s = Submit {
            need_report: u8::from(part.report),
            msg_format: part.coding,
            src_term_id: FixedStr::for_field("src_term_id", &part.source)?,
            dest_term_ids: vec![FixedStr::for_field("dest_term_id", &part.destination)?],
            msg_content: part.content.clone(),
            ..Submit::default()
        };
        s.set_udhi(part.udhi);
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
                            encoding: Encoding::from_msg_fmt(d.msg_format),
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
