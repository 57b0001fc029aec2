//! Query / Query_Resp: the SP asks the ISMG for its traffic counters.
//!
//! Not in our README; layout from the SMGP 3.0 spec: Query = Time 8
//! (YYYYMMDD) · QueryType 1 (0 totals, 1 by service) · QueryCode 10;
//! Query_Resp = the same three · MT_TLMsg · MT_TLUsr · MT_Scs · MT_WT ·
//! MT_FL · MO_Scs · MO_WT · MO_FL (4 each) · Reserve 8. Nothing here
//! interprets the counters.

use bytes::{BufMut, BytesMut};
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, EncodeError};
use crate::wire::{FixedStr, PutExt, Reader};

/// Query (0x00000007).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// YYYYMMDD.
    pub time: FixedStr<8>,
    pub query_type: u8,
    pub query_code: FixedStr<10>,
}

impl Query {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Query, DecodeError> {
        let q = Query {
            time: r.octets("time")?,
            query_type: r.u8("query_type")?,
            query_code: r.octets("query_code")?,
        };
        r.finish()?;
        Ok(q)
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_octets(self.time.as_bytes(), 8, "time")?;
        dst.put_u8(self.query_type);
        dst.put_octets(self.query_code.as_bytes(), 10, "query_code")
    }
}

/// Query_Resp (0x80000007).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResp {
    pub time: FixedStr<8>,
    pub query_type: u8,
    pub query_code: FixedStr<10>,
    /// MT messages received from the SP.
    pub mt_tl_msg: u32,
    /// MT users.
    pub mt_tl_usr: u32,
    /// MT forwarded successfully.
    pub mt_scs: u32,
    /// MT waiting.
    pub mt_wt: u32,
    /// MT failed.
    pub mt_fl: u32,
    pub mo_scs: u32,
    pub mo_wt: u32,
    pub mo_fl: u32,
    #[serde(with = "crate::wire::hex_array", default)]
    pub reserve: [u8; 8],
}

impl QueryResp {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<QueryResp, DecodeError> {
        let q = QueryResp {
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
            reserve: r.array("reserve")?,
        };
        r.finish()?;
        Ok(q)
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_octets(self.time.as_bytes(), 8, "time")?;
        dst.put_u8(self.query_type);
        dst.put_octets(self.query_code.as_bytes(), 10, "query_code")?;
        for v in [
            self.mt_tl_msg,
            self.mt_tl_usr,
            self.mt_scs,
            self.mt_wt,
            self.mt_fl,
            self.mo_scs,
            self.mo_wt,
            self.mo_fl,
        ] {
            dst.put_u32(v);
        }
        dst.put_slice(&self.reserve);
        Ok(())
    }
}
