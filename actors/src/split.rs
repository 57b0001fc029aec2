//! The one place a message's text becomes the parts a carrier is sent: the
//! encoding the protocol carries, and the carrier profile's `max_parts` and
//! `udh` style (8-bit UDH, 16-bit UDH, or SMPP `sar_*` TLVs). The HTTP API
//! splits at accept time with [`split_text`] (to refuse what the carrier
//! cannot take, and to store parts M.1..M.n) and the dispatcher splits again
//! at send time with [`split_message`]; both go through [`split_text`], so
//! the two always agree on part count, sizes and numbering.
//!
//! It never maps codes to a carrier's own `data_coding` values: the clients
//! in [`crate::proto`] do that when they build a submit.

use smsgw_config::{CarrierProfile, UdhStyle};
use smsgw_protocols::text::{self, Encoding, TextError};
use smsgw_protocols::udh::{self, ConcatStyle, Gsm7Packing, Segment, SplitRule};

use crate::error::SplitError;
use crate::model::{OutboundMessage, Part, PartId, Protocol};

/// A text cut up for one carrier.
#[derive(Debug, Clone)]
pub struct Split {
    pub encoding: Encoding,
    /// `data_coding` (SMPP) or `Msg_Fmt` (the others) of [`Split::encoding`],
    /// before the profile's own values for UCS-2 and GBK.
    pub coding: u8,
    pub segments: Vec<Segment>,
}

/// The split rule of a carrier: the protocol's encoding for `text`, SMPP's
/// unpacked GSM 7-bit, and the profile's max parts and numbering. `sar` is
/// SMPP's alone (the Chinese protocols have no such fields), so the others
/// number with the 8-bit UDH when a profile asks for it. SMGP before 3.0
/// has no TP_udhi (it is a 3.0 TLV; the 1.3 and 2.0 Submit is the 3.0
/// layout without TLVs), so nothing could tell the SMG that content starts
/// with a UDH: those profiles take one part, and a longer text is refused
/// rather than delivered as a header shown as text.
pub fn rule_for(text: &str, protocol: Protocol, profile: &CarrierProfile) -> SplitRule {
    let smpp = protocol.uses_data_coding();
    let max_parts = if protocol == Protocol::Smgp && matches!(profile.version.as_str(), "1.3" | "2.0") {
        1
    } else {
        profile.max_parts
    };
    let style = match profile.udh {
        UdhStyle::Bit8 => ConcatStyle::Udh8,
        UdhStyle::Bit16 => ConcatStyle::Udh16,
        UdhStyle::Sar if smpp => ConcatStyle::Sar,
        UdhStyle::Sar => ConcatStyle::Udh8,
    };
    SplitRule::new(text::encoding_for(text, smpp))
        .with_packing(if smpp {
            Gsm7Packing::Unpacked
        } else {
            Gsm7Packing::Packed
        })
        .with_style(style)
        .with_max_parts(max_parts)
}

/// Splits `text` of message `id` for a carrier. The concatenation
/// reference is the id's low 16 bits (the low 8 with an 8-bit UDH).
/// Errors when the encoding cannot carry the text or it needs more parts
/// than the profile's `max_parts` ([`TextError::TooManyParts`]).
pub fn split_text(
    text: &str,
    id: u64,
    protocol: Protocol,
    profile: &CarrierProfile,
) -> Result<Split, TextError> {
    let rule = rule_for(text, protocol, profile);
    let segments = udh::split(text, rule, (id & 0xffff) as u16)?;
    let coding = if protocol.uses_data_coding() {
        rule.encoding.data_coding()
    } else {
        rule.encoding.msg_fmt()
    };
    Ok(Split {
        encoding: rule.encoding,
        coding,
        segments,
    })
}

/// Splits a message into the parts a carrier of `protocol` with `profile`
/// is sent.
pub fn split_message(
    m: &OutboundMessage,
    protocol: Protocol,
    profile: &CarrierProfile,
) -> Result<Vec<Part>, SplitError> {
    let split = split_text(&m.text, m.id, protocol, profile)?;
    if split.segments.is_empty() {
        return Err(SplitError::Empty);
    }
    // split_text never gives more than max_parts <= 255 segments.
    let total = u8::try_from(split.segments.len()).unwrap_or(u8::MAX);
    Ok(split
        .segments
        .into_iter()
        .take(usize::from(total))
        .enumerate()
        .map(|(i, s)| Part {
            id: PartId {
                message: m.id,
                seq: (i + 1) as u8,
            },
            total,
            account: m.account.clone(),
            priority: m.priority,
            source: m.source.clone(),
            destination: m.destination.clone(),
            udhi: s.udhi(),
            concat: s.concat,
            content: s.content,
            coding: split.coding,
            report: m.report,
            attempts: 0,
        })
        .collect())
}
