//! SMGP 3.0 as China Telecom's SMGW speaks it: login modes send / receive /
//! transmit, 10-byte BCD message ids, status reports in DELIVER with
//! IsReport = 1, status 1 (system busy) as the flow-control answer.

use smsgw_protocols::framing::BadPdu;
use smsgw_protocols::report::{format_report_time, ReportState};
use smsgw_protocols::smgp::tlv::Tlv;
use smsgw_protocols::smgp::{self, status, Body, Deliver, LoginResp, MsgId, Pdu, Report, Smgp};
use smsgw_protocols::FixedStr;

use crate::config::{Account, Protocol};
use crate::dialect::{Deliverable, Dialect, Request, SubmitInfo, SubmitOutcome};

pub struct SmgpDialect {
    ids: smgp::MsgIdGenerator,
}

impl SmgpDialect {
    pub fn new() -> Self {
        SmgpDialect {
            ids: smgp::MsgIdGenerator::new(super::GATEWAY_CODE),
        }
    }
}

impl Default for SmgpDialect {
    fn default() -> Self {
        Self::new()
    }
}

fn submit_resp(seq: u32, msg_id: MsgId, status: u32) -> Pdu {
    Pdu::new(seq, Body::SubmitResp(smgp::SubmitResp { msg_id, status }))
}

impl Dialect for SmgpDialect {
    type Wire = Smgp;
    type Pdu = Pdu;
    type Options = smgp::Options;
    const PROTOCOL: Protocol = Protocol::Smgp;

    fn classify(&self, pdu: &Pdu) -> Request {
        match &pdu.body {
            Body::Login(l) => Request::Login {
                login: l.client_id.to_string(),
            },
            Body::Submit(_) => match self.submit_info(pdu) {
                Some(info) => Request::Submit(Box::new(info)),
                None => Request::Unsupported,
            },
            Body::ActiveTest => Request::KeepAlive,
            Body::Exit => Request::Logout,
            b if b.is_response() => Request::Response,
            _ => Request::Unsupported,
        }
    }

    fn login_version(&self, pdu: &Pdu) -> Option<u8> {
        match &pdu.body {
            Body::Login(l) => Some(l.client_version),
            _ => None,
        }
    }

    fn verify_login(&self, pdu: &Pdu, account: &Account) -> bool {
        matches!(&pdu.body, Body::Login(l) if l.verify(&account.password))
    }

    fn login_receives(&self, pdu: &Pdu) -> bool {
        matches!(&pdu.body, Body::Login(l) if l.login_mode != smgp::login_mode::SEND)
    }

    fn login_resp(&self, pdu: &Pdu, account: Option<&Account>, _opts: &mut smgp::Options) -> Pdu {
        let Body::Login(l) = &pdu.body else {
            return Pdu::new(pdu.sequence_id, Body::ExitResp);
        };
        let (code, secret) = match account {
            Some(a) => (status::OK, a.password.as_str()),
            None => (status::AUTH_FAILED, ""),
        };
        let mut resp = LoginResp::new(code, l, secret);
        // Answer in the client's version when it is one SMGP has (1.3, 2.0, 3.0).
        if [0x13, 0x20, 0x30].contains(&l.client_version) {
            resp.server_version = l.client_version;
        }
        Pdu::new(pdu.sequence_id, Body::LoginResp(resp))
    }

    fn submit_info(&self, pdu: &Pdu) -> Option<SubmitInfo> {
        let Body::Submit(s) = &pdu.body else { return None };
        let (payload, udh) = crate::mo::strip_udh(&s.msg_content, s.udhi());
        let link_id = s.tlvs.iter().find_map(|t| match t {
            Tlv::LinkId(l) if !l.is_empty() => Some(l.to_string()),
            _ => None,
        });
        Some(SubmitInfo {
            source: s.src_term_id.to_string(),
            destinations: s.dest_term_ids.iter().map(|d| d.to_string()).collect(),
            payload,
            coding: s.msg_format,
            concat: udh.or_else(|| s.concat()),
            numbering: crate::profile::numbering(udh, false),
            report_requested: s.need_report != 0,
            client_ref: link_id,
            fee: Some(format!("{}/{}/{}", s.fee_type, s.fee_code, s.fixed_fee)),
        })
    }

    fn new_msg_id(&self, _pdu: &Pdu) -> String {
        self.ids.next().to_string()
    }

    fn submit_resp(&self, pdu: &Pdu, outcome: &SubmitOutcome) -> Pdu {
        match outcome {
            SubmitOutcome::Accepted(id) => {
                submit_resp(pdu.sequence_id, id.parse().unwrap_or_default(), status::OK)
            }
            SubmitOutcome::Throttled | SubmitOutcome::WindowFull => {
                submit_resp(pdu.sequence_id, MsgId::default(), status::THROTTLED)
            }
        }
    }

    fn keepalive_resp(&self, pdu: &Pdu) -> Pdu {
        Pdu::new(pdu.sequence_id, Body::ActiveTestResp)
    }

    fn logout_resp(&self, pdu: &Pdu) -> Pdu {
        Pdu::new(pdu.sequence_id, Body::ExitResp)
    }

    fn error_resp(&self, pdu: &Pdu, _before_login: bool) -> Option<Pdu> {
        matches!(pdu.body, Body::Submit(_))
            .then(|| submit_resp(pdu.sequence_id, MsgId::default(), status::BAD_COMMAND))
    }

    fn bad_pdu_resp(&self, bad: &BadPdu<smgp::Header>) -> Option<Pdu> {
        (bad.header.request_id == smgp::command::SUBMIT).then(|| {
            submit_resp(
                bad.header.sequence_id,
                MsgId::default(),
                status::BAD_MESSAGE_STRUCTURE,
            )
        })
    }

    fn keepalive(&self, seq: u32) -> Option<Pdu> {
        Some(Pdu::new(seq, Body::ActiveTest))
    }

    fn ack_of(&self, pdu: &Pdu) -> Option<u32> {
        matches!(pdu.body, Body::DeliverResp(_)).then_some(pdu.sequence_id)
    }

    fn deliverable(&self, d: &Deliverable, seq: u32, _opts: &smgp::Options) -> Pdu {
        let now = chrono::Local::now().naive_local();
        let deliver = match d {
            Deliverable::Report(r) => {
                let report = Report {
                    msg_id: r.carrier_msg_id.parse().unwrap_or_default(),
                    sub: FixedStr::truncating("001"),
                    dlvrd: FixedStr::truncating(if r.state == ReportState::Delivered {
                        "001"
                    } else {
                        "000"
                    }),
                    submit_date: FixedStr::truncating(&format_report_time(&r.submit_time)),
                    done_date: FixedStr::truncating(&format_report_time(&r.done_time)),
                    stat: FixedStr::truncating(r.state.stat()),
                    err: FixedStr::truncating(if r.state == ReportState::Delivered {
                        "000"
                    } else {
                        "001"
                    }),
                    txt: FixedStr::empty(),
                };
                let id = self.ids.next();
                Deliver::new_report(id, &report, &r.destination, &r.source, &now)
                    .unwrap_or_else(|_| blank(id, &now))
            }
            Deliverable::Mo(m) => {
                let mut deliver = Deliver {
                    msg_format: m.coding,
                    src_term_id: FixedStr::truncating(&m.source),
                    dest_term_id: FixedStr::truncating(&m.destination),
                    msg_content: m.content.clone(),
                    ..blank(bcd_id(m.id), &now)
                };
                deliver.set_udhi(m.udhi);
                deliver
            }
        };
        Pdu::new(seq, Body::Deliver(deliver))
    }
}

/// An injected MO's fixed id as SMGP's 10-byte BCD Msg_Id: its 20
/// decimal digits, two to a byte.
fn bcd_id(id: u64) -> MsgId {
    let digits = format!("{id:020}");
    let d = digits.as_bytes();
    let mut out = [0u8; 10];
    for (i, b) in out.iter_mut().enumerate() {
        *b = ((d[2 * i] - b'0') << 4) | (d[2 * i + 1] - b'0');
    }
    MsgId(out)
}

/// An empty DELIVER stamped now, the base for MOs.
fn blank(msg_id: MsgId, now: &chrono::NaiveDateTime) -> Deliver {
    Deliver {
        msg_id,
        is_report: 0,
        msg_format: 0,
        recv_time: FixedStr::truncating(&now.format("%Y%m%d%H%M%S").to_string()),
        src_term_id: FixedStr::empty(),
        dest_term_id: FixedStr::empty(),
        msg_content: bytes::Bytes::new(),
        reserve: [0; 8],
        tlvs: Vec::new(),
    }
}
