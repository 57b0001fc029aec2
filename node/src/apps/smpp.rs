//! One application's SMPP 3.4 session (we are the SMSC): bind within
//! [`BIND_WAIT`] with the account's `system_id`/password, then submits
//! (at most [`WINDOW`] unanswered; over the account's rate:
//! `ESME_RTHROTTLED`), `enquire_link`, `unbind`, and for receivers and
//! transceivers `deliver_sm` of the account's receipts and MOs, each held
//! until its `deliver_sm_resp`. A frame that cannot be decoded gets a
//! `generic_nack` and the session goes on; a session silent for
//! [`IDLE_TIMEOUT`] is closed.
//!
//! It never answers a submit before its commit, and only ever sees its
//! own account's events.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use smsgw_config::Priority;
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::smpp::status::*;
use smsgw_protocols::smpp::{BindResp, Body, DeliverSm, Pdu, Receipt, SmResp, Smpp, Tlv};
use smsgw_protocols::text::{self, Encoding};
use smsgw_state::events::{Event, EventKind};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::codec::Framed;

use super::hub::{Outbound, RECEIVER_QUEUE};
use super::submit::{self, AppSubmit, Assembler, LongKey, Pushed, Refusal};
use crate::api::state::AppState;

/// Most submits of one session waiting for their answer.
pub const WINDOW: usize = 256;
/// How long a new connection may take to bind.
pub const BIND_WAIT: Duration = Duration::from_secs(10);
/// A session that sends nothing for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The SMPP status a refused submit is answered with.
pub fn status_of(r: &Refusal) -> u32 {
    match r {
        Refusal::Throttled => ESME_RTHROTTLED,
        Refusal::Length => ESME_RINVMSGLEN,
        Refusal::Destination => ESME_RINVDSTADR,
        Refusal::Priority => ESME_RINVPRTFLG,
        Refusal::Refused => ESME_RSUBMITFAIL,
        Refusal::System => ESME_RSYSERR,
    }
}

/// The priority a `priority_flag` asks for: 0 normal, 1 high, 2 and 3 alarm.
pub fn priority_of(flag: u8) -> Priority {
    match flag {
        0 => Priority::Normal,
        1 => Priority::High,
        _ => Priority::Alarm,
    }
}

type Tx = mpsc::Sender<Pdu>;

/// Serves one connection until it ends.
pub async fn serve(state: AppState, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let framed = Framed::new(stream, FrameCodec::<Smpp>::new().lenient());
    let (mut sink, mut frames) = framed.split();
    // Bind first.
    let first = tokio::time::timeout(BIND_WAIT, frames.next()).await;
    let Ok(Some(Ok(Ok(pdu)))) = first else {
        return;
    };
    let (bind, mode, receives) = match &pdu.body {
        Body::BindTransmitter(b) => (b.clone(), "transmitter", false),
        Body::BindReceiver(b) => (b.clone(), "receiver", true),
        Body::BindTransceiver(b) => (b.clone(), "transceiver", true),
        _ => {
            if let Some(r) = pdu.response(ESME_RINVBNDSTS) {
                let _ = sink.send(r).await;
            }
            return;
        }
    };
    let account = match state.config() {
        Ok(l) => super::auth::smpp_login(&l.doc, bind.system_id.as_str(), bind.password.as_str())
            .map(|a| a.name.clone()),
        Err(_) => None,
    };
    let Some(account) = account else {
        super::auth::refused("smpp-app", &peer, bind.system_id.as_str());
        if let Some(r) = pdu.response(ESME_RINVPASWD) {
            let _ = sink.send(r).await;
        }
        return;
    };
    let body = match &pdu.body {
        Body::BindTransmitter(_) => Body::BindTransmitterResp(resp_for()),
        Body::BindReceiver(_) => Body::BindReceiverResp(resp_for()),
        _ => Body::BindTransceiverResp(resp_for()),
    };
    let ok = Pdu::new(pdu.sequence_number, body);
    if sink.send(ok).await.is_err() {
        return;
    }
    tracing::info!(%account, %peer, mode, "smpp application bound");
    let (out_tx, mut out_rx) = mpsc::channel::<Pdu>(WINDOW + super::outbound::DELIVER_WINDOW + 16);
    let writer = tokio::spawn(async move {
        while let Some(p) = out_rx.recv().await {
            if sink.feed(p).await.is_err() {
                return;
            }
            // Write out what is queued, then flush once.
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
    let reg = state.apps.register(
        &account,
        "smpp",
        mode.to_string(),
        peer,
        receives.then_some(ev_tx),
    );
    let pending: super::outbound::Pending = Arc::default();
    let seq = Arc::new(std::sync::atomic::AtomicU32::new(1));
    let deliverer = receives.then(|| {
        tokio::spawn(super::outbound::deliver_loop(
            ev_rx,
            out_tx.clone(),
            pending.clone(),
            reg.delivered.clone(),
            move |e: &Event| {
                let sm = deliver_sm_of(e).ok()?;
                let n = seq.fetch_add(1, Ordering::Relaxed) | 0x4000_0000;
                Some((n, Pdu::new(n, Body::DeliverSm(sm))))
            },
        ))
    });
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
                    answer(&out_tx, s, Err(ESME_RSUBMITFAIL)).await;
                }
                if last_read.elapsed() > IDLE_TIMEOUT {
                    tracing::info!(%account, %peer, "smpp application idle: closing");
                    break;
                }
                continue;
            }
        };
        last_read = Instant::now();
        let pdu = match item {
            Some(Ok(Ok(p))) => p,
            Some(Ok(Err(bad))) => {
                if let Some(n) = Pdu::answer_bad(&bad.header, &bad.error) {
                    let _ = out_tx.send(n).await;
                }
                continue;
            }
            Some(Err(_)) | None => break,
        };
        match &pdu.body {
            Body::SubmitSm(sm) if mode != "receiver" => {
                let Ok(permit) = window.clone().try_acquire_owned() else {
                    answer(&out_tx, pdu.sequence_number, Err(ESME_RMSGQFUL)).await;
                    continue;
                };
                let tps = state
                    .config()
                    .ok()
                    .and_then(|l| l.doc.accounts.iter().find(|a| a.name == account)?.apps.clone())
                    .and_then(|l| l.tps);
                if !state.apps.take_submit(&account, tps) {
                    metrics::counter!("smsgw_app_throttled_total", "account" => account.clone()).increment(1);
                    answer(&out_tx, pdu.sequence_number, Err(ESME_RTHROTTLED)).await;
                    continue;
                }
                reg.submits.fetch_add(1, Ordering::Relaxed);
                let encoding = Encoding::from_data_coding(sm.data_coding);
                let (content, concat) = submit::strip_udh(sm.payload(), sm.udhi());
                let concat = concat.or_else(|| sm.concat());
                let base = AppSubmit {
                    to: sm.destination_addr.as_str().to_string(),
                    text: String::new(),
                    sender: submit::sender_of(sm.source_addr.as_str()),
                    priority: priority_of(sm.priority_flag),
                    report: sm.registered_delivery & 0x03 != 0,
                };
                let (content, waiting) = match concat.filter(|c| c.total > 1) {
                    None => (content, vec![pdu.sequence_number]),
                    Some(c) => {
                        let key = LongKey {
                            to: base.to.clone(),
                            from: sm.source_addr.as_str().to_string(),
                            reference: c.reference,
                        };
                        match long.push(key, c.total, c.seq, content, pdu.sequence_number) {
                            Pushed::Complete(all, waiting) => (all, waiting),
                            Pushed::Waiting => {
                                // Answered with the whole message's id once it is committed.
                                drop(permit);
                                continue;
                            }
                            Pushed::Refused(s) => {
                                answer(&out_tx, s, Err(ESME_RSUBMITFAIL)).await;
                                continue;
                            }
                        }
                    }
                };
                let Some(text) = submit::decode(&content, encoding) else {
                    for s in waiting {
                        answer(&out_tx, s, Err(ESME_RINVDCS)).await;
                    }
                    continue;
                };
                let batcher = batcher.clone();
                let out = out_tx.clone();
                tokio::spawn(async move {
                    let r = batcher.send(AppSubmit { text, ..base }).await;
                    let r = r.map_err(|e| status_of(&e));
                    for s in waiting {
                        answer(&out, s, r.clone()).await;
                    }
                    drop(permit);
                });
            }
            Body::DeliverSmResp(_) => {
                super::outbound::answered(&pending, pdu.sequence_number, pdu.command_status == ESME_ROK);
            }
            Body::Unbind => {
                if let Some(r) = pdu.response(ESME_ROK) {
                    let _ = out_tx.send(r).await;
                }
                break;
            }
            Body::EnquireLink => {
                if let Some(r) = pdu.response(ESME_ROK) {
                    let _ = out_tx.send(r).await;
                }
            }
            Body::EnquireLinkResp | Body::UnbindResp | Body::GenericNack => {}
            Body::BindTransmitter(_) | Body::BindReceiver(_) | Body::BindTransceiver(_) => {
                if let Some(r) = pdu.response(ESME_RALYBND) {
                    let _ = out_tx.send(r).await;
                }
            }
            _ => {
                let status = if mode == "receiver" {
                    ESME_RINVBNDSTS
                } else {
                    ESME_RINVCMDID
                };
                let r = pdu
                    .response(status)
                    .unwrap_or_else(|| Pdu::generic_nack_for(&header_of(&pdu), ESME_RINVCMDID));
                if !pdu.body.is_response() {
                    let _ = out_tx.send(r).await;
                }
            }
        }
    }
    // Whatever was handed to this session and not acknowledged goes to
    // another receiver: the waiters see `false`.
    if let Some(d) = deliverer {
        d.abort();
    }
    pending.lock().unwrap_or_else(|p| p.into_inner()).clear();
    drop(reg);
    drop(out_tx);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    tracing::info!(%account, %peer, "smpp application session ended");
}

/// The status for content whose `data_coding` is unknown or does not decode.
const ESME_RINVDCS: u32 = 0x0000_0104;

fn resp_for() -> BindResp {
    BindResp::new("smsgw").unwrap_or_default()
}

fn header_of(pdu: &Pdu) -> smsgw_protocols::smpp::Header {
    smsgw_protocols::smpp::Header {
        command_length: 16,
        command_id: pdu.body.command_id(),
        command_status: pdu.command_status,
        sequence_number: pdu.sequence_number,
    }
}

async fn answer(out: &Tx, seq: u32, r: Result<String, u32>) {
    let (status, id) = match r {
        Ok(id) => (ESME_ROK, id),
        Err(s) => (s, String::new()),
    };
    let body = SmResp::new(&id).unwrap_or_default();
    let _ = out
        .send(Pdu {
            command_status: status,
            sequence_number: seq,
            body: Body::SubmitSmResp(body),
        })
        .await;
}

/// `YYMMDDhhmm` in Beijing time, as receipts write dates.
pub fn receipt_date(ms: u64) -> String {
    let t =
        chrono::DateTime::from_timestamp_millis(ms as i64).unwrap_or_default() + chrono::Duration::hours(8);
    t.format("%y%m%d%H%M").to_string()
}

/// The deliver_sm carrying `e`: a receipt with our message id, or an MO.
pub fn deliver_sm_of(e: &Event) -> Result<DeliverSm, smsgw_protocols::EncodeError> {
    match &e.kind {
        EventKind::Report {
            message,
            to,
            state,
            accepted_at_ms,
            final_at_ms,
            ..
        } => {
            let st = smsgw_protocols::report::ReportState::from_stat(state);
            let err = if st.is_success() { 0 } else { 1 };
            let r = Receipt::new(
                message,
                st,
                &receipt_date(*accepted_at_ms),
                &receipt_date(*final_at_ms),
                err,
            );
            DeliverSm::receipt(&r, to, "")
        }
        EventKind::Mo { message, .. } => {
            let body = String::from_utf8_lossy(&message.payload);
            let enc = text::choose_encoding(&body);
            let enc = if enc == Encoding::Gsm7 {
                Encoding::Gsm7
            } else {
                Encoding::Ucs2
            };
            let content = text::encode(&body, enc).unwrap_or_default();
            let mut sm = DeliverSm::new(&message.from, &message.to, enc.data_coding(), Bytes::new())?;
            if content.len() <= 254 {
                sm.short_message = Bytes::from(content);
            } else {
                sm.tlvs
                    .push(Tlv::MessagePayload(smsgw_protocols::smpp::tlv::Octets(
                        Bytes::from(content),
                    )));
            }
            Ok(sm)
        }
    }
}
