//! Splitting a byte stream into frames, apart from what the frames mean.
//!
//! All four protocols start every frame with a 4-byte big-endian total length
//! (header included). [`split_frame`] checks that length against the header
//! size and a configured maximum *before* waiting for or allocating the body,
//! so a hostile length can neither panic nor balloon memory.
//!
//! [`FrameCodec`] is the one `tokio_util::codec` implementation; each protocol
//! plugs in through [`Wire`]. A frame with good boundaries but a bad body
//! is yielded as `Err(BadPdu)` *inside* the item, so the session can answer it
//! (SMPP `generic_nack`, an error response elsewhere) and keep the link; only
//! a bad length or an I/O error ends the stream.

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::{DecodeError, EncodeError, FrameError};
use crate::wire::Reader;

/// What a protocol module provides to be framed by [`FrameCodec`].
pub trait Wire {
    /// The typed PDU.
    type Pdu;
    /// The fixed header, readable from any frame that passed [`split_frame`].
    type Header: Clone + std::fmt::Debug;
    /// Per-connection settings that change how bodies are read (CMPP's
    /// negotiated version, for instance).
    type Options: Clone + Default;

    /// Short name for logs and errors.
    const NAME: &'static str;
    /// Bytes in the fixed header; the smallest legal frame.
    const HEADER_LEN: usize;
    /// The default largest frame accepted.
    const DEFAULT_MAX_FRAME: usize;

    /// Reads the header of a frame at least `HEADER_LEN` long.
    fn header(frame: &[u8]) -> Self::Header;
    /// Where the body reader starts in a frame: 0 when
    /// [`Wire::decode_from`] reads the header through the reader too.
    const BODY_START: usize = 0;

    /// Reads one whole frame (header included) with `r`, positioned at
    /// [`Wire::BODY_START`]. Whether bytes after a known body are an
    /// error or skipped is the reader's business ([`Reader::finish`]), so
    /// each protocol writes its layout once and the strict and lenient
    /// decoders below are the same code.
    fn decode_from(frame: &Bytes, r: &mut Reader<'_>, opts: &Self::Options)
        -> Result<Self::Pdu, DecodeError>;

    /// Decodes one whole frame (header included); bytes after a known body
    /// are an error.
    fn decode(frame: Bytes, opts: &Self::Options) -> Result<Self::Pdu, DecodeError> {
        let mut r = Reader::new(&frame, Self::BODY_START);
        Self::decode_from(&frame, &mut r, opts)
    }

    /// Like [`Wire::decode`], but liberal in what it accepts: bytes
    /// after a known body are skipped and their count returned beside the
    /// PDU (the link counts them in `smsgw_pdu_trailing_bytes_total`).
    fn decode_lenient(frame: Bytes, opts: &Self::Options) -> Result<(Self::Pdu, usize), DecodeError> {
        let mut r = Reader::lenient(&frame, Self::BODY_START);
        let pdu = Self::decode_from(&frame, &mut r, opts)?;
        Ok((pdu, r.trailing()))
    }

    /// Appends one whole frame (header included) to `dst`.
    fn encode(pdu: &Self::Pdu, opts: &Self::Options, dst: &mut BytesMut) -> Result<(), EncodeError>;
}

/// A frame whose length was acceptable but whose body was not.
#[derive(Debug, Clone)]
pub struct BadPdu<H> {
    /// The header as received, so an error response can echo the sequence.
    pub header: H,
    pub error: DecodeError,
}

/// Takes one complete frame off the front of `src`, if there is one.
///
/// `Ok(None)` means "need more bytes"; enough capacity for the declared frame
/// is reserved then, since the length has been checked.
pub fn split_frame(
    src: &mut BytesMut,
    header_len: usize,
    max_frame: usize,
) -> Result<Option<Bytes>, FrameError> {
    if src.len() < 4 {
        return Ok(None);
    }
    let declared = u32::from_be_bytes([src[0], src[1], src[2], src[3]]);
    let len = declared as usize;
    if len < header_len || len > max_frame {
        return Err(FrameError::BadLength {
            declared,
            min: header_len,
            max: max_frame,
        });
    }
    if src.len() < len {
        src.reserve(len - src.len());
        return Ok(None);
    }
    Ok(Some(src.split_to(len).freeze()))
}

/// The `Decoder`/`Encoder` for any [`Wire`].
#[derive(Debug, Clone)]
pub struct FrameCodec<P: Wire> {
    max_frame: usize,
    opts: P::Options,
    lenient: bool,
    /// Bytes skipped after known bodies since the last [`FrameCodec::take_trailing`].
    trailing: u64,
}

impl<P: Wire> Default for FrameCodec<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Wire> FrameCodec<P> {
    pub fn new() -> Self {
        FrameCodec {
            max_frame: P::DEFAULT_MAX_FRAME,
            opts: P::Options::default(),
            lenient: false,
            trailing: 0,
        }
    }

    /// Liberal in what it accepts: bytes after a known body are skipped
    /// (and counted, see [`FrameCodec::take_trailing`]) instead of making
    /// the frame a [`BadPdu`]. What a gateway reads from carriers; the
    /// simulator, a witness of what the gateway sends, stays strict.
    pub fn lenient(mut self) -> Self {
        self.lenient = true;
        self
    }

    /// Trailing bytes skipped since the last call, and resets the count.
    pub fn take_trailing(&mut self) -> u64 {
        std::mem::take(&mut self.trailing)
    }

    /// Sets the largest frame accepted (never below the header size).
    pub fn with_max_frame(mut self, max_frame: usize) -> Self {
        self.max_frame = max_frame.max(P::HEADER_LEN);
        self
    }

    pub fn with_options(mut self, opts: P::Options) -> Self {
        self.opts = opts;
        self
    }

    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    pub fn options(&self) -> &P::Options {
        &self.opts
    }

    /// Changes the options mid-stream (after a version is negotiated).
    pub fn options_mut(&mut self) -> &mut P::Options {
        &mut self.opts
    }
}

impl<P: Wire> Decoder for FrameCodec<P> {
    type Item = Result<P::Pdu, BadPdu<P::Header>>;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, FrameError> {
        let Some(frame) = split_frame(src, P::HEADER_LEN, self.max_frame)? else {
            return Ok(None);
        };
        let decoded = if self.lenient {
            P::decode_lenient(frame.clone(), &self.opts).map(|(pdu, skipped)| {
                self.trailing += skipped as u64;
                pdu
            })
        } else {
            P::decode(frame.clone(), &self.opts)
        };
        Ok(Some(decoded.map_err(|error| BadPdu {
            header: P::header(&frame),
            error,
        })))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, FrameError> {
        match self.decode(src)? {
            Some(item) => Ok(Some(item)),
            None if src.is_empty() => Ok(None),
            None => {
                // The peer closed mid-frame: drop the partial bytes and say so.
                let n = src.remaining();
                src.clear();
                Err(FrameError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "{}: connection closed inside a frame ({n} bytes pending)",
                        P::NAME
                    ),
                )))
            }
        }
    }
}

impl<P: Wire> Encoder<P::Pdu> for FrameCodec<P> {
    type Error = FrameError;

    fn encode(&mut self, item: P::Pdu, dst: &mut BytesMut) -> Result<(), FrameError> {
        P::encode(&item, &self.opts, dst)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_waits_for_whole_frame_and_rejects_bad_lengths() {
        let mut b = BytesMut::from(&[0u8, 0, 0, 14, 1, 2][..]);
        assert!(split_frame(&mut b, 12, 100).unwrap().is_none());
        b.extend_from_slice(&[0; 8]);
        assert_eq!(split_frame(&mut b, 12, 100).unwrap().unwrap().len(), 14);
        assert!(b.is_empty());

        let mut small = BytesMut::from(&[0u8, 0, 0, 11][..]);
        assert!(matches!(
            split_frame(&mut small, 12, 100),
            Err(FrameError::BadLength { declared: 11, .. })
        ));
        let mut huge = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xff][..]);
        assert!(split_frame(&mut huge, 12, 100).is_err());
        assert!(huge.capacity() < 1024, "no allocation for a hostile length");
    }
}
