//! SGIP 1.2 as China Unicom's SMG speaks it, both ways: the server the SP
//! binds to for SUBMIT, and the client that dials the SP's own server to push
//! DELIVER and REPORT. The carrier message id of a submit is the SUBMIT's own
//! sequence number; result 11 (node busy) is the flow-control answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use smsgw_protocols::framing::{BadPdu, FrameCodec};
use smsgw_protocols::report::ReportState;
use smsgw_protocols::sgip::{
    self, result, Bind, Body, Deliver, Pdu, Report, SequenceGenerator, SequenceNumber, Sgip,
};
use smsgw_protocols::FixedStr;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::codec::Framed;

use crate::config::{Account, Protocol};
use crate::dialect::{Deliverable, Dialect, Request, SubmitInfo, SubmitOutcome};
use crate::shared::Shared;

/// The simulated SMG's node id (3 + area code + SMG number, as Unicom
/// numbers them).
const NODE_ID: u32 = 3_000_099_999;

pub struct SgipDialect {
    seq: SequenceGenerator,
}

impl SgipDialect {
    pub fn new() -> Self {
        SgipDialect {
            seq: SequenceGenerator::new(NODE_ID),
        }
    }
}

impl Default for SgipDialect {
    fn default() -> Self {
        Self::new()
    }
}

fn resp(pdu: &Pdu, code: u32) -> Pdu {
    pdu.response(code as u8)
        .unwrap_or_else(|| Pdu::new(pdu.sequence, Body::UnbindResp(sgip::UnbindResp {})))
}

impl Dialect for SgipDialect {
    type Wire = Sgip;
    type Pdu = Pdu;
    type Options = sgip::Options;
    const PROTOCOL: Protocol = Protocol::Sgip;

    fn classify(&self, pdu: &Pdu) -> Request {
        match &pdu.body {
            Body::Bind(b) => Request::Login {
                login: b.login_name.to_string(),
            },
            Body::Submit(_) => match self.submit_info(pdu) {
                Some(info) => Request::Submit(Box::new(info)),
                None => Request::Unsupported,
            },
            Body::Unbind(_) => Request::Logout,
            b if b.is_response() => Request::Response,
            _ => Request::Unsupported,
        }
    }

    fn verify_login(&self, pdu: &Pdu, account: &Account) -> bool {
        matches!(&pdu.body, Body::Bind(b)
            if b.login_type == Bind::SP_TO_SMG && b.login_password.as_str() == account.password)
    }

    fn login_receives(&self, _pdu: &Pdu) -> bool {
        // Reports and MOs travel on the carrier's own connection to the SP.
        false
    }

    fn login_resp(&self, pdu: &Pdu, account: Option<&Account>, _opts: &mut sgip::Options) -> Pdu {
        let code = match (&pdu.body, account) {
            (_, Some(_)) => result::OK,
            (Body::Bind(b), None) if b.login_type != Bind::SP_TO_SMG => result::BAD_LOGIN_TYPE,
            _ => result::ILLEGAL_LOGIN,
        };
        resp(pdu, code)
    }

    fn submit_info(&self, pdu: &Pdu) -> Option<SubmitInfo> {
        let Body::Submit(s) = &pdu.body else { return None };
        let (payload, udh) = crate::mo::strip_udh(&s.message_content, s.udhi());
        Some(SubmitInfo {
            source: s.sp_number.to_string(),
            destinations: s.user_numbers.iter().map(|d| d.to_string()).collect(),
            payload,
            coding: s.message_coding,
            concat: udh.or_else(|| s.concat()),
            numbering: crate::profile::numbering(udh, false),
            // 0: only on failure, 1: always, 2: none (the spec's ReportFlag).
            report_requested: s.report_flag != 2,
            client_ref: None,
            fee: Some(format!(
                "{}/{}/{}/{}/{}/{}",
                s.fee_type, s.fee_value, s.given_value, s.charge_number, s.corp_id, s.service_type
            )),
        })
    }

    fn new_msg_id(&self, pdu: &Pdu) -> String {
        pdu.sequence.to_string()
    }

    fn submit_resp(&self, pdu: &Pdu, outcome: &SubmitOutcome) -> Pdu {
        match outcome {
            SubmitOutcome::Accepted(_) => resp(pdu, result::OK),
            SubmitOutcome::Throttled | SubmitOutcome::WindowFull => resp(pdu, result::THROTTLED),
        }
    }

    fn keepalive_resp(&self, pdu: &Pdu) -> Pdu {
        resp(pdu, result::OK)
    }

    fn logout_resp(&self, pdu: &Pdu) -> Pdu {
        Pdu::new(pdu.sequence, Body::UnbindResp(sgip::UnbindResp {}))
    }

    fn error_resp(&self, pdu: &Pdu, before_login: bool) -> Option<Pdu> {
        let code = if before_login {
            result::ILLEGAL_LOGIN
        } else {
            result::BAD_PARAM_FORMAT
        };
        pdu.response(code as u8)
    }

    fn bad_pdu_resp(&self, bad: &BadPdu<sgip::Header>) -> Option<Pdu> {
        let body = match bad.header.command_id {
            sgip::command::SUBMIT => Body::SubmitResp(sgip::Resp::new(result::BAD_PARAM_FORMAT as u8)),
            sgip::command::BIND => Body::BindResp(sgip::Resp::new(result::BAD_PARAM_FORMAT as u8)),
            _ => return None,
        };
        Some(Pdu::new(bad.header.sequence, body))
    }

    fn keepalive(&self, _seq: u32) -> Option<Pdu> {
        None
    }

    fn ack_of(&self, _pdu: &Pdu) -> Option<u32> {
        // Reports and MOs travel on the SP pusher's own link (see below).
        None
    }

    fn deliverable(&self, d: &Deliverable, _seq: u32, _opts: &sgip::Options) -> Pdu {
        let body = match d {
            Deliverable::Report(r) => {
                let (state, code) = match r.state {
                    ReportState::Delivered => (0, 0),
                    ReportState::Unknown => (1, 0),
                    ReportState::Expired => (2, 1),
                    ReportState::Rejected => (2, 5),
                    ReportState::Undeliverable | ReportState::Deleted => (2, 25),
                };
                let submit: SequenceNumber = r.carrier_msg_id.parse().unwrap_or_default();
                match Report::for_submit(submit, &r.destination, state, code) {
                    Ok(rep) => Body::Report(rep),
                    Err(_) => Body::Unbind(sgip::Unbind {}),
                }
            }
            Deliverable::Mo(m) => Body::Deliver(Deliver {
                user_number: FixedStr::truncating(&m.source),
                sp_number: FixedStr::truncating(&m.destination),
                tp_udhi: u8::from(m.udhi),
                message_coding: m.coding,
                message_content: m.content.clone(),
                ..Deliver::default()
            }),
        };
        let seq = match d {
            Deliverable::Mo(m) => mo_sequence(m.id),
            Deliverable::Report(_) => self.seq.next(),
        };
        Pdu::new(seq, body)
    }
}

/// An injected MO's fixed id as the SGIP sequence number it is delivered
/// under, every time: the time of its Msg_Id-style id (MMDDHHMMSS) and its
/// low 32 bits (gateway code and sequence) as the counter.
fn mo_sequence(id: u64) -> SequenceNumber {
    let m = smsgw_protocols::cmpp::MsgId(id);
    let time = u32::from(m.month()) * 100_000_000
        + u32::from(m.day()) * 1_000_000
        + u32::from(m.hour()) * 10_000
        + u32::from(m.minute()) * 100
        + u32::from(m.second());
    SequenceNumber::new(NODE_ID, time, id as u32)
}

/// Keeps one carrier-to-SP connection per SGIP account that has an SP
/// address, re-dialling when it drops and when the address changes.
pub fn spawn_sp_pushers(shared: Arc<Shared>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let dialect = Arc::new(SgipDialect::new());
        let mut running: HashMap<String, (SocketAddr, JoinHandle<()>)> = HashMap::new();
        loop {
            for a in shared.config().accounts {
                let (Protocol::Sgip, Some(addr)) = (a.protocol, a.sgip_sp_addr) else {
                    continue;
                };
                let stale = running.get(&a.login).is_none_or(|(at, _)| *at != addr);
                if stale {
                    if let Some((_, old)) = running.remove(&a.login) {
                        old.abort();
                    }
                    let task = tokio::spawn(push_loop(shared.clone(), dialect.clone(), a.clone(), addr));
                    running.insert(a.login.clone(), (addr, task));
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

async fn push_loop(shared: Arc<Shared>, dialect: Arc<SgipDialect>, account: Account, addr: SocketAddr) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match push_once(&shared, &dialect, &account, addr).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::info!(account = account.login, %addr, "SGIP SP link: {e}; retrying in {backoff:?}");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// One connection to the SP: bind, then push until it drops.
async fn push_once(
    shared: &Arc<Shared>,
    dialect: &SgipDialect,
    account: &Account,
    addr: SocketAddr,
) -> Result<(), String> {
    let stream = tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let mut io = Framed::new(stream, FrameCodec::<Sgip>::new());
    let bind = Bind::new(Bind::SMG_TO_SP, &account.login, &account.password).map_err(|e| e.to_string())?;
    io.send(Pdu::new(dialect.seq.next(), Body::Bind(bind)))
        .await
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(5), io.next()).await {
        Ok(Some(Ok(Ok(Pdu {
            body: Body::BindResp(r),
            ..
        }))))
            if r.is_ok() => {}
        other => return Err(format!("SP refused the bind: {other:?}")),
    }
    let conn = shared.conn_id();
    let (tx, mut rx) = mpsc::unbounded_channel();
    shared.add_receiver(Protocol::Sgip, &account.login, conn, tx);
    let opts = sgip::Options;
    let mut unacked: HashMap<SequenceNumber, Deliverable> = HashMap::new();
    let outcome = loop {
        tokio::select! {
            Some(d) = rx.recv() => {
                if matches!(d, Deliverable::Mo(_)) {
                    shared.ledger.bump(|c| &c.mo_sent);
                }
                let pdu = dialect.deliverable(&d, 0, &opts);
                unacked.insert(pdu.sequence, d);
                if let Err(e) = io.send(pdu).await {
                    break Err(e.to_string());
                }
            }
            frame = io.next() => match frame {
                Some(Ok(Ok(Pdu { body: Body::Unbind(_), sequence }))) => {
                    let _ = io.send(Pdu::new(sequence, Body::UnbindResp(sgip::UnbindResp {}))).await;
                    break Ok(());
                }
                Some(Ok(Ok(Pdu { body: Body::ReportResp(_) | Body::DeliverResp(_), sequence }))) => {
                    unacked.remove(&sequence);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => break Err(e.to_string()),
                None => break Err("SP closed the connection".into()),
            }
        }
    };
    shared.remove_receiver(Protocol::Sgip, &account.login, conn);
    // Sent but never answered: the SP may not have recorded them.
    for (_, d) in unacked {
        shared.ledger.bump(|c| &c.redelivered);
        shared.deliver(Protocol::Sgip, &account.login, d);
    }
    rx.close();
    while let Ok(d) = rx.try_recv() {
        shared.deliver(Protocol::Sgip, &account.login, d);
    }
    outcome
}
