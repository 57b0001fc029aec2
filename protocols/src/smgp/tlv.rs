//! The optional TLVs after the fixed part of Submit and Deliver: Tag 2 ·
//! Length 2 · Value.
//!
//! Known tags are typed; anything else, and a known tag whose value would
//! not re-encode to the very same bytes (odd length, junk after the NUL of a
//! text value), is kept raw as [`Tlv::Raw`], so a decode/encode round trip is
//! byte-exact whatever the peer sent. Unknown tags are never errors; a TLV
//! running past the end of the frame is, naming the tag and its offset.

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, EncodeError};
use crate::wire::{FixedStr, Reader};

/// Tag numbers.
pub mod tag {
    pub const TP_PID: u16 = 0x0001;
    pub const TP_UDHI: u16 = 0x0002;
    pub const LINK_ID: u16 = 0x0003;
    pub const CHARGE_USER_TYPE: u16 = 0x0004;
    pub const CHARGE_TERM_TYPE: u16 = 0x0005;
    pub const CHARGE_TERM_PSEUDO: u16 = 0x0006;
    pub const DEST_TERM_TYPE: u16 = 0x0007;
    pub const DEST_TERM_PSEUDO: u16 = 0x0008;
    pub const PK_TOTAL: u16 = 0x0009;
    pub const PK_NUMBER: u16 = 0x000A;
    pub const SUBMIT_MSG_TYPE: u16 = 0x000B;
    pub const SP_DEAL_RESLT: u16 = 0x000C;
    pub const SRC_TERM_TYPE: u16 = 0x000D;
    pub const SRC_TERM_PSEUDO: u16 = 0x000E;
    pub const NODES_COUNT: u16 = 0x000F;
    pub const MSG_SRC: u16 = 0x0010;
    pub const SRC_TYPE: u16 = 0x0011;
    pub const M_SERVICE_ID: u16 = 0x0012;
}

/// Width of the fixed-size text TLVs (NUL-padded on the wire).
const LINK_ID_LEN: usize = 20;
const MSG_SRC_LEN: usize = 8;
const M_SERVICE_ID_LEN: usize = 21;

/// One TLV. In JSON: `{"tag": "tp_udhi", "value": 1}`, raw ones as
/// `{"tag": "raw", "value": {"tag": 19, "value": "00ff"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "tag", content = "value", rename_all = "snake_case")]
pub enum Tlv {
    TpPid(u8),
    TpUdhi(u8),
    /// 20 bytes, NUL-padded.
    LinkId(FixedStr<20>),
    ChargeUserType(u8),
    ChargeTermType(u8),
    /// Variable length, no padding.
    ChargeTermPseudo(FixedStr<64>),
    DestTermType(u8),
    DestTermPseudo(FixedStr<64>),
    PkTotal(u8),
    PkNumber(u8),
    SubmitMsgType(u8),
    /// `SPDealReslt` in the spec.
    SpDealReslt(u8),
    SrcTermType(u8),
    SrcTermPseudo(FixedStr<64>),
    NodesCount(u8),
    /// 8 bytes, NUL-padded.
    MsgSrc(FixedStr<8>),
    SrcType(u8),
    /// 21 bytes, NUL-padded.
    MServiceId(FixedStr<21>),
    /// An unknown tag, or a known one whose value is not in the spec's form.
    Raw {
        tag: u16,
        #[serde(with = "crate::wire::hex_bytes")]
        value: Bytes,
    },
}

enum Val<'a> {
    Byte(u8),
    /// Text and the width it is padded to (None: exactly its length).
    Text(&'a [u8], Option<usize>),
    Raw(&'a [u8]),
}

impl Tlv {
    /// The tag number.
    pub fn tag(&self) -> u16 {
        use tag::*;
        match self {
            Tlv::TpPid(_) => TP_PID,
            Tlv::TpUdhi(_) => TP_UDHI,
            Tlv::LinkId(_) => LINK_ID,
            Tlv::ChargeUserType(_) => CHARGE_USER_TYPE,
            Tlv::ChargeTermType(_) => CHARGE_TERM_TYPE,
            Tlv::ChargeTermPseudo(_) => CHARGE_TERM_PSEUDO,
            Tlv::DestTermType(_) => DEST_TERM_TYPE,
            Tlv::DestTermPseudo(_) => DEST_TERM_PSEUDO,
            Tlv::PkTotal(_) => PK_TOTAL,
            Tlv::PkNumber(_) => PK_NUMBER,
            Tlv::SubmitMsgType(_) => SUBMIT_MSG_TYPE,
            Tlv::SpDealReslt(_) => SP_DEAL_RESLT,
            Tlv::SrcTermType(_) => SRC_TERM_TYPE,
            Tlv::SrcTermPseudo(_) => SRC_TERM_PSEUDO,
            Tlv::NodesCount(_) => NODES_COUNT,
            Tlv::MsgSrc(_) => MSG_SRC,
            Tlv::SrcType(_) => SRC_TYPE,
            Tlv::MServiceId(_) => M_SERVICE_ID,
            Tlv::Raw { tag, .. } => *tag,
        }
    }

    fn val(&self) -> Val<'_> {
        match self {
            Tlv::TpPid(v)
            | Tlv::TpUdhi(v)
            | Tlv::ChargeUserType(v)
            | Tlv::ChargeTermType(v)
            | Tlv::DestTermType(v)
            | Tlv::PkTotal(v)
            | Tlv::PkNumber(v)
            | Tlv::SubmitMsgType(v)
            | Tlv::SpDealReslt(v)
            | Tlv::SrcTermType(v)
            | Tlv::NodesCount(v)
            | Tlv::SrcType(v) => Val::Byte(*v),
            Tlv::LinkId(s) => Val::Text(s.as_bytes(), Some(LINK_ID_LEN)),
            Tlv::MsgSrc(s) => Val::Text(s.as_bytes(), Some(MSG_SRC_LEN)),
            Tlv::MServiceId(s) => Val::Text(s.as_bytes(), Some(M_SERVICE_ID_LEN)),
            Tlv::ChargeTermPseudo(s) | Tlv::DestTermPseudo(s) | Tlv::SrcTermPseudo(s) => {
                Val::Text(s.as_bytes(), None)
            }
            Tlv::Raw { value, .. } => Val::Raw(value),
        }
    }

    /// Types a value if it is in the spec's form, so that encoding the typed
    /// value gives back exactly `value`.
    fn typed(tag: u16, value: &[u8]) -> Option<Tlv> {
        use tag::*;
        fn text<const N: usize>(v: &[u8], width: Option<usize>) -> Option<FixedStr<N>> {
            let end = match width {
                Some(w) if v.len() != w => return None,
                Some(_) => v.iter().position(|&b| b == 0).unwrap_or(v.len()),
                None => v.len(),
            };
            if v[end..].iter().any(|&b| b != 0) || v[..end].contains(&0) {
                return None;
            }
            FixedStr::new(std::str::from_utf8(&v[..end]).ok()?).ok()
        }
        let byte = || match value {
            [b] => Some(*b),
            _ => None,
        };
        Some(match tag {
            TP_PID => Tlv::TpPid(byte()?),
            TP_UDHI => Tlv::TpUdhi(byte()?),
            LINK_ID => Tlv::LinkId(text(value, Some(LINK_ID_LEN))?),
            CHARGE_USER_TYPE => Tlv::ChargeUserType(byte()?),
            CHARGE_TERM_TYPE => Tlv::ChargeTermType(byte()?),
            CHARGE_TERM_PSEUDO => Tlv::ChargeTermPseudo(text(value, None)?),
            DEST_TERM_TYPE => Tlv::DestTermType(byte()?),
            DEST_TERM_PSEUDO => Tlv::DestTermPseudo(text(value, None)?),
            PK_TOTAL => Tlv::PkTotal(byte()?),
            PK_NUMBER => Tlv::PkNumber(byte()?),
            SUBMIT_MSG_TYPE => Tlv::SubmitMsgType(byte()?),
            SP_DEAL_RESLT => Tlv::SpDealReslt(byte()?),
            SRC_TERM_TYPE => Tlv::SrcTermType(byte()?),
            SRC_TERM_PSEUDO => Tlv::SrcTermPseudo(text(value, None)?),
            NODES_COUNT => Tlv::NodesCount(byte()?),
            MSG_SRC => Tlv::MsgSrc(text(value, Some(MSG_SRC_LEN))?),
            SRC_TYPE => Tlv::SrcType(byte()?),
            M_SERVICE_ID => Tlv::MServiceId(text(value, Some(M_SERVICE_ID_LEN))?),
            _ => return None,
        })
    }

    /// Like [`Tlv::typed`], and a LinkID, MsgSrc or MServiceID of a
    /// non-standard length is typed anyway: trailing NULs and spaces are
    /// trimmed (it is padded back to the spec's width on encode). Real SMGs
    /// send these short or space-padded; matching needs the text, not raw
    /// bytes. A value still longer than its field stays raw.
    fn typed_lenient(tag: u16, value: &[u8]) -> Option<Tlv> {
        use tag::*;
        if let Some(t) = Tlv::typed(tag, value) {
            return Some(t);
        }
        fn trimmed<const N: usize>(v: &[u8]) -> Option<FixedStr<N>> {
            let end = v.iter().rposition(|&b| b != 0 && b != b' ').map_or(0, |i| i + 1);
            let text = &v[..end];
            if text.contains(&0) {
                return None;
            }
            FixedStr::new(std::str::from_utf8(text).ok()?).ok()
        }
        Some(match tag {
            LINK_ID => Tlv::LinkId(trimmed(value)?),
            MSG_SRC => Tlv::MsgSrc(trimmed(value)?),
            M_SERVICE_ID => Tlv::MServiceId(trimmed(value)?),
            _ => return None,
        })
    }

    /// Appends tag, length and value.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_u16(self.tag());
        match self.val() {
            Val::Byte(b) => {
                dst.put_u16(1);
                dst.put_u8(b);
            }
            Val::Text(s, width) => {
                let width = width.unwrap_or(s.len());
                if s.len() > width {
                    return Err(EncodeError::TooLong {
                        field: "tlv",
                        len: s.len(),
                        max: width,
                    });
                }
                dst.put_u16(len16(width)?);
                dst.put_slice(s);
                dst.put_bytes(0, width - s.len());
            }
            Val::Raw(v) => {
                dst.put_u16(len16(v.len())?);
                dst.put_slice(v);
            }
        }
        Ok(())
    }
}

fn len16(n: usize) -> Result<u16, EncodeError> {
    u16::try_from(n).map_err(|_| EncodeError::TooLong {
        field: "tlv value",
        len: n,
        max: u16::MAX as usize,
    })
}

/// Reads TLVs up to the end of the frame.
pub fn decode_tlvs(r: &mut Reader<'_>) -> Result<Vec<Tlv>, DecodeError> {
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let start = r.offset();
        if r.is_lenient() && !r.whole_tlv_follows() {
            // Stray bytes after the last whole TLV: skipped and counted.
            r.finish()?;
            break;
        }
        let tag = r.u16("tlv tag")?;
        let len = r.u16("tlv length")?;
        let avail = r.remaining();
        if usize::from(len) > avail {
            return Err(DecodeError::InvalidValue {
                field: "tlv",
                offset: start,
                message: format!(
                    "tag 0x{tag:04x} at offset {start} declares {len} value bytes, only {avail} left in the frame"
                ),
            });
        }
        let value = r.bytes(usize::from(len), "tlv value")?;
        let typed = if r.is_lenient() {
            Tlv::typed_lenient(tag, &value)
        } else {
            Tlv::typed(tag, &value)
        };
        out.push(typed.unwrap_or(Tlv::Raw { tag, value }));
    }
    Ok(out)
}

/// Appends all TLVs.
pub fn encode_tlvs(tlvs: &[Tlv], dst: &mut BytesMut) -> Result<(), EncodeError> {
    tlvs.iter().try_for_each(|t| t.encode(dst))
}

/// The TP_udhi flag from a TLV list.
pub(crate) fn udhi(tlvs: &[Tlv]) -> bool {
    tlvs.iter().any(|t| matches!(t, Tlv::TpUdhi(v) if *v & 1 == 1))
}

/// Sets or clears TP_udhi, keeping the other TLVs in place.
pub(crate) fn set_udhi(tlvs: &mut Vec<Tlv>, on: bool) {
    let mut found = false;
    for t in tlvs.iter_mut() {
        if matches!(t, Tlv::TpUdhi(_))
            || matches!(
                t,
                Tlv::Raw {
                    tag: tag::TP_UDHI,
                    ..
                }
            )
        {
            *t = Tlv::TpUdhi(u8::from(on));
            found = true;
        }
    }
    if !found && on {
        tlvs.push(Tlv::TpUdhi(1));
    }
}

/// Which part of which long message: from the UDH when udhi is set, else
/// from PkTotal/PkNumber (which carry no reference: 0 then).
pub(crate) fn concat(tlvs: &[Tlv], content: &[u8]) -> Option<crate::udh::Concat> {
    if udhi(tlvs) {
        return crate::udh::concat_in(content);
    }
    let total = tlvs.iter().find_map(|t| match t {
        Tlv::PkTotal(v) => Some(*v),
        _ => None,
    })?;
    let seq = tlvs.iter().find_map(|t| match t {
        Tlv::PkNumber(v) => Some(*v),
        _ => None,
    })?;
    (total > 1 && seq >= 1 && seq <= total).then_some(crate::udh::Concat {
        reference: 0,
        wide_reference: false,
        total,
        seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(b: &'static [u8]) -> Result<Vec<Tlv>, DecodeError> {
        let f = Bytes::from_static(b);
        decode_tlvs(&mut Reader::new(&f, 0))
    }

    fn encode(t: &[Tlv]) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode_tlvs(t, &mut b).unwrap();
        b.to_vec()
    }

    #[test]
    fn a_lenient_read_types_link_id_msg_src_and_mservice_id_of_odd_length() {
        let wire: &'static [u8] = &[
            0x00, 0x03, 0x00, 0x04, b'L', b'1', b' ', b' ', // LinkID, 4 bytes, space-padded
            0x00, 0x10, 0x00, 0x02, b'S', b'P', // MsgSrc, 2 bytes
            0x00, 0x12, 0x00, 0x16, b'M', b'S', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, // MServiceID, 22 bytes NUL-padded
        ];
        let strict = decode(wire).unwrap();
        assert!(
            strict.iter().all(|t| matches!(t, Tlv::Raw { .. })),
            "strict keeps them raw"
        );
        let f = Bytes::from_static(wire);
        let t = decode_tlvs(&mut Reader::lenient(&f, 0)).unwrap();
        assert_eq!(t[0], Tlv::LinkId(FixedStr::new("L1").unwrap()));
        assert_eq!(t[1], Tlv::MsgSrc(FixedStr::new("SP").unwrap()));
        assert_eq!(t[2], Tlv::MServiceId(FixedStr::new("MS").unwrap()));
        // Re-encoded at the spec's widths: 20, 8 and 21 value bytes.
        assert_eq!(encode(&t).len(), (4 + 20) + (4 + 8) + (4 + 21));
    }

    #[test]
    fn typed_raw_and_exact() {
        let wire: &[u8] = &[
            0x00, 0x02, 0x00, 0x01, 0x01, // TP_udhi = 1
            0x00, 0x10, 0x00, 0x08, b'S', b'P', 0, 0, 0, 0, 0, 0, // MsgSrc "SP"
            0x00, 0x01, 0x00, 0x02, 0x00, 0x00, // TP_pid with odd length: raw
            0x12, 0x34, 0x00, 0x00, // unknown tag, empty
            0x00, 0x06, 0x00, 0x03, b'a', b'b', b'c', // ChargeTermPseudo "abc"
        ];
        let t = decode(wire).unwrap();
        assert_eq!(t[0], Tlv::TpUdhi(1));
        assert_eq!(t[1], Tlv::MsgSrc(FixedStr::new("SP").unwrap()));
        assert!(matches!(&t[2], Tlv::Raw { tag: 1, value } if value.len() == 2));
        assert!(matches!(&t[3], Tlv::Raw { tag: 0x1234, value } if value.is_empty()));
        assert_eq!(t[4], Tlv::ChargeTermPseudo(FixedStr::new("abc").unwrap()));
        assert_eq!(encode(&t), wire);
        assert!(udhi(&t));
    }

    #[test]
    fn overrun_names_tag_and_offset() {
        let e = decode(&[0x00, 0x02, 0x00, 0x01, 0x01, 0x00, 0x03, 0x00, 0x14, 0x41]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("0x0003") && msg.contains("offset 5"), "{msg}");
        assert!(matches!(
            decode(&[0x00, 0x02, 0x00]),
            Err(DecodeError::Truncated { offset: 2, .. })
        ));
    }

    #[test]
    fn udh_and_pk_concat() {
        assert_eq!(
            crate::udh::concat_in(&[5, 0, 3, 7, 3, 2, b'x']),
            Some(crate::udh::Concat {
                reference: 7,
                wide_reference: false,
                total: 3,
                seq: 2
            })
        );
        assert_eq!(
            crate::udh::concat_in(&[9, 0x24, 1, 1, 8, 4, 1, 2, 4, 1]),
            Some(crate::udh::Concat {
                reference: 0x0102,
                wide_reference: true,
                total: 4,
                seq: 1
            })
        );
        assert_eq!(crate::udh::concat_in(&[5, 0, 3, 7]), None);
        let pk = [Tlv::PkTotal(2), Tlv::PkNumber(1)];
        assert_eq!(concat(&pk, b"hi").map(|c| (c.total, c.seq)), Some((2, 1)));
        let mut t = vec![Tlv::TpPid(0)];
        set_udhi(&mut t, true);
        assert!(udhi(&t));
        set_udhi(&mut t, false);
        assert!(!udhi(&t));
    }
}
