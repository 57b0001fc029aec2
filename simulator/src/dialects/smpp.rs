//! SMPP 3.4 as an SMSC speaks it: transmitter / receiver / transceiver
//! binds (only the last two receive), string message ids, receipts as
//! deliver_sm with esm_class 0x04 and the receipted_message_id TLV,
//! ESME_RTHROTTLED (0x58) and ESME_RMSGQFUL (0x14) as flow control, and
//! generic_nack for what cannot be understood.

use std::sync::atomic::{AtomicU64, Ordering};

use smsgw_protocols::framing::BadPdu;
use smsgw_protocols::report::format_report_time;
use smsgw_protocols::smpp::{self, status, BindResp, Body, DeliverSm, Pdu, Receipt, SmResp, Smpp, Tlv};

use crate::config::{Account, Protocol};
use crate::dialect::{Deliverable, Dialect, Request, SubmitInfo, SubmitOutcome};

pub struct SmppDialect {
    next_id: AtomicU64,
}

impl SmppDialect {
    pub fn new() -> Self {
        // Ids differ between simulator runs, as a real SMSC's do.
        let start = u64::from(rand::random::<u32>());
        SmppDialect {
            next_id: AtomicU64::new(start),
        }
    }
}

impl Default for SmppDialect {
    fn default() -> Self {
        Self::new()
    }
}

fn bind_of(body: &Body) -> Option<&smpp::Bind> {
    match body {
        Body::BindTransmitter(b) | Body::BindReceiver(b) | Body::BindTransceiver(b) => Some(b),
        _ => None,
    }
}

fn pdu(status: u32, seq: u32, body: Body) -> Pdu {
    Pdu {
        command_status: status,
        sequence_number: seq,
        body,
    }
}

impl Dialect for SmppDialect {
    type Wire = Smpp;
    type Pdu = Pdu;
    type Options = smpp::Options;
    const PROTOCOL: Protocol = Protocol::Smpp;

    fn classify(&self, p: &Pdu) -> Request {
        if let Some(b) = bind_of(&p.body) {
            return Request::Login {
                login: b.system_id.to_string(),
            };
        }
        match &p.body {
            Body::SubmitSm(_) => match self.submit_info(p) {
                Some(info) => Request::Submit(Box::new(info)),
                None => Request::Unsupported,
            },
            Body::EnquireLink => Request::KeepAlive,
            Body::Unbind => Request::Logout,
            b if b.is_response() => Request::Response,
            _ => Request::Unsupported,
        }
    }

    fn login_version(&self, p: &Pdu) -> Option<u8> {
        bind_of(&p.body).map(|b| b.interface_version)
    }

    fn verify_login(&self, p: &Pdu, account: &Account) -> bool {
        bind_of(&p.body).is_some_and(|b| b.password.as_str() == account.password)
    }

    fn login_receives(&self, p: &Pdu) -> bool {
        matches!(p.body, Body::BindReceiver(_) | Body::BindTransceiver(_))
    }

    fn login_resp(&self, p: &Pdu, account: Option<&Account>, _opts: &mut smpp::Options) -> Pdu {
        let resp = BindResp::new("smsgw-sim").unwrap_or_default();
        let body = match &p.body {
            Body::BindReceiver(_) => Body::BindReceiverResp(resp),
            Body::BindTransmitter(_) => Body::BindTransmitterResp(resp),
            _ => Body::BindTransceiverResp(resp),
        };
        let code = if account.is_some() {
            status::ESME_ROK
        } else {
            status::ESME_RBINDFAIL
        };
        pdu(code, p.sequence_number, body)
    }

    fn submit_info(&self, p: &Pdu) -> Option<SubmitInfo> {
        let Body::SubmitSm(s) = &p.body else { return None };
        let (payload, udh) = crate::mo::strip_udh(s.payload(), s.udhi());
        let client_ref = s.tlvs.iter().find_map(|t| match t {
            Tlv::UserMessageReference(r) => Some(r.to_string()),
            _ => None,
        });
        Some(SubmitInfo {
            source: s.source_addr.to_string(),
            destinations: vec![s.destination_addr.to_string()],
            payload,
            coding: s.data_coding,
            concat: udh.or_else(|| s.concat()),
            numbering: crate::profile::numbering(udh, s.tlvs.sar().is_some()),
            report_requested: s.registered_delivery & 0x03 != 0,
            client_ref,
            fee: None,
        })
    }

    fn new_msg_id(&self, _p: &Pdu) -> String {
        format!("{:010x}", self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    fn submit_resp(&self, p: &Pdu, outcome: &SubmitOutcome) -> Pdu {
        let (code, id) = match outcome {
            SubmitOutcome::Accepted(id) => (status::ESME_ROK, id.as_str()),
            SubmitOutcome::Throttled => (status::ESME_RTHROTTLED, ""),
            SubmitOutcome::WindowFull => (status::ESME_RMSGQFUL, ""),
        };
        pdu(
            code,
            p.sequence_number,
            Body::SubmitSmResp(SmResp::new(id).unwrap_or_default()),
        )
    }

    fn keepalive_resp(&self, p: &Pdu) -> Pdu {
        pdu(status::ESME_ROK, p.sequence_number, Body::EnquireLinkResp)
    }

    fn logout_resp(&self, p: &Pdu) -> Pdu {
        pdu(status::ESME_ROK, p.sequence_number, Body::UnbindResp)
    }

    fn error_resp(&self, p: &Pdu, before_login: bool) -> Option<Pdu> {
        let code = if before_login {
            status::ESME_RINVBNDSTS
        } else {
            status::ESME_RINVCMDID
        };
        p.response(code)
            .or_else(|| Some(pdu(code, p.sequence_number, Body::GenericNack)))
    }

    fn bad_pdu_resp(&self, bad: &BadPdu<smpp::Header>) -> Option<Pdu> {
        Pdu::answer_bad(&bad.header, &bad.error)
    }

    fn keepalive(&self, seq: u32) -> Option<Pdu> {
        Some(pdu(status::ESME_ROK, seq, Body::EnquireLink))
    }

    fn ack_of(&self, p: &Pdu) -> Option<u32> {
        matches!(p.body, Body::DeliverSmResp(_)).then_some(p.sequence_number)
    }

    fn deliverable(&self, d: &Deliverable, seq: u32, _opts: &smpp::Options) -> Pdu {
        let sm = match d {
            Deliverable::Report(r) => {
                let err = if r.state.is_success() { 0 } else { 1 };
                let receipt = Receipt::new(
                    &r.carrier_msg_id,
                    r.state,
                    &format_report_time(&r.submit_time),
                    &format_report_time(&r.done_time),
                    err,
                );
                let mut sm = DeliverSm::receipt(&receipt, &r.destination, &r.source).unwrap_or_default();
                if r.quirks.decimal_receipt_ids || r.quirks.text_receipts {
                    // Like an SMPP 3.3 SMSC: the (decimal) id only in the
                    // text, no receipted_message_id to fall back on.
                    sm.tlvs
                        .remove(smsgw_protocols::smpp::tlv::tag::RECEIPTED_MESSAGE_ID);
                }
                sm
            }
            Deliverable::Mo(m) => {
                let mut sm = DeliverSm::new(&m.source, &m.destination, m.coding, m.content.clone())
                    .unwrap_or_default();
                sm.set_udhi(m.udhi);
                // The handset's reference, fixed per segment: what a
                // gateway can tell two equal texts apart by.
                sm.tlvs
                    .set(smsgw_protocols::smpp::tlv::Tlv::UserMessageReference(m.id as u16));
                if let Some(c) = m.sar {
                    for t in smsgw_protocols::smpp::sm::sar_tlvs(c.reference, c.total, c.seq) {
                        sm.tlvs.set(t);
                    }
                }
                sm
            }
        };
        pdu(status::ESME_ROK, seq, Body::DeliverSm(sm))
    }
}
