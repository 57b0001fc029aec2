//! One SP's CMPP session (we are the ISMG), in the version its CONNECT
//! asks for (2.0 or 3.0): CONNECT within [`BIND_WAIT`] with the account's
//! SP id and shared secret (`AuthenticatorSource` checked in constant
//! time, `AuthenticatorISMG` in the answer), then the shared session loop
//! ([`super::session`]) with this module's [`CmppDialect`]: SUBMITs (over
//! the account's rate or a full window: result 8), ACTIVE_TEST, TERMINATE,
//! and DELIVER of the account's reports (`Registered_Delivery = 1`) and
//! MOs, each held until its DELIVER_RESP. Every CMPP session receives.
//!
//! A SUBMIT to several destinations (`DestUsr_tl` up to 100) is one
//! message per destination, sent like an HTTP request with several `to`:
//! ONE SUBMIT_RESP whose Msg_Id is the first destination's message id,
//! and every destination's report carries that same Msg_Id with the
//! destination in `Dest_terminal_Id` (the submit id is kept in each
//! message's envelope, see [`super::submit`]).
//!
//! It never answers a SUBMIT before its commit, and only ever sees its own
//! account's events.

use std::net::SocketAddr;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use smsgw_config::Priority;
use smsgw_protocols::cmpp::{
    self, result, ActiveTestResp, Body, Cmpp, CmppVersion, ConnectResp, Deliver, Header, MsgId, Options, Pdu,
    Report, SubmitResp,
};
use smsgw_protocols::framing::{BadPdu, FrameCodec};
use smsgw_protocols::report::ReportState;
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::FixedStr;
use smsgw_state::events::{Event, EventKind};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::session::{Bound, Ctx, Dialect, Fail, Incoming, Request, BIND_WAIT};
use super::submit::{self, Refusal};
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
    let dialect = CmppDialect { version, sp_id };
    let bound = Bound {
        account,
        peer,
        mode: mode.to_string(),
        receives: true,
    };
    super::session::run(state, framed, dialect, bound).await;
}

/// CMPP's side of the session loop.
#[derive(Clone)]
pub struct CmppDialect {
    version: CmppVersion,
    sp_id: String,
}

impl Dialect for CmppDialect {
    type Wire = Cmpp;
    type Pdu = Pdu;
    type Header = Header;
    type Options = Options;
    /// The SUBMIT's sequence id.
    type Tag = u32;
    const NAME: &'static str = "cmpp";

    fn request(&self, _ctx: &Ctx, pdu: Pdu) -> Request<Pdu, u32> {
        let seq = pdu.sequence_id;
        match pdu.body {
            Body::Submit(s) => {
                let (content, concat) = submit::strip_udh(&s.msg_content, s.udhi());
                Request::Submit(Incoming {
                    tag: seq,
                    to: s
                        .dest_terminal_ids
                        .iter()
                        .map(|d| d.as_str().to_string())
                        .collect(),
                    from: s.src_id.as_str().to_string(),
                    content,
                    concat,
                    encoding: Encoding::from_msg_fmt(s.msg_fmt),
                    sender: sender_of(s.src_id.as_str(), &self.sp_id),
                    priority: priority_of(s.msg_level),
                    report: s.registered_delivery == 1,
                })
            }
            Body::DeliverResp(r) => Request::Delivered {
                seq,
                ok: r.result == result::OK,
            },
            Body::ActiveTest => {
                Request::Reply(Pdu::new(seq, Body::ActiveTestResp(ActiveTestResp::default())))
            }
            Body::Terminate => Request::Close(Some(Pdu::new(seq, Body::TerminateResp))),
            _ => Request::Ignore,
        }
    }

    fn bad(&self, bad: BadPdu<Header>) -> Option<Pdu> {
        // CMPP has no generic_nack: a bad SUBMIT is answered as one.
        (bad.header.command_id == cmpp::command::SUBMIT)
            .then(|| self.answer(&bad.header.sequence_id, Err(&Fail::BadSegment)))
    }

    fn answer(&self, seq: &u32, r: Result<&str, &Fail>) -> Pdu {
        let (result, id) = match r {
            Ok(id) => (result::OK, id.parse::<u64>().unwrap_or(0)),
            Err(Fail::Refused(r)) => (result_of(r), 0),
            Err(Fail::WindowFull) => (result::THROTTLED, 0),
            Err(Fail::BadCoding | Fail::BadSegment) => (result::BAD_STRUCTURE, 0),
            Err(Fail::Incomplete) => (9, 0),
        };
        let body = SubmitResp {
            msg_id: MsgId(id),
            result,
        };
        Pdu::new(*seq, Body::SubmitResp(body))
    }

    fn deliver(&self, seq: u32, e: &Event, submit_id: Option<&str>) -> Option<Pdu> {
        let d = deliver_of(e, self.version, submit_id).ok()?;
        Some(Pdu::new(seq, Body::Deliver(Box::new(d))))
    }
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

fn time_of(ms: u64) -> chrono::NaiveDateTime {
    (chrono::DateTime::from_timestamp_millis(ms as i64).unwrap_or_default() + chrono::Duration::hours(8))
        .naive_utc()
}

/// The DELIVER carrying `e` in `version`: a report whose Msg_Id is
/// `submit_id` (the SUBMIT_RESP's id of a SUBMIT to several destinations)
/// or else our message id, or an MO.
pub fn deliver_of(
    e: &Event,
    version: CmppVersion,
    submit_id: Option<&str>,
) -> Result<Deliver, smsgw_protocols::EncodeError> {
    match &e.kind {
        EventKind::Report {
            message,
            to,
            state,
            accepted_at_ms,
            final_at_ms,
            ..
        } => {
            let id = MsgId(submit_id.unwrap_or(message).parse::<u64>().unwrap_or(0));
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
