//! The dedupe key of an inbound segment for protocols that give an MO no
//! id of its own (SMPP's `deliver_sm`): a hash of what the segment carries.
//! CMPP and SMGP name each DELIVER with a `Msg_Id` and SGIP with its
//! sequence number, and those are used as they are.
//!
//! What goes in, and why: the source and destination, the coding and UDH
//! flag, the whole content (UDH included), the `sar_*` numbers, the
//! handset's `user_message_reference` when the SMSC passes it on (it tells
//! two equal texts of one handset apart) and `schedule_delivery_time` (the
//! only timestamp a `deliver_sm` may carry; usually empty). A carrier's
//! re-delivery carries the same fields, so it gets the same key. The
//! price: without a reference or timestamp, the same text sent twice by
//! one handset to one number within the key window (`client_ref_hours`)
//! is recorded once.
//!
//! It must stay stable across versions and nodes (the key is replicated
//! and compared with keys other nodes made): SHA-256, a fixed field order,
//! every field length-prefixed.

use sha2::{Digest, Sha256};
use smsgw_protocols::udh::Concat;

/// What an MO segment without an id is keyed by.
pub struct Fields<'a> {
    pub source: &'a str,
    pub destination: &'a str,
    pub coding: u8,
    pub udhi: bool,
    pub sar: Option<Concat>,
    /// `user_message_reference`, when present.
    pub reference: Option<u32>,
    pub timestamp: &'a str,
    pub content: &'a [u8],
}

/// `h` and the first 16 bytes of the SHA-256 of `f`, in hex.
pub fn content_key(f: &Fields<'_>) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u32).to_be_bytes());
        h.update(b);
    };
    field(f.source.as_bytes());
    field(f.destination.as_bytes());
    field(&[f.coding, u8::from(f.udhi)]);
    match f.sar {
        Some(c) => field(&[&c.reference.to_be_bytes()[..], &[c.total, c.seq]].concat()),
        None => field(&[]),
    }
    match f.reference {
        Some(r) => field(&r.to_be_bytes()),
        None => field(&[]),
    }
    field(f.timestamp.as_bytes());
    field(f.content);
    let digest = h.finalize();
    let mut out = String::with_capacity(33);
    out.push('h');
    for b in &digest[..16] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(content: &'a [u8], reference: Option<u32>) -> Fields<'a> {
        Fields {
            source: "13800138000",
            destination: "1069000110",
            coding: 8,
            udhi: false,
            sar: None,
            reference,
            timestamp: "",
            content,
        }
    }

    #[test]
    fn the_same_segment_gets_the_same_key_and_any_difference_another() {
        let a = content_key(&fields(b"help", Some(7)));
        assert_eq!(a, content_key(&fields(b"help", Some(7))));
        assert_eq!(a.len(), 33);
        assert_ne!(
            a,
            content_key(&fields(b"help", Some(8))),
            "the handset's reference counts"
        );
        assert_ne!(a, content_key(&fields(b"help", None)));
        assert_ne!(a, content_key(&fields(b"hel", Some(7))));
        let mut moved = fields(b"help", Some(7));
        moved.source = "1380013800";
        moved.destination = "01069000110";
        assert_ne!(a, content_key(&moved), "fields are length-prefixed, not glued");
    }
}
