//! The SMGP message id: 10 bytes of BCD, 20 digits = SMGW code (6) ·
//! MMDDHHMM (8) · sequence (6).
//!
//! Its [`Display`](std::fmt::Display) (the 20 digits) is the canonical form:
//! it is what ops see in logs and what [`DeliveryReport::carrier_msg_id`]
//! holds, so a submit response and its status report match. Non-BCD nibbles
//! (some gateways put binary there) display as hex digits, so every id on the
//! wire still displays, parses and re-encodes losslessly. This module must
//! never reinterpret the id (e.g. as a number): it is matched as a string.
//!
//! [`DeliveryReport::carrier_msg_id`]: crate::report::DeliveryReport::carrier_msg_id

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 10-byte BCD SMGP message id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MsgId(pub [u8; 10]);

/// Why a string is not a message id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SMGP MsgID must be 20 (hex) digits, got {0:?}")]
pub struct BadMsgId(pub String);

impl MsgId {
    /// Builds an id from its parts; each part is taken modulo its width.
    pub fn new(smgw_code: u32, month: u32, day: u32, hour: u32, minute: u32, sequence: u32) -> MsgId {
        let digits = format!(
            "{:06}{:02}{:02}{:02}{:02}{:06}",
            smgw_code % 1_000_000,
            month % 100,
            day % 100,
            hour % 100,
            minute % 100,
            sequence % 1_000_000
        );
        // Only decimal digits went in, so the parse cannot fail.
        digits.parse().unwrap_or_default()
    }

    fn digits(&self, from: usize, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for i in from..from + n {
            let byte = self.0[i / 2];
            let nib = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
            if nib > 9 {
                return None;
            }
            v = v * 10 + u32::from(nib);
        }
        Some(v)
    }

    /// The 6-digit SMGW (gateway) code, if the digits are BCD.
    pub fn smgw_code(&self) -> Option<u32> {
        self.digits(0, 6)
    }

    /// The MMDDHHMM part as a number, if BCD.
    pub fn time(&self) -> Option<u32> {
        self.digits(6, 8)
    }

    /// The 6-digit sequence, if BCD.
    pub fn sequence(&self) -> Option<u32> {
        self.digits(14, 6)
    }
}

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 20];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        f.write_str(std::str::from_utf8(&out).unwrap_or(""))
    }
}

impl fmt::Debug for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MsgId({self})")
    }
}

impl FromStr for MsgId {
    type Err = BadMsgId;

    fn from_str(s: &str) -> Result<MsgId, BadMsgId> {
        if s.len() != 20 {
            return Err(BadMsgId(s.to_owned()));
        }
        let mut id = [0u8; 10];
        hex::decode_to_slice(s, &mut id).map_err(|_| BadMsgId(s.to_owned()))?;
        Ok(MsgId(id))
    }
}

impl Serialize for MsgId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MsgId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Hands out message ids for one SMGW code (the simulator's ISMG side).
#[derive(Debug)]
pub struct MsgIdGenerator {
    /// The 6-digit gateway code at the front of every id.
    pub smgw_code: u32,
    seq: AtomicU32,
}

impl MsgIdGenerator {
    pub fn new(smgw_code: u32) -> Self {
        MsgIdGenerator {
            smgw_code,
            seq: AtomicU32::new(0),
        }
    }

    /// The next id stamped with time `t`; the sequence wraps after 999999.
    pub fn next_at(&self, t: &NaiveDateTime) -> MsgId {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) % 1_000_000;
        MsgId::new(self.smgw_code, t.month(), t.day(), t.hour(), t.minute(), seq)
    }

    /// The next id stamped with the local time now (ISMGs use local time).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&self) -> MsgId {
        self.next_at(&crate::clock::beijing_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn bcd_parts_display_and_parse() {
        let id = MsgId::new(123456, 11, 25, 23, 59, 42);
        assert_eq!(id.0, [0x12, 0x34, 0x56, 0x11, 0x25, 0x23, 0x59, 0x00, 0x00, 0x42]);
        assert_eq!(id.to_string(), "12345611252359000042");
        assert_eq!("12345611252359000042".parse::<MsgId>().unwrap(), id);
        assert_eq!(id.smgw_code(), Some(123456));
        assert_eq!(id.time(), Some(11252359));
        assert_eq!(id.sequence(), Some(42));
        assert!("1234".parse::<MsgId>().is_err());
        assert!("1234561125235900004x".parse::<MsgId>().is_err());
        let odd = MsgId([0xab; 10]);
        assert_eq!(odd.smgw_code(), None);
        assert_eq!(odd.to_string().parse::<MsgId>().unwrap(), odd);
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"12345611252359000042\"");
    }

    #[test]
    fn generator_counts_and_wraps() {
        let g = MsgIdGenerator::new(59001);
        let t = NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(8, 5, 0)
            .unwrap();
        assert_eq!(g.next_at(&t).to_string(), "05900103010805000000");
        assert_eq!(g.next_at(&t).to_string(), "05900103010805000001");
        g.seq.store(999_999, Ordering::Relaxed);
        assert_eq!(g.next_at(&t).sequence(), Some(999_999));
        assert_eq!(g.next_at(&t).sequence(), Some(0));
        assert_eq!(g.next().smgw_code(), Some(59001));
    }
}
