//! SGIP 1.2, China Unicom's SP ↔ SMG protocol.
//!
//! Every frame is a 20-byte header (`Message_Length 4 · Command_ID 4 ·
//! Sequence_Number 12`) and a fixed-layout body. The 12-byte sequence
//! number ([`SequenceNumber`]) is node id, MMDDHHMMSS time and counter; a
//! response echoes its request's, and a SUBMIT's is also its carrier message
//! id (REPORT refers back to it).
//!
//! Unlike CMPP, SGIP links are short and run both ways: we BIND to the SMG
//! to SUBMIT, and the SMG BINDs to us to DELIVER and REPORT. There is no
//! keepalive; an idle side UNBINDs.
//!
//! Layout: [`sequence`] (sequence numbers and their generator), [`bodies`]
//! (BIND, responses, UNBIND, USERRPT, TRACE), [`submit`], [`deliver`],
//! [`report`], [`result`] (result codes), `content` (message length and UDH).
//! This module does no I/O and never panics on input; it never judges field
//! values (answering a bad value with a result code is the session's job).

pub mod bodies;
mod content;
pub mod deliver;
pub mod report;
pub mod result;
pub mod sequence;
pub mod submit;

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

pub use bodies::{
    Bind, BindResp, DeliverResp, ReportResp, Reserve, Resp, SubmitResp, Trace, TraceHop, TraceResp, Unbind,
    UnbindResp, Userrpt, UserrptResp,
};
pub use deliver::Deliver;
pub use report::Report;
pub use result::result_text;
pub use sequence::{ParseSequenceError, SequenceGenerator, SequenceNumber};
pub use submit::Submit;

use crate::error::{DecodeError, EncodeError};
use crate::framing::{FrameCodec, Wire};
use crate::wire::{begin_frame, finish_frame, Reader};

/// Bytes in the SGIP header.
pub const HEADER_LEN: usize = 20;

/// Command ids.
pub mod command {
    pub const BIND: u32 = 0x0000_0001;
    pub const BIND_RESP: u32 = 0x8000_0001;
    pub const UNBIND: u32 = 0x0000_0002;
    pub const UNBIND_RESP: u32 = 0x8000_0002;
    pub const SUBMIT: u32 = 0x0000_0003;
    pub const SUBMIT_RESP: u32 = 0x8000_0003;
    pub const DELIVER: u32 = 0x0000_0004;
    pub const DELIVER_RESP: u32 = 0x8000_0004;
    pub const REPORT: u32 = 0x0000_0005;
    pub const REPORT_RESP: u32 = 0x8000_0005;
    pub const USERRPT: u32 = 0x0000_0011;
    pub const USERRPT_RESP: u32 = 0x8000_0011;
    pub const TRACE: u32 = 0x0000_1000;
    pub const TRACE_RESP: u32 = 0x8000_1000;

    /// Every command id this module decodes.
    pub const ALL: [u32; 14] = [
        BIND,
        BIND_RESP,
        UNBIND,
        UNBIND_RESP,
        SUBMIT,
        SUBMIT_RESP,
        DELIVER,
        DELIVER_RESP,
        REPORT,
        REPORT_RESP,
        USERRPT,
        USERRPT_RESP,
        TRACE,
        TRACE_RESP,
    ];

    /// Whether `id` is a response (high bit set).
    pub const fn is_response(id: u32) -> bool {
        id & 0x8000_0000 != 0
    }
}

/// The SGIP marker type for [`FrameCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Sgip;

/// SGIP has nothing to negotiate.
#[derive(Debug, Clone, Default)]
pub struct Options;

/// The tokio codec for SGIP links.
pub type Codec = FrameCodec<Sgip>;

/// The fixed header as read off a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub message_length: u32,
    pub command_id: u32,
    pub sequence: SequenceNumber,
}

impl Header {
    /// Reads the first 20 bytes; missing bytes read as zero (the framer has
    /// always checked the length before this is called).
    pub fn read(frame: &[u8]) -> Header {
        let word = |i: usize| {
            frame
                .get(i..i + 4)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        Header {
            message_length: word(0),
            command_id: word(4),
            sequence: frame
                .get(8..)
                .and_then(SequenceNumber::from_slice)
                .unwrap_or_default(),
        }
    }
}

/// One SGIP PDU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pdu {
    pub sequence: SequenceNumber,
    #[serde(flatten)]
    pub body: Body,
}

/// The body of an SGIP PDU, one variant per command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Body {
    Bind(Bind),
    BindResp(BindResp),
    Unbind(Unbind),
    UnbindResp(UnbindResp),
    Submit(Submit),
    SubmitResp(SubmitResp),
    Deliver(Deliver),
    DeliverResp(DeliverResp),
    Report(Report),
    ReportResp(ReportResp),
    Userrpt(Userrpt),
    UserrptResp(UserrptResp),
    Trace(Trace),
    TraceResp(TraceResp),
}

impl Body {
    pub fn command_id(&self) -> u32 {
        use command::*;
        match self {
            Body::Bind(_) => BIND,
            Body::BindResp(_) => BIND_RESP,
            Body::Unbind(_) => UNBIND,
            Body::UnbindResp(_) => UNBIND_RESP,
            Body::Submit(_) => SUBMIT,
            Body::SubmitResp(_) => SUBMIT_RESP,
            Body::Deliver(_) => DELIVER,
            Body::DeliverResp(_) => DELIVER_RESP,
            Body::Report(_) => REPORT,
            Body::ReportResp(_) => REPORT_RESP,
            Body::Userrpt(_) => USERRPT,
            Body::UserrptResp(_) => USERRPT_RESP,
            Body::Trace(_) => TRACE,
            Body::TraceResp(_) => TRACE_RESP,
        }
    }

    /// The command's name as the spec writes it, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Body::Bind(_) => "BIND",
            Body::BindResp(_) => "BIND_RESP",
            Body::Unbind(_) => "UNBIND",
            Body::UnbindResp(_) => "UNBIND_RESP",
            Body::Submit(_) => "SUBMIT",
            Body::SubmitResp(_) => "SUBMIT_RESP",
            Body::Deliver(_) => "DELIVER",
            Body::DeliverResp(_) => "DELIVER_RESP",
            Body::Report(_) => "REPORT",
            Body::ReportResp(_) => "REPORT_RESP",
            Body::Userrpt(_) => "USERRPT",
            Body::UserrptResp(_) => "USERRPT_RESP",
            Body::Trace(_) => "TRACE",
            Body::TraceResp(_) => "TRACE_RESP",
        }
    }

    pub fn is_response(&self) -> bool {
        command::is_response(self.command_id())
    }

    /// The response body to this request carrying `result` (TRACE gets an
    /// empty hop list, UNBIND its empty response); `None` for a response.
    pub fn response(&self, result: u8) -> Option<Body> {
        let r = Resp::new(result);
        Some(match self {
            Body::Bind(_) => Body::BindResp(r),
            Body::Unbind(_) => Body::UnbindResp(UnbindResp {}),
            Body::Submit(_) => Body::SubmitResp(r),
            Body::Deliver(_) => Body::DeliverResp(r),
            Body::Report(_) => Body::ReportResp(r),
            Body::Userrpt(_) => Body::UserrptResp(r),
            Body::Trace(_) => Body::TraceResp(TraceResp::default()),
            _ => return None,
        })
    }
}

impl Pdu {
    pub fn new(sequence: SequenceNumber, body: impl Into<Body>) -> Self {
        Pdu {
            sequence,
            body: body.into(),
        }
    }

    /// The response to this request, echoing its sequence.
    pub fn response(&self, result: u8) -> Option<Pdu> {
        Some(Pdu::new(self.sequence, self.body.response(result)?))
    }

    /// Reads one whole frame (header included) with `r`, which is strict
    /// or lenient as [`Wire::decode`] / [`Wire::decode_lenient`] chose.
    pub(crate) fn decode_from(
        frame: &Bytes,
        r: &mut Reader<'_>,
        _opts: &Options,
    ) -> Result<Pdu, DecodeError> {
        if frame.len() < HEADER_LEN {
            return Err(DecodeError::Truncated {
                field: "header",
                offset: 0,
                needed: HEADER_LEN,
                available: frame.len(),
            });
        }
        let header = Header::read(frame);
        if usize::try_from(header.message_length).ok() != Some(frame.len()) {
            return Err(DecodeError::InvalidValue {
                field: "message_length",
                offset: 0,
                message: format!(
                    "says {} but the frame is {} bytes",
                    header.message_length,
                    frame.len()
                ),
            });
        }
        let body = match header.command_id {
            command::BIND => Body::Bind(Bind::decode(r)?),
            command::BIND_RESP => Body::BindResp(Resp::decode(r)?),
            command::UNBIND => Body::Unbind(Unbind {}),
            command::UNBIND_RESP => Body::UnbindResp(UnbindResp {}),
            command::SUBMIT => Body::Submit(Submit::decode(r)?),
            command::SUBMIT_RESP => Body::SubmitResp(Resp::decode(r)?),
            command::DELIVER => Body::Deliver(Deliver::decode(r)?),
            command::DELIVER_RESP => Body::DeliverResp(Resp::decode(r)?),
            command::REPORT => Body::Report(Report::decode(r)?),
            command::REPORT_RESP => Body::ReportResp(Resp::decode(r)?),
            command::USERRPT => Body::Userrpt(Userrpt::decode(r)?),
            command::USERRPT_RESP => Body::UserrptResp(Resp::decode(r)?),
            command::TRACE => Body::Trace(Trace::decode(r)?),
            command::TRACE_RESP => Body::TraceResp(TraceResp::decode(r)?),
            command_id => return Err(DecodeError::UnknownCommand { command_id }),
        };
        r.finish()?;
        Ok(Pdu {
            sequence: header.sequence,
            body,
        })
    }

    /// Appends the whole frame to `dst`. On error `dst` is left as it was.
    pub fn encode(&self, _opts: &Options, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let start = begin_frame(dst);
        let res = self.encode_rest(dst);
        let len = dst.len() - start;
        if let Err(e) = res {
            dst.truncate(start);
            return Err(e);
        }
        if u32::try_from(len).is_err() {
            dst.truncate(start);
            return Err(EncodeError::TooLong {
                field: "message_length",
                len,
                max: u32::MAX as usize,
            });
        }
        finish_frame(dst, start);
        Ok(())
    }

    fn encode_rest(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_u32(self.body.command_id());
        self.sequence.put(dst);
        match &self.body {
            Body::Bind(b) => b.encode(dst),
            Body::Unbind(_) | Body::UnbindResp(_) => Ok(()),
            Body::Submit(b) => b.encode(dst),
            Body::Deliver(b) => b.encode(dst),
            Body::Report(b) => b.encode(dst),
            Body::Userrpt(b) => b.encode(dst),
            Body::Trace(b) => b.encode(dst),
            Body::TraceResp(b) => b.encode(dst),
            Body::BindResp(b)
            | Body::SubmitResp(b)
            | Body::DeliverResp(b)
            | Body::ReportResp(b)
            | Body::UserrptResp(b) => b.encode(dst),
        }
    }

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut b = BytesMut::new();
        self.encode(&Options, &mut b)?;
        Ok(b.freeze())
    }
}

macro_rules! into_body {
    ($($t:ident),*) => {$(
        impl From<$t> for Body {
            fn from(b: $t) -> Body {
                Body::$t(b)
            }
        }
    )*};
}
into_body!(Bind, Unbind, UnbindResp, Submit, Deliver, Report, Userrpt, Trace, TraceResp);

impl Wire for Sgip {
    type Pdu = Pdu;
    type Header = Header;
    type Options = Options;

    const NAME: &'static str = "SGIP";
    const HEADER_LEN: usize = HEADER_LEN;
    const DEFAULT_MAX_FRAME: usize = 4096;

    fn header(frame: &[u8]) -> Header {
        Header::read(frame)
    }

    const BODY_START: usize = HEADER_LEN;

    fn decode_from(frame: &Bytes, r: &mut Reader<'_>, opts: &Options) -> Result<Pdu, DecodeError> {
        Pdu::decode_from(frame, r, opts)
    }

    fn encode(pdu: &Pdu, opts: &Options, dst: &mut BytesMut) -> Result<(), EncodeError> {
        pdu.encode(opts, dst)
    }
}
