//! Submit (MT from the SP) and Submit_Resp.
//!
//! Layout: MsgType 1 · NeedReport 1 · Priority 1 · ServiceID 10 · FeeType 2 ·
//! FeeCode 6 · FixedFee 6 · MsgFormat 1 · ValidTime 17 · AtTime 17 ·
//! SrcTermID 21 · ChargeTermID 21 · DestTermIDCount 1 · DestTermID 21×n ·
//! MsgLength 1 · MsgContent · Reserve 8 · TLVs. The counts are derived from
//! the vectors on encode, so they cannot disagree. This module must never
//! interpret the content's text encoding (that is `crate::text`'s job).

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::ids::MsgId;
use super::tlv::{self, Tlv};
use crate::error::{DecodeError, EncodeError};
use crate::udh::Concat;
use crate::wire::{FixedStr, PutExt, Reader};

/// The spec's limit on DestTermIDCount.
pub const MAX_DESTINATIONS: usize = 100;

/// Submit (0x00000002).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submit {
    /// 0 MO, 6 MT, 7 point-to-point.
    pub msg_type: u8,
    pub need_report: u8,
    /// 0 (low) ..= 3 (high).
    pub priority: u8,
    pub service_id: FixedStr<10>,
    pub fee_type: FixedStr<2>,
    pub fee_code: FixedStr<6>,
    pub fixed_fee: FixedStr<6>,
    /// Data coding: 0 ASCII, 3 write-card, 4 binary, 8 UCS-2, 15 GBK.
    pub msg_format: u8,
    pub valid_time: FixedStr<17>,
    pub at_time: FixedStr<17>,
    pub src_term_id: FixedStr<21>,
    pub charge_term_id: FixedStr<21>,
    /// DestTermIDCount is its length.
    pub dest_term_ids: Vec<FixedStr<21>>,
    /// MsgLength is its length.
    #[serde(with = "crate::wire::hex_bytes")]
    pub msg_content: Bytes,
    #[serde(with = "crate::wire::hex_array", default)]
    pub reserve: [u8; 8],
    #[serde(default)]
    pub tlvs: Vec<Tlv>,
}

impl Default for Submit {
    fn default() -> Self {
        Submit {
            msg_type: 6,
            need_report: 1,
            priority: 0,
            service_id: FixedStr::empty(),
            fee_type: FixedStr::empty(),
            fee_code: FixedStr::empty(),
            fixed_fee: FixedStr::empty(),
            msg_format: 15,
            valid_time: FixedStr::empty(),
            at_time: FixedStr::empty(),
            src_term_id: FixedStr::empty(),
            charge_term_id: FixedStr::empty(),
            dest_term_ids: Vec::new(),
            msg_content: Bytes::new(),
            reserve: [0; 8],
            tlvs: Vec::new(),
        }
    }
}

impl Submit {
    /// Whether TP_udhi (TLV 0x0002) is set: the content starts with a UDH.
    pub fn udhi(&self) -> bool {
        tlv::udhi(&self.tlvs)
    }

    pub fn set_udhi(&mut self, on: bool) {
        tlv::set_udhi(&mut self.tlvs, on)
    }

    /// The long-message part this is, from the UDH or PkTotal/PkNumber.
    pub fn concat(&self) -> Option<Concat> {
        tlv::concat(&self.tlvs, &self.msg_content)
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Submit, DecodeError> {
        let msg_type = r.u8("msg_type")?;
        let need_report = r.u8("need_report")?;
        let priority = r.u8("priority")?;
        let service_id = r.octets("service_id")?;
        let fee_type = r.octets("fee_type")?;
        let fee_code = r.octets("fee_code")?;
        let fixed_fee = r.octets("fixed_fee")?;
        let msg_format = r.u8("msg_format")?;
        let valid_time = r.octets("valid_time")?;
        let at_time = r.octets("at_time")?;
        let src_term_id = r.octets("src_term_id")?;
        let charge_term_id = r.octets("charge_term_id")?;
        let count_at = r.offset();
        let count = usize::from(r.u8("dest_term_id_count")?);
        if count > MAX_DESTINATIONS {
            return Err(DecodeError::InvalidValue {
                field: "dest_term_id_count",
                offset: count_at,
                message: format!("{count} destinations, at most {MAX_DESTINATIONS} allowed"),
            });
        }
        // Checked before allocating, so a bad count cannot reserve memory the
        // frame does not back.
        if r.remaining() < count * 21 {
            return Err(DecodeError::Truncated {
                field: "dest_term_id",
                offset: r.offset(),
                needed: count * 21,
                available: r.remaining(),
            });
        }
        let mut dest_term_ids = Vec::with_capacity(count);
        for _ in 0..count {
            dest_term_ids.push(r.octets("dest_term_id")?);
        }
        let len = usize::from(r.u8("msg_length")?);
        let msg_content = r.bytes(len, "msg_content")?;
        let reserve = r.array("reserve")?;
        let tlvs = tlv::decode_tlvs(r)?;
        Ok(Submit {
            msg_type,
            need_report,
            priority,
            service_id,
            fee_type,
            fee_code,
            fixed_fee,
            msg_format,
            valid_time,
            at_time,
            src_term_id,
            charge_term_id,
            dest_term_ids,
            msg_content,
            reserve,
            tlvs,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_u8(self.msg_type);
        dst.put_u8(self.need_report);
        dst.put_u8(self.priority);
        dst.put_octets(self.service_id.as_bytes(), 10, "service_id")?;
        dst.put_octets(self.fee_type.as_bytes(), 2, "fee_type")?;
        dst.put_octets(self.fee_code.as_bytes(), 6, "fee_code")?;
        dst.put_octets(self.fixed_fee.as_bytes(), 6, "fixed_fee")?;
        dst.put_u8(self.msg_format);
        dst.put_octets(self.valid_time.as_bytes(), 17, "valid_time")?;
        dst.put_octets(self.at_time.as_bytes(), 17, "at_time")?;
        dst.put_octets(self.src_term_id.as_bytes(), 21, "src_term_id")?;
        dst.put_octets(self.charge_term_id.as_bytes(), 21, "charge_term_id")?;
        if self.dest_term_ids.len() > MAX_DESTINATIONS {
            return Err(EncodeError::TooLong {
                field: "dest_term_ids",
                len: self.dest_term_ids.len(),
                max: MAX_DESTINATIONS,
            });
        }
        dst.put_u8(self.dest_term_ids.len() as u8);
        for d in &self.dest_term_ids {
            dst.put_octets(d.as_bytes(), 21, "dest_term_id")?;
        }
        put_content(dst, &self.msg_content)?;
        dst.put_slice(&self.reserve);
        tlv::encode_tlvs(&self.tlvs, dst)
    }
}

/// MsgLength then MsgContent.
pub(crate) fn put_content(dst: &mut BytesMut, content: &[u8]) -> Result<(), EncodeError> {
    let len = u8::try_from(content.len()).map_err(|_| EncodeError::TooLong {
        field: "msg_content",
        len: content.len(),
        max: u8::MAX as usize,
    })?;
    dst.put_u8(len);
    dst.put_slice(content);
    Ok(())
}

/// The body of Submit_Resp (0x80000002) and Deliver_Resp (0x80000003):
/// MsgID 10 · Status 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsgResp {
    pub msg_id: MsgId,
    pub status: u32,
}

/// Submit_Resp (0x80000002).
pub type SubmitResp = MsgResp;

impl MsgResp {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<MsgResp, DecodeError> {
        let s = MsgResp {
            msg_id: MsgId(r.array("msg_id")?),
            status: r.u32("status")?,
        };
        r.finish()?;
        Ok(s)
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_slice(&self.msg_id.0);
        dst.put_u32(self.status);
        Ok(())
    }
}
