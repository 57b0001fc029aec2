//! SUBMIT: an SP's mobile-terminated message to one or more users.
//!
//! Values are carried as received (flags, fee codes, times are the SMG's to
//! judge); this module only enforces what the layout needs: text fields fit
//! their widths, up to 255 user numbers, content length fits a u32.

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::bodies::{byte_of, is_zero, read_reserve, Reserve};
use super::content::{put_content, read_content};
use crate::error::{DecodeError, EncodeError};
use crate::udh::Concat;
use crate::wire::{FixedStr, PutExt, Reader};

/// Values of `report_flag`.
pub mod report_flag {
    /// Report only when the message finally fails (the default).
    pub const ON_FAILURE: u8 = 0;
    /// Report whatever happens.
    pub const ALWAYS: u8 = 1;
    /// No report.
    pub const NEVER: u8 = 2;
    /// Monthly-fee billing message, not shown to the user; report wanted.
    pub const BILLING_ONLY: u8 = 3;
}

/// Values of `message_coding` (the ones Unicom SMGs accept).
pub mod coding {
    pub const ASCII: u8 = 0;
    pub const WRITE_CARD: u8 = 3;
    pub const BINARY: u8 = 4;
    pub const UCS2: u8 = 8;
    pub const GBK: u8 = 15;
}

/// SUBMIT body. In JSON, missing fields take the [`Default`] values (so a
/// hand-written `smsgw pdu encode` input can name only what matters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Submit {
    pub sp_number: FixedStr<21>,
    /// The number billed; all zeros means the SP pays, empty the receiver.
    pub charge_number: FixedStr<21>,
    /// `UserCount` on the wire is the length of this list (the spec allows
    /// 1..=100; the SMG enforces that, the codec only the byte's 255).
    pub user_numbers: Vec<FixedStr<21>>,
    pub corp_id: FixedStr<5>,
    pub service_type: FixedStr<10>,
    pub fee_type: u8,
    pub fee_value: FixedStr<6>,
    pub given_value: FixedStr<6>,
    pub agent_flag: u8,
    pub morelateto_mt_flag: u8,
    pub priority: u8,
    pub expire_time: FixedStr<16>,
    pub schedule_time: FixedStr<16>,
    /// See [`report_flag`].
    pub report_flag: u8,
    pub tp_pid: u8,
    pub tp_udhi: u8,
    /// See [`coding`].
    pub message_coding: u8,
    /// 0 = SMS.
    pub message_type: u8,
    /// `MessageLength` on the wire is the length of this.
    #[serde(with = "crate::wire::hex_bytes")]
    pub message_content: Bytes,
    #[serde(default, with = "crate::wire::hex_array", skip_serializing_if = "is_zero")]
    pub reserve: Reserve,
}

impl Default for Submit {
    fn default() -> Self {
        Submit {
            sp_number: FixedStr::empty(),
            charge_number: FixedStr::empty(),
            user_numbers: Vec::new(),
            corp_id: FixedStr::empty(),
            service_type: FixedStr::empty(),
            fee_type: 0,
            fee_value: FixedStr::empty(),
            given_value: FixedStr::empty(),
            agent_flag: 0,
            morelateto_mt_flag: 0,
            priority: 0,
            expire_time: FixedStr::empty(),
            schedule_time: FixedStr::empty(),
            report_flag: report_flag::ALWAYS,
            tp_pid: 0,
            tp_udhi: 0,
            message_coding: coding::ASCII,
            message_type: 0,
            message_content: Bytes::new(),
            reserve: Reserve::default(),
        }
    }
}

impl Submit {
    pub fn udhi(&self) -> bool {
        self.tp_udhi & 0x01 != 0
    }

    pub fn set_udhi(&mut self, on: bool) {
        self.tp_udhi = (self.tp_udhi & !0x01) | u8::from(on);
    }

    /// Which part of a long message this is, from the UDH when udhi is set.
    pub fn concat(&self) -> Option<Concat> {
        if self.udhi() {
            crate::udh::concat_in(&self.message_content)
        } else {
            None
        }
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let sp_number = r.octets("sp_number")?;
        let charge_number = r.octets("charge_number")?;
        let user_count = r.u8("user_count")?;
        let mut user_numbers = Vec::with_capacity((user_count as usize).min(r.remaining() / 21));
        for _ in 0..user_count {
            user_numbers.push(r.octets("user_number")?);
        }
        Ok(Submit {
            sp_number,
            charge_number,
            user_numbers,
            corp_id: r.octets("corp_id")?,
            service_type: r.octets("service_type")?,
            fee_type: r.u8("fee_type")?,
            fee_value: r.octets("fee_value")?,
            given_value: r.octets("given_value")?,
            agent_flag: r.u8("agent_flag")?,
            morelateto_mt_flag: r.u8("morelateto_mt_flag")?,
            priority: r.u8("priority")?,
            expire_time: r.octets("expire_time")?,
            schedule_time: r.octets("schedule_time")?,
            report_flag: r.u8("report_flag")?,
            tp_pid: r.u8("tp_pid")?,
            tp_udhi: r.u8("tp_udhi")?,
            message_coding: r.u8("message_coding")?,
            message_type: r.u8("message_type")?,
            message_content: read_content(r)?,
            reserve: read_reserve(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_octets(self.sp_number.as_bytes(), 21, "sp_number")?;
        dst.put_octets(self.charge_number.as_bytes(), 21, "charge_number")?;
        dst.put_u8(byte_of(self.user_numbers.len(), "user_count")?);
        for u in &self.user_numbers {
            dst.put_octets(u.as_bytes(), 21, "user_number")?;
        }
        dst.put_octets(self.corp_id.as_bytes(), 5, "corp_id")?;
        dst.put_octets(self.service_type.as_bytes(), 10, "service_type")?;
        dst.put_u8(self.fee_type);
        dst.put_octets(self.fee_value.as_bytes(), 6, "fee_value")?;
        dst.put_octets(self.given_value.as_bytes(), 6, "given_value")?;
        dst.put_u8(self.agent_flag);
        dst.put_u8(self.morelateto_mt_flag);
        dst.put_u8(self.priority);
        dst.put_octets(self.expire_time.as_bytes(), 16, "expire_time")?;
        dst.put_octets(self.schedule_time.as_bytes(), 16, "schedule_time")?;
        dst.put_u8(self.report_flag);
        dst.put_u8(self.tp_pid);
        dst.put_u8(self.tp_udhi);
        dst.put_u8(self.message_coding);
        dst.put_u8(self.message_type);
        put_content(dst, &self.message_content)?;
        dst.put_slice(&self.reserve);
        Ok(())
    }
}
