//! Long messages: splitting text into UDH-carrying segments and putting
//! inbound segments back together. Being written (issue 2); the shared
//! [`Concat`] type is fixed here so every protocol module can use it.

use serde::{Deserialize, Serialize};

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
