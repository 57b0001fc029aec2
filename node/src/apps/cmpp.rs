//! One SP's CMPP session (we are the ISMG), in the version its CONNECT
//! asks for (2.0 or 3.0): CONNECT within [`BIND_WAIT`] with the account's
//! SP id and shared secret (`AuthenticatorSource` checked in constant
//! time, `AuthenticatorISMG` in the answer), then SUBMITs (one destination
//! each; Msg_Id of SUBMIT_RESP is our message id; over the account's rate:
//! result 8), ACTIVE_TEST, TERMINATE, and DELIVER of the account's reports
//! (`Registered_Delivery = 1`, the report's Msg_Id is our message id) and
//! MOs, each held until its DELIVER_RESP. Every CMPP session receives.
//!
//! It never answers a SUBMIT before its commit, and only ever sees its own
//! account's events.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use smsgw_config::Priority;
use smsgw_protocols::cmpp::{
    self, result, ActiveTestResp, Body, Cmpp, CmppVersion, ConnectResp, Deliver, MsgId, Pdu, Report,
    SubmitResp,
};
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::report::ReportState;
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::FixedStr;
use smsgw_state::events::{Event, EventKind};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::codec::Framed;

use super::hub::{Outbound, RECEIVER_QUEUE};
use super::smpp::{BIND_WAIT, IDLE_TIMEOUT, WINDOW};
use super::submit::{self, AppSubmit, Assembler, LongKey, Pushed, Refusal};
use crate::api::state::AppState;

/// The SUBMIT_RESP result a refused submit is answered with.
pub fn result_of(r: &Refusal) -> u32 {
    match r {
        Refusal::Throttled => result::THROTTLED,
        Refusal::Length => result::TOO_LONG,
        // 13: bad Dest_terminal_Id (3.0's list; 2.0 reads 9+ as "other").
        Refusal::Destination => 13,
        Refusal::Priority => result::BAD_STRUCTURE,
        Refusal::Refused | Refusal::System => 9,
    }
}

/// The priority a `Msg_level` asks for: 0 normal, 1 and 2 high, 3 and up alarm.
pub fn priority_of(level: u8) -> Priority {
    match level {
        0 => Priority::Normal,
        1 | 2 => Priority::High,
        _ => Priority::Alarm,
    }
}

/// Serves one connection until it ends.
pub async fn serve(state: AppState, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let mut framed = Framed::new(stream, FrameCodec::<Cmpp>::new().lenient());
    let first = tokio::time::timeout(BIND_WAIT, framed.next()).await;
    let Ok(Some(Ok(Ok(pdu)))) = first else {
        return;
    };
    let Body::Connect(connect) = &pdu.body else {
        return;
    };
    let sp_id = connect.source_addr.as_str().to_string();
    let Some(version) = connect.cmpp_version() else {
        let resp = ConnectResp {
            status: result::CONNECT_VERSION_TOO_HIGH,
            authenticator_ismg: [0; 16],
            version: CmppVersion::V30.byte(),
        };
        let _ = framed
            .send(Pdu::new(pdu.sequence_id, Body::ConnectResp(resp)))
            .await;
        return;
    };
    framed.codec_mut().options_mut().version = version;
    let mut secret = String::new();
    let account = match state.config() {
        Ok(l) => super::auth::cmpp_login(&l.doc, &sp_id, |s| {
            secret = s.to_string();
            connect.verify(s)
        })
        .map(|a| a.name.clone()),
        Err(_) => None,
    };
    let Some(account) = account else {
        super::auth::refused("cmpp-app", &peer, &sp_id);
        let resp = ConnectResp::for_connect(connect, result::CONNECT_AUTH_FAILED, "", version);
        let _ = framed
            .send(Pdu::new(pdu.sequence_id, Body::ConnectResp(resp)))
            .await;
        return;
    };
    let resp = ConnectResp::for_connect(connect, result::OK, &secret, version);
    drop(secret);
    if framed
        .send(Pdu::new(pdu.sequence_id, Body::ConnectResp(resp)))
        .await
        .is_err()
    {
        return;
    }
    let mode = if version.is_v3() { "3.0" } else { "2.0" };
    tracing::info!(%account, %peer, version = mode, "cmpp application connected");
    let (mut sink, mut frames) = framed.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Pdu>(WINDOW + super::outbound::DELIVER_WINDOW + 16);
    let writer = tokio::spawn(async move {
        while let Some(p) = out_rx.recv().await {
            if sink.feed(p).await.is_err() {
                return;
            }
            while let Ok(p) = out_rx.try_recv() {
                if sink.feed(p).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let (ev_tx, ev_rx) = mpsc::channel::<Outbound>(RECEIVER_QUEUE);
    let reg = state
        .apps
        .register(&account, "cmpp", mode.to_string(), peer, Some(ev_tx));
    let pending: super::outbound::Pending = Arc::default();
    let seq = Arc::new(AtomicU32::new(1));
    let deliverer = tokio::spawn(super::outbound::deliver_loop(
        ev_rx,
        out_tx.clone(),
        pending.clone(),
        reg.delivered.clone(),
        move |e: &Event| {
            let d = deliver_of(e, version).ok()?;
            let n = seq.fetch_add(1, Ordering::Relaxed) | 0x4000_0000;
            Some((n, Pdu::new(n, Body::Deliver(Box::new(d)))))
        },
    ));
    let window = Arc::new(Semaphore::new(WINDOW));
    let batcher = submit::Batcher::spawn(state.clone(), account.clone());
    let mut long: Assembler<u32> = Assembler::default();
    let mut expiry = tokio::time::interval(Duration::from_secs(5));
    let mut last_read = Instant::now();
    loop {
        let item = tokio::select! {
            item = frames.next() => item,
            _ = expiry.tick() => {
                for s in long.expire(Instant::now()) {
                    answer(&out_tx, s, Err(9)).await;
                }
                if last_read.elapsed() > IDLE_TIMEOUT {
                    tracing::info!(%account, %peer, "cmpp application idle: closing");
                    break;
                }
                continue;
            }
        };
        last_read = Instant::now();
        let pdu = match item {
            Some(Ok(Ok(p))) => p,
            Some(Ok(Err(bad))) => {
                // CMPP has no generic_nack: a bad SUBMIT is answered as one.
                if bad.header.command_id == cmpp::command::SUBMIT {
                    answer(&out_tx, bad.header.sequence_id, Err(result::BAD_STRUCTURE)).await;
                }
                continue;
            }
            Some(Err(_)) | None => break,
        };
        match pdu.body {
            Body::Submit(s) => {
                let Ok(permit) = window.clone().try_acquire_owned() else {
                    answer(&out_tx, pdu.sequence_id, Err(result::THROTTLED)).await;
                    continue;
                };
                let tps = state
                    .config()
                    .ok()
                    .and_then(|l| l.doc.accounts.iter().find(|a| a.name == account)?.apps.clone())
                    .and_then(|l| l.tps);
                if !state.apps.take_submit(&account, tps) {
                    metrics::counter!("smsgw_app_throttled_total", "account" => account.clone()).increment(1);
                    answer(&out_tx, pdu.sequence_id, Err(result::THROTTLED)).await;
                    continue;
                }
                reg.submits.fetch_add(1, Ordering::Relaxed);
                let [to] = s.dest_terminal_ids.as_slice() else {
                    answer(&out_tx, pdu.sequence_id, Err(result::BAD_STRUCTURE)).await;
                    continue;
                };
                let encoding = Encoding::from_msg_fmt(s.msg_fmt);
                let (content, concat) = submit::strip_udh(&s.msg_content, s.udhi());
                let base = AppSubmit {
                    to: to.as_str().to_string(),
                    text: String::new(),
                    sender: sender_of(s.src_id.as_str(), &sp_id),
                    priority: priority_of(s.msg_level),
                    report: s.registered_delivery == 1,
                };
                let (content, waiting) = match concat.filter(|c| c.total > 1) {
                    None => (content, vec![pdu.sequence_id]),
                    Some(c) => {
                        let key = LongKey {
                            to: base.to.clone(),
                            from: s.src_id.as_str().to_string(),
                            reference: c.reference,
                        };
                        match long.push(key, c.total, c.seq, content, pdu.sequence_id) {
                            Pushed::Complete(all, waiting) => (all, waiting),
                            Pushed::Waiting => {
                                drop(permit);
                                continue;
                            }
                            Pushed::Refused(n) => {
                                answer(&out_tx, n, Err(result::BAD_STRUCTURE)).await;
                                continue;
                            }
                        }
                    }
                };
                let Some(text) = submit::decode(&content, encoding) else {
                    for n in waiting {
                        answer(&out_tx, n, Err(result::BAD_STRUCTURE)).await;
                    }
                    continue;
                };
                let batcher = batcher.clone();
                let out = out_tx.clone();
                tokio::spawn(async move {
                    let r = batcher.send(AppSubmit { text, ..base }).await;
                    let r = r.map_err(|e| result_of(&e));
                    for n in waiting {
                        answer(&out, n, r.clone()).await;
                    }
                    drop(permit);
                });
            }
            Body::DeliverResp(r) => {
                super::outbound::answered(&pending, pdu.sequence_id, r.result == result::OK);
            }
            Body::ActiveTest => {
                let _ = out_tx
                    .send(Pdu::new(
                        pdu.sequence_id,
                        Body::ActiveTestResp(ActiveTestResp::default()),
                    ))
                    .await;
            }
            Body::Terminate => {
                let _ = out_tx.send(Pdu::new(pdu.sequence_id, Body::TerminateResp)).await;
                break;
            }
            _ => {}
        }
    }
    deliverer.abort();
    pending.lock().unwrap_or_else(|p| p.into_inner()).clear();
    drop(reg);
    drop(out_tx);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    tracing::info!(%account, %peer, "cmpp application session ended");
}

/// The extension a `Src_Id` gives: the digits after the SP's own service
/// code prefix are not known here, so a short all-digit `Src_Id` (1 to 12)
/// is taken as the extension and anything else (the SP id itself, a full
/// service number) as none.
fn sender_of(src_id: &str, sp_id: &str) -> Option<String> {
    if src_id == sp_id {
        return None;
    }
    submit::sender_of(src_id)
}

async fn answer(out: &mpsc::Sender<Pdu>, seq: u32, r: Result<String, u32>) {
    let (result, id) = match r {
        Ok(id) => (result::OK, id.parse::<u64>().unwrap_or(0)),
        Err(code) => (code, 0),
    };
    let body = SubmitResp {
        msg_id: MsgId(id),
        result,
    };
    let _ = out.send(Pdu::new(seq, Body::SubmitResp(body))).await;
}

fn time_of(ms: u64) -> chrono::NaiveDateTime {
    (chrono::DateTime::from_timestamp_millis(ms as i64).unwrap_or_default() + chrono::Duration::hours(8))
        .naive_utc()
}

/// The DELIVER carrying `e` in `version`: a report whose Msg_Id is our
/// message id, or an MO.
pub fn deliver_of(e: &Event, version: CmppVersion) -> Result<Deliver, smsgw_protocols::EncodeError> {
    match &e.kind {
        EventKind::Report {
            message,
            to,
            state,
            accepted_at_ms,
            final_at_ms,
            ..
        } => {
            let id = MsgId(message.parse::<u64>().unwrap_or(0));
            let report = Report::new(
                id,
                ReportState::from_stat(state),
                &time_of(*accepted_at_ms),
                &time_of(*final_at_ms),
                to,
                e.seq as u32,
            )?;
            Deliver::with_report(MsgId(e.seq), to, &report, version)
        }
        EventKind::Mo { message, .. } => {
            let body = String::from_utf8_lossy(&message.payload);
            let enc = if body.is_ascii() {
                Encoding::Ascii
            } else {
                Encoding::Ucs2
            };
            let content = text::encode(&body, enc).unwrap_or_default();
            // Msg_Length is one octet: a longer MO cannot be carried in one
            // DELIVER (skipped and logged by the caller, never a dead link).
            if content.len() > 255 {
                return Err(smsgw_protocols::EncodeError::TooLong {
                    field: "msg_content",
                    len: content.len(),
                    max: 255,
                });
            }
            Ok(Deliver {
                msg_id: MsgId(e.seq),
                dest_id: FixedStr::for_field("dest_id", &message.to)?,
                msg_fmt: enc.msg_fmt(),
                src_terminal_id: FixedStr::for_field("src_terminal_id", &message.from)?,
                registered_delivery: 0,
                msg_content: Bytes::from(content),
                ..Deliver::default()
            })
        }
    }
}
