//! CMPP 2.0/3.0 as China Mobile's ISMG speaks it: answers in the client's
//! version (0x20/0x21 → 2.0, 0x30 → 3.0), result 8 for flow control, status
//! reports inside DELIVER with Registered_Delivery = 1.

use smsgw_protocols::cmpp::{self, result, Body, Cmpp, CmppVersion, ConnectResp, Deliver, MsgId, Pdu};
use smsgw_protocols::framing::BadPdu;
use smsgw_protocols::FixedStr;

use crate::config::{Account, Protocol};
use crate::dialect::{Deliverable, Dialect, Request, SubmitInfo, SubmitOutcome};

pub struct CmppDialect {
    ids: cmpp::MsgIdGenerator,
}

impl CmppDialect {
    pub fn new() -> Self {
        CmppDialect {
            ids: cmpp::MsgIdGenerator::new(super::GATEWAY_CODE),
        }
    }
}

impl Default for CmppDialect {
    fn default() -> Self {
        Self::new()
    }
}

impl Dialect for CmppDialect {
    type Wire = Cmpp;
    type Pdu = Pdu;
    type Options = cmpp::Options;
    const PROTOCOL: Protocol = Protocol::Cmpp;

    fn classify(&self, pdu: &Pdu) -> Request {
        match &pdu.body {
            Body::Connect(c) => Request::Login {
                login: c.source_addr.to_string(),
            },
            Body::Submit(_) => match self.submit_info(pdu) {
                Some(info) => Request::Submit(Box::new(info)),
                None => Request::Unsupported,
            },
            Body::ActiveTest => Request::KeepAlive,
            Body::Terminate => Request::Logout,
            b if b.is_response() => Request::Response,
            _ => Request::Unsupported,
        }
    }

    fn login_version(&self, pdu: &Pdu) -> Option<u8> {
        match &pdu.body {
            Body::Connect(c) => Some(c.version),
            _ => None,
        }
    }

    fn verify_login(&self, pdu: &Pdu, account: &Account) -> bool {
        matches!(&pdu.body, Body::Connect(c) if c.cmpp_version().is_some() && c.verify(&account.password))
    }

    fn login_receives(&self, _pdu: &Pdu) -> bool {
        true
    }

    fn login_resp(&self, pdu: &Pdu, account: Option<&Account>, opts: &mut cmpp::Options) -> Pdu {
        let Body::Connect(c) = &pdu.body else {
            return Pdu::new(pdu.sequence_id, Body::TerminateResp);
        };
        let version = c.cmpp_version().unwrap_or(CmppVersion::V30);
        opts.version = version;
        let status = match (account, c.cmpp_version()) {
            (_, None) => result::CONNECT_VERSION_TOO_HIGH,
            (Some(_), Some(_)) => result::OK,
            (None, _) => result::CONNECT_AUTH_FAILED,
        };
        let secret = account.map(|a| a.password.as_str()).unwrap_or("");
        let mut resp = ConnectResp::for_connect(c, status, secret, version);
        // Answer with the version byte the client sent (0x21 stays 0x21).
        resp.version = c.version;
        Pdu::new(pdu.sequence_id, Body::ConnectResp(resp))
    }

    fn submit_info(&self, pdu: &Pdu) -> Option<SubmitInfo> {
        let Body::Submit(s) = &pdu.body else { return None };
        let (payload, udh) = crate::mo::strip_udh(&s.msg_content, s.udhi());
        Some(SubmitInfo {
            source: s.src_id.to_string(),
            destinations: s.dest_terminal_ids.iter().map(|d| d.to_string()).collect(),
            payload,
            coding: s.msg_fmt,
            concat: udh.or_else(|| s.concat()),
            numbering: crate::profile::numbering(udh, false),
            report_requested: s.registered_delivery != 0,
            client_ref: (!s.link_id.is_empty()).then(|| s.link_id.to_string()),
            fee: Some(format!("{}/{}", s.fee_type, s.fee_code)),
        })
    }

    fn new_msg_id(&self, _pdu: &Pdu) -> String {
        self.ids.next().to_string()
    }

    fn submit_resp(&self, pdu: &Pdu, outcome: &SubmitOutcome) -> Pdu {
        let (msg_id, result) = match outcome {
            SubmitOutcome::Accepted(id) => (id.parse().unwrap_or(MsgId(0)), result::OK),
            SubmitOutcome::Throttled | SubmitOutcome::WindowFull => (MsgId(0), result::FLOW_CONTROL),
        };
        Pdu::new(
            pdu.sequence_id,
            Body::SubmitResp(cmpp::SubmitResp { msg_id, result }),
        )
    }

    fn keepalive_resp(&self, pdu: &Pdu) -> Pdu {
        Pdu::new(
            pdu.sequence_id,
            Body::ActiveTestResp(cmpp::ActiveTestResp { reserved: 0 }),
        )
    }

    fn logout_resp(&self, pdu: &Pdu) -> Pdu {
        Pdu::new(pdu.sequence_id, Body::TerminateResp)
    }

    fn error_resp(&self, pdu: &Pdu, _before_login: bool) -> Option<Pdu> {
        // CMPP has no generic error PDU; a submit gets result 2 (bad command).
        match &pdu.body {
            Body::Submit(_) => Some(Pdu::new(
                pdu.sequence_id,
                Body::SubmitResp(cmpp::SubmitResp {
                    msg_id: MsgId(0),
                    result: result::BAD_COMMAND,
                }),
            )),
            _ => None,
        }
    }

    fn bad_pdu_resp(&self, bad: &BadPdu<cmpp::Header>) -> Option<Pdu> {
        (bad.header.command_id == cmpp::command::SUBMIT).then(|| {
            Pdu::new(
                bad.header.sequence_id,
                Body::SubmitResp(cmpp::SubmitResp {
                    msg_id: MsgId(0),
                    result: result::BAD_STRUCTURE,
                }),
            )
        })
    }

    fn keepalive(&self, seq: u32) -> Option<Pdu> {
        Some(Pdu::new(seq, Body::ActiveTest))
    }

    fn ack_of(&self, pdu: &Pdu) -> Option<u32> {
        matches!(pdu.body, Body::DeliverResp(_)).then_some(pdu.sequence_id)
    }

    fn deliverable(&self, d: &Deliverable, seq: u32, opts: &cmpp::Options) -> Pdu {
        let deliver = match d {
            Deliverable::Report(r) => {
                let msg_id = r.carrier_msg_id.parse().unwrap_or(MsgId(0));
                cmpp::Report::new(msg_id, r.state, &r.submit_time, &r.done_time, &r.destination, seq)
                    .and_then(|rep| rep.into_deliver(self.ids.next(), &r.source, opts.version))
                    .map(|mut d| {
                        let delta = r.quirks.report_length_delta;
                        if delta != 0 {
                            d.msg_content = crate::quirks::resize_report(&d.msg_content, delta);
                        }
                        d
                    })
                    .unwrap_or_default()
            }
            Deliverable::Mo(m) => Deliver {
                msg_id: MsgId(m.id),
                dest_id: FixedStr::truncating(&m.destination),
                tp_udhi: u8::from(m.udhi),
                msg_fmt: m.coding,
                src_terminal_id: FixedStr::truncating(&m.source),
                msg_content: m.content.clone(),
                ..Deliver::default()
            },
        };
        Pdu::new(seq, Body::Deliver(Box::new(deliver)))
    }
}
