//! CMPP_SUBMIT: a mobile-terminated message from the SP.
//!
//! One struct for both versions, shaped like 3.0. Under 2.0 the terminal ids
//! are 21 bytes wide, there is no Fee_terminal_type, Dest_terminal_type or
//! LinkID, and an 8-byte Reserve ends the body; under 3.0 the Reserve is
//! gone. Encoding refuses a value the version cannot carry rather than drop
//! it. The content is shared with the frame buffer (no copy on decode).

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::{get_terminal, terminal_width, v2_only, v3_only, CmppVersion, MsgId};
use crate::error::{DecodeError, EncodeError};
use crate::udh::Concat;
use crate::wire::{FixedStr, PutExt, Reader};

/// The most destinations one SUBMIT may carry (DestUsr_tl).
pub const MAX_DESTINATIONS: usize = 100;

/// CMPP_SUBMIT (see the module docs for the version differences).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Submit {
    /// Zero from the SP; the ISMG assigns the real id in SUBMIT_RESP.
    #[serde(default)]
    pub msg_id: MsgId,
    pub pk_total: u8,
    pub pk_number: u8,
    /// 1 = ask for a status report.
    pub registered_delivery: u8,
    pub msg_level: u8,
    pub service_id: FixedStr<10>,
    /// 0 charge the destination, 1 the source, 2 the SP, 3 fee_terminal_id.
    pub fee_user_type: u8,
    /// 21 bytes on the wire in 2.0, 32 in 3.0.
    pub fee_terminal_id: FixedStr<32>,
    /// 3.0 only: 0 real number, 1 pseudo code.
    #[serde(default)]
    pub fee_terminal_type: u8,
    pub tp_pid: u8,
    /// 1 when the content starts with a User Data Header.
    pub tp_udhi: u8,
    /// Data coding: 0 ASCII, 3 write-card, 4 binary, 8 UCS-2, 15 GBK.
    pub msg_fmt: u8,
    /// The SP id.
    pub msg_src: FixedStr<6>,
    pub fee_type: FixedStr<2>,
    pub fee_code: FixedStr<6>,
    pub valid_time: FixedStr<17>,
    pub at_time: FixedStr<17>,
    /// The number the handset sees as the sender.
    pub src_id: FixedStr<21>,
    /// 1..=100 numbers; 21 bytes each on the wire in 2.0, 32 in 3.0.
    pub dest_terminal_ids: Vec<FixedStr<32>>,
    /// 3.0 only.
    #[serde(default)]
    pub dest_terminal_type: u8,
    #[serde(with = "crate::wire::hex_bytes")]
    pub msg_content: Bytes,
    /// 2.0 only: the trailing Reserve.
    #[serde(with = "crate::wire::hex_array", default)]
    pub reserve: [u8; 8],
    /// 3.0 only: the on-demand service link id.
    #[serde(default)]
    pub link_id: FixedStr<20>,
}

impl Submit {
    pub(crate) fn decode(r: &mut Reader<'_>, v: CmppVersion) -> Result<Self, DecodeError> {
        let mut s = Submit {
            msg_id: MsgId(r.u64("msg_id")?),
            pk_total: r.u8("pk_total")?,
            pk_number: r.u8("pk_number")?,
            registered_delivery: r.u8("registered_delivery")?,
            msg_level: r.u8("msg_level")?,
            service_id: r.octets("service_id")?,
            fee_user_type: r.u8("fee_user_type")?,
            fee_terminal_id: get_terminal(r, v, "fee_terminal_id")?,
            ..Submit::default()
        };
        if v.is_v3() {
            s.fee_terminal_type = r.u8("fee_terminal_type")?;
        }
        s.tp_pid = r.u8("tp_pid")?;
        s.tp_udhi = r.u8("tp_udhi")?;
        s.msg_fmt = r.u8("msg_fmt")?;
        s.msg_src = r.octets("msg_src")?;
        s.fee_type = r.octets("fee_type")?;
        s.fee_code = r.octets("fee_code")?;
        s.valid_time = r.octets("valid_time")?;
        s.at_time = r.octets("at_time")?;
        s.src_id = r.octets("src_id")?;
        let count_at = r.offset();
        let count = r.u8("dest_usr_tl")? as usize;
        if count > MAX_DESTINATIONS {
            return Err(DecodeError::InvalidValue {
                field: "dest_usr_tl",
                offset: count_at,
                message: format!("{count} destinations, at most {MAX_DESTINATIONS} allowed"),
            });
        }
        // Check the whole list fits before allocating room for it.
        let width = terminal_width(v);
        if r.remaining() < count * width {
            return Err(DecodeError::Truncated {
                field: "dest_terminal_id",
                offset: r.offset(),
                needed: count * width,
                available: r.remaining(),
            });
        }
        s.dest_terminal_ids.reserve_exact(count);
        for _ in 0..count {
            s.dest_terminal_ids.push(get_terminal(r, v, "dest_terminal_id")?);
        }
        if v.is_v3() {
            s.dest_terminal_type = r.u8("dest_terminal_type")?;
        }
        let len = r.u8("msg_length")? as usize;
        s.msg_content = r.bytes(len, "msg_content")?;
        match v {
            CmppVersion::V20 => s.reserve = r.array("reserve")?,
            CmppVersion::V30 => s.link_id = r.octets("link_id")?,
        }
        Ok(s)
    }

    pub(crate) fn encode(&self, v: CmppVersion, dst: &mut BytesMut) -> Result<(), EncodeError> {
        v3_only(v, self.fee_terminal_type == 0, "fee_terminal_type")?;
        v3_only(v, self.dest_terminal_type == 0, "dest_terminal_type")?;
        v3_only(v, self.link_id.is_empty(), "link_id")?;
        v2_only(v, self.reserve == [0; 8], "reserve")?;
        if self.dest_terminal_ids.len() > MAX_DESTINATIONS {
            return Err(EncodeError::TooLong {
                field: "dest_terminal_ids",
                len: self.dest_terminal_ids.len(),
                max: MAX_DESTINATIONS,
            });
        }
        let msg_len = u8::try_from(self.msg_content.len()).map_err(|_| EncodeError::TooLong {
            field: "msg_content",
            len: self.msg_content.len(),
            max: 255,
        })?;
        let width = terminal_width(v);
        dst.put_u64(self.msg_id.0);
        dst.put_u8(self.pk_total);
        dst.put_u8(self.pk_number);
        dst.put_u8(self.registered_delivery);
        dst.put_u8(self.msg_level);
        dst.put_octets(self.service_id.as_bytes(), 10, "service_id")?;
        dst.put_u8(self.fee_user_type);
        dst.put_octets(self.fee_terminal_id.as_bytes(), width, "fee_terminal_id")?;
        if v.is_v3() {
            dst.put_u8(self.fee_terminal_type);
        }
        dst.put_u8(self.tp_pid);
        dst.put_u8(self.tp_udhi);
        dst.put_u8(self.msg_fmt);
        dst.put_octets(self.msg_src.as_bytes(), 6, "msg_src")?;
        dst.put_octets(self.fee_type.as_bytes(), 2, "fee_type")?;
        dst.put_octets(self.fee_code.as_bytes(), 6, "fee_code")?;
        dst.put_octets(self.valid_time.as_bytes(), 17, "valid_time")?;
        dst.put_octets(self.at_time.as_bytes(), 17, "at_time")?;
        dst.put_octets(self.src_id.as_bytes(), 21, "src_id")?;
        // At most 100, checked above.
        dst.put_u8(self.dest_terminal_ids.len() as u8);
        for d in &self.dest_terminal_ids {
            dst.put_octets(d.as_bytes(), width, "dest_terminal_id")?;
        }
        if v.is_v3() {
            dst.put_u8(self.dest_terminal_type);
        }
        dst.put_u8(msg_len);
        dst.put_slice(&self.msg_content);
        match v {
            CmppVersion::V20 => dst.put_slice(&self.reserve),
            CmppVersion::V30 => dst.put_octets(self.link_id.as_bytes(), 20, "link_id")?,
        }
        Ok(())
    }

    /// Whether the content starts with a User Data Header.
    pub fn udhi(&self) -> bool {
        self.tp_udhi != 0
    }

    pub fn set_udhi(&mut self, on: bool) {
        self.tp_udhi = u8::from(on);
    }

    /// The long-message part this is, from the UDH (when udhi is set).
    pub fn concat(&self) -> Option<Concat> {
        if !self.udhi() {
            return None;
        }
        crate::udh::concat_in(&self.msg_content)
    }
}
