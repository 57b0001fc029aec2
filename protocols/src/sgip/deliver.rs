//! DELIVER: a mobile-originated message the SMG hands to the SP (over the
//! connection the SMG opened to us). Status reports do NOT come this way in
//! SGIP: they have their own REPORT command (see `report.rs`).

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::bodies::{is_zero, read_reserve, Reserve};
use super::content::{put_content, read_content};
use crate::error::{DecodeError, EncodeError};
use crate::udh::Concat;
use crate::wire::{FixedStr, PutExt, Reader};

/// DELIVER body (missing JSON fields take their defaults).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Deliver {
    /// The sending handset, usually with the 86 prefix.
    pub user_number: FixedStr<21>,
    /// The SP access number the user wrote to.
    pub sp_number: FixedStr<21>,
    pub tp_pid: u8,
    pub tp_udhi: u8,
    /// See [`super::submit::coding`].
    pub message_coding: u8,
    /// `MessageLength` on the wire is the length of this.
    #[serde(with = "crate::wire::hex_bytes")]
    pub message_content: Bytes,
    #[serde(default, with = "crate::wire::hex_array", skip_serializing_if = "is_zero")]
    pub reserve: Reserve,
}

impl Deliver {
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
        Ok(Deliver {
            user_number: r.octets("user_number")?,
            sp_number: r.octets("sp_number")?,
            tp_pid: r.u8("tp_pid")?,
            tp_udhi: r.u8("tp_udhi")?,
            message_coding: r.u8("message_coding")?,
            message_content: read_content(r)?,
            reserve: read_reserve(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_octets(self.user_number.as_bytes(), 21, "user_number")?;
        dst.put_octets(self.sp_number.as_bytes(), 21, "sp_number")?;
        dst.put_u8(self.tp_pid);
        dst.put_u8(self.tp_udhi);
        dst.put_u8(self.message_coding);
        put_content(dst, &self.message_content)?;
        dst.put_slice(&self.reserve);
        Ok(())
    }
}
