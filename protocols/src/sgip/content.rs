//! Message content shared by SUBMIT and DELIVER: the `MessageLength ·
//! MessageContent` pair (checked against what the frame really holds) and
//! reading the concatenation element of a User Data Header.
//!
//! Content is kept as the raw octets the wire carried (`Bytes` sharing the
//! frame); decoding text is the caller's business, never this module's.

use bytes::{BufMut, Bytes, BytesMut};

use super::bodies::RESERVE_LEN;
use crate::error::{DecodeError, EncodeError};
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
