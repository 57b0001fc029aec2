//! The small fixed-layout SGIP bodies: BIND, the common `Result · Reserve`
//! response, UNBIND, USERRPT and TRACE.
//!
//! Decoders here read fields and never judge values (a BIND with a bad
//! Login_Type must still decode, so the server can answer it with result 4);
//! they never call `finish()` themselves: [`super::Pdu::decode`] does, once.

use bytes::{BufMut, BytesMut};
use serde::{Deserialize, Serialize};

use super::sequence::SequenceNumber;
use crate::error::{DecodeError, EncodeError};
use crate::wire::{FixedStr, PutExt, Reader};

/// Bytes of the `Reserve` field that ends every SGIP body.
pub const RESERVE_LEN: usize = 8;

/// The 8 reserved bytes. Kept raw (some SMGs put vendor data there) so a
/// decoded PDU re-encodes to the same bytes; JSON leaves it out when zero.
pub type Reserve = [u8; RESERVE_LEN];

pub(crate) fn is_zero(r: &Reserve) -> bool {
    r.iter().all(|&b| b == 0)
}

pub(crate) fn read_reserve(r: &mut Reader<'_>) -> Result<Reserve, DecodeError> {
    r.array::<RESERVE_LEN>("reserve")
}

/// A `u8` field from an integer that must fit one byte.
pub(crate) fn byte_of(v: usize, field: &'static str) -> Result<u8, EncodeError> {
    u8::try_from(v).map_err(|_| EncodeError::TooLong {
        field,
        len: v,
        max: u8::MAX as usize,
    })
}

/// BIND: opens a session, in either direction (`Debug` masks the password).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bind {
    /// [`Bind::SP_TO_SMG`] or [`Bind::SMG_TO_SP`] (others are SMG-internal).
    pub login_type: u8,
    pub login_name: FixedStr<16>,
    pub login_password: FixedStr<16>,
    #[serde(default, with = "crate::wire::hex_array", skip_serializing_if = "is_zero")]
    pub reserve: Reserve,
}

impl std::fmt::Debug for Bind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bind")
            .field("login_type", &self.login_type)
            .field("login_name", &self.login_name)
            .field("login_password", &crate::wire::MASKED)
            .field("reserve", &self.reserve)
            .finish()
    }
}

impl Bind {
    /// We connect to the SMG to submit.
    pub const SP_TO_SMG: u8 = 1;
    /// The SMG connects to us to deliver MO messages and reports.
    pub const SMG_TO_SP: u8 = 2;

    pub fn new(login_type: u8, login_name: &str, login_password: &str) -> Result<Self, EncodeError> {
        Ok(Bind {
            login_type,
            login_name: FixedStr::for_field("login_name", login_name)?,
            login_password: FixedStr::for_field("login_password", login_password)?,
            reserve: Reserve::default(),
        })
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Bind {
            login_type: r.u8("login_type")?,
            login_name: r.octets("login_name")?,
            login_password: r.octets("login_password")?,
            reserve: read_reserve(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_u8(self.login_type);
        dst.put_octets(self.login_name.as_bytes(), 16, "login_name")?;
        dst.put_octets(self.login_password.as_bytes(), 16, "login_password")?;
        dst.put_slice(&self.reserve);
        Ok(())
    }
}

/// `Result 1 · Reserve 8`: the body of BIND_RESP, SUBMIT_RESP, DELIVER_RESP,
/// REPORT_RESP and USERRPT_RESP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Resp {
    /// See [`super::result`].
    pub result: u8,
    #[serde(default, with = "crate::wire::hex_array", skip_serializing_if = "is_zero")]
    pub reserve: Reserve,
}

impl Resp {
    pub fn new(result: u8) -> Self {
        Resp {
            result,
            reserve: Reserve::default(),
        }
    }

    pub fn ok() -> Self {
        Self::new(0)
    }

    pub fn is_ok(&self) -> bool {
        self.result == 0
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Resp {
            result: r.u8("result")?,
            reserve: read_reserve(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_u8(self.result);
        dst.put_slice(&self.reserve);
        Ok(())
    }
}

pub type BindResp = Resp;
pub type SubmitResp = Resp;
pub type DeliverResp = Resp;
pub type ReportResp = Resp;
pub type UserrptResp = Resp;

/// UNBIND: no body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Unbind {}

/// UNBIND_RESP: no body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnbindResp {}

/// USERRPT: the SMG tells an SP that a user's state changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Userrpt {
    pub sp_number: FixedStr<21>,
    pub user_number: FixedStr<21>,
    /// 0 active, 1 suspended for arrears, 2 not registered (per the spec).
    pub user_condition: u8,
    #[serde(default, with = "crate::wire::hex_array", skip_serializing_if = "is_zero")]
    pub reserve: Reserve,
}

impl Userrpt {
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Userrpt {
            sp_number: r.octets("sp_number")?,
            user_number: r.octets("user_number")?,
            user_condition: r.u8("user_condition")?,
            reserve: read_reserve(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_octets(self.sp_number.as_bytes(), 21, "sp_number")?;
        dst.put_octets(self.user_number.as_bytes(), 21, "user_number")?;
        dst.put_u8(self.user_condition);
        dst.put_slice(&self.reserve);
        Ok(())
    }
}

/// TRACE: asks which nodes a submitted message went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub submit_sequence_number: SequenceNumber,
    pub user_number: FixedStr<21>,
    #[serde(default, with = "crate::wire::hex_array", skip_serializing_if = "is_zero")]
    pub reserve: Reserve,
}

impl Trace {
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Trace {
            submit_sequence_number: SequenceNumber::read(r, "submit_sequence_number")?,
            user_number: r.octets("user_number")?,
            reserve: read_reserve(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        self.submit_sequence_number.put(dst);
        dst.put_octets(self.user_number.as_bytes(), 21, "user_number")?;
        dst.put_slice(&self.reserve);
        Ok(())
    }
}

/// One node a traced message went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceHop {
    pub result: u8,
    pub node_id: FixedStr<6>,
    /// YYMMDDHHMMSS as text.
    pub receive_time: FixedStr<16>,
    pub send_time: FixedStr<16>,
    #[serde(default, with = "crate::wire::hex_array", skip_serializing_if = "is_zero")]
    pub reserve: Reserve,
}

/// TRACE_RESP: `Count 1`, then for each node `Result 1 · NodeId 6 ·
/// ReceiveTime 16 · SendTime 16 · Reserve 8`. The spec says "the following
/// fields repeat" after Count, so Reserve is read once per node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TraceResp {
    /// `Count` on the wire is the length of this list.
    pub hops: Vec<TraceHop>,
}

impl TraceResp {
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = r.u8("count")?;
        // Not pre-sized from the count: the frame bounds the list anyway.
        let mut hops = Vec::new();
        for _ in 0..count {
            hops.push(TraceHop {
                result: r.u8("result")?,
                node_id: r.octets("node_id")?,
                receive_time: r.octets("receive_time")?,
                send_time: r.octets("send_time")?,
                reserve: read_reserve(r)?,
            });
        }
        Ok(TraceResp { hops })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_u8(byte_of(self.hops.len(), "count")?);
        for h in &self.hops {
            dst.put_u8(h.result);
            dst.put_octets(h.node_id.as_bytes(), 6, "node_id")?;
            dst.put_octets(h.receive_time.as_bytes(), 16, "receive_time")?;
            dst.put_octets(h.send_time.as_bytes(), 16, "send_time")?;
            dst.put_slice(&h.reserve);
        }
        Ok(())
    }
}
