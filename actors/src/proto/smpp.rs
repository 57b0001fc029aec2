//! SMPP 3.4 from the ESME side: bind_transceiver (submits and receipts on
//! one link), submit_sm with registered_delivery and the UDHI esm_class bit,
//! ESME_RTHROTTLED / ESME_RMSGQFUL as flow control, receipts as deliver_sm,
//! enquire_link both ways, generic_nack as a negative answer.
//!
//! Message ids are normalised on both sides by the profile's formats
//! (Kannel's `msg-id-type`): an SMSC that answers submit_sm_resp in hex
//! and writes receipts in decimal gives one canonical id for both, so the
//! receipt matches. The data_coding of UCS-2 and GBK is the profile's; a
//! long message split in the profile's `sar` style goes with the
//! `sar_msg_ref_num` / `sar_total_segments` / `sar_segment_seqnum` TLVs. A
//! profile with `receipts = "text"` ignores the receipt TLVs (the text
//! alone is read); `tlv` and `both` read both, the TLV id winning.
//!
//! Pure translation (see [`super`]): it never touches sockets or timers.

use smsgw_config::ReceiptStyle;
use smsgw_protocols::smpp::sm::sar_tlvs;
use smsgw_protocols::smpp::{self, status, tlv, Bind, Body, Pdu, SmResp, Smpp, SubmitSm};
use smsgw_protocols::text::Encoding;
use smsgw_protocols::EncodeError;

use super::{CarrierProfile, ClientProtocol, Credentials, Incoming};
use crate::model::{MoPart, Part, Protocol, SubmitStatus};

/// SMPP 3.4 (or 3.3, by profile) client.
#[derive(Debug)]
pub struct SmppClient {
    profile: CarrierProfile,
}

impl SmppClient {
    pub fn new(profile: CarrierProfile) -> SmppClient {
        SmppClient { profile }
    }
}

impl Default for SmppClient {
    fn default() -> Self {
        SmppClient::new(super::default_profile(Protocol::Smpp))
    }
}

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
        let mut b = Bind::new(&creds.login, &creds.password)?;
        if self.profile.version == "3.3" {
            b.interface_version = 0x33;
        }
        Ok(pdu(seq, Body::BindTransceiver(b)))
    }

    fn submit(&self, seq: u32, part: &Part, _creds: &Credentials) -> Result<Pdu, EncodeError> {
        let coding = self.profile.wire_coding(part.coding);
        let mut s = SubmitSm::new(&part.source, &part.destination, coding, part.content.clone())?;
        s.registered_delivery = u8::from(part.report);
        s.set_udhi(part.udhi);
        if let Some(c) = part.sar() {
            for t in sar_tlvs(c.reference, c.total, c.seq) {
                s.tlvs.set(t);
            }
        }
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
                    status::ESME_ROK => {
                        SubmitStatus::Accepted(self.profile.submit_resp_id.canonical(r.message_id.as_str()))
                    }
                    status::ESME_RTHROTTLED | status::ESME_RMSGQFUL => SubmitStatus::Throttled,
                    other => SubmitStatus::Rejected(other),
                },
            },
            Body::DeliverSm(mut d) => {
                let ack = pdu(seq, Body::DeliverSmResp(SmResp::default()));
                if self.profile.receipts == ReceiptStyle::Text && d.is_receipt() {
                    // This SMSC's receipt TLVs are not to be trusted: the
                    // text alone says which message and what became of it.
                    d.tlvs.remove(tlv::tag::RECEIPTED_MESSAGE_ID);
                    d.tlvs.remove(tlv::tag::MESSAGE_STATE);
                }
                // The receipted_message_id TLV, when present, wins and is
                // written like submit_sm_resp's id; the text's id is
                // written the receipt's way.
                let id_format = match d.tlvs.receipted_message_id() {
                    Some(id) if !id.is_empty() => self.profile.submit_resp_id,
                    _ => self.profile.receipt_id,
                };
                match d.delivery_report() {
                    Some(Ok(mut report)) => {
                        report.carrier_msg_id = id_format.canonical(&report.carrier_msg_id);
                        Incoming::Report { report, ack }
                    }
                    Some(Err(e)) => Incoming::BadDeliver {
                        ack: Some(ack),
                        error: e.to_string(),
                    },
                    None => {
                        let sar = (!d.udhi()).then(|| d.concat()).flatten();
                        // deliver_sm carries no id of the MO: a hash of
                        // what it does carry stands in for one.
                        let umr = d.tlvs.get(tlv::tag::USER_MESSAGE_REFERENCE).map(|t| match t {
                            tlv::Tlv::UserMessageReference(r) => u32::from(*r),
                            _ => u32::MAX,
                        });
                        let key = crate::mo_key::content_key(&crate::mo_key::Fields {
                            source: d.source_addr.as_str(),
                            destination: d.destination_addr.as_str(),
                            coding: d.data_coding,
                            udhi: d.udhi(),
                            sar,
                            reference: umr,
                            timestamp: d.schedule_delivery_time.as_str(),
                            content: d.payload(),
                        });
                        Incoming::Mo {
                            mo: MoPart {
                                carrier: carrier.to_string(),
                                source: d.source_addr.to_string(),
                                destination: d.destination_addr.to_string(),
                                udhi: d.udhi(),
                                sar,
                                encoding: Encoding::from_data_coding(
                                    self.profile.standard_coding(d.data_coding),
                                ),
                                content: d.payload().clone(),
                                carrier_id: Some(key),
                            },
                            ack,
                        }
                    }
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
