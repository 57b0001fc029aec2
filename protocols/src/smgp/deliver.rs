//! Deliver (MO messages and status reports from the ISMG) and Deliver_Resp.
//!
//! Layout: MsgID 10 · IsReport 1 · MsgFormat 1 · RecvTime 14
//! (YYYYMMDDHHMMSS) · SrcTermID 21 · DestTermID 21 · MsgLength 1 ·
//! MsgContent · Reserve 8 · TLVs. With IsReport = 1 the content is a
//! [`Report`]. This module never acknowledges anything itself: answering is
//! the session's job.

use bytes::{BufMut, Bytes, BytesMut};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::ids::MsgId;
use super::report::Report;
use super::submit::put_content;
use super::tlv::{self, Tlv};
use crate::error::{DecodeError, EncodeError};
use crate::report::DeliveryReport;
use crate::udh::Concat;
use crate::wire::{FixedStr, PutExt, Reader};

/// Deliver (0x00000003).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deliver {
    /// The ISMG's id of this MO (not the reported message's id: that is in
    /// the report).
    pub msg_id: MsgId,
    /// 1: the content is a status report.
    pub is_report: u8,
    pub msg_format: u8,
    /// YYYYMMDDHHMMSS.
    pub recv_time: FixedStr<14>,
    pub src_term_id: FixedStr<21>,
    pub dest_term_id: FixedStr<21>,
    /// MsgLength is its length.
    #[serde(with = "crate::wire::hex_bytes")]
    pub msg_content: Bytes,
    #[serde(with = "crate::wire::hex_array", default)]
    pub reserve: [u8; 8],
    #[serde(default)]
    pub tlvs: Vec<Tlv>,
}

impl Deliver {
    /// A report Deliver (what the simulator sends): `src_term_id` is the
    /// handset the message went to, `dest_term_id` the SP's number.
    pub fn new_report(
        msg_id: MsgId,
        report: &Report,
        src_term_id: &str,
        dest_term_id: &str,
        recv_time: &NaiveDateTime,
    ) -> Result<Deliver, EncodeError> {
        Ok(Deliver {
            msg_id,
            is_report: 1,
            msg_format: 0,
            recv_time: FixedStr::for_field("recv_time", &recv_time.format("%Y%m%d%H%M%S").to_string())?,
            src_term_id: FixedStr::for_field("src_term_id", src_term_id)?,
            dest_term_id: FixedStr::for_field("dest_term_id", dest_term_id)?,
            msg_content: report.to_bytes()?,
            reserve: [0; 8],
            tlvs: Vec::new(),
        })
    }

    /// The status report in the content, when `is_report` is 1.
    pub fn report(&self) -> Option<Result<Report, DecodeError>> {
        (self.is_report == 1).then(|| Report::decode(&self.msg_content))
    }

    /// The carrier-neutral report with the handset filled in from
    /// `src_term_id`, when `is_report` is 1.
    pub fn delivery_report(&self) -> Option<Result<DeliveryReport, DecodeError>> {
        self.report().map(|r| {
            r.map(|r| DeliveryReport {
                destination: Some(self.src_term_id.to_string()),
                ..r.to_delivery_report()
            })
        })
    }

    /// Whether TP_udhi (TLV 0x0002) is set: the content starts with a UDH.
    pub fn udhi(&self) -> bool {
        tlv::udhi(&self.tlvs)
    }

    pub fn set_udhi(&mut self, on: bool) {
        tlv::set_udhi(&mut self.tlvs, on)
    }

    /// The long-message part this is, from the UDH or PkTotal/PkNumber.
    pub fn concat(&self) -> Option<Concat> {
        if self.is_report == 1 {
            return None;
        }
        tlv::concat(&self.tlvs, &self.msg_content)
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Deliver, DecodeError> {
        let msg_id = MsgId(r.array("msg_id")?);
        let is_report = r.u8("is_report")?;
        let msg_format = r.u8("msg_format")?;
        let recv_time = r.octets("recv_time")?;
        let src_term_id = r.octets("src_term_id")?;
        let dest_term_id = r.octets("dest_term_id")?;
        let len = usize::from(r.u8("msg_length")?);
        let msg_content = r.bytes(len, "msg_content")?;
        let reserve = r.array("reserve")?;
        let tlvs = tlv::decode_tlvs(r)?;
        Ok(Deliver {
            msg_id,
            is_report,
            msg_format,
            recv_time,
            src_term_id,
            dest_term_id,
            msg_content,
            reserve,
            tlvs,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_slice(&self.msg_id.0);
        dst.put_u8(self.is_report);
        dst.put_u8(self.msg_format);
        dst.put_octets(self.recv_time.as_bytes(), 14, "recv_time")?;
        dst.put_octets(self.src_term_id.as_bytes(), 21, "src_term_id")?;
        dst.put_octets(self.dest_term_id.as_bytes(), 21, "dest_term_id")?;
        put_content(dst, &self.msg_content)?;
        dst.put_slice(&self.reserve);
        tlv::encode_tlvs(&self.tlvs, dst)
    }
}

/// Deliver_Resp (0x80000003): the same MsgID 10 · Status 4 layout as Submit_Resp.
pub type DeliverResp = super::submit::MsgResp;
