//! The small fixed-layout CMPP bodies: CONNECT and its response, the
//! SUBMIT/DELIVER/CANCEL responses, QUERY and its response, and
//! ACTIVE_TEST_RESP.
//!
//! Where 2.0 and 3.0 differ (the 1- vs 4-byte result fields) the struct holds
//! a u32 and the version picks the width. Authenticator helpers for CONNECT
//! live in `auth.rs`. Nothing here allocates during decode.

use bytes::{BufMut, BytesMut};
use serde::{Deserialize, Serialize};

use super::{get_result, put_result, CmppVersion, MsgId};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{FixedStr, PutExt, Reader};

/// CMPP_CONNECT: the same layout in 2.0 and 3.0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connect {
    /// The SP id (6 digits).
    pub source_addr: FixedStr<6>,
    #[serde(with = "crate::wire::hex_array")]
    pub authenticator_source: [u8; 16],
    /// Raw version byte as sent (0x20, 0x21 and 0x30 are all seen).
    pub version: u8,
    /// MMDDHHMMSS as a decimal integer.
    pub timestamp: u32,
}

impl Connect {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Connect {
            source_addr: r.octets("source_addr")?,
            authenticator_source: r.array("authenticator_source")?,
            version: r.u8("version")?,
            timestamp: r.u32("timestamp")?,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_octets(self.source_addr.as_bytes(), 6, "source_addr")?;
        dst.put_slice(&self.authenticator_source);
        dst.put_u8(self.version);
        dst.put_u32(self.timestamp);
        Ok(())
    }

    /// The version the client asked for, if it is one this codec speaks.
    pub fn cmpp_version(&self) -> Option<CmppVersion> {
        CmppVersion::from_byte(self.version)
    }
}

/// CMPP_CONNECT_RESP. `status` is 1 byte in 2.0, 4 in 3.0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectResp {
    pub status: u32,
    #[serde(with = "crate::wire::hex_array")]
    pub authenticator_ismg: [u8; 16],
    pub version: u8,
}

impl ConnectResp {
    pub(crate) fn decode(r: &mut Reader<'_>, v: CmppVersion) -> Result<Self, DecodeError> {
        Ok(ConnectResp {
            status: get_result(r, v, "status")?,
            authenticator_ismg: r.array("authenticator_ismg")?,
            version: r.u8("version")?,
        })
    }

    pub(crate) fn encode(&self, v: CmppVersion, dst: &mut BytesMut) -> Result<(), EncodeError> {
        put_result(dst, v, self.status, "status")?;
        dst.put_slice(&self.authenticator_ismg);
        dst.put_u8(self.version);
        Ok(())
    }
}

/// CMPP_SUBMIT_RESP. `result` is 1 byte in 2.0, 4 in 3.0 (see
/// [`super::result`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResp {
    pub msg_id: MsgId,
    pub result: u32,
}

impl SubmitResp {
    pub(crate) fn decode(r: &mut Reader<'_>, v: CmppVersion) -> Result<Self, DecodeError> {
        Ok(SubmitResp {
            msg_id: MsgId(r.u64("msg_id")?),
            result: get_result(r, v, "result")?,
        })
    }

    pub(crate) fn encode(&self, v: CmppVersion, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_u64(self.msg_id.0);
        put_result(dst, v, self.result, "result")
    }
}

/// CMPP_DELIVER_RESP. `result` is 1 byte in 2.0, 4 in 3.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverResp {
    pub msg_id: MsgId,
    pub result: u32,
}

impl DeliverResp {
    pub(crate) fn decode(r: &mut Reader<'_>, v: CmppVersion) -> Result<Self, DecodeError> {
        Ok(DeliverResp {
            msg_id: MsgId(r.u64("msg_id")?),
            result: get_result(r, v, "result")?,
        })
    }

    pub(crate) fn encode(&self, v: CmppVersion, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_u64(self.msg_id.0);
        put_result(dst, v, self.result, "result")
    }
}

/// CMPP_QUERY: traffic statistics for a day, overall (`query_type` 0) or
/// for one service (1, `query_code` = Service_Id). Same in 2.0 and 3.0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// YYYYMMDD.
    pub time: FixedStr<8>,
    pub query_type: u8,
    pub query_code: FixedStr<10>,
    #[serde(with = "crate::wire::hex_array", default)]
    pub reserve: [u8; 8],
}

impl Query {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Query {
            time: r.octets("time")?,
            query_type: r.u8("query_type")?,
            query_code: r.octets("query_code")?,
            reserve: r.array("reserve")?,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_octets(self.time.as_bytes(), 8, "time")?;
        dst.put_u8(self.query_type);
        dst.put_octets(self.query_code.as_bytes(), 10, "query_code")?;
        dst.put_slice(&self.reserve);
        Ok(())
    }
}

/// CMPP_QUERY_RESP: the day's counters. Same in 2.0 and 3.0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResp {
    pub time: FixedStr<8>,
    pub query_type: u8,
    pub query_code: FixedStr<10>,
    /// MT messages received from the SP.
    pub mt_tl_msg: u32,
    /// MT users received from the SP.
    pub mt_tl_usr: u32,
    /// MT forwarded successfully.
    pub mt_scs: u32,
    /// MT waiting to be forwarded.
    pub mt_wt: u32,
    /// MT that failed.
    pub mt_fl: u32,
    /// MO delivered to the SP.
    pub mo_scs: u32,
    /// MO waiting for the SP.
    pub mo_wt: u32,
    /// MO that failed.
    pub mo_fl: u32,
}

impl QueryResp {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(QueryResp {
            time: r.octets("time")?,
            query_type: r.u8("query_type")?,
            query_code: r.octets("query_code")?,
            mt_tl_msg: r.u32("mt_tl_msg")?,
            mt_tl_usr: r.u32("mt_tl_usr")?,
            mt_scs: r.u32("mt_scs")?,
            mt_wt: r.u32("mt_wt")?,
            mt_fl: r.u32("mt_fl")?,
            mo_scs: r.u32("mo_scs")?,
            mo_wt: r.u32("mo_wt")?,
            mo_fl: r.u32("mo_fl")?,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_octets(self.time.as_bytes(), 8, "time")?;
        dst.put_u8(self.query_type);
        dst.put_octets(self.query_code.as_bytes(), 10, "query_code")?;
        for n in [
            self.mt_tl_msg,
            self.mt_tl_usr,
            self.mt_scs,
            self.mt_wt,
            self.mt_fl,
            self.mo_scs,
            self.mo_wt,
            self.mo_fl,
        ] {
            dst.put_u32(n);
        }
        Ok(())
    }
}

/// CMPP_CANCEL: withdraw a submitted message not yet delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancel {
    pub msg_id: MsgId,
}

impl Cancel {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Cancel {
            msg_id: MsgId(r.u64("msg_id")?),
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        dst.put_u64(self.msg_id.0);
    }
}

/// CMPP_CANCEL_RESP: `success_id` 0 ok, 1 failed; 1 byte in 2.0, 4 in 3.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelResp {
    pub success_id: u32,
}

impl CancelResp {
    pub(crate) fn decode(r: &mut Reader<'_>, v: CmppVersion) -> Result<Self, DecodeError> {
        Ok(CancelResp {
            success_id: get_result(r, v, "success_id")?,
        })
    }

    pub(crate) fn encode(&self, v: CmppVersion, dst: &mut BytesMut) -> Result<(), EncodeError> {
        put_result(dst, v, self.success_id, "success_id")
    }
}

/// CMPP_ACTIVE_TEST_RESP: one reserved byte.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveTestResp {
    #[serde(default)]
    pub reserved: u8,
}

impl ActiveTestResp {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ActiveTestResp {
            reserved: r.u8("reserved")?,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        dst.put_u8(self.reserved);
    }
}
