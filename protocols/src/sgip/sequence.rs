//! The SGIP 12-byte sequence number: who sent the request (node id), when
//! (MMDDHHMMSS), and a counter. It is also the carrier message id of a
//! SUBMIT: the REPORT's `SubmitSequenceNumber` repeats it, so its display
//! form is the key the reconciler matches reports on.
//!
//! Display form (the choice, so every crate agrees): the three numbers in
//! decimal joined by `-`, the time zero-padded to its 10 digits (January
//! starts with a 0) and the counter to at least 8 digits, as they appear in
//! Unicom SMG logs: `3000012345-1124103000-00000001`. Node ids are 10
//! digits by Unicom's numbering (`3AAAAQQQQQ` for an SP, `2AAAAXXXXX` for an
//! SMG) and are printed as is. This module must never change that form: ids
//! already stored in the database are compared against it.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::{BufMut, BytesMut};
use chrono::{Datelike, FixedOffset, NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::DecodeError;
use crate::wire::Reader;

/// Bytes of a sequence number on the wire.
pub const SEQUENCE_LEN: usize = 12;

/// An SGIP sequence number (header field, and `SubmitSequenceNumber`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SequenceNumber {
    /// The source node id.
    pub node_id: u32,
    /// When it was made, MMDDHHMMSS as a decimal integer (e.g. 1124103000).
    pub time: u32,
    /// Counter, unique within the node and second.
    pub counter: u32,
}

impl SequenceNumber {
    pub const fn new(node_id: u32, time: u32, counter: u32) -> Self {
        SequenceNumber {
            node_id,
            time,
            counter,
        }
    }

    /// The 12 wire bytes.
    pub fn to_bytes(&self) -> [u8; SEQUENCE_LEN] {
        let mut b = [0u8; SEQUENCE_LEN];
        b[0..4].copy_from_slice(&self.node_id.to_be_bytes());
        b[4..8].copy_from_slice(&self.time.to_be_bytes());
        b[8..12].copy_from_slice(&self.counter.to_be_bytes());
        b
    }

    /// Reads the 12 wire bytes from a slice of at least 12 bytes; `None`
    /// when shorter.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        let b: &[u8; SEQUENCE_LEN] = b.get(..SEQUENCE_LEN)?.try_into().ok()?;
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Some(SequenceNumber::new(word(0), word(4), word(8)))
    }

    pub(crate) fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Self, DecodeError> {
        let b = r.array::<SEQUENCE_LEN>(field)?;
        // The array is exactly 12 bytes, so this cannot fail.
        Ok(Self::from_slice(&b).unwrap_or_default())
    }

    pub(crate) fn put(&self, dst: &mut BytesMut) {
        dst.put_slice(&self.to_bytes());
    }

    /// The MMDDHHMMSS integer for a time.
    pub fn time_of(t: &NaiveDateTime) -> u32 {
        t.month() * 100_000_000 + t.day() * 1_000_000 + t.hour() * 10_000 + t.minute() * 100 + t.second()
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:010}-{:08}", self.node_id, self.time, self.counter)
    }
}

/// Why a string is not a sequence number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an SGIP sequence number (want NODE-MMDDHHMMSS-COUNTER, decimal): {0:?}")]
pub struct ParseSequenceError(pub String);

impl FromStr for SequenceNumber {
    type Err = ParseSequenceError;

    /// Accepts the display form; each part is 1 to 10 decimal digits that fit
    /// a u32 (so padding is optional).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseSequenceError(s.to_owned());
        let mut parts = s.split('-');
        let mut next = || -> Result<u32, ParseSequenceError> {
            let p = parts.next().ok_or_else(err)?;
            if p.is_empty() || p.len() > 10 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            p.parse().map_err(|_| err())
        };
        let seq = SequenceNumber::new(next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(seq)
    }
}

impl Serialize for SequenceNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SequenceNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Makes sequence numbers for one node. Shareable between connections
/// (`&self`), so all links of one node id never reuse a (time, counter)
/// pair until the counter wraps at 2^32.
#[derive(Debug, Default)]
pub struct SequenceGenerator {
    /// Our node id, as configured by Unicom for the account.
    pub node_id: u32,
    counter: AtomicU32,
}

impl SequenceGenerator {
    pub fn new(node_id: u32) -> Self {
        SequenceGenerator {
            node_id,
            counter: AtomicU32::new(0),
        }
    }

    /// Starts the counter elsewhere than 1 (for instance after a restart, so
    /// ids of the same second do not repeat).
    pub fn with_counter(node_id: u32, next_counter: u32) -> Self {
        SequenceGenerator {
            node_id,
            counter: AtomicU32::new(next_counter.wrapping_sub(1)),
        }
    }

    /// The next sequence number, stamped with `t` (in China Standard Time,
    /// which is what the SMG expects to see).
    pub fn next_at(&self, t: &NaiveDateTime) -> SequenceNumber {
        let counter = self.counter.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        SequenceNumber::new(self.node_id, SequenceNumber::time_of(t), counter)
    }

    /// The next sequence number stamped with the current time in UTC+8
    /// (China has one time zone and no DST), whatever the host's zone.
    pub fn next(&self) -> SequenceNumber {
        let now = Utc::now();
        let local = match FixedOffset::east_opt(8 * 3600) {
            Some(cst) => now.with_timezone(&cst).naive_local(),
            // Unreachable (the offset is in range); UTC beats a panic.
            None => now.naive_utc(),
        };
        self.next_at(&local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn display_parse_and_bytes() {
        let s = SequenceNumber::new(3000012345, 124103000, 1);
        assert_eq!(s.to_string(), "3000012345-0124103000-00000001");
        assert_eq!(
            "3000012345-0124103000-00000001"
                .parse::<SequenceNumber>()
                .unwrap(),
            s
        );
        assert_eq!("3000012345-124103000-1".parse::<SequenceNumber>().unwrap(), s);
        assert!("3000012345-124103000".parse::<SequenceNumber>().is_err());
        assert!("3000012345-1-2-3".parse::<SequenceNumber>().is_err());
        assert!("4294967296-1-2".parse::<SequenceNumber>().is_err());
        assert!("+1-1-2".parse::<SequenceNumber>().is_err());
        assert_eq!(SequenceNumber::from_slice(&s.to_bytes()), Some(s));
        assert_eq!(SequenceNumber::from_slice(&[0; 11]), None);
    }

    #[test]
    fn generator_stamps_time_and_counts() {
        let g = SequenceGenerator::new(3000012345);
        let t = NaiveDate::from_ymd_opt(2026, 11, 24)
            .and_then(|d| d.and_hms_opt(10, 30, 0))
            .unwrap();
        let a = g.next_at(&t);
        let b = g.next_at(&t);
        assert_eq!(a.to_string(), "3000012345-1124103000-00000001");
        assert_eq!(b.counter, 2);
        let c = SequenceGenerator::with_counter(7, u32::MAX);
        assert_eq!(c.next_at(&t).counter, u32::MAX);
        assert_eq!(c.next_at(&t).counter, 0);
        assert_eq!(g.next().node_id, 3000012345);
    }
}
