//! Long messages: the User Data Header (UDH) at the start of a long
//! message's content, splitting text into UDH-carrying segments
//! ([`split`]), and putting inbound segments back together
//! ([`Reassembler`]).
//!
//! [`Concat`] is the one type every protocol module uses for "part n of m",
//! whether it came from a UDH or from SMPP's `sar_*` TLVs.
//!
//! Parsing never panics and never allocates more than the input holds; a
//! UDH whose elements run past its declared length is an error with the
//! offset, not a guess.

mod reassembler;
mod split;

pub use reassembler::{
    Incomplete, IncompleteReason, PartKey, PushOutcome, Pushed, Reassembled, Reassembler, ReassemblerLimits,
    ReassemblyStats, RejectReason,
};
pub use split::{part_payload, split, ConcatStyle, Gsm7Packing, Segment, SplitRule};

use serde::{Deserialize, Serialize};

use crate::error::DecodeError;

/// Which part of which long message a segment is: from a UDH concatenation
/// element (IEI 0x00 with an 8-bit reference, 0x08 with a 16-bit one) or from
/// SMPP's `sar_*` TLVs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Concat {
    /// The reference shared by all parts of one message.
    pub reference: u16,
    /// Whether the reference is 16-bit (IEI 0x08) rather than 8-bit (0x00).
    pub wide_reference: bool,
    /// Number of parts, 1..=255.
    pub total: u8,
    /// This part's number, 1..=total.
    pub seq: u8,
}

/// IEI of the concatenation element with an 8-bit reference.
pub const IEI_CONCAT_8: u8 = 0x00;
/// IEI of the concatenation element with a 16-bit reference.
pub const IEI_CONCAT_16: u8 = 0x08;

impl Concat {
    /// Whether the numbers make sense: 1 <= seq <= total.
    pub fn is_valid(&self) -> bool {
        self.total != 0 && self.seq != 0 && self.seq <= self.total
    }

    /// The whole UDH (with its length octet) carrying only this element:
    /// `05 00 03 rr tt ss`, or `06 08 04 rrrr tt ss` for a wide reference.
    /// An 8-bit reference keeps the low byte of [`Concat::reference`].
    pub fn to_udh(&self) -> Vec<u8> {
        let [hi, lo] = self.reference.to_be_bytes();
        if self.wide_reference {
            vec![0x06, IEI_CONCAT_16, 0x04, hi, lo, self.total, self.seq]
        } else {
            vec![0x05, IEI_CONCAT_8, 0x03, lo, self.total, self.seq]
        }
    }

    /// The length of [`Concat::to_udh`]: 6, or 7 for a wide reference.
    pub fn udh_len(&self) -> usize {
        if self.wide_reference {
            7
        } else {
            6
        }
    }
}

/// A parsed User Data Header: its information elements in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Udh {
    /// (IEI, element data) pairs, unknown elements included.
    pub elements: Vec<(u8, Vec<u8>)>,
}

impl Udh {
    /// The concatenation element: the first well-formed IEI 0x00 (length 3)
    /// or 0x08 (length 4) with 1 <= seq <= total. Invalid ones are skipped.
    pub fn concat(&self) -> Option<Concat> {
        self.elements.iter().find_map(|(iei, data)| {
            let c = match (*iei, data.as_slice()) {
                (IEI_CONCAT_8, &[r, total, seq]) => Concat {
                    reference: u16::from(r),
                    wide_reference: false,
                    total,
                    seq,
                },
                (IEI_CONCAT_16, &[hi, lo, total, seq]) => Concat {
                    reference: u16::from_be_bytes([hi, lo]),
                    wide_reference: true,
                    total,
                    seq,
                },
                _ => return None,
            };
            c.is_valid().then_some(c)
        })
    }

    /// The UDH's length on the wire, including the length octet.
    pub fn encoded_len(&self) -> usize {
        1 + self.elements.iter().map(|(_, d)| 2 + d.len()).sum::<usize>()
    }
}

/// The concatenation element of the UDH at the start of `content` (IEI
/// 0x00, 8-bit reference, or 0x08, 16-bit), skipping other elements; `None`
/// when there is none or the header is malformed. Unlike [`parse_udh`] it
/// allocates nothing, so every protocol's `concat()` uses it.
pub fn concat_in(content: &[u8]) -> Option<Concat> {
    let (&udhl, rest) = content.split_first()?;
    let mut ies = rest.get(..usize::from(udhl))?;
    while let [iei, len, tail @ ..] = ies {
        let data = tail.get(..usize::from(*len))?;
        let found = match (iei, data) {
            (0x00, &[reference, total, seq]) => Some(Concat {
                reference: u16::from(reference),
                wide_reference: false,
                total,
                seq,
            }),
            (0x08, &[hi, lo, total, seq]) => Some(Concat {
                reference: u16::from_be_bytes([hi, lo]),
                wide_reference: true,
                total,
                seq,
            }),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
        ies = &tail[data.len()..];
    }
    None
}

/// Splits content whose udhi flag is set into its UDH and the payload after
/// it. Errors (naming the offset inside `content`) when the header length
/// runs past the content or an element runs past the header.
pub fn parse_udh(content: &[u8]) -> Result<(Udh, &[u8]), DecodeError> {
    let Some((&udhl, after)) = content.split_first() else {
        return Err(DecodeError::Truncated {
            field: "udh_length",
            offset: 0,
            needed: 1,
            available: 0,
        });
    };
    let udhl = usize::from(udhl);
    if udhl > after.len() {
        return Err(DecodeError::Truncated {
            field: "udh",
            offset: 1,
            needed: udhl,
            available: after.len(),
        });
    }
    let (mut header, payload) = after.split_at(udhl);
    let mut offset = 1;
    let mut elements = Vec::new();
    while !header.is_empty() {
        let (&iei, &len) = match header {
            [iei, len, ..] => (iei, len),
            _ => {
                return Err(DecodeError::Truncated {
                    field: "udh_element_header",
                    offset,
                    needed: 2,
                    available: header.len(),
                })
            }
        };
        let len = usize::from(len);
        let Some(data) = header.get(2..2 + len) else {
            return Err(DecodeError::Truncated {
                field: "udh_element_data",
                offset: offset + 2,
                needed: len,
                available: header.len() - 2,
            });
        };
        elements.push((iei, data.to_vec()));
        header = &header[2 + len..];
        offset += 2 + len;
    }
    Ok((Udh { elements }, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_udh_layouts() {
        let c = Concat {
            reference: 0x1234,
            wide_reference: false,
            total: 3,
            seq: 2,
        };
        assert_eq!(c.to_udh(), [0x05, 0x00, 0x03, 0x34, 0x03, 0x02]);
        let w = Concat {
            wide_reference: true,
            ..c
        };
        assert_eq!(w.to_udh(), [0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02]);
    }
}
