//! Message content shared by SUBMIT and DELIVER: the `MessageLength ·
//! MessageContent` pair (checked against what the frame really holds) and
//! reading the concatenation element of a User Data Header.
//!
//! Content is kept as the raw octets the wire carried (`Bytes` sharing the
//! frame); decoding text is the caller's business, never this module's.

use bytes::{BufMut, Bytes, BytesMut};

use super::bodies::RESERVE_LEN;
use crate::error::{DecodeError, EncodeError};
use crate::udh::Concat;
use crate::wire::Reader;

/// Reads `MessageLength 4 · MessageContent`, where only the 8-byte Reserve
/// may follow. A length that disagrees with the frame is reported on
/// `message_length` itself (with both numbers), which says more to ops than
/// a truncation or trailing-bytes error further on would.
pub(crate) fn read_content(r: &mut Reader<'_>) -> Result<Bytes, DecodeError> {
    let offset = r.offset();
    let declared = r.u32("message_length")?;
    let actual = r.remaining().saturating_sub(RESERVE_LEN);
    if usize::try_from(declared).ok() != Some(actual) || r.remaining() < RESERVE_LEN {
        return Err(DecodeError::InvalidValue {
            field: "message_length",
            offset,
            message: format!(
                "says {declared} bytes but the frame holds {} after it ({actual} of content + {RESERVE_LEN} reserve expected)",
                r.remaining()
            ),
        });
    }
    r.bytes(actual, "message_content")
}

pub(crate) fn put_content(dst: &mut BytesMut, content: &[u8]) -> Result<(), EncodeError> {
    let len = u32::try_from(content.len()).map_err(|_| EncodeError::TooLong {
        field: "message_content",
        len: content.len(),
        max: u32::MAX as usize,
    })?;
    dst.put_u32(len);
    dst.put_slice(content);
    Ok(())
}

/// The concatenation element of the UDH at the start of `content` (IEI 0x00,
/// 8-bit reference, or 0x08, 16-bit), skipping other elements. `None` when
/// there is none or the header is malformed.
pub fn concat_of(content: &[u8]) -> Option<Concat> {
    let udhl = *content.first()? as usize;
    let udh = content.get(1..1 + udhl)?;
    let mut i = 0;
    while i + 2 <= udh.len() {
        let iei = udh[i];
        let len = udh[i + 1] as usize;
        let data = udh.get(i + 2..i + 2 + len)?;
        match (iei, data) {
            (0x00, &[reference, total, seq]) => {
                return Some(Concat {
                    reference: reference as u16,
                    wide_reference: false,
                    total,
                    seq,
                })
            }
            (0x08, &[hi, lo, total, seq]) => {
                return Some(Concat {
                    reference: u16::from_be_bytes([hi, lo]),
                    wide_reference: true,
                    total,
                    seq,
                })
            }
            _ => i += 2 + len,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_8_and_16_bit_and_skips_others() {
        let c = concat_of(&[5, 0, 3, 0x2a, 3, 2, b'h']).unwrap();
        assert_eq!(
            (c.reference, c.wide_reference, c.total, c.seq),
            (0x2a, false, 3, 2)
        );
        let c = concat_of(&[6, 8, 4, 0x12, 0x34, 2, 1]).unwrap();
        assert_eq!(
            (c.reference, c.wide_reference, c.total, c.seq),
            (0x1234, true, 2, 1)
        );
        // A port-addressing element (0x05) first, then 0x00.
        let c = concat_of(&[11, 5, 4, 0, 1, 0, 2, 0, 3, 7, 2, 1]).unwrap();
        assert_eq!((c.reference, c.total, c.seq), (7, 2, 1));
        assert_eq!(concat_of(&[]), None);
        assert_eq!(concat_of(&[5, 0, 3, 1]), None);
        assert_eq!(concat_of(&[3, 0, 9, 1]), None);
    }
}
