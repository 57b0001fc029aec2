//! SMPP 3.4 from the ESME side: bind_transceiver (submits and receipts on
//! one link), submit_sm with registered_delivery and the UDHI esm_class bit,
//! ESME_RTHROTTLED / ESME_RMSGQFUL as flow control, receipts as deliver_sm,
//! enquire_link both ways, generic_nack as a negative answer.
//!
//! Pure translation (see [`super`]): it never touches sockets or timers.

use smsgw_protocols::smpp::{self, status, Bind, Body, Pdu, SmResp, Smpp, SubmitSm};
use smsgw_protocols::text::Encoding;
use smsgw_protocols::EncodeError;

use super::{ClientProtocol, Credentials, Incoming};
use crate::model::{MoPart, Part, Protocol, SubmitStatus};

/// SMPP 3.4 client.
#[derive(Debug, Default)]
pub struct SmppClient;

fn pdu(seq: u32, body: Body) -> Pdu {
    Pdu {
        command_status: status::ESME_ROK,
        sequence_number: seq,
        body,
    }
}

impl ClientProtocol for SmppClient {
    type Wire = Smpp;
    type Pdu = Pdu;
    type Options = smpp::Options;
    const PROTOCOL: Protocol = Protocol::Smpp;
    const HEARTBEAT_SECS: u64 = 30;

    fn login(&self, seq: u32, creds: &Credentials) -> Result<Pdu, EncodeError> {
        Ok(pdu(
            seq,
            Body::BindTransceiver(Bind::new(&creds.login, &creds.password)?),
        ))
    }

    fn submit(&self, seq: u32, part: &Part, _creds: &Credentials) -> Result<Pdu, EncodeError> {
        let mut s = SubmitSm::new(&part.source, &part.destination, part.coding, part.content.clone())?;
        s.registered_delivery = u8::from(part.report);
        s.set_udhi(part.udhi);
        Ok(pdu(seq, Body::SubmitSm(s)))
    }

    fn classify(&self, p: Pdu, carrier: &str) -> Incoming<Pdu> {
        let seq = p.sequence_number;
        let code = p.command_status;
        match p.body {
            Body::BindTransceiverResp(_) | Body::BindTransmitterResp(_) | Body::BindReceiverResp(_) => {
                Incoming::LoginResp {
                    ok: code == status::ESME_ROK,
                    status: code,
                }
            }
            Body::SubmitSmResp(r) => Incoming::SubmitResp {
                seq,
                status: match code {
                    status::ESME_ROK => SubmitStatus::Accepted(r.message_id.to_string()),
                    status::ESME_RTHROTTLED | status::ESME_RMSGQFUL => SubmitStatus::Throttled,
                    other => SubmitStatus::Rejected(other),
                },
            },
            Body::DeliverSm(d) => {
                let ack = pdu(seq, Body::DeliverSmResp(SmResp::default()));
                match d.delivery_report() {
                    Some(Ok(report)) => Incoming::Report { report, ack },
                    Some(Err(e)) => Incoming::BadDeliver {
                        ack: Some(ack),
                        error: e.to_string(),
                    },
                    None => Incoming::Mo {
                        mo: MoPart {
                            carrier: carrier.to_string(),
                            source: d.source_addr.to_string(),
                            destination: d.destination_addr.to_string(),
                            udhi: d.udhi(),
                            encoding: Encoding::from_data_coding(d.data_coding),
                            content: d.payload().clone(),
                        },
                        ack,
                    },
                }
            }
            Body::EnquireLink => Incoming::KeepAlive {
                ack: pdu(seq, Body::EnquireLinkResp),
            },
            Body::EnquireLinkResp => Incoming::KeepAliveResp,
            Body::Unbind => Incoming::Logout {
                ack: pdu(seq, Body::UnbindResp),
            },
            Body::UnbindResp => Incoming::LogoutResp,
            Body::GenericNack => Incoming::Nack { seq, status: code },
            other => Incoming::Other(other.name()),
        }
    }

    fn heartbeat(&self, seq: u32) -> Option<Pdu> {
        Some(pdu(seq, Body::EnquireLink))
    }

    fn logout(&self, seq: u32) -> Pdu {
        pdu(seq, Body::Unbind)
    }
}
