//! One application's SMPP 3.4 session (we are the SMSC): bind within
//! [`BIND_WAIT`] with the account's `system_id`/password, then the shared
//! session loop ([`super::session`]) with this module's [`SmppDialect`]:
//! `submit_sm` and `data_sm` (over the account's rate: `ESME_RTHROTTLED`;
//! window full: `ESME_RMSGQFUL`), `query_sm` and `cancel_sm` of the
//! account's own messages ([`super::query`]), `enquire_link`, `unbind`, and
//! for receivers and transceivers `deliver_sm` of the account's receipts
//! and MOs, each held until its `deliver_sm_resp`. A frame that cannot be
//! decoded gets a `generic_nack` and the session goes on.
//!
//! It never answers a submit before its commit, and only ever sees its
//! own account's events and messages.

use std::net::SocketAddr;

use bytes::Bytes;
use futures::{FutureExt, SinkExt, StreamExt};
use smsgw_config::Priority;
use smsgw_protocols::framing::{BadPdu, FrameCodec};
use smsgw_protocols::smpp::status::*;
use smsgw_protocols::smpp::{BindResp, Body, DeliverSm, Header, Options, Pdu, Receipt, SmResp, Smpp, Tlv};
use smsgw_protocols::text::{self, Encoding};
use smsgw_state::events::{Event, EventKind};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::session::BIND_WAIT;
use super::session::{Bound, Ctx, Dialect, Fail, Incoming, Request};
use super::submit::{self, Refusal};
use crate::api::state::AppState;

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

/// The status for content whose `data_coding` is unknown or does not decode.
const ESME_RINVDCS: u32 = 0x0000_0104;

/// Serves one connection until it ends.
pub async fn serve(state: AppState, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let mut framed = Framed::new(stream, FrameCodec::<Smpp>::new().lenient());
    // Bind first.
    let first = tokio::time::timeout(BIND_WAIT, framed.next()).await;
    let Ok(Some(Ok(Ok(pdu)))) = first else {
        return;
    };
    let (bind, mode, receives) = match &pdu.body {
        Body::BindTransmitter(b) => (b, "transmitter", false),
        Body::BindReceiver(b) => (b, "receiver", true),
        Body::BindTransceiver(b) => (b, "transceiver", true),
        _ => {
            if let Some(r) = pdu.response(ESME_RINVBNDSTS) {
                let _ = framed.send(r).await;
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
            let _ = framed.send(r).await;
        }
        return;
    };
    let resp = BindResp::new("smsgw").unwrap_or_default();
    let body = match &pdu.body {
        Body::BindTransmitter(_) => Body::BindTransmitterResp(resp),
        Body::BindReceiver(_) => Body::BindReceiverResp(resp),
        _ => Body::BindTransceiverResp(resp),
    };
    if framed.send(Pdu::new(pdu.sequence_number, body)).await.is_err() {
        return;
    }
    tracing::info!(%account, %peer, mode, "smpp application bound");
    let dialect = SmppDialect {
        receiver_only: mode == "receiver",
    };
    let bound = Bound {
        account,
        peer,
        mode: mode.to_string(),
        receives,
    };
    super::session::run(state, framed, dialect, bound).await;
}

/// The submit a `submit_sm` or a `data_sm` carries (their fields have the
/// same names, not the same types).
macro_rules! submit_of {
    ($sm:expr, $tag:expr, $priority:expr) => {{
        let sm = &$sm;
        let (content, concat) = submit::strip_udh(sm.payload(), sm.udhi());
        Request::Submit(Incoming {
            tag: $tag,
            to: vec![sm.destination_addr.as_str().to_string()],
            from: sm.source_addr.as_str().to_string(),
            content,
            concat: concat.or_else(|| sm.concat()),
            encoding: Encoding::from_data_coding(sm.data_coding),
            sender: submit::sender_of(sm.source_addr.as_str()),
            priority: $priority,
            report: sm.registered_delivery & 0x03 != 0,
        })
    }};
}

/// SMPP's side of the session loop.
#[derive(Clone)]
pub struct SmppDialect {
    /// A receiver may not submit.
    receiver_only: bool,
}

/// What answers one submit: its sequence number, and whether it was a
/// `data_sm` (answered with `data_sm_resp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    seq: u32,
    data: bool,
}

impl Dialect for SmppDialect {
    type Wire = Smpp;
    type Pdu = Pdu;
    type Header = Header;
    type Options = Options;
    type Tag = Tag;
    const NAME: &'static str = "smpp";

    fn request(&self, ctx: &Ctx, pdu: Pdu) -> Request<Pdu, Tag> {
        let seq = pdu.sequence_number;
        let submitting = matches!(pdu.body, Body::SubmitSm(_) | Body::DataSm(_));
        if submitting && self.receiver_only {
            return Request::Reply(refuse(&pdu, ESME_RINVBNDSTS));
        }
        match pdu.body {
            Body::SubmitSm(sm) => submit_of!(sm, Tag { seq, data: false }, priority_of(sm.priority_flag)),
            // data_sm: the content is in message_payload, no priority.
            Body::DataSm(sm) => submit_of!(sm, Tag { seq, data: true }, Priority::Normal),
            Body::QuerySm(q) => {
                let (state, account) = (ctx.state.clone(), ctx.account.clone());
                Request::Later(
                    async move { Some(super::query::query_sm(&state, &account, seq, &q).await) }.boxed(),
                )
            }
            Body::CancelSm(c) => {
                let (state, account) = (ctx.state.clone(), ctx.account.clone());
                Request::Later(
                    async move { Some(super::query::cancel_sm(&state, &account, seq, &c).await) }.boxed(),
                )
            }
            Body::DeliverSmResp(_) => Request::Delivered {
                seq,
                ok: pdu.command_status == ESME_ROK,
            },
            Body::Unbind => Request::Close(pdu.response(ESME_ROK)),
            Body::EnquireLink => pdu.response(ESME_ROK).map_or(Request::Ignore, Request::Reply),
            Body::BindTransmitter(_) | Body::BindReceiver(_) | Body::BindTransceiver(_) => {
                Request::Reply(refuse(&pdu, ESME_RALYBND))
            }
            ref b if b.is_response() => Request::Ignore,
            _ => {
                let status = if self.receiver_only {
                    ESME_RINVBNDSTS
                } else {
                    ESME_RINVCMDID
                };
                Request::Reply(refuse(&pdu, status))
            }
        }
    }

    fn bad(&self, bad: BadPdu<Header>) -> Option<Pdu> {
        Pdu::answer_bad(&bad.header, &bad.error)
    }

    fn answer(&self, tag: &Tag, r: Result<&str, &Fail>) -> Pdu {
        let (status, id) = match r {
            Ok(id) => (ESME_ROK, id),
            Err(f) => (
                match f {
                    Fail::Refused(r) => status_of(r),
                    Fail::WindowFull => ESME_RMSGQFUL,
                    Fail::BadCoding => ESME_RINVDCS,
                    Fail::BadSegment | Fail::Incomplete => ESME_RSUBMITFAIL,
                },
                "",
            ),
        };
        let resp = SmResp::new(id).unwrap_or_default();
        Pdu {
            command_status: status,
            sequence_number: tag.seq,
            body: if tag.data {
                Body::DataSmResp(resp)
            } else {
                Body::SubmitSmResp(resp)
            },
        }
    }

    fn deliver(&self, seq: u32, e: &Event, submit_id: Option<&str>) -> Option<Pdu> {
        Some(Pdu::new(seq, Body::DeliverSm(deliver_sm_of(e, submit_id).ok()?)))
    }
}

/// The answer refusing `pdu` with `status` (a `generic_nack` when it has
/// no response of its own).
fn refuse(pdu: &Pdu, status: u32) -> Pdu {
    pdu.response(status).unwrap_or_else(|| {
        let header = Header {
            command_length: 16,
            command_id: pdu.body.command_id(),
            command_status: pdu.command_status,
            sequence_number: pdu.sequence_number,
        };
        Pdu::generic_nack_for(&header, ESME_RINVCMDID)
    })
}

/// `YYMMDDhhmm` in Beijing time, as receipts write dates.
pub fn receipt_date(ms: u64) -> String {
    let t =
        chrono::DateTime::from_timestamp_millis(ms as i64).unwrap_or_default() + chrono::Duration::hours(8);
    t.format("%y%m%d%H%M").to_string()
}

/// The deliver_sm carrying `e`: a receipt with the id the application was
/// answered with (`submit_id`, else our message id), or an MO.
pub fn deliver_sm_of(e: &Event, submit_id: Option<&str>) -> Result<DeliverSm, smsgw_protocols::EncodeError> {
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
                submit_id.unwrap_or(message),
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
