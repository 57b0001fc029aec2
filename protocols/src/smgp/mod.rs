//! SMGP 3.0, the China Telecom (and PHS 小灵通) ISMG protocol.
//!
//! Frame: a 12-byte header (PacketLength 4 · RequestID 4 · SequenceID 4)
//! then the body of the command named by RequestID. This file holds the
//! marker type [`Smgp`] for [`FrameCodec`], the header, the command ids, and
//! [`Pdu`]/[`Body`] dispatch; the bodies live in one file per concept:
//! [`auth`] (Login and the authenticators), [`submit`], [`deliver`],
//! [`report`] (status report inside a Deliver), [`tlv`], [`ids`] (MsgID),
//! [`query`], [`status`] (result codes).
//!
//! Like every codec in this crate it does no I/O and never panics on input;
//! it must never make session decisions (windowing, retries, answering).

use bytes::{Buf, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, EncodeError};
use crate::framing::{FrameCodec, Wire};
use crate::wire::{begin_frame, finish_frame, Reader};

pub mod auth;
pub mod deliver;
pub mod ids;
pub mod query;
pub mod report;
pub mod status;
pub mod submit;
pub mod tlv;

pub use auth::{
    authenticator_client, authenticator_server, login_mode, timestamp_now, timestamp_of, Login, LoginResp,
    VERSION_30,
};
pub use deliver::{Deliver, DeliverResp};
pub use ids::{BadMsgId, MsgId, MsgIdGenerator};
pub use query::{Query, QueryResp};
pub use report::Report;
pub use status::status_text;
pub use submit::{MsgResp, Submit, SubmitResp};
pub use tlv::Tlv;

/// Bytes in the header.
pub const HEADER_LEN: usize = 12;

/// RequestID values.
pub mod command {
    pub const LOGIN: u32 = 0x0000_0001;
    pub const LOGIN_RESP: u32 = 0x8000_0001;
    pub const SUBMIT: u32 = 0x0000_0002;
    pub const SUBMIT_RESP: u32 = 0x8000_0002;
    pub const DELIVER: u32 = 0x0000_0003;
    pub const DELIVER_RESP: u32 = 0x8000_0003;
    pub const ACTIVE_TEST: u32 = 0x0000_0004;
    pub const ACTIVE_TEST_RESP: u32 = 0x8000_0004;
    pub const EXIT: u32 = 0x0000_0006;
    pub const EXIT_RESP: u32 = 0x8000_0006;
    pub const QUERY: u32 = 0x0000_0007;
    pub const QUERY_RESP: u32 = 0x8000_0007;
}

/// The SMGP marker for [`FrameCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Smgp;

/// SMGP has nothing negotiated that changes how bodies read.
#[derive(Debug, Clone, Default)]
pub struct Options;

/// The tokio codec for SMGP.
pub type Codec = FrameCodec<Smgp>;

/// The fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub packet_length: u32,
    pub request_id: u32,
    pub sequence_id: u32,
}

impl Wire for Smgp {
    type Pdu = Pdu;
    type Header = Header;
    type Options = Options;

    const NAME: &'static str = "SMGP";
    const HEADER_LEN: usize = HEADER_LEN;
    /// The largest legal PDU is a Submit to 100 destinations (~2.4 KiB) plus
    /// TLVs; 4 KiB leaves room without inviting abuse.
    const DEFAULT_MAX_FRAME: usize = 4096;

    fn header(frame: &[u8]) -> Header {
        let mut b = frame;
        if b.len() < HEADER_LEN {
            // Unreachable after split_frame; zeros keep it panic-free.
            return Header {
                packet_length: 0,
                request_id: 0,
                sequence_id: 0,
            };
        }
        Header {
            packet_length: b.get_u32(),
            request_id: b.get_u32(),
            sequence_id: b.get_u32(),
        }
    }

    fn decode_from(frame: &Bytes, r: &mut Reader<'_>, opts: &Options) -> Result<Pdu, DecodeError> {
        Pdu::decode_from(frame, r, opts)
    }

    fn encode(pdu: &Pdu, _opts: &Options, dst: &mut BytesMut) -> Result<(), EncodeError> {
        pdu.encode(&Options, dst)
    }
}

/// One SMGP PDU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pdu {
    pub sequence_id: u32,
    #[serde(flatten)]
    pub body: Body,
}

/// Every PDU body; in JSON the variant is `"command"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Body {
    Login(Login),
    LoginResp(LoginResp),
    Submit(Submit),
    SubmitResp(SubmitResp),
    Deliver(Deliver),
    DeliverResp(DeliverResp),
    ActiveTest,
    ActiveTestResp,
    Exit,
    ExitResp,
    Query(Query),
    QueryResp(QueryResp),
}

impl Body {
    /// The RequestID of this body.
    pub fn command_id(&self) -> u32 {
        use command::*;
        match self {
            Body::Login(_) => LOGIN,
            Body::LoginResp(_) => LOGIN_RESP,
            Body::Submit(_) => SUBMIT,
            Body::SubmitResp(_) => SUBMIT_RESP,
            Body::Deliver(_) => DELIVER,
            Body::DeliverResp(_) => DELIVER_RESP,
            Body::ActiveTest => ACTIVE_TEST,
            Body::ActiveTestResp => ACTIVE_TEST_RESP,
            Body::Exit => EXIT,
            Body::ExitResp => EXIT_RESP,
            Body::Query(_) => QUERY,
            Body::QueryResp(_) => QUERY_RESP,
        }
    }

    /// The spec's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Body::Login(_) => "Login",
            Body::LoginResp(_) => "Login_Resp",
            Body::Submit(_) => "Submit",
            Body::SubmitResp(_) => "Submit_Resp",
            Body::Deliver(_) => "Deliver",
            Body::DeliverResp(_) => "Deliver_Resp",
            Body::ActiveTest => "Active_Test",
            Body::ActiveTestResp => "Active_Test_Resp",
            Body::Exit => "Exit",
            Body::ExitResp => "Exit_Resp",
            Body::Query(_) => "Query",
            Body::QueryResp(_) => "Query_Resp",
        }
    }

    /// Whether this is a response (RequestID high bit set).
    pub fn is_response(&self) -> bool {
        self.command_id() & 0x8000_0000 != 0
    }
}

impl Pdu {
    pub fn new(sequence_id: u32, body: Body) -> Pdu {
        Pdu { sequence_id, body }
    }

    /// Reads one whole frame (header included) with `r`, which is strict
    /// or lenient as [`Wire::decode`] / [`Wire::decode_lenient`] chose.
    pub(crate) fn decode_from(
        frame: &Bytes,
        r: &mut Reader<'_>,
        _opts: &Options,
    ) -> Result<Pdu, DecodeError> {
        let length_at = r.offset();
        let length = r.u32("packet_length")?;
        if length as usize != frame.len() {
            return Err(DecodeError::InvalidValue {
                field: "packet_length",
                offset: length_at,
                message: format!("says {length} bytes, frame has {}", frame.len()),
            });
        }
        let request_id = r.u32("request_id")?;
        let sequence_id = r.u32("sequence_id")?;
        use command::*;
        let body = match request_id {
            LOGIN => Body::Login(Login::decode(r)?),
            LOGIN_RESP => Body::LoginResp(LoginResp::decode(r)?),
            SUBMIT => Body::Submit(Submit::decode(r)?),
            SUBMIT_RESP => Body::SubmitResp(SubmitResp::decode(r)?),
            DELIVER => Body::Deliver(Deliver::decode(r)?),
            DELIVER_RESP => Body::DeliverResp(DeliverResp::decode(r)?),
            QUERY => Body::Query(Query::decode(r)?),
            QUERY_RESP => Body::QueryResp(QueryResp::decode(r)?),
            ACTIVE_TEST | ACTIVE_TEST_RESP | EXIT | EXIT_RESP => {
                r.finish()?;
                match request_id {
                    ACTIVE_TEST => Body::ActiveTest,
                    ACTIVE_TEST_RESP => Body::ActiveTestResp,
                    EXIT => Body::Exit,
                    _ => Body::ExitResp,
                }
            }
            command_id => return Err(DecodeError::UnknownCommand { command_id }),
        };
        Ok(Pdu { sequence_id, body })
    }

    /// Appends one whole frame; on error `dst` is left as it was.
    pub fn encode(&self, _opts: &Options, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let before = dst.len();
        let r = self.encode_inner(dst);
        if r.is_err() {
            dst.truncate(before);
        }
        r
    }

    fn encode_inner(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        use bytes::BufMut;
        let start = begin_frame(dst);
        dst.put_u32(self.body.command_id());
        dst.put_u32(self.sequence_id);
        match &self.body {
            Body::Login(b) => b.encode(dst)?,
            Body::LoginResp(b) => b.encode(dst)?,
            Body::Submit(b) => b.encode(dst)?,
            Body::SubmitResp(b) => b.encode(dst)?,
            Body::Deliver(b) => b.encode(dst)?,
            Body::DeliverResp(b) => b.encode(dst)?,
            Body::Query(b) => b.encode(dst)?,
            Body::QueryResp(b) => b.encode(dst)?,
            Body::ActiveTest | Body::ActiveTestResp | Body::Exit | Body::ExitResp => {}
        }
        let len = dst.len() - start;
        if len > u32::MAX as usize {
            return Err(EncodeError::TooLong {
                field: "packet_length",
                len,
                max: u32::MAX as usize,
            });
        }
        finish_frame(dst, start);
        Ok(())
    }

    /// The encoded frame as bytes.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut b = BytesMut::new();
        self.encode(&Options, &mut b)?;
        Ok(b.freeze())
    }
}
