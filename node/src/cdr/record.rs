//! The CDR record: a fixed 512-byte line, every field at a fixed offset,
//! ASCII space-padded, the text in GBK (GB18030) space-padded and cut at a
//! character boundary, ending in CRLF. A day's file ends with one trailer
//! record (`T`) holding the record count and the CRC-32 of every record
//! before it. The layout, field by field (offsets from 0):
//!
//! | offset | length | field |
//! | --- | --- | --- |
//! | 0 | 1 | type: `M` MT part, `O` MO, `T` trailer |
//! | 1 | 40 | record id: the part id `M.k`, or `MO-SEQ` |
//! | 41 | 32 | account |
//! | 73 | 21 | source number |
//! | 94 | 21 | destination number |
//! | 115 | 16 | carrier |
//! | 131 | 32 | carrier message id |
//! | 163 | 3 | part number (`001`) |
//! | 166 | 3 | parts in the message |
//! | 169 | 8 | final state (`DELIVRD`, `UNDELIV`, `EXPIRED`, `REJECTD`, `FAILED`, `ACCEPTED`; `MO` for an MO) |
//! | 177 | 14 | accepted (MT) or received (MO), `YYYYMMDDhhmmss` Beijing time |
//! | 191 | 14 | submitted to the carrier (blank if never) |
//! | 205 | 14 | final state reached |
//! | 219 | 6 | priority (`alarm`, `high`, `normal`, `bulk`) |
//! | 225 | 285 | text, GBK, space-padded |
//! | 510 | 2 | CRLF |
//!
//! Trailer: `T` at 0, the record count as 10 digits at 1, the CRC-32
//! (IEEE) of all records before it as 8 hex digits at 11, spaces, CRLF.
//! Encoding never fails (too long a field is cut); decoding returns an
//! error naming the offset of what is wrong.

use chrono::TimeZone;
use serde::Serialize;

/// Bytes per record.
pub const RECORD: usize = 512;

/// The fields: (name, offset, length).
const FIELDS: [(&str, usize, usize); 15] = [
    ("id", 1, 40),
    ("account", 41, 32),
    ("source", 73, 21),
    ("destination", 94, 21),
    ("carrier", 115, 16),
    ("carrier_msg_id", 131, 32),
    ("part", 163, 3),
    ("parts", 166, 3),
    ("state", 169, 8),
    ("accepted_at", 177, 14),
    ("submitted_at", 191, 14),
    ("final_at", 205, 14),
    ("priority", 219, 6),
    ("text", 225, 285),
    ("crlf", 510, 2),
];

/// One CDR.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cdr {
    /// `M` or `O`.
    pub kind: char,
    /// Part id or `MO-SEQ`.
    pub id: String,
    /// Account.
    pub account: String,
    /// Source number.
    pub source: String,
    /// Destination number.
    pub destination: String,
    /// Carrier.
    pub carrier: String,
    /// Carrier message id.
    pub carrier_msg_id: String,
    /// Part number.
    pub part: u16,
    /// Parts in the message.
    pub parts: u16,
    /// Final state.
    pub state: String,
    /// Accepted or received, `YYYYMMDDhhmmss`.
    pub accepted_at: String,
    /// Submitted, `YYYYMMDDhhmmss` or empty.
    pub submitted_at: String,
    /// Final, `YYYYMMDDhhmmss` or empty.
    pub final_at: String,
    /// Priority.
    pub priority: String,
    /// Text.
    pub text: String,
}

/// `ms` as `YYYYMMDDhhmmss` in Beijing time.
pub fn stamp(ms: Option<u64>) -> String {
    let Some(ms) = ms else { return String::new() };
    match crate::service::zone::shanghai()
        .timestamp_millis_opt(ms as i64)
        .single()
    {
        Some(t) => t.format("%Y%m%d%H%M%S").to_string(),
        None => String::new(),
    }
}

fn put(buf: &mut [u8], offset: usize, len: usize, value: &[u8]) {
    let n = value.len().min(len);
    buf[offset..offset + n].copy_from_slice(&value[..n]);
}

/// GBK bytes of `text`, at most `max`, cut at a character boundary.
fn gbk(text: &str, max: usize) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let mut bytes = bytes.into_owned();
    // GB18030 sequences are 1 byte (ASCII), or start with 0x81..=0xFE and
    // are 4 bytes when the second is a digit, else 2.
    let mut end = 0;
    while end < bytes.len() {
        let len = match bytes[end] {
            0x00..=0x7F => 1,
            _ if bytes.get(end + 1).is_some_and(|b| b.is_ascii_digit()) => 4,
            _ => 2,
        };
        if end + len > max {
            break;
        }
        end += len;
    }
    bytes.truncate(end.min(bytes.len()));
    bytes
}

impl Cdr {
    /// The 512 bytes.
    pub fn encode(&self) -> [u8; RECORD] {
        let mut b = [b' '; RECORD];
        b[0] = self.kind as u8;
        let part = format!("{:03}", self.part.min(999));
        let parts = format!("{:03}", self.parts.min(999));
        let values: [&[u8]; 13] = [
            self.id.as_bytes(),
            self.account.as_bytes(),
            self.source.as_bytes(),
            self.destination.as_bytes(),
            self.carrier.as_bytes(),
            self.carrier_msg_id.as_bytes(),
            part.as_bytes(),
            parts.as_bytes(),
            self.state.as_bytes(),
            self.accepted_at.as_bytes(),
            self.submitted_at.as_bytes(),
            self.final_at.as_bytes(),
            self.priority.as_bytes(),
        ];
        for ((_, off, len), v) in FIELDS.iter().zip(values) {
            put(&mut b, *off, *len, v);
        }
        put(&mut b, 225, 285, &gbk(&self.text, 285));
        b[510] = b'\r';
        b[511] = b'\n';
        b
    }
}

/// A day file's trailer for `count` records with CRC-32 `crc`.
pub fn trailer(count: u64, crc: u32) -> [u8; RECORD] {
    let mut b = [b' '; RECORD];
    b[0] = b'T';
    put(&mut b, 1, 10, format!("{count:010}").as_bytes());
    put(&mut b, 11, 8, format!("{crc:08x}").as_bytes());
    b[510] = b'\r';
    b[511] = b'\n';
    b
}

/// What is wrong with a record.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CdrError {
    /// Not a whole record.
    #[error("record {index} is {len} bytes, not {RECORD}")]
    Short {
        /// Record index in the file.
        index: usize,
        /// Bytes there.
        len: usize,
    },
    /// A field does not hold what the layout says.
    #[error("record {index}, offset {offset} ({field}): {what}")]
    Field {
        /// Record index in the file.
        index: usize,
        /// Byte offset in the record.
        offset: usize,
        /// The field.
        field: &'static str,
        /// What is wrong.
        what: String,
    },
}

fn ascii(
    b: &[u8],
    index: usize,
    (field, off, len): (&'static str, usize, usize),
) -> Result<String, CdrError> {
    let raw = &b[off..off + len];
    let s = std::str::from_utf8(raw).map_err(|_| CdrError::Field {
        index,
        offset: off,
        field,
        what: "not ASCII".into(),
    })?;
    Ok(s.trim_end().to_string())
}

/// A record back from its bytes (`index` names it in errors).
pub fn decode(b: &[u8], index: usize) -> Result<Cdr, CdrError> {
    if b.len() != RECORD {
        return Err(CdrError::Short { index, len: b.len() });
    }
    if &b[510..] != b"\r\n" {
        return Err(CdrError::Field {
            index,
            offset: 510,
            field: "crlf",
            what: "the record does not end in CRLF".into(),
        });
    }
    let kind = b[0] as char;
    if !matches!(kind, 'M' | 'O') {
        return Err(CdrError::Field {
            index,
            offset: 0,
            field: "type",
            what: format!("`{kind}` is not M or O"),
        });
    }
    let f = |i: usize| ascii(b, index, FIELDS[i]);
    let num = |i: usize| -> Result<u16, CdrError> {
        f(i)?.parse().map_err(|_| CdrError::Field {
            index,
            offset: FIELDS[i].1,
            field: FIELDS[i].0,
            what: "not a number".into(),
        })
    };
    let (text, _, _) = encoding_rs::GB18030.decode(&b[225..510]);
    Ok(Cdr {
        kind,
        id: f(0)?,
        account: f(1)?,
        source: f(2)?,
        destination: f(3)?,
        carrier: f(4)?,
        carrier_msg_id: f(5)?,
        part: num(6)?,
        parts: num(7)?,
        state: f(8)?,
        accepted_at: f(9)?,
        submitted_at: f(10)?,
        final_at: f(11)?,
        priority: f(12)?,
        text: text.trim_end().to_string(),
    })
}

/// A trailer's (count, crc), if `b` is one.
pub fn read_trailer(b: &[u8]) -> Option<(u64, u32)> {
    if b.len() != RECORD || b[0] != b'T' {
        return None;
    }
    let count = std::str::from_utf8(&b[1..11]).ok()?.parse().ok()?;
    let crc = u32::from_str_radix(std::str::from_utf8(&b[11..19]).ok()?, 16).ok()?;
    Some((count, crc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_field_by_field_with_gbk_text_cut_at_a_character() {
        let c = Cdr {
            kind: 'M',
            id: "7394019283.2".into(),
            account: "office".into(),
            source: "10690001".into(),
            destination: "13800138000".into(),
            carrier: "china-mobile".into(),
            carrier_msg_id: "1234567890123456789".into(),
            part: 2,
            parts: 3,
            state: "DELIVRD".into(),
            accepted_at: "20261203093000".into(),
            submitted_at: "20261203093001".into(),
            final_at: "20261203093005".into(),
            priority: "alarm".into(),
            text: "请".repeat(200),
        };
        let bytes = c.encode();
        assert_eq!(bytes.len(), RECORD);
        assert_eq!(&bytes[163..166], b"002");
        let back = decode(&bytes, 0).unwrap();
        assert_eq!(
            back.text.chars().count(),
            142,
            "285 bytes of 2-byte GBK: 142 characters"
        );
        assert_eq!(
            back,
            Cdr {
                text: "请".repeat(142),
                ..c
            }
        );
        let mut bad = bytes;
        bad[163] = b'x';
        assert!(matches!(
            decode(&bad, 7),
            Err(CdrError::Field {
                index: 7,
                offset: 163,
                ..
            })
        ));
        assert_eq!(read_trailer(&trailer(12, 0xdead_beef)), Some((12, 0xdead_beef)));
    }
}
