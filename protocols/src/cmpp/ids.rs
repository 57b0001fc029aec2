//! The CMPP Msg_Id and a generator for it.
//!
//! On the wire a Msg_Id is one big-endian u64 packing month 4 · day 5 ·
//! hour 5 · minute 6 · second 6 · gateway code 22 · sequence 16 bits. Ops
//! people and carrier portals show it as `MMDDHHMMSS` + the gateway code in 7
//! digits + the sequence in 5 digits (22 digits); that form is the
//! [`Display`](std::fmt::Display), the serde form, and the canonical
//! `carrier_msg_id` the reconciler matches reports on. Every u64 has such a
//! form (each field fits its digits), so the mapping is lossless both ways.
//!
//! This module never reads the clock except in [`MsgIdGenerator::next`].

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU16, Ordering};

use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A CMPP message id (see the module docs for the layout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgId(pub u64);

/// The largest gateway code (22 bits).
pub const MAX_GATEWAY: u32 = (1 << 22) - 1;

impl MsgId {
    /// Packs the fields; each is masked to its bit width.
    pub fn new(month: u8, day: u8, hour: u8, minute: u8, second: u8, gateway: u32, seq: u16) -> MsgId {
        let v = (u64::from(month) & 0xf) << 60
            | (u64::from(day) & 0x1f) << 55
            | (u64::from(hour) & 0x1f) << 50
            | (u64::from(minute) & 0x3f) << 44
            | (u64::from(second) & 0x3f) << 38
            | (u64::from(gateway) & u64::from(MAX_GATEWAY)) << 16
            | u64::from(seq);
        MsgId(v)
    }

    /// An id stamped with `t`.
    pub fn at(t: &NaiveDateTime, gateway: u32, seq: u16) -> MsgId {
        MsgId::new(
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
            gateway,
            seq,
        )
    }

    pub fn month(self) -> u8 {
        (self.0 >> 60) as u8 & 0xf
    }
    pub fn day(self) -> u8 {
        (self.0 >> 55) as u8 & 0x1f
    }
    pub fn hour(self) -> u8 {
        (self.0 >> 50) as u8 & 0x1f
    }
    pub fn minute(self) -> u8 {
        (self.0 >> 44) as u8 & 0x3f
    }
    pub fn second(self) -> u8 {
        (self.0 >> 38) as u8 & 0x3f
    }
    pub fn gateway(self) -> u32 {
        (self.0 >> 16) as u32 & MAX_GATEWAY
    }
    pub fn sequence(self) -> u16 {
        self.0 as u16
    }
}

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}{:02}{:02}{:02}{:02}{:07}{:05}",
            self.month(),
            self.day(),
            self.hour(),
            self.minute(),
            self.second(),
            self.gateway(),
            self.sequence()
        )
    }
}

/// Why a string is not a Msg_Id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a CMPP Msg_Id: {0}")]
pub struct ParseMsgIdError(String);

impl FromStr for MsgId {
    type Err = ParseMsgIdError;

    /// Accepts the 22-digit display form or a plain u64 (at most 20 digits,
    /// so the two cannot be confused).
    fn from_str(s: &str) -> Result<MsgId, ParseMsgIdError> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseMsgIdError(format!("{s:?} is not all digits")));
        }
        if s.len() != 22 {
            return s
                .parse::<u64>()
                .map(MsgId)
                .map_err(|e| ParseMsgIdError(format!("{s:?}: {e}")));
        }
        // All ASCII digits, so every slice below is on a char boundary.
        let num = |a: usize, b: usize| s[a..b].parse::<u32>().unwrap_or(u32::MAX);
        let parts = [
            ("month", num(0, 2), 15),
            ("day", num(2, 4), 31),
            ("hour", num(4, 6), 31),
            ("minute", num(6, 8), 63),
            ("second", num(8, 10), 63),
            ("gateway", num(10, 17), MAX_GATEWAY),
            ("sequence", num(17, 22), u32::from(u16::MAX)),
        ];
        for (name, value, max) in parts {
            if value > max {
                return Err(ParseMsgIdError(format!("{s:?}: {name} {value} exceeds {max}")));
            }
        }
        let [mo, d, h, mi, se, gw, sq] = parts.map(|p| p.1);
        Ok(MsgId::new(
            mo as u8, d as u8, h as u8, mi as u8, se as u8, gw, sq as u16,
        ))
    }
}

impl From<u64> for MsgId {
    fn from(v: u64) -> Self {
        MsgId(v)
    }
}

impl From<MsgId> for u64 {
    fn from(m: MsgId) -> u64 {
        m.0
    }
}

impl Serialize for MsgId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MsgId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = MsgId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CMPP Msg_Id as 22 digits MMDDHHMMSS+gateway+sequence, or a u64")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<MsgId, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<MsgId, E> {
                Ok(MsgId(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// Hands out Msg_Ids for one gateway code, with a wrapping 16-bit sequence.
/// Shareable between tasks (`&self`).
#[derive(Debug)]
pub struct MsgIdGenerator {
    gateway: u32,
    seq: AtomicU16,
}

impl MsgIdGenerator {
    /// A generator for `gateway` (masked to 22 bits), starting at sequence 0.
    pub fn new(gateway: u32) -> Self {
        Self::starting_at(gateway, 0)
    }

    /// Starts at a given sequence (a restart can resume where it left off).
    pub fn starting_at(gateway: u32, seq: u16) -> Self {
        MsgIdGenerator {
            gateway: gateway & MAX_GATEWAY,
            seq: AtomicU16::new(seq),
        }
    }

    pub fn gateway(&self) -> u32 {
        self.gateway
    }

    /// The next id, stamped with `t` (deterministic, for tests).
    pub fn next_at(&self, t: &NaiveDateTime) -> MsgId {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        MsgId::at(t, self.gateway, seq)
    }

    /// The next id, stamped with the local clock (the carriers' ids are in
    /// China time; the gateway runs in that zone).
    pub fn next(&self) -> MsgId {
        self.next_at(&crate::clock::beijing_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_displays() {
        let id = MsgId::new(12, 31, 23, 59, 58, 1234567, 65535);
        assert_eq!(
            (id.month(), id.day(), id.hour(), id.minute(), id.second()),
            (12, 31, 23, 59, 58)
        );
        assert_eq!((id.gateway(), id.sequence()), (1234567, 65535));
        assert_eq!(id.to_string(), "1231235958123456765535");
        assert_eq!("1231235958123456765535".parse::<MsgId>().unwrap(), id);
        assert_eq!(id.0.to_string().parse::<MsgId>().unwrap(), id);
        assert_eq!(
            MsgId(u64::MAX).to_string().parse::<MsgId>().unwrap(),
            MsgId(u64::MAX)
        );
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!("".parse::<MsgId>().is_err());
        assert!("12ab".parse::<MsgId>().is_err());
        assert!("1631235958123456765535".parse::<MsgId>().is_err());
        assert!("1231235958999999965535".parse::<MsgId>().is_err());
        assert!("99999999999999999999".parse::<MsgId>().is_err());
    }

    #[test]
    fn generator_wraps() {
        let t = NaiveDateTime::parse_from_str("2026-11-25 08:09:10", "%Y-%m-%d %H:%M:%S").unwrap();
        let g = MsgIdGenerator::starting_at(77, u16::MAX);
        let a = g.next_at(&t);
        let b = g.next_at(&t);
        assert_eq!(a.sequence(), u16::MAX);
        assert_eq!(b.sequence(), 0);
        assert_eq!(a.to_string(), "1125080910000007765535");
        assert_eq!(g.next().gateway(), 77);
    }
}
