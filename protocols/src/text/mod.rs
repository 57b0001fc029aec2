//! Text encodings the four protocols carry, and how carriers count segments.
//!
//! - [`Encoding`] with its `data_coding` (SMPP) / `Msg_Fmt` (CMPP, SGIP,
//!   SMGP) codes.
//! - [`encode`] / [`decode`] between `&str` and content bytes. GSM 7-bit here
//!   means *unpacked* septets (one per octet, as SMPP carries them); the
//!   packed form is in [`gsm7`].
//! - [`choose_encoding`], [`encoding_for`] and [`segments`]: the densest encoding that can carry
//!   a text and how many billed parts it makes.
//!
//! This module must never panic on input and never replace bad input
//! silently: invalid UTF-16, GBK, ASCII or septets are a [`TextError`] naming
//! the byte offset.

pub mod gsm7;

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The alphabet of a message's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// GSM 03.38 7-bit default alphabet (SMPP `data_coding` 0).
    Gsm7,
    /// US-ASCII (`Msg_Fmt` 0 in the Chinese protocols, SMPP IA5 = 1).
    Ascii,
    /// ISO-8859-1 (code 3).
    Latin1,
    /// UTF-16BE; called UCS-2 by the specs (code 8).
    Ucs2,
    /// GBK (code 15). Decoding accepts all of GB18030, which senders use
    /// under the same code; encoding emits only GBK (one or two bytes per
    /// character) and rejects characters GBK cannot carry.
    Gbk,
    /// Opaque 8-bit data (code 4). As text it is written in lowercase hex.
    Binary,
}

impl Encoding {
    /// Every encoding, for tests and tooling.
    pub const ALL: [Encoding; 6] = [
        Encoding::Gsm7,
        Encoding::Ascii,
        Encoding::Latin1,
        Encoding::Ucs2,
        Encoding::Gbk,
        Encoding::Binary,
    ];

    /// The SMPP `data_coding` value. Unlike [`Encoding::msg_fmt`], ASCII is 1
    /// (IA5) here, because SMPP's 0 means the GSM default alphabet.
    pub fn data_coding(self) -> u8 {
        match self {
            Encoding::Gsm7 => 0,
            Encoding::Ascii => 1,
            Encoding::Latin1 => 3,
            Encoding::Binary => 4,
            Encoding::Ucs2 => 8,
            Encoding::Gbk => 15,
        }
    }

    /// The CMPP `Msg_Fmt` / SGIP `MessageCoding` / SMGP `MsgFormat` value.
    /// Both GSM 7-bit and ASCII are 0 (the Chinese protocols mean ASCII).
    pub fn msg_fmt(self) -> u8 {
        match self {
            Encoding::Gsm7 | Encoding::Ascii => 0,
            Encoding::Latin1 => 3,
            Encoding::Binary => 4,
            Encoding::Ucs2 => 8,
            Encoding::Gbk => 15,
        }
    }

    /// The encoding of a CMPP/SGIP/SMGP code (0 is ASCII). `None` for codes
    /// without a text meaning here; callers usually treat those as
    /// [`Encoding::Binary`] so nothing is lost.
    pub fn from_msg_fmt(code: u8) -> Option<Encoding> {
        match code {
            0 => Some(Encoding::Ascii),
            3 => Some(Encoding::Latin1),
            4 => Some(Encoding::Binary),
            8 => Some(Encoding::Ucs2),
            15 => Some(Encoding::Gbk),
            _ => None,
        }
    }

    /// The encoding of an SMPP `data_coding` (0 is GSM 7-bit, 1 ASCII, 2 and
    /// 4 binary; the 0xF0 group by its bit 2). `None` for others.
    pub fn from_data_coding(code: u8) -> Option<Encoding> {
        match code {
            0 => Some(Encoding::Gsm7),
            1 => Some(Encoding::Ascii),
            2 | 4 => Some(Encoding::Binary),
            3 => Some(Encoding::Latin1),
            8 => Some(Encoding::Ucs2),
            15 => Some(Encoding::Gbk),
            0xF0..=0xFF if code & 0x04 != 0 => Some(Encoding::Binary),
            0xF0..=0xFF => Some(Encoding::Gsm7),
            _ => None,
        }
    }

    /// A short name for logs and errors.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM 7-bit",
            Encoding::Ascii => "ASCII",
            Encoding::Latin1 => "Latin-1",
            Encoding::Ucs2 => "UCS-2",
            Encoding::Gbk => "GBK",
            Encoding::Binary => "binary",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why text could not be encoded or content decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TextError {
    /// The encoding has no representation for a character. `offset` is the
    /// byte offset of the character in the UTF-8 text.
    #[error("{encoding} cannot carry {ch:?} at offset {offset}")]
    Unencodable {
        encoding: Encoding,
        ch: char,
        offset: usize,
    },
    /// The content is not valid in its encoding; `offset` is the first bad
    /// byte in the content.
    #[error("invalid {encoding} at byte offset {offset}: {reason}")]
    Invalid {
        encoding: Encoding,
        offset: usize,
        reason: &'static str,
    },
    /// A long message would need more parts than allowed (`max`: the
    /// carrier's limit, at most the 255 a UDH can number).
    #[error("message needs {parts} parts, more than {max}")]
    TooManyParts { parts: usize, max: u8 },
}

/// Encodes text into content bytes. GSM 7-bit gives unpacked septets;
/// [`Encoding::Binary`] expects hex text.
pub fn encode(text: &str, encoding: Encoding) -> Result<Vec<u8>, TextError> {
    match encoding {
        Encoding::Gsm7 => gsm7::encode(text),
        Encoding::Ascii => encode_below(text, encoding, 0x80),
        Encoding::Latin1 => encode_below(text, encoding, 0x100),
        Encoding::Ucs2 => Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        Encoding::Gbk => encode_gbk(text),
        Encoding::Binary => decode_hex(text),
    }
}

/// Decodes content bytes into text. GSM 7-bit expects unpacked septets;
/// [`Encoding::Binary`] gives lowercase hex.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, TextError> {
    match encoding {
        Encoding::Gsm7 => gsm7::decode(bytes),
        Encoding::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
            Some(offset) => Err(TextError::Invalid {
                encoding,
                offset,
                reason: "byte above 0x7F",
            }),
            None => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
        },
        Encoding::Latin1 => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
        Encoding::Ucs2 => decode_utf16be(bytes),
        Encoding::Gbk => decode_gbk(bytes),
        Encoding::Binary => Ok(hex::encode(bytes)),
    }
}

fn encode_below(text: &str, encoding: Encoding, limit: u32) -> Result<Vec<u8>, TextError> {
    text.char_indices()
        .map(|(offset, ch)| {
            u8::try_from(u32::from(ch))
                .ok()
                .filter(|_| u32::from(ch) < limit)
                .ok_or(TextError::Unencodable { encoding, ch, offset })
        })
        .collect()
}

fn decode_hex(text: &str) -> Result<Vec<u8>, TextError> {
    let bad = |offset: usize| TextError::Invalid {
        encoding: Encoding::Binary,
        offset,
        reason: "binary content is written as an even number of hex digits",
    };
    let digits = text.as_bytes();
    if digits.len() & 1 != 0 {
        return Err(bad(digits.len()));
    }
    digits
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| {
            let hi = char::from(pair[0]).to_digit(16).ok_or(bad(2 * i))?;
            let lo = char::from(pair[1]).to_digit(16).ok_or(bad(2 * i + 1))?;
            Ok((hi * 16 + lo) as u8)
        })
        .collect()
}

fn decode_utf16be(bytes: &[u8]) -> Result<String, TextError> {
    let invalid = |offset, reason| TextError::Invalid {
        encoding: Encoding::Ucs2,
        offset,
        reason,
    };
    if bytes.len() & 1 != 0 {
        return Err(invalid(bytes.len() - 1, "odd number of bytes"));
    }
    let units = bytes.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]]));
    let mut out = String::with_capacity(bytes.len());
    for r in char::decode_utf16(units) {
        match r {
            Ok(c) => out.push(c),
            // decode_utf16 does not say where; re-walk the units to find it.
            Err(_) => return Err(invalid(lone_surrogate_offset(bytes), "lone surrogate")),
        }
    }
    Ok(out)
}

fn lone_surrogate_offset(bytes: &[u8]) -> usize {
    let mut i = 0;
    while i + 1 < bytes.len() {
        let u = u16::from_be_bytes([bytes[i], bytes[i + 1]]);
        match u {
            0xD800..=0xDBFF => {
                let next = bytes.get(i + 2..i + 4).map(|p| u16::from_be_bytes([p[0], p[1]]));
                match next {
                    Some(0xDC00..=0xDFFF) => i += 4,
                    _ => return i,
                }
            }
            0xDC00..=0xDFFF => return i,
            _ => i += 2,
        }
    }
    i
}

fn encode_gbk(text: &str) -> Result<Vec<u8>, TextError> {
    let mut enc = encoding_rs::GBK.new_encoder();
    let mut out = Vec::with_capacity(text.len() * 2 + 8);
    let mut read = 0;
    loop {
        let (result, n) = enc.encode_from_utf8_to_vec_without_replacement(&text[read..], &mut out, true);
        read += n;
        match result {
            encoding_rs::EncoderResult::InputEmpty => return Ok(out),
            encoding_rs::EncoderResult::OutputFull => out.reserve(text.len() - read + 16),
            encoding_rs::EncoderResult::Unmappable(ch) => {
                return Err(TextError::Unencodable {
                    encoding: Encoding::Gbk,
                    ch,
                    offset: read - ch.len_utf8(),
                })
            }
        }
    }
}

fn decode_gbk(bytes: &[u8]) -> Result<String, TextError> {
    let mut dec = encoding_rs::GBK.new_decoder_without_bom_handling();
    let cap = dec
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut out = String::with_capacity(cap);
    let mut read = 0;
    loop {
        let (result, n) = dec.decode_to_string_without_replacement(&bytes[read..], &mut out, true);
        read += n;
        match result {
            encoding_rs::DecoderResult::InputEmpty => return Ok(out),
            encoding_rs::DecoderResult::OutputFull => out.reserve(bytes.len() - read + 16),
            encoding_rs::DecoderResult::Malformed(bad, after) => {
                let offset = read
                    .saturating_sub(usize::from(after))
                    .saturating_sub(usize::from(bad));
                return Err(TextError::Invalid {
                    encoding: Encoding::Gbk,
                    offset,
                    reason: "not a GBK/GB18030 sequence",
                });
            }
        }
    }
}

/// The densest encoding that can carry `text` for billing: GSM 7-bit when
/// every character is in the default or extension table, else UCS-2. GBK is
/// never chosen (carriers bill it like UCS-2 but not every handset path
/// keeps it); ask for it explicitly.
pub fn choose_encoding(text: &str) -> Encoding {
    if gsm7::can_encode(text) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// The encoding a protocol sends `text` in. Where the protocol carries GSM
/// 7-bit (SMPP: `carries_gsm7`), the densest of GSM 7-bit and UCS-2 ([`choose_encoding`]);
/// where its code 0 means ASCII (CMPP, SGIP, SMGP), ASCII when the text is
/// ASCII, else UCS-2. GBK is never chosen.
pub fn encoding_for(text: &str, carries_gsm7: bool) -> Encoding {
    if carries_gsm7 {
        choose_encoding(text)
    } else if text.is_ascii() {
        Encoding::Ascii
    } else {
        Encoding::Ucs2
    }
}

/// How a text splits into billed parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentCount {
    /// Number of parts (at least 1, even for empty text).
    pub parts: usize,
    /// Capacity of each part in units: 160/153 septets, 70/67 UTF-16 units,
    /// or 140/134 octets.
    pub units_per_part: usize,
    /// Units the whole text takes (extension characters count 2 septets,
    /// characters outside the BMP 2 UTF-16 units).
    pub total_units: usize,
}

/// Octets of user data in one SMS.
pub const MAX_USER_DATA: usize = 140;

/// The unit capacity of one part of `encoding` after a UDH of `udh_len`
/// octets (0 for a single-part message).
pub fn capacity(encoding: Encoding, udh_len: usize) -> usize {
    let octets = MAX_USER_DATA.saturating_sub(udh_len);
    match encoding {
        Encoding::Gsm7 => (MAX_USER_DATA * 8 - udh_len * 8) / 7,
        Encoding::Ucs2 => octets / 2,
        _ => octets,
    }
}

/// The indivisible pieces of a text in `encoding`: each item is the number of
/// units one piece takes (an extension character's two septets, a surrogate
/// pair, a GBK multi-byte character). The caller never splits a piece.
pub(crate) fn atoms(text: &str, encoding: Encoding) -> Result<Vec<usize>, TextError> {
    match encoding {
        Encoding::Gsm7 => text
            .char_indices()
            .map(|(offset, ch)| gsm7::septet_len(ch).ok_or(TextError::Unencodable { encoding, ch, offset }))
            .collect(),
        Encoding::Ucs2 => Ok(text.chars().map(char::len_utf16).collect()),
        Encoding::Gbk => {
            let mut v = Vec::with_capacity(text.len());
            let mut buf = [0u8; 4];
            for (offset, ch) in text.char_indices() {
                let bytes = encode_gbk(ch.encode_utf8(&mut buf)).map_err(|e| match e {
                    TextError::Unencodable { encoding, ch, .. } => {
                        TextError::Unencodable { encoding, ch, offset }
                    }
                    other => other,
                })?;
                v.push(bytes.len());
            }
            Ok(v)
        }
        Encoding::Ascii | Encoding::Latin1 | Encoding::Binary => Ok(vec![1; encode(text, encoding)?.len()]),
    }
}

/// Greedy packing of atoms into parts of `cap` units; returns each part's
/// atom count.
pub(crate) fn pack_atoms(atoms: &[usize], cap: usize) -> Vec<usize> {
    let mut parts = Vec::new();
    let (mut used, mut count) = (0, 0);
    for &a in atoms {
        if used + a > cap && count > 0 {
            parts.push(count);
            used = 0;
            count = 0;
        }
        used += a;
        count += 1;
    }
    if count > 0 || parts.is_empty() {
        parts.push(count);
    }
    parts
}

/// Counts billed parts the way carriers do: one part holds 160 septets, 70
/// UTF-16 units or 140 octets; a long message's parts hold 153, 67 or 134
/// (an 8-bit-reference UDH takes 6 octets). Extension characters, surrogate
/// pairs and GBK characters never straddle two parts. Errors when `encoding`
/// cannot carry the text.
pub fn segments(text: &str, encoding: Encoding) -> Result<SegmentCount, TextError> {
    let atoms = atoms(text, encoding)?;
    let total_units: usize = atoms.iter().sum();
    let single = capacity(encoding, 0);
    if total_units <= single {
        return Ok(SegmentCount {
            parts: 1,
            units_per_part: single,
            total_units,
        });
    }
    let multi = capacity(encoding, 6);
    Ok(SegmentCount {
        parts: pack_atoms(&atoms, multi).len(),
        units_per_part: multi,
        total_units,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for e in Encoding::ALL {
            if e != Encoding::Gsm7 {
                assert_eq!(Encoding::from_msg_fmt(e.msg_fmt()), Some(e));
            }
            assert_eq!(Encoding::from_data_coding(e.data_coding()), Some(e));
        }
    }

    #[test]
    fn capacities() {
        assert_eq!(capacity(Encoding::Gsm7, 0), 160);
        assert_eq!(capacity(Encoding::Gsm7, 6), 153);
        assert_eq!(capacity(Encoding::Gsm7, 7), 152);
        assert_eq!(capacity(Encoding::Ucs2, 6), 67);
        assert_eq!(capacity(Encoding::Ucs2, 7), 66);
        assert_eq!(capacity(Encoding::Latin1, 6), 134);
    }
}
