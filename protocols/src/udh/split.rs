//! Splitting a text into the segments of a long message ([`split`], the one
//! splitting rule of the workspace: every protocol and the HTTP API use it
//! with a [`SplitRule`] built from the carrier's profile), each with its UDH
//! already at the front of the content (or, for SMPP `sar_*`, none), and
//! getting a part's payload back out of inbound content.
//!
//! GSM 7-bit comes in two forms, chosen with [`Gsm7Packing`]:
//! - [`Gsm7Packing::Unpacked`]: one septet per octet after the UDH. This is
//!   what SMPP `short_message` (`data_coding` 0) carries; the SMSC packs it
//!   for the air. Use it for SMPP.
//! - [`Gsm7Packing::Packed`]: 7 bits per character with fill bits after the
//!   UDH, the TPDU / air-interface form, for SMSCs configured to take packed
//!   data and for building TPDUs ([`SplitRule::new`]'s default).
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

/// How the parts of a long message say which part they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcatStyle {
    /// A UDH with IE 0x00 (8-bit reference, 6 octets).
    #[default]
    Udh8,
    /// A UDH with IE 0x08 (16-bit reference, 7 octets).
    Udh16,
    /// No UDH: SMPP's `sar_msg_ref_num` / `sar_total_segments` /
    /// `sar_segment_seqnum` TLVs carry the numbers (16-bit reference), so a
    /// part holds as much as a single message.
    Sar,
}

impl ConcatStyle {
    /// Octets the numbering takes in each part's content.
    pub fn udh_len(self) -> usize {
        match self {
            ConcatStyle::Udh8 => 6,
            ConcatStyle::Udh16 => 7,
            ConcatStyle::Sar => 0,
        }
    }
}

/// Everything about how a text is cut up, apart from the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitRule {
    pub encoding: Encoding,
    /// How GSM 7-bit is laid out (ignored for other encodings).
    pub packing: Gsm7Packing,
    pub style: ConcatStyle,
    /// Most parts allowed (a carrier's `max_parts`; 255 is what a UDH can number).
    pub max_parts: u8,
}

impl SplitRule {
    /// `encoding` with an 8-bit-reference UDH, packed GSM 7-bit, up to 255 parts.
    pub fn new(encoding: Encoding) -> SplitRule {
        SplitRule {
            encoding,
            packing: Gsm7Packing::Packed,
            style: ConcatStyle::Udh8,
            max_parts: u8::MAX,
        }
    }

    pub fn with_style(self, style: ConcatStyle) -> SplitRule {
        SplitRule { style, ..self }
    }

    pub fn with_packing(self, packing: Gsm7Packing) -> SplitRule {
        SplitRule { packing, ..self }
    }

    pub fn with_max_parts(self, max_parts: u8) -> SplitRule {
        SplitRule { max_parts, ..self }
    }
}

/// One part of a message, ready to put in a submit/deliver body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Which part this is; `None` for a single-part message.
    pub concat: Option<Concat>,
    /// The content: the UDH (when the udhi flag is set) followed by the payload.
    #[serde(with = "crate::wire::hex_bytes")]
    pub content: Bytes,
    pub encoding: Encoding,
    /// Whether the content starts with a UDH; false for a single part and
    /// for [`ConcatStyle::Sar`], whose numbers go in TLVs.
    #[serde(default)]
    pub udhi: bool,
}

impl Segment {
    /// Whether the udhi flag must be set for this segment.
    pub fn udhi(&self) -> bool {
        self.udhi
    }

    /// The `sar_*` numbers this part must be sent with: a part of a long
    /// message whose content carries no UDH.
    pub fn sar(&self) -> Option<Concat> {
        self.concat.filter(|_| !self.udhi)
    }
}

/// Splits `text` into segments by `rule`. A text that fits one SMS (160
/// septets, 70 UTF-16 units, 140 octets) gives one segment without a UDH.
/// Longer text gives parts numbered the rule's way: with an 8-bit-reference
/// UDH (153 / 67 / 134 units per part, only the low byte of `reference`
/// used), a 16-bit one (152 / 66 / 133), or `sar_*` (160 / 70 / 140, no
/// UDH). Errors when the encoding cannot carry the text or it needs more
/// than the rule's `max_parts`.
pub fn split(text: &str, rule: SplitRule, reference: u16) -> Result<Vec<Segment>, TextError> {
    let SplitRule {
        encoding,
        packing,
        style,
        max_parts,
    } = rule;
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
            udhi: false,
        }]);
    }
    let udh_len = style.udh_len();
    let parts = text::pack_atoms(&atoms, text::capacity(encoding, udh_len));
    let total =
        u8::try_from(parts.len())
            .ok()
            .filter(|&n| n <= max_parts)
            .ok_or(TextError::TooManyParts {
                parts: parts.len(),
                max: max_parts,
            })?;
    let bytes_per_unit = if encoding == Encoding::Ucs2 { 2 } else { 1 };
    let mut segments = Vec::with_capacity(parts.len());
    let (mut atom, mut at) = (0, 0);
    for (i, &count) in parts.iter().enumerate() {
        let units: usize = atoms[atom..atom + count].iter().sum();
        atom += count;
        let payload = &encoded[at..at + units * bytes_per_unit];
        at += units * bytes_per_unit;
        let wide = style != ConcatStyle::Udh8;
        let concat = Concat {
            reference: if wide { reference } else { reference & 0xFF },
            wide_reference: wide,
            total,
            // i < parts.len() <= 255, so this fits.
            seq: (i + 1) as u8,
        };
        let udhi = style != ConcatStyle::Sar;
        let mut content = if udhi { concat.to_udh() } else { Vec::new() };
        if packed {
            content.extend(gsm7::pack_padded(payload, gsm7::fill_bits(udh_len)));
        } else {
            content.extend_from_slice(payload);
        }
        segments.push(Segment {
            concat: Some(concat),
            content: Bytes::from(content),
            encoding,
            udhi,
        });
    }
    Ok(segments)
}

/// The inverse of one [`split`] part: from received content (with the
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
