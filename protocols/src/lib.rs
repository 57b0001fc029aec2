//! Byte-exact codecs for the protocols the carriers speak: CMPP 2.0/3.0
//! (China Mobile), SGIP 1.2 (China Unicom), SMGP 3.0 (China Telecom) and
//! SMPP 3.4 (everyone else), plus the text encodings and long-message
//! handling they share.
//!
//! Layers, bottom up:
//! - [`wire`]: a bounds-checked reader and writer helpers for the field kinds
//!   all four protocols use (big-endian integers, NUL-padded octet strings,
//!   C-octet strings). Every read names its field so errors say which field at
//!   which offset.
//! - [`framing`]: the length-prefixed frame splitter and one generic
//!   `tokio_util::codec` implementation, [`framing::FrameCodec`], driven by a
//!   small [`framing::Wire`] trait each protocol implements.
//! - [`family`]: the [`Protocol`] enum naming the four protocols.
//! - one module per protocol with typed PDUs.
//! - [`text`], [`udh`], [`report`]: encodings, long messages, and the one
//!   normalised delivery report.
//!
//! This crate does no I/O and spawns nothing: it turns bytes into typed values
//! and back, and never panics on input.

pub mod clock;
pub mod error;
pub mod family;
pub mod framing;
pub mod wire;

pub mod cmpp;
pub mod sgip;
pub mod smgp;
pub mod smpp;

pub mod report;
pub mod text;
pub mod udh;

pub use error::{DecodeError, EncodeError, FrameError};
pub use family::Protocol;
pub use wire::FixedStr;
