//! Splitting a text into the segments of a long message, each with its UDH
//! already at the front of the content, and getting a part's payload back
//! out of inbound content.
//!
//! GSM 7-bit comes in two forms, chosen with [`Gsm7Packing`]:
//! - [`Gsm7Packing::Unpacked`]: one septet per octet after the UDH. This is
//!   what SMPP `short_message` (`data_coding` 0) carries; the SMSC packs it
//!   for the air. Use it for SMPP.
//! - [`Gsm7Packing::Packed`]: 7 bits per character with fill bits after the
//!   UDH, the TPDU / air-interface form, for SMSCs configured to take packed
//!   data and for building TPDUs. [`split`] uses this form.
//!
//! CMPP, SGIP and SMGP do not carry GSM 7-bit at all (their code 0 is ASCII),
//! so the choice only matters for SMPP and TPDUs.
//!
//! Nothing here splits a character: an extension character's two septets, a
//! surrogate pair and a GBK character always stay in one part.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{parse_udh, Concat};
use crate::error::DecodeError;
use crate::text::{self, gsm7, Encoding, TextError};

/// How GSM 7-bit septets are laid out in the content.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gsm7Packing {
    /// 7 bits per character, fill bits after the UDH (TPDU form).
    #[default]
    Packed,
    /// One septet per octet (SMPP `short_message`).
    Unpacked,
}

/// One part of a message, ready to put in a submit/deliver body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Which part this is; `None` for a single-part message (no UDH, udhi
    /// flag clear).
    pub concat: Option<Concat>,
    /// The content: UDH (when `concat` is set) followed by the payload.
    #[serde(with = "crate::wire::hex_bytes")]
    pub content: Bytes,
    pub encoding: Encoding,
}

impl Segment {
    /// Whether the udhi flag must be set for this segment.
    pub fn udhi(&self) -> bool {
        self.concat.is_some()
    }
}

/// [`split_with`] using [`Gsm7Packing::Packed`] for GSM 7-bit.
pub fn split(text: &str, encoding: Encoding, reference: u16, wide: bool) -> Result<Vec<Segment>, TextError> {
    split_with(text, encoding, reference, wide, Gsm7Packing::Packed)
}

/// Splits `text` into segments. A text that fits one SMS (160 septets, 70
/// UTF-16 units, 140 octets) gives one segment without a UDH. Longer text
/// gives parts with a concatenation UDH: 8-bit reference (6 octets: 153 /
/// 67 / 134 units per part) unless `wide`, which uses the 16-bit reference
/// (7 octets: 152 / 66 / 133). With an 8-bit reference only the low byte of
/// `reference` is used. Errors when the encoding cannot carry the text or
/// it needs more than 255 parts.
pub fn split_with(
    text: &str,
    encoding: Encoding,
    reference: u16,
    wide: bool,
    packing: Gsm7Packing,
) -> Result<Vec<Segment>, TextError> {
    let atoms = text::atoms(text, encoding)?;
    let encoded = text::encode(text, encoding)?;
    let packed = encoding == Encoding::Gsm7 && packing == Gsm7Packing::Packed;
    let total_units: usize = atoms.iter().sum();
    if total_units <= text::capacity(encoding, 0) {
        let content = if packed {
            gsm7::pack_padded(&encoded, 0)
        } else {
            encoded
        };
        return Ok(vec![Segment {
            concat: None,
            content: Bytes::from(content),
            encoding,
        }]);
    }
    let udh_len = if wide { 7 } else { 6 };
    let parts = text::pack_atoms(&atoms, text::capacity(encoding, udh_len));
    let total = u8::try_from(parts.len()).map_err(|_| TextError::TooManyParts { parts: parts.len() })?;
    let bytes_per_unit = if encoding == Encoding::Ucs2 { 2 } else { 1 };
    let mut segments = Vec::with_capacity(parts.len());
    let (mut atom, mut at) = (0, 0);
    for (i, &count) in parts.iter().enumerate() {
        let units: usize = atoms[atom..atom + count].iter().sum();
        atom += count;
        let payload = &encoded[at..at + units * bytes_per_unit];
        at += units * bytes_per_unit;
        let concat = Concat {
            reference: if wide { reference } else { reference & 0xFF },
            wide_reference: wide,
            total,
            // i < parts.len() <= 255, so this fits.
            seq: (i + 1) as u8,
        };
        let mut content = concat.to_udh();
        if packed {
            content.extend(gsm7::pack_padded(payload, gsm7::fill_bits(udh_len)));
        } else {
            content.extend_from_slice(payload);
        }
        segments.push(Segment {
            concat: Some(concat),
            content: Bytes::from(content),
            encoding,
        });
    }
    Ok(segments)
}

/// The inverse of one [`split_with`] part: from received content (with the
/// udhi flag as received) to its concatenation info and a payload that can
/// be joined with the other parts' payloads and passed to
/// [`text::decode`]. For packed GSM 7-bit the payload is unpacked septets
/// (dropping a `<CR>` pad in seven spare bits); otherwise it is the bytes
/// after the UDH, zero-copy.
pub fn part_payload(
    content: &Bytes,
    udhi: bool,
    encoding: Encoding,
    packing: Gsm7Packing,
) -> Result<(Option<Concat>, Bytes), DecodeError> {
    let (concat, payload, udh_len) = if udhi {
        let (udh, payload) = parse_udh(content)?;
        let udh_len = content.len() - payload.len();
        (udh.concat(), content.slice(udh_len..), udh_len)
    } else {
        (None, content.clone(), 0)
    };
    if encoding == Encoding::Gsm7 && packing == Gsm7Packing::Packed {
        let septets = gsm7::unpack_padded(&payload, gsm7::fill_bits(udh_len));
        return Ok((concat, Bytes::from(septets)));
    }
    Ok((concat, payload))
}
