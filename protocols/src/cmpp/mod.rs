//! CMPP 2.0 and 3.0, the protocol of China Mobile's ISMG.
//!
//! This file holds the marker type [`Cmpp`] that plugs into
//! [`FrameCodec`], the negotiated [`CmppVersion`], the 12-byte header, the
//! command ids and the [`Pdu`]/[`Body`] pair; the bodies live in the sibling
//! files by concept. The two versions share one set of body types: where 3.0
//! widened or added a field the struct carries the 3.0 shape, and the
//! [`Options::version`] of the connection decides the bytes. Encoding a
//! 3.0-only value under 2.0 is an error, never a silent drop, so a LinkID or
//! a 32-digit number cannot vanish on the way out.
//!
//! Nothing here does I/O, and no decode may panic on any input.

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, EncodeError};
use crate::framing::{FrameCodec, Wire};
use crate::wire::{begin_frame, finish_frame, Reader};

pub mod auth;
mod bodies;
mod deliver;
mod ids;
mod report;
pub mod result;
mod submit;

pub use auth::{
    authenticator_ismg, authenticator_ismg_for, authenticator_source, timestamp_now, timestamp_of,
};
pub use bodies::{
    ActiveTestResp, Cancel, CancelResp, Connect, ConnectResp, DeliverResp, Query, QueryResp, SubmitResp,
};
pub use deliver::Deliver;
pub use ids::{MsgId, MsgIdGenerator};
pub use report::Report;
pub use result::result_text;
pub use submit::{Submit, MAX_DESTINATIONS};

/// The CMPP frame codec.
pub type Codec = FrameCodec<Cmpp>;

/// Marker type for [`FrameCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Cmpp;

/// Header length: Total_Length, Command_Id, Sequence_Id.
pub const HEADER_LEN: usize = 12;

/// Command ids.
pub mod command {
    pub const CONNECT: u32 = 0x0000_0001;
    pub const CONNECT_RESP: u32 = 0x8000_0001;
    pub const TERMINATE: u32 = 0x0000_0002;
    pub const TERMINATE_RESP: u32 = 0x8000_0002;
    pub const SUBMIT: u32 = 0x0000_0004;
    pub const SUBMIT_RESP: u32 = 0x8000_0004;
    pub const DELIVER: u32 = 0x0000_0005;
    pub const DELIVER_RESP: u32 = 0x8000_0005;
    pub const QUERY: u32 = 0x0000_0006;
    pub const QUERY_RESP: u32 = 0x8000_0006;
    pub const CANCEL: u32 = 0x0000_0007;
    pub const CANCEL_RESP: u32 = 0x8000_0007;
    pub const ACTIVE_TEST: u32 = 0x0000_0008;
    pub const ACTIVE_TEST_RESP: u32 = 0x8000_0008;

    /// Every command id this module decodes.
    pub const ALL: [u32; 14] = [
        CONNECT,
        CONNECT_RESP,
        TERMINATE,
        TERMINATE_RESP,
        SUBMIT,
        SUBMIT_RESP,
        DELIVER,
        DELIVER_RESP,
        QUERY,
        QUERY_RESP,
        CANCEL,
        CANCEL_RESP,
        ACTIVE_TEST,
        ACTIVE_TEST_RESP,
    ];
}

/// The protocol version a connection speaks; it decides the body layouts
/// that differ (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmppVersion {
    V20,
    #[default]
    V30,
}

impl CmppVersion {
    /// Reads the Version byte of CONNECT (high nibble major). Any 2.x
    /// counts as 2.0 because common clients send 0x21; `None` for a
    /// major version this codec does not speak.
    pub fn from_byte(b: u8) -> Option<CmppVersion> {
        match b >> 4 {
            2 => Some(CmppVersion::V20),
            3 => Some(CmppVersion::V30),
            _ => None,
        }
    }

    /// The byte the spec gives this version (0x20 or 0x30).
    pub fn byte(self) -> u8 {
        match self {
            CmppVersion::V20 => 0x20,
            CmppVersion::V30 => 0x30,
        }
    }

    /// Whether this is 3.0 (the wider layouts).
    pub fn is_v3(self) -> bool {
        self == CmppVersion::V30
    }
}

/// Per-connection settings.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub version: CmppVersion,
}

impl Options {
    pub fn new(version: CmppVersion) -> Self {
        Options { version }
    }
}

/// The fixed header of every frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub total_length: u32,
    pub command_id: u32,
    pub sequence_id: u32,
}

/// One CMPP PDU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pdu {
    pub sequence_id: u32,
    #[serde(flatten)]
    pub body: Body,
}

/// Every PDU body, by command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Body {
    Connect(Connect),
    ConnectResp(ConnectResp),
    Terminate,
    TerminateResp,
    Submit(Box<Submit>),
    SubmitResp(SubmitResp),
    Deliver(Box<Deliver>),
    DeliverResp(DeliverResp),
    Query(Query),
    QueryResp(QueryResp),
    Cancel(Cancel),
    CancelResp(CancelResp),
    ActiveTest,
    ActiveTestResp(ActiveTestResp),
}

impl Body {
    pub fn command_id(&self) -> u32 {
        match self {
            Body::Connect(_) => command::CONNECT,
            Body::ConnectResp(_) => command::CONNECT_RESP,
            Body::Terminate => command::TERMINATE,
            Body::TerminateResp => command::TERMINATE_RESP,
            Body::Submit(_) => command::SUBMIT,
            Body::SubmitResp(_) => command::SUBMIT_RESP,
            Body::Deliver(_) => command::DELIVER,
            Body::DeliverResp(_) => command::DELIVER_RESP,
            Body::Query(_) => command::QUERY,
            Body::QueryResp(_) => command::QUERY_RESP,
            Body::Cancel(_) => command::CANCEL,
            Body::CancelResp(_) => command::CANCEL_RESP,
            Body::ActiveTest => command::ACTIVE_TEST,
            Body::ActiveTestResp(_) => command::ACTIVE_TEST_RESP,
        }
    }

    /// The spec's name, for logs.
    pub fn name(&self) -> &'static str {
        command_name(self.command_id()).unwrap_or("CMPP_UNKNOWN")
    }

    /// Whether this is a response (high bit of the command id).
    pub fn is_response(&self) -> bool {
        self.command_id() & 0x8000_0000 != 0
    }
}

/// The spec's name of a command id.
pub fn command_name(command_id: u32) -> Option<&'static str> {
    Some(match command_id {
        command::CONNECT => "CMPP_CONNECT",
        command::CONNECT_RESP => "CMPP_CONNECT_RESP",
        command::TERMINATE => "CMPP_TERMINATE",
        command::TERMINATE_RESP => "CMPP_TERMINATE_RESP",
        command::SUBMIT => "CMPP_SUBMIT",
        command::SUBMIT_RESP => "CMPP_SUBMIT_RESP",
        command::DELIVER => "CMPP_DELIVER",
        command::DELIVER_RESP => "CMPP_DELIVER_RESP",
        command::QUERY => "CMPP_QUERY",
        command::QUERY_RESP => "CMPP_QUERY_RESP",
        command::CANCEL => "CMPP_CANCEL",
        command::CANCEL_RESP => "CMPP_CANCEL_RESP",
        command::ACTIVE_TEST => "CMPP_ACTIVE_TEST",
        command::ACTIVE_TEST_RESP => "CMPP_ACTIVE_TEST_RESP",
        _ => return None,
    })
}

impl Pdu {
    pub fn new(sequence_id: u32, body: Body) -> Self {
        Pdu { sequence_id, body }
    }

    /// Reads one whole frame (header included) with `r`, which is strict
    /// or lenient as [`Wire::decode`] / [`Wire::decode_lenient`] chose.
    pub(crate) fn decode_from(frame: &Bytes, r: &mut Reader<'_>, opts: &Options) -> Result<Pdu, DecodeError> {
        let total_length = r.u32("total_length")?;
        let command_id = r.u32("command_id")?;
        let sequence_id = r.u32("sequence_id")?;
        if total_length as usize != frame.len() {
            return Err(DecodeError::InvalidValue {
                field: "total_length",
                offset: 0,
                message: format!("says {total_length} bytes, frame has {}", frame.len()),
            });
        }
        let v = opts.version;
        let body = match command_id {
            command::CONNECT => Body::Connect(Connect::decode(r)?),
            command::CONNECT_RESP => Body::ConnectResp(ConnectResp::decode(r, v)?),
            command::TERMINATE => Body::Terminate,
            command::TERMINATE_RESP => Body::TerminateResp,
            command::SUBMIT => Body::Submit(Box::new(Submit::decode(r, v)?)),
            command::SUBMIT_RESP => Body::SubmitResp(SubmitResp::decode(r, v)?),
            command::DELIVER => Body::Deliver(Box::new(Deliver::decode(r, v)?)),
            command::DELIVER_RESP => Body::DeliverResp(DeliverResp::decode(r, v)?),
            command::QUERY => Body::Query(Query::decode(r)?),
            command::QUERY_RESP => Body::QueryResp(QueryResp::decode(r)?),
            command::CANCEL => Body::Cancel(Cancel::decode(r)?),
            command::CANCEL_RESP => Body::CancelResp(CancelResp::decode(r, v)?),
            command::ACTIVE_TEST => Body::ActiveTest,
            command::ACTIVE_TEST_RESP => Body::ActiveTestResp(ActiveTestResp::decode(r)?),
            command_id => return Err(DecodeError::UnknownCommand { command_id }),
        };
        r.finish()?;
        Ok(Pdu { sequence_id, body })
    }

    /// Appends the whole frame to `dst`. On error `dst` is left as it was.
    pub fn encode(&self, opts: &Options, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let mark = dst.len();
        let res = self.encode_inner(opts.version, dst);
        if res.is_err() {
            dst.truncate(mark);
        }
        res
    }

    fn encode_inner(&self, v: CmppVersion, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let start = begin_frame(dst);
        dst.put_u32(self.body.command_id());
        dst.put_u32(self.sequence_id);
        match &self.body {
            Body::Connect(b) => b.encode(dst)?,
            Body::ConnectResp(b) => b.encode(v, dst)?,
            Body::Terminate | Body::TerminateResp | Body::ActiveTest => {}
            Body::Submit(b) => b.encode(v, dst)?,
            Body::SubmitResp(b) => b.encode(v, dst)?,
            Body::Deliver(b) => b.encode(v, dst)?,
            Body::DeliverResp(b) => b.encode(v, dst)?,
            Body::Query(b) => b.encode(dst)?,
            Body::QueryResp(b) => b.encode(dst)?,
            Body::Cancel(b) => b.encode(dst),
            Body::CancelResp(b) => b.encode(v, dst)?,
            Body::ActiveTestResp(b) => b.encode(dst),
        }
        finish_frame(dst, start);
        Ok(())
    }

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self, opts: &Options) -> Result<Bytes, EncodeError> {
        let mut b = BytesMut::new();
        self.encode(opts, &mut b)?;
        Ok(b.freeze())
    }
}

impl Wire for Cmpp {
    type Pdu = Pdu;
    type Header = Header;
    type Options = Options;

    const NAME: &'static str = "CMPP";
    const HEADER_LEN: usize = HEADER_LEN;
    const DEFAULT_MAX_FRAME: usize = 4096;

    fn header(frame: &[u8]) -> Header {
        let word = |i: usize| {
            let mut a = [0u8; 4];
            if let Some(s) = frame.get(i..i + 4) {
                a.copy_from_slice(s);
            }
            u32::from_be_bytes(a)
        };
        Header {
            total_length: word(0),
            command_id: word(4),
            sequence_id: word(8),
        }
    }

    fn decode_from(frame: &Bytes, r: &mut Reader<'_>, opts: &Options) -> Result<Pdu, DecodeError> {
        Pdu::decode_from(frame, r, opts)
    }

    fn encode(pdu: &Pdu, opts: &Options, dst: &mut BytesMut) -> Result<(), EncodeError> {
        pdu.encode(opts, dst)
    }
}

/// Writes a u32 result/status field as 1 byte (2.0) or 4 bytes (3.0).
pub(crate) fn put_result(
    dst: &mut BytesMut,
    v: CmppVersion,
    value: u32,
    field: &'static str,
) -> Result<(), EncodeError> {
    match v {
        CmppVersion::V30 => dst.put_u32(value),
        CmppVersion::V20 => {
            let b = u8::try_from(value).map_err(|_| EncodeError::InvalidValue {
                field,
                message: format!("{value} does not fit the 1-byte CMPP 2.0 field"),
            })?;
            dst.put_u8(b);
        }
    }
    Ok(())
}

/// Reads a result/status field of 1 byte (2.0) or 4 bytes (3.0).
pub(crate) fn get_result(
    r: &mut Reader<'_>,
    v: CmppVersion,
    field: &'static str,
) -> Result<u32, DecodeError> {
    match v {
        CmppVersion::V30 => r.u32(field),
        CmppVersion::V20 => r.u8(field).map(u32::from),
    }
}

/// Refuses a 3.0-only value when encoding 2.0.
pub(crate) fn v3_only(v: CmppVersion, is_default: bool, field: &'static str) -> Result<(), EncodeError> {
    if v == CmppVersion::V20 && !is_default {
        return Err(EncodeError::InvalidValue {
            field,
            message: "not carried by CMPP 2.0 (only 3.0)".into(),
        });
    }
    Ok(())
}

/// Refuses a 2.0-only value (the Reserve bytes) when encoding 3.0.
pub(crate) fn v2_only(v: CmppVersion, is_default: bool, field: &'static str) -> Result<(), EncodeError> {
    if v == CmppVersion::V30 && !is_default {
        return Err(EncodeError::InvalidValue {
            field,
            message: "not carried by CMPP 3.0 (only 2.0)".into(),
        });
    }
    Ok(())
}

/// The width of terminal-id fields: 21 in 2.0, 32 in 3.0.
pub(crate) fn terminal_width(v: CmppVersion) -> usize {
    match v {
        CmppVersion::V20 => 21,
        CmppVersion::V30 => 32,
    }
}

/// Reads a terminal id of the version's width into the 3.0-sized type.
pub(crate) fn get_terminal(
    r: &mut Reader<'_>,
    v: CmppVersion,
    field: &'static str,
) -> Result<crate::wire::FixedStr<32>, DecodeError> {
    match v {
        CmppVersion::V30 => r.octets::<32>(field),
        CmppVersion::V20 => {
            let s = r.octets::<21>(field)?;
            // 21 <= 32 and already checked UTF-8, so this cannot fail.
            Ok(crate::wire::FixedStr::truncating(s.as_str()))
        }
    }
}
