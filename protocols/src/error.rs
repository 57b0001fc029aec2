//! Errors of decoding and encoding. A decode error always says which field
//! and which byte offset inside the frame, because ops people read these
//! next to a packet capture.

use thiserror::Error;

/// A frame whose body could not be understood. The frame boundaries were
/// fine, so the connection can go on (answering with the protocol's error
/// response where there is one).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The frame ended before the field did.
    #[error("{field} at offset {offset}: needs {needed} bytes, only {available} left")]
    Truncated {
        field: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// A C-octet string had no NUL within its maximum size.
    #[error("{field} at offset {offset}: no NUL terminator within {max} bytes")]
    Unterminated {
        field: &'static str,
        offset: usize,
        max: usize,
    },
    /// A text field held bytes that are not valid in its encoding.
    #[error("{field} at offset {offset}: not valid {encoding}")]
    InvalidText {
        field: &'static str,
        offset: usize,
        encoding: &'static str,
    },
    /// A field held a value the protocol does not allow.
    #[error("{field} at offset {offset}: {message}")]
    InvalidValue {
        field: &'static str,
        offset: usize,
        message: String,
    },
    /// The command id is not one this protocol defines.
    #[error("unknown command id 0x{command_id:08x}")]
    UnknownCommand { command_id: u32 },
    /// Bytes were left over after the last field of a fixed-layout body.
    #[error("{count} unexpected trailing bytes at offset {offset}")]
    TrailingBytes { offset: usize, count: usize },
}

/// Why a PDU could not be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// A value is longer than its field allows.
    #[error("{field}: {len} bytes does not fit in {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    /// A value is not allowed in its field (or by the negotiated version).
    #[error("{field}: {message}")]
    InvalidValue { field: &'static str, message: String },
}

/// A fatal error on a framed stream: after it the byte stream cannot be
/// re-synchronised and the connection must be closed.
#[derive(Debug, Error)]
pub enum FrameError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The declared length is shorter than the header or longer than the
    /// configured maximum; nothing is allocated for such a frame.
    #[error("declared frame length {declared} outside {min}..={max}")]
    BadLength { declared: u32, min: usize, max: usize },
    #[error("encode: {0}")]
    Encode(#[from] EncodeError),
}
