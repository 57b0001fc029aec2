//! Turning an injected MO text into the segments a carrier would send, and
//! a received submit's content back into text for the ledger.
//!
//! Encoding choice follows what handsets send: the Chinese protocols get
//! ASCII when the text is ASCII and UCS-2 otherwise; SMPP gets GSM 7-bit
//! (unpacked septets) when the alphabet allows, else UCS-2. Long texts get
//! UDH concatenation with an 8-bit reference.

use std::sync::atomic::{AtomicU16, Ordering};

use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::udh;

use crate::config::Protocol;
use crate::dialect::MoPart;

static NEXT_REF: AtomicU16 = AtomicU16::new(1);

/// The gateway code in the ids of injected MOs (not the submit ids').
const MO_GATEWAY: u32 = 4321;

/// The ids of injected MO segments: Beijing time to the second, then a
/// sequence that starts at random, so a restarted simulator does not hand
/// out the ids of the MOs it sent a moment before.
fn next_mo_id() -> u64 {
    static IDS: std::sync::LazyLock<smsgw_protocols::cmpp::MsgIdGenerator> = std::sync::LazyLock::new(|| {
        smsgw_protocols::cmpp::MsgIdGenerator::starting_at(MO_GATEWAY, rand::random::<u16>())
    });
    IDS.next().0
}

/// The segments of one MO, each ready for the protocol's deliver PDU.
pub fn parts(protocol: Protocol, from: &str, to: &str, body: &str) -> Result<Vec<MoPart>, String> {
    parts_as(protocol, None, from, to, body)
}

/// Like [`parts`], the way a carrier playing `profile` sends them: its own
/// values for UCS-2 and GBK, and its numbering of long messages (8-bit or
/// 16-bit UDH, or for SMPP `sar_*` TLVs with no UDH).
pub fn parts_as(
    protocol: Protocol,
    profile: Option<&smsgw_config::CarrierProfile>,
    from: &str,
    to: &str,
    body: &str,
) -> Result<Vec<MoPart>, String> {
    if body.is_empty() {
        return Err("text is empty".into());
    }
    let encoding = text::encoding_for(body, protocol == Protocol::Smpp);
    let coding = match protocol {
        Protocol::Smpp => encoding.data_coding(),
        _ => encoding.msg_fmt(),
    };
    let coding = profile.map_or(coding, |p| p.wire_coding(coding));
    // split keeps only the low byte for an 8-bit reference.
    let reference = NEXT_REF.fetch_add(1, Ordering::Relaxed);
    let style = match profile.map(crate::profile::style_of) {
        Some(udh::ConcatStyle::Sar) if protocol != Protocol::Smpp => udh::ConcatStyle::Udh8,
        Some(s) => s,
        None => udh::ConcatStyle::Udh8,
    };
    let rule = udh::SplitRule::new(encoding)
        .with_packing(udh::Gsm7Packing::Unpacked)
        .with_style(style);
    let segments = udh::split(body, rule, reference).map_err(|e| e.to_string())?;
    Ok(segments
        .into_iter()
        .map(|s| MoPart {
            source: from.to_string(),
            destination: to.to_string(),
            udhi: s.udhi(),
            sar: s.sar(),
            content: s.content,
            coding,
            id: next_mo_id(),
        })
        .collect())
}

/// A submitted part's content without its UDH (when `udhi`), and the
/// concatenation element of that UDH; a malformed UDH keeps the content
/// whole rather than dropping it.
pub fn strip_udh(content: &bytes::Bytes, udhi: bool) -> (bytes::Bytes, Option<udh::Concat>) {
    if udhi {
        if let Ok((h, rest)) = udh::parse_udh(content) {
            return (content.slice(content.len() - rest.len()..), h.concat());
        }
    }
    (content.clone(), None)
}

/// The text of a part's payload for the ledger: undecodable content is
/// kept as hex rather than dropped.
pub fn payload_text(payload: &[u8], encoding: Option<Encoding>) -> String {
    match encoding {
        Some(e) => text::decode(payload, e).unwrap_or_else(|_| hex_of(payload)),
        None => hex_of(payload),
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
