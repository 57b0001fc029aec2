//! SMPP 3.4: the 16-byte header, the typed [`Pdu`] / [`Body`], and the
//! [`Protocol`] glue for [`FrameCodec`].
//!
//! Layout only: binds, windows, enquire_link timers and retries belong to the
//! session layer, which this module must never reach into. Bodies live in
//! [`bind`], [`sm`] (submit/deliver/data/query), [`tlv`], [`receipt`];
//! status codes in [`status`].
//!
//! A frame with a good length but a bad body reaches the session as
//! `Err(BadPdu { header, error })`; [`Pdu::generic_nack_for`] and
//! [`nack_status`] turn that into the answer SMPP expects.

pub mod bind;
pub mod receipt;
pub mod sm;
pub mod status;
pub mod tlv;

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

pub use bind::{Bind, BindResp, Outbind};
pub use receipt::Receipt;
pub use sm::{
    DataSm, DataSmResp, DeliverSm, DeliverSmResp, QuerySm, QuerySmResp, Sm, SmResp, SubmitSm, SubmitSmResp,
};
pub use tlv::{Tlv, Tlvs};

use crate::error::{DecodeError, EncodeError};
use crate::framing::{FrameCodec, Wire};
use crate::wire::{begin_frame, finish_frame, Reader};

/// The SMPP 3.4 protocol marker for [`FrameCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Smpp;

/// SMPP has nothing negotiated that changes body layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options;

pub type Codec = FrameCodec<Smpp>;

pub const HEADER_LEN: usize = 16;
/// 64 KiB: `message_payload` may carry up to 64 KiB of content.
pub const DEFAULT_MAX_FRAME: usize = 65536;

/// command_id values.
pub mod command {
    pub const GENERIC_NACK: u32 = 0x8000_0000;
    pub const BIND_RECEIVER: u32 = 0x0000_0001;
    pub const BIND_RECEIVER_RESP: u32 = 0x8000_0001;
    pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
    pub const BIND_TRANSMITTER_RESP: u32 = 0x8000_0002;
    pub const QUERY_SM: u32 = 0x0000_0003;
    pub const QUERY_SM_RESP: u32 = 0x8000_0003;
    pub const SUBMIT_SM: u32 = 0x0000_0004;
    pub const SUBMIT_SM_RESP: u32 = 0x8000_0004;
    pub const DELIVER_SM: u32 = 0x0000_0005;
    pub const DELIVER_SM_RESP: u32 = 0x8000_0005;
    pub const UNBIND: u32 = 0x0000_0006;
    pub const UNBIND_RESP: u32 = 0x8000_0006;
    pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
    pub const BIND_TRANSCEIVER_RESP: u32 = 0x8000_0009;
    pub const OUTBIND: u32 = 0x0000_000B;
    pub const ENQUIRE_LINK: u32 = 0x0000_0015;
    pub const ENQUIRE_LINK_RESP: u32 = 0x8000_0015;
    pub const DATA_SM: u32 = 0x0000_0103;
    pub const DATA_SM_RESP: u32 = 0x8000_0103;

    /// Every command id this codec decodes.
    pub const ALL: &[u32] = &[
        GENERIC_NACK,
        BIND_RECEIVER,
        BIND_RECEIVER_RESP,
        BIND_TRANSMITTER,
        BIND_TRANSMITTER_RESP,
        QUERY_SM,
        QUERY_SM_RESP,
        SUBMIT_SM,
        SUBMIT_SM_RESP,
        DELIVER_SM,
        DELIVER_SM_RESP,
        UNBIND,
        UNBIND_RESP,
        BIND_TRANSCEIVER,
        BIND_TRANSCEIVER_RESP,
        OUTBIND,
        ENQUIRE_LINK,
        ENQUIRE_LINK_RESP,
        DATA_SM,
        DATA_SM_RESP,
    ];

    /// Whether `id` is a response (bit 31), generic_nack included.
    pub fn is_response(id: u32) -> bool {
        id & 0x8000_0000 != 0
    }
}

/// The fixed header, as read from any frame of at least 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub command_length: u32,
    pub command_id: u32,
    pub command_status: u32,
    pub sequence_number: u32,
}

impl Header {
    /// Reads the first 16 bytes; missing bytes read as zero so this can
    /// never panic.
    pub fn read(frame: &[u8]) -> Header {
        let word = |i: usize| {
            let mut b = [0u8; 4];
            if let Some(s) = frame.get(i..i + 4) {
                b.copy_from_slice(s);
            }
            u32::from_be_bytes(b)
        };
        Header {
            command_length: word(0),
            command_id: word(4),
            command_status: word(8),
            sequence_number: word(12),
        }
    }
}

/// One SMPP PDU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pdu {
    #[serde(default)]
    pub command_status: u32,
    pub sequence_number: u32,
    #[serde(flatten)]
    pub body: Body,
}

/// Every PDU body this codec knows. JSON: `{"command": "submit_sm", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Body {
    BindReceiver(Bind),
    BindReceiverResp(BindResp),
    BindTransmitter(Bind),
    BindTransmitterResp(BindResp),
    BindTransceiver(Bind),
    BindTransceiverResp(BindResp),
    Outbind(Outbind),
    Unbind,
    UnbindResp,
    SubmitSm(SubmitSm),
    SubmitSmResp(SubmitSmResp),
    DeliverSm(DeliverSm),
    DeliverSmResp(DeliverSmResp),
    DataSm(DataSm),
    DataSmResp(DataSmResp),
    QuerySm(QuerySm),
    QuerySmResp(QuerySmResp),
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
}

impl Body {
    pub fn command_id(&self) -> u32 {
        use command::*;
        match self {
            Body::BindReceiver(_) => BIND_RECEIVER,
            Body::BindReceiverResp(_) => BIND_RECEIVER_RESP,
            Body::BindTransmitter(_) => BIND_TRANSMITTER,
            Body::BindTransmitterResp(_) => BIND_TRANSMITTER_RESP,
            Body::BindTransceiver(_) => BIND_TRANSCEIVER,
            Body::BindTransceiverResp(_) => BIND_TRANSCEIVER_RESP,
            Body::Outbind(_) => OUTBIND,
            Body::Unbind => UNBIND,
            Body::UnbindResp => UNBIND_RESP,
            Body::SubmitSm(_) => SUBMIT_SM,
            Body::SubmitSmResp(_) => SUBMIT_SM_RESP,
            Body::DeliverSm(_) => DELIVER_SM,
            Body::DeliverSmResp(_) => DELIVER_SM_RESP,
            Body::DataSm(_) => DATA_SM,
            Body::DataSmResp(_) => DATA_SM_RESP,
            Body::QuerySm(_) => QUERY_SM,
            Body::QuerySmResp(_) => QUERY_SM_RESP,
            Body::EnquireLink => ENQUIRE_LINK,
            Body::EnquireLinkResp => ENQUIRE_LINK_RESP,
            Body::GenericNack => GENERIC_NACK,
        }
    }

    /// The spec name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Body::BindReceiver(_) => "bind_receiver",
            Body::BindReceiverResp(_) => "bind_receiver_resp",
            Body::BindTransmitter(_) => "bind_transmitter",
            Body::BindTransmitterResp(_) => "bind_transmitter_resp",
            Body::BindTransceiver(_) => "bind_transceiver",
            Body::BindTransceiverResp(_) => "bind_transceiver_resp",
            Body::Outbind(_) => "outbind",
            Body::Unbind => "unbind",
            Body::UnbindResp => "unbind_resp",
            Body::SubmitSm(_) => "submit_sm",
            Body::SubmitSmResp(_) => "submit_sm_resp",
            Body::DeliverSm(_) => "deliver_sm",
            Body::DeliverSmResp(_) => "deliver_sm_resp",
            Body::DataSm(_) => "data_sm",
            Body::DataSmResp(_) => "data_sm_resp",
            Body::QuerySm(_) => "query_sm",
            Body::QuerySmResp(_) => "query_sm_resp",
            Body::EnquireLink => "enquire_link",
            Body::EnquireLinkResp => "enquire_link_resp",
            Body::GenericNack => "generic_nack",
        }
    }

    pub fn is_response(&self) -> bool {
        command::is_response(self.command_id())
    }

    /// The empty response to this request (a bind/submit/data/query
    /// response with empty fields, to be filled in by the caller); `None`
    /// for responses and outbind, which are not answered.
    pub fn response(&self) -> Option<Body> {
        Some(match self {
            Body::BindReceiver(_) => Body::BindReceiverResp(BindResp::default()),
            Body::BindTransmitter(_) => Body::BindTransmitterResp(BindResp::default()),
            Body::BindTransceiver(_) => Body::BindTransceiverResp(BindResp::default()),
            Body::Unbind => Body::UnbindResp,
            Body::SubmitSm(_) => Body::SubmitSmResp(SmResp::default()),
            Body::DeliverSm(_) => Body::DeliverSmResp(SmResp::default()),
            Body::DataSm(_) => Body::DataSmResp(SmResp::default()),
            Body::QuerySm(q) => Body::QuerySmResp(QuerySmResp {
                message_id: q.message_id,
                ..QuerySmResp::default()
            }),
            Body::EnquireLink => Body::EnquireLinkResp,
            _ => return None,
        })
    }

    fn decode(command_id: u32, r: &mut Reader<'_>) -> Result<Body, DecodeError> {
        use command::*;
        let empty = |r: &mut Reader<'_>, b: Body| r.finish().map(|_| b);
        Ok(match command_id {
            BIND_RECEIVER => Body::BindReceiver(Bind::decode(r)?),
            BIND_RECEIVER_RESP => Body::BindReceiverResp(BindResp::decode(r)?),
            BIND_TRANSMITTER => Body::BindTransmitter(Bind::decode(r)?),
            BIND_TRANSMITTER_RESP => Body::BindTransmitterResp(BindResp::decode(r)?),
            BIND_TRANSCEIVER => Body::BindTransceiver(Bind::decode(r)?),
            BIND_TRANSCEIVER_RESP => Body::BindTransceiverResp(BindResp::decode(r)?),
            OUTBIND => Body::Outbind(Outbind::decode(r)?),
            UNBIND => empty(r, Body::Unbind)?,
            UNBIND_RESP => empty(r, Body::UnbindResp)?,
            SUBMIT_SM => Body::SubmitSm(Sm::decode(r)?),
            SUBMIT_SM_RESP => Body::SubmitSmResp(SmResp::decode(r)?),
            DELIVER_SM => Body::DeliverSm(Sm::decode(r)?),
            DELIVER_SM_RESP => Body::DeliverSmResp(SmResp::decode(r)?),
            DATA_SM => Body::DataSm(DataSm::decode(r)?),
            DATA_SM_RESP => Body::DataSmResp(SmResp::decode(r)?),
            QUERY_SM => Body::QuerySm(QuerySm::decode(r)?),
            QUERY_SM_RESP => Body::QuerySmResp(QuerySmResp::decode(r)?),
            ENQUIRE_LINK => empty(r, Body::EnquireLink)?,
            ENQUIRE_LINK_RESP => empty(r, Body::EnquireLinkResp)?,
            GENERIC_NACK => empty(r, Body::GenericNack)?,
            command_id => return Err(DecodeError::UnknownCommand { command_id }),
        })
    }

    /// Whether an error response may be sent without a body: true for
    /// response bodies still at their defaults (which is how most SMSCs
    /// answer a rejected bind or submit).
    fn bodyless_error(&self) -> bool {
        match self {
            Body::BindReceiverResp(b) | Body::BindTransmitterResp(b) | Body::BindTransceiverResp(b) => {
                *b == BindResp::default()
            }
            Body::SubmitSmResp(b) | Body::DeliverSmResp(b) | Body::DataSmResp(b) => *b == SmResp::default(),
            Body::QuerySmResp(b) => *b == QuerySmResp::default(),
            _ => false,
        }
    }

    fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Body::BindReceiver(b) | Body::BindTransmitter(b) | Body::BindTransceiver(b) => b.encode(dst),
            Body::BindReceiverResp(b) | Body::BindTransmitterResp(b) | Body::BindTransceiverResp(b) => {
                b.encode(dst)
            }
            Body::Outbind(b) => b.encode(dst),
            Body::SubmitSm(b) | Body::DeliverSm(b) => b.encode(dst),
            Body::SubmitSmResp(b) | Body::DeliverSmResp(b) | Body::DataSmResp(b) => b.encode(dst),
            Body::DataSm(b) => b.encode(dst),
            Body::QuerySm(b) => b.encode(dst),
            Body::QuerySmResp(b) => b.encode(dst),
            Body::Unbind
            | Body::UnbindResp
            | Body::EnquireLink
            | Body::EnquireLinkResp
            | Body::GenericNack => Ok(()),
        }
    }
}

impl Pdu {
    pub fn new(sequence_number: u32, body: Body) -> Pdu {
        Pdu {
            command_status: status::ESME_ROK,
            sequence_number,
            body,
        }
    }

    /// Reads one whole frame (header included) with `r`, which is strict
    /// or lenient as [`Wire::decode`] / [`Wire::decode_lenient`] chose.
    pub(crate) fn decode_from(
        frame: &Bytes,
        r: &mut Reader<'_>,
        _opts: &Options,
    ) -> Result<Pdu, DecodeError> {
        let command_length = r.u32("command_length")?;
        let command_id = r.u32("command_id")?;
        let command_status = r.u32("command_status")?;
        let sequence_number = r.u32("sequence_number")?;
        if usize::try_from(command_length).ok() != Some(frame.len()) {
            return Err(DecodeError::InvalidValue {
                field: "command_length",
                offset: 0,
                message: format!("declares {command_length} bytes, frame has {}", frame.len()),
            });
        }
        let body = Body::decode(command_id, r)?;
        Ok(Pdu {
            command_status,
            sequence_number,
            body,
        })
    }

    /// Appends the whole frame to `dst`. An error response whose body is
    /// still empty is written without a body.
    pub fn encode(&self, _opts: &Options, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let start = begin_frame(dst);
        dst.put_u32(self.body.command_id());
        dst.put_u32(self.command_status);
        dst.put_u32(self.sequence_number);
        let written = if self.command_status != status::ESME_ROK && self.body.bodyless_error() {
            Ok(())
        } else {
            self.body.encode(dst)
        };
        if let Err(e) = written {
            dst.truncate(start);
            return Err(e);
        }
        let len = dst.len() - start;
        if u32::try_from(len).is_err() {
            dst.truncate(start);
            return Err(EncodeError::TooLong {
                field: "command_length",
                len,
                max: u32::MAX as usize,
            });
        }
        finish_frame(dst, start);
        Ok(())
    }

    /// The header this PDU encodes to (command_length computed).
    pub fn header(&self) -> Result<Header, EncodeError> {
        let mut b = BytesMut::new();
        self.encode(&Options, &mut b)?;
        Ok(Header::read(&b))
    }

    /// The generic_nack answering a PDU that could not be handled, echoing
    /// its sequence number.
    pub fn generic_nack_for(header: &Header, command_status: u32) -> Pdu {
        Pdu {
            command_status,
            sequence_number: header.sequence_number,
            body: Body::GenericNack,
        }
    }

    /// The answer to a frame the codec yielded as `BadPdu`: a generic_nack
    /// with [`nack_status`], or `None` when the bad frame was itself a
    /// response (responses are never answered).
    pub fn answer_bad(header: &Header, error: &DecodeError) -> Option<Pdu> {
        if command::is_response(header.command_id) {
            return None;
        }
        Some(Pdu::generic_nack_for(header, nack_status(error)))
    }

    /// The empty response to this request with `command_status`, echoing
    /// the sequence number; `None` for responses.
    pub fn response(&self, command_status: u32) -> Option<Pdu> {
        Some(Pdu {
            command_status,
            sequence_number: self.sequence_number,
            body: self.body.response()?,
        })
    }
}

/// The command_status for a generic_nack answering a frame that failed to
/// decode with `error`: unknown command id -> ESME_RINVCMDID; a body that
/// is too short, too long or has a bad length -> ESME_RINVCMDLEN; anything
/// else (bad text, unterminated strings) -> ESME_RSYSERR.
pub fn nack_status(error: &DecodeError) -> u32 {
    match error {
        DecodeError::UnknownCommand { .. } => status::ESME_RINVCMDID,
        DecodeError::Truncated { .. } | DecodeError::TrailingBytes { .. } => status::ESME_RINVCMDLEN,
        DecodeError::InvalidValue { field, .. } if field.starts_with("tlv") || *field == "command_length" => {
            status::ESME_RINVCMDLEN
        }
        _ => status::ESME_RSYSERR,
    }
}

impl Wire for Smpp {
    type Pdu = Pdu;
    type Header = Header;
    type Options = Options;

    const NAME: &'static str = "SMPP";
    const HEADER_LEN: usize = HEADER_LEN;
    const DEFAULT_MAX_FRAME: usize = DEFAULT_MAX_FRAME;

    fn header(frame: &[u8]) -> Header {
        Header::read(frame)
    }

    fn decode_from(frame: &Bytes, r: &mut Reader<'_>, opts: &Options) -> Result<Pdu, DecodeError> {
        Pdu::decode_from(frame, r, opts)
    }

    fn encode(pdu: &Pdu, opts: &Options, dst: &mut BytesMut) -> Result<(), EncodeError> {
        pdu.encode(opts, dst)
    }
}
