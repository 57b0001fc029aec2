//! Session PDUs: bind_transmitter / receiver / transceiver (one [`Bind`]
//! body for all three), their responses, and outbind.
//!
//! Only layout lives here: checking a password or choosing a bind status is
//! the session's job, never this module's.

use bytes::{BufMut, BytesMut};
use serde::{Deserialize, Serialize};

use super::tlv::{Tlv, Tlvs};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{FixedStr, PutExt, Reader};

/// SMPP 3.4 as `interface_version`.
pub const INTERFACE_VERSION_34: u8 = 0x34;

/// The body of bind_transmitter, bind_receiver and bind_transceiver.
/// `Debug` masks the password (logs must never carry it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bind {
    pub system_id: FixedStr<15>,
    pub password: FixedStr<8>,
    #[serde(default)]
    pub system_type: FixedStr<12>,
    #[serde(default = "default_version")]
    pub interface_version: u8,
    #[serde(default)]
    pub addr_ton: u8,
    #[serde(default)]
    pub addr_npi: u8,
    #[serde(default)]
    pub address_range: FixedStr<40>,
}

fn default_version() -> u8 {
    INTERFACE_VERSION_34
}

impl std::fmt::Debug for Bind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bind")
            .field("system_id", &self.system_id)
            .field("password", &crate::wire::MASKED)
            .field("system_type", &self.system_type)
            .field("interface_version", &self.interface_version)
            .field("addr_ton", &self.addr_ton)
            .field("addr_npi", &self.addr_npi)
            .field("address_range", &self.address_range)
            .finish()
    }
}

impl std::fmt::Debug for Outbind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbind")
            .field("system_id", &self.system_id)
            .field("password", &crate::wire::MASKED)
            .finish()
    }
}

impl Bind {
    /// A 3.4 bind with the given credentials and everything else empty.
    pub fn new(system_id: &str, password: &str) -> Result<Bind, EncodeError> {
        Ok(Bind {
            system_id: FixedStr::for_field("system_id", system_id)?,
            password: FixedStr::for_field("password", password)?,
            system_type: FixedStr::empty(),
            interface_version: INTERFACE_VERSION_34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: FixedStr::empty(),
        })
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<Bind, DecodeError> {
        let b = Bind {
            system_id: r.cstr("system_id")?,
            password: r.cstr("password")?,
            system_type: r.cstr("system_type")?,
            interface_version: r.u8("interface_version")?,
            addr_ton: r.u8("addr_ton")?,
            addr_npi: r.u8("addr_npi")?,
            address_range: r.cstr("address_range")?,
        };
        r.finish()?;
        Ok(b)
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_cstr(self.system_id.as_bytes(), 16, "system_id")?;
        dst.put_cstr(self.password.as_bytes(), 9, "password")?;
        dst.put_cstr(self.system_type.as_bytes(), 13, "system_type")?;
        dst.put_u8(self.interface_version);
        dst.put_u8(self.addr_ton);
        dst.put_u8(self.addr_npi);
        dst.put_cstr(self.address_range.as_bytes(), 41, "address_range")
    }
}

/// The body of the three bind responses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindResp {
    #[serde(default)]
    pub system_id: FixedStr<15>,
    #[serde(default, skip_serializing_if = "Tlvs::is_empty")]
    pub tlvs: Tlvs,
}

impl BindResp {
    /// A response naming the SMSC and announcing SMPP 3.4.
    pub fn new(system_id: &str) -> Result<BindResp, EncodeError> {
        Ok(BindResp {
            system_id: FixedStr::for_field("system_id", system_id)?,
            tlvs: Tlvs(vec![Tlv::ScInterfaceVersion(INTERFACE_VERSION_34)]),
        })
    }

    pub fn sc_interface_version(&self) -> Option<u8> {
        self.tlvs.sc_interface_version()
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<BindResp, DecodeError> {
        // A rejected bind is often answered with no body at all.
        if r.remaining() == 0 {
            return Ok(BindResp::default());
        }
        Ok(BindResp {
            system_id: r.cstr("system_id")?,
            tlvs: Tlvs::decode(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_cstr(self.system_id.as_bytes(), 16, "system_id")?;
        self.tlvs.encode(dst)
    }
}

/// outbind: the SMSC asks the ESME to bind as a receiver (`Debug` masks
/// the password).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbind {
    pub system_id: FixedStr<15>,
    #[serde(default)]
    pub password: FixedStr<8>,
}

impl Outbind {
    pub fn decode(r: &mut Reader<'_>) -> Result<Outbind, DecodeError> {
        let o = Outbind {
            system_id: r.cstr("system_id")?,
            password: r.cstr("password")?,
        };
        r.finish()?;
        Ok(o)
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_cstr(self.system_id.as_bytes(), 16, "system_id")?;
        dst.put_cstr(self.password.as_bytes(), 9, "password")
    }
}

#[cfg(test)]
mod debug_tests {
    #[test]
    fn debug_output_never_shows_a_bind_password() {
        let b = super::Bind::new("sys", "s3cr3t").expect("bind");
        assert!(!format!("{b:?}").contains("s3cr3t"));
        let sgip = crate::sgip::bodies::Bind::new(1, "login", "pw-secret").expect("bind");
        assert!(!format!("{sgip:?}").contains("pw-secret"));
    }
}
