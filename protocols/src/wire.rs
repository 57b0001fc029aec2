//! Field-level reading and writing shared by all four protocols.
//!
//! [`Reader`] walks a frame with an offset, so every error names the field and
//! the byte offset where it went wrong; it never panics and never allocates.
//! [`FixedStr`] holds a short text field inline (no heap), which keeps a
//! decode free of per-field allocations. [`PutExt`] writes the same field
//! kinds into a `BytesMut`.
//!
//! This module knows nothing of any protocol's layout.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{DecodeError, EncodeError};

/// What a password is shown as in `Debug` output.
pub const MASKED: &str = "********";

/// A short text field of at most `N` bytes, stored inline.
///
/// Used for both NUL-padded octet strings (`N` = the field width) and
/// C-octet strings (`N` = the maximum size without the terminator). The
/// content is always valid UTF-8 (in practice ASCII), checked at decode.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedStr<const N: usize> {
    len: u8,
    buf: [u8; N],
}

impl<const N: usize> FixedStr<N> {
    /// The empty string.
    pub const fn empty() -> Self {
        FixedStr { len: 0, buf: [0; N] }
    }

    /// A string from text; errors when it is longer than `N` bytes.
    pub fn new(s: &str) -> Result<Self, EncodeError> {
        Self::from_bytes(s.as_bytes()).ok_or(EncodeError::TooLong {
            field: "string",
            len: s.len(),
            max: N,
        })
    }

    /// Like [`FixedStr::new`] but names the field in the error.
    pub fn for_field(field: &'static str, s: &str) -> Result<Self, EncodeError> {
        Self::from_bytes(s.as_bytes()).ok_or(EncodeError::TooLong {
            field,
            len: s.len(),
            max: N,
        })
    }

    /// Keeps the first `N` bytes of `s` (cut at a char boundary).
    pub fn truncating(s: &str) -> Self {
        let mut end = s.len().min(N);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Self::from_bytes(&s.as_bytes()[..end]).unwrap_or_else(Self::empty)
    }

    fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() > N || b.len() > u8::MAX as usize {
            return None;
        }
        let mut buf = [0u8; N];
        buf[..b.len()].copy_from_slice(b);
        Some(FixedStr {
            len: b.len() as u8,
            buf,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }

    pub fn as_str(&self) -> &str {
        // Every constructor checks UTF-8; the fallback is unreachable but
        // keeps this path panic-free.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// The text without trailing spaces or NULs: what to match on, since
    /// some gateways pad fixed fields with spaces instead of NULs.
    pub fn trimmed(&self) -> &str {
        self.as_str().trim_end_matches([' ', '\0'])
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for FixedStr<N> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<const N: usize> fmt::Debug for FixedStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for FixedStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> PartialEq<str> for FixedStr<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> PartialEq<&str> for FixedStr<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> TryFrom<&str> for FixedStr<N> {
    type Error = EncodeError;
    fn try_from(s: &str) -> Result<Self, EncodeError> {
        Self::new(s)
    }
}

impl<const N: usize> Serialize for FixedStr<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de, const N: usize> Deserialize<'de> for FixedStr<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        FixedStr::new(&s).map_err(|_| {
            serde::de::Error::custom(format!(
                "string of {} bytes is longer than the field's {N}",
                s.len()
            ))
        })
    }
}

/// Serde helpers for binary fields shown as lowercase hex in JSON.
pub mod hex_bytes {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        hex::decode(s.as_ref())
            .map(Bytes::from)
            .map_err(|e| serde::de::Error::custom(format!("not hex: {e}")))
    }
}

/// Serde helpers for fixed-size binary arrays shown as hex.
pub mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(b: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let v = hex::decode(s.as_ref()).map_err(|e| serde::de::Error::custom(format!("not hex: {e}")))?;
        v.try_into().map_err(|v: Vec<u8>| {
            serde::de::Error::custom(format!("expected {N} bytes of hex, got {}", v.len()))
        })
    }
}

/// A bounds-checked cursor over one frame.
///
/// Offsets in errors are counted from the start of the frame (header
/// included), which is what a hex dump of a capture shows.
pub struct Reader<'a> {
    frame: &'a Bytes,
    pos: usize,
    /// Liberal in what it accepts: bytes after the last field are skipped
    /// and counted instead of refused (see [`Reader::finish`]).
    lenient: bool,
    trailing: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading `frame` at `pos` (usually just after the header).
    pub fn new(frame: &'a Bytes, pos: usize) -> Self {
        Reader {
            frame,
            pos,
            lenient: false,
            trailing: 0,
        }
    }

    /// Like [`Reader::new`], but bytes left after a body's last field (or
    /// after the last whole TLV) are skipped and counted, never an error:
    /// real ISMGs and SMSCs pad responses (an SMGP Active_Test_Resp with a
    /// 1-byte Reserved, a Bind_Resp with stray bytes) and a gateway must
    /// not drop a heartbeat or a login over that.
    pub fn lenient(frame: &'a Bytes, pos: usize) -> Self {
        Reader {
            lenient: true,
            ..Reader::new(frame, pos)
        }
    }

    /// Whether this reader skips trailing bytes.
    pub fn is_lenient(&self) -> bool {
        self.lenient
    }

    /// Bytes skipped after the body (lenient readers only).
    pub fn trailing(&self) -> usize {
        self.trailing
    }

    /// The offset of the next byte to read.
    pub fn offset(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.frame.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if n > available {
            return Err(DecodeError::Truncated {
                field,
                offset: self.pos,
                needed: n,
                available,
            });
        }
        let frame: &'a [u8] = self.frame;
        let s = &frame[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// A fixed-size binary field.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let b = self.take(N, field)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    /// `n` raw bytes, borrowed from the frame.
    pub fn slice(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        self.take(n, field)
    }

    /// `n` raw bytes as a `Bytes` sharing the frame's buffer (no copy).
    pub fn bytes(&mut self, n: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        let start = self.pos;
        self.take(n, field)?;
        Ok(self.frame.slice(start..start + n))
    }

    /// The next 4 bytes without consuming them (a TLV header), `None` if
    /// fewer are left.
    pub fn peek4(&self) -> Option<[u8; 4]> {
        let frame: &'a [u8] = self.frame;
        let s = frame.get(self.pos..self.pos.checked_add(4)?)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(s);
        Some(a)
    }

    /// Whether a whole TLV with a 2-byte tag and a 2-byte length (SMPP,
    /// SMGP) is left: its header and the value it declares.
    pub fn whole_tlv_follows(&self) -> bool {
        self.peek4()
            .is_some_and(|h| usize::from(u16::from_be_bytes([h[2], h[3]])) + 4 <= self.remaining())
    }

    /// Everything left in the frame, without copying.
    pub fn rest(&mut self) -> Bytes {
        let start = self.pos.min(self.frame.len());
        self.pos = self.frame.len();
        self.frame.slice(start..)
    }

    /// A NUL-padded octet string of exactly `N` bytes on the wire, read up to
    /// the first NUL.
    pub fn octets<const N: usize>(&mut self, field: &'static str) -> Result<FixedStr<N>, DecodeError> {
        let offset = self.pos;
        let raw = self.take(N, field)?;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(N);
        text_field(&raw[..end], field, offset)
    }

    /// A C-octet string: up to `N` bytes then a NUL (so at most `N + 1` on
    /// the wire).
    pub fn cstr<const N: usize>(&mut self, field: &'static str) -> Result<FixedStr<N>, DecodeError> {
        let offset = self.pos;
        let frame: &'a [u8] = self.frame;
        let avail = &frame[self.pos.min(frame.len())..];
        let window = &avail[..avail.len().min(N + 1)];
        match window.iter().position(|&b| b == 0) {
            Some(end) => {
                self.pos += end + 1;
                text_field(&window[..end], field, offset)
            }
            None if window.len() <= N => Err(DecodeError::Truncated {
                field,
                offset,
                needed: window.len() + 1,
                available: window.len(),
            }),
            None => Err(DecodeError::Unterminated {
                field,
                offset,
                max: N + 1,
            }),
        }
    }

    /// Errors if anything is left after the last field; a lenient reader
    /// skips and counts what is left instead.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count if self.lenient => {
                self.trailing += count;
                self.pos = self.frame.len();
                Ok(())
            }
            count => Err(DecodeError::TrailingBytes {
                offset: self.pos,
                count,
            }),
        }
    }
}

fn text_field<const N: usize>(
    raw: &[u8],
    field: &'static str,
    offset: usize,
) -> Result<FixedStr<N>, DecodeError> {
    if std::str::from_utf8(raw).is_err() {
        return Err(DecodeError::InvalidText {
            field,
            offset,
            encoding: "ASCII text",
        });
    }
    // `ok_or_else`: the message is formatted only on the error path; this
    // runs for every text field of every PDU.
    FixedStr::from_bytes(raw).ok_or_else(|| DecodeError::InvalidValue {
        field,
        offset,
        message: format!("longer than {N} bytes"),
    })
}

/// Writing the shared field kinds.
pub trait PutExt {
    /// `s` left-aligned in exactly `width` bytes, NUL-padded.
    fn put_octets(&mut self, s: &[u8], width: usize, field: &'static str) -> Result<(), EncodeError>;
    /// `s` then a NUL; `max` counts the NUL.
    fn put_cstr(&mut self, s: &[u8], max: usize, field: &'static str) -> Result<(), EncodeError>;
}

impl PutExt for BytesMut {
    fn put_octets(&mut self, s: &[u8], width: usize, field: &'static str) -> Result<(), EncodeError> {
        if s.len() > width {
            return Err(EncodeError::TooLong {
                field,
                len: s.len(),
                max: width,
            });
        }
        self.put_slice(s);
        self.put_bytes(0, width - s.len());
        Ok(())
    }

    fn put_cstr(&mut self, s: &[u8], max: usize, field: &'static str) -> Result<(), EncodeError> {
        if s.len() + 1 > max {
            return Err(EncodeError::TooLong {
                field,
                len: s.len() + 1,
                max,
            });
        }
        self.put_slice(s);
        self.put_u8(0);
        Ok(())
    }
}

/// Starts a frame whose first field is its 4-byte total length: writes a
/// placeholder and returns where the frame starts, for [`finish_frame`].
pub fn begin_frame(dst: &mut BytesMut) -> usize {
    let start = dst.len();
    dst.put_u32(0);
    start
}

/// Writes the real total length into the frame begun at `start`.
pub fn finish_frame(dst: &mut BytesMut, start: usize) {
    let len = (dst.len() - start) as u32;
    dst[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octets_stop_at_nul_and_check_bounds() {
        let f = Bytes::from_static(b"ab\0\0xyz");
        let mut r = Reader::new(&f, 0);
        assert_eq!(r.octets::<4>("a").unwrap(), "ab");
        assert!(matches!(
            r.octets::<4>("b"),
            Err(DecodeError::Truncated {
                field: "b",
                offset: 4,
                needed: 4,
                available: 3
            })
        ));
    }

    #[test]
    fn cstr_terminated_unterminated_and_truncated() {
        let f = Bytes::from_static(b"abc\0abcdef");
        let mut r = Reader::new(&f, 0);
        assert_eq!(r.cstr::<5>("x").unwrap(), "abc");
        assert_eq!(r.offset(), 4);
        assert!(matches!(
            r.cstr::<3>("y"),
            Err(DecodeError::Unterminated { offset: 4, .. })
        ));
        assert!(matches!(
            r.cstr::<9>("z"),
            Err(DecodeError::Truncated { offset: 4, .. })
        ));
    }

    #[test]
    fn a_lenient_reader_skips_and_counts_what_a_strict_one_refuses() {
        let f = Bytes::from_static(b"ab\0z");
        let mut strict = Reader::new(&f, 0);
        strict.octets::<3>("a").unwrap();
        assert!(matches!(
            strict.finish(),
            Err(DecodeError::TrailingBytes { offset: 3, count: 1 })
        ));
        let mut lenient = Reader::lenient(&f, 0);
        lenient.octets::<3>("a").unwrap();
        lenient.finish().unwrap();
        assert_eq!(lenient.trailing(), 1);
        assert_eq!(lenient.remaining(), 0);
    }

    #[test]
    fn put_octets_pads_and_rejects_overflow() {
        let mut b = BytesMut::new();
        b.put_octets(b"ab", 4, "f").unwrap();
        assert_eq!(&b[..], b"ab\0\0");
        assert!(b.put_octets(b"abcde", 4, "f").is_err());
        assert!(b.put_cstr(b"abcd", 4, "g").is_err());
    }

    #[test]
    fn fixedstr_rejects_long_and_serializes_as_text() {
        assert!(FixedStr::<3>::new("abcd").is_err());
        let s = FixedStr::<8>::new("1065").unwrap();
        assert_eq!(s.to_string(), "1065");
        assert_eq!(FixedStr::<3>::truncating("中国"), "中");
    }
}
