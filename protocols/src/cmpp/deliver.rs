//! CMPP_DELIVER: a mobile-originated message or, with Registered_Delivery
//! = 1, a status report carried in Msg_Content.
//!
//! One struct for both versions, shaped like 3.0 (32-byte Src_terminal_Id
//! plus its type, LinkID); 2.0 has a 21-byte Src_terminal_Id and an 8-byte
//! Reserved instead of LinkID. Encoding refuses values the version cannot
//! carry. The content is shared with the frame buffer (no copy on decode).

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::{get_terminal, terminal_width, v2_only, v3_only, CmppVersion, MsgId, Report};
use crate::error::{DecodeError, EncodeError};
use crate::udh::Concat;
use crate::wire::{FixedStr, PutExt, Reader};

/// CMPP_DELIVER (see the module docs for the version differences).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Deliver {
    pub msg_id: MsgId,
    /// The SP's number the handset sent to.
    pub dest_id: FixedStr<21>,
    pub service_id: FixedStr<10>,
    pub tp_pid: u8,
    pub tp_udhi: u8,
    pub msg_fmt: u8,
    /// The handset; 21 bytes on the wire in 2.0, 32 in 3.0.
    pub src_terminal_id: FixedStr<32>,
    /// 3.0 only.
    #[serde(default)]
    pub src_terminal_type: u8,
    /// 1 = this is a status report (see [`Deliver::report`]).
    pub registered_delivery: u8,
    #[serde(with = "crate::wire::hex_bytes")]
    pub msg_content: Bytes,
    /// 2.0 only: the trailing Reserved.
    #[serde(with = "crate::wire::hex_array", default)]
    pub reserved: [u8; 8],
    /// 3.0 only.
    #[serde(default)]
    pub link_id: FixedStr<20>,
}

impl Deliver {
    pub(crate) fn decode(r: &mut Reader<'_>, v: CmppVersion) -> Result<Self, DecodeError> {
        let mut d = Deliver {
            msg_id: MsgId(r.u64("msg_id")?),
            dest_id: r.octets("dest_id")?,
            service_id: r.octets("service_id")?,
            tp_pid: r.u8("tp_pid")?,
            tp_udhi: r.u8("tp_udhi")?,
            msg_fmt: r.u8("msg_fmt")?,
            src_terminal_id: get_terminal(r, v, "src_terminal_id")?,
            ..Deliver::default()
        };
        if v.is_v3() {
            d.src_terminal_type = r.u8("src_terminal_type")?;
        }
        d.registered_delivery = r.u8("registered_delivery")?;
        let len = r.u8("msg_length")? as usize;
        d.msg_content = r.bytes(len, "msg_content")?;
        match v {
            CmppVersion::V20 => d.reserved = r.array("reserved")?,
            CmppVersion::V30 => d.link_id = r.octets("link_id")?,
        }
        Ok(d)
    }

    pub(crate) fn encode(&self, v: CmppVersion, dst: &mut BytesMut) -> Result<(), EncodeError> {
        v3_only(v, self.src_terminal_type == 0, "src_terminal_type")?;
        v3_only(v, self.link_id.is_empty(), "link_id")?;
        v2_only(v, self.reserved == [0; 8], "reserved")?;
        let msg_len = u8::try_from(self.msg_content.len()).map_err(|_| EncodeError::TooLong {
            field: "msg_content",
            len: self.msg_content.len(),
            max: 255,
        })?;
        dst.put_u64(self.msg_id.0);
        dst.put_octets(self.dest_id.as_bytes(), 21, "dest_id")?;
        dst.put_octets(self.service_id.as_bytes(), 10, "service_id")?;
        dst.put_u8(self.tp_pid);
        dst.put_u8(self.tp_udhi);
        dst.put_u8(self.msg_fmt);
        dst.put_octets(
            self.src_terminal_id.as_bytes(),
            terminal_width(v),
            "src_terminal_id",
        )?;
        if v.is_v3() {
            dst.put_u8(self.src_terminal_type);
        }
        dst.put_u8(self.registered_delivery);
        dst.put_u8(msg_len);
        dst.put_slice(&self.msg_content);
        match v {
            CmppVersion::V20 => dst.put_slice(&self.reserved),
            CmppVersion::V30 => dst.put_octets(self.link_id.as_bytes(), 20, "link_id")?,
        }
        Ok(())
    }

    /// Whether this DELIVER carries a status report.
    pub fn is_report(&self) -> bool {
        self.registered_delivery == 1
    }

    /// The status report in the content, when this is one. The layout
    /// (2.0: 60 bytes, 3.0: 71) is told apart by the content length, so
    /// this needs no version; a content of another length is read as far
    /// as it goes ([`Report::decode_partial`]); errors name offsets inside
    /// the content.
    pub fn report(&self) -> Result<Option<Report>, DecodeError> {
        if !self.is_report() {
            return Ok(None);
        }
        Report::decode_partial(&self.msg_content).map(Some)
    }

    /// A DELIVER carrying `report`: what an ISMG (or the simulator) sends
    /// the SP. `dest_id` is the SP number the original SUBMIT came from.
    pub fn with_report(
        msg_id: MsgId,
        dest_id: &str,
        report: &Report,
        version: CmppVersion,
    ) -> Result<Deliver, EncodeError> {
        let mut content = BytesMut::with_capacity(Report::len(version));
        report.encode(version, &mut content)?;
        Ok(Deliver {
            msg_id,
            dest_id: FixedStr::for_field("dest_id", dest_id)?,
            src_terminal_id: report.dest_terminal_id,
            registered_delivery: 1,
            msg_content: content.freeze(),
            ..Deliver::default()
        })
    }

    /// Whether the content starts with a User Data Header.
    pub fn udhi(&self) -> bool {
        self.tp_udhi != 0
    }

    pub fn set_udhi(&mut self, on: bool) {
        self.tp_udhi = u8::from(on);
    }

    /// The long-message part this is, from the UDH (when udhi is set and
    /// this is not a report).
    pub fn concat(&self) -> Option<Concat> {
        if !self.udhi() || self.is_report() {
            return None;
        }
        crate::udh::concat_in(&self.msg_content)
    }
}
