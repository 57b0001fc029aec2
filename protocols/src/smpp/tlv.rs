//! SMPP optional parameters (TLVs: tag 2 · length 2 · value).
//!
//! Known tags decode to named, typed variants; anything else, and any known
//! tag whose value does not have the shape the spec gives it, is kept as
//! [`RawTlv`] so a re-encode is byte-exact and a peer's quirks never cost us
//! the PDU. The list keeps wire order for the same reason. This module must
//! never drop or reorder a TLV.

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{DecodeError, EncodeError};
use crate::wire::{FixedStr, Reader};

/// Binary TLV content shown as hex in JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Octets(pub Bytes);

impl Serialize for Octets {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::wire::hex_bytes::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Octets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::wire::hex_bytes::deserialize(d).map(Octets)
    }
}

/// `network_error_code` (0x0423): network type (1 ANSI-136, 2 IS-95, 3 GSM,
/// ...) and that network's error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NetworkErrorCode {
    pub network_type: u8,
    pub error_code: u16,
}

/// A TLV kept as received.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RawTlv {
    pub tag: u16,
    pub value: Octets,
}

/// How a value type reads from and writes to a TLV value.
/// `from_value` returns `None` when the value does not have the expected
/// shape; the caller then keeps the TLV raw.
trait TlvValue: Sized {
    fn from_value(v: &Bytes) -> Option<Self>;
    fn put_value(&self, dst: &mut BytesMut);
    fn value_len(&self) -> usize;
}

impl TlvValue for u8 {
    fn from_value(v: &Bytes) -> Option<Self> {
        match v[..] {
            [a] => Some(a),
            _ => None,
        }
    }
    fn put_value(&self, dst: &mut BytesMut) {
        dst.put_u8(*self)
    }
    fn value_len(&self) -> usize {
        1
    }
}

impl TlvValue for u16 {
    fn from_value(v: &Bytes) -> Option<Self> {
        match v[..] {
            [a, b] => Some(u16::from_be_bytes([a, b])),
            _ => None,
        }
    }
    fn put_value(&self, dst: &mut BytesMut) {
        dst.put_u16(*self)
    }
    fn value_len(&self) -> usize {
        2
    }
}

impl TlvValue for u32 {
    fn from_value(v: &Bytes) -> Option<Self> {
        match v[..] {
            [a, b, c, d] => Some(u32::from_be_bytes([a, b, c, d])),
            _ => None,
        }
    }
    fn put_value(&self, dst: &mut BytesMut) {
        dst.put_u32(*self)
    }
    fn value_len(&self) -> usize {
        4
    }
}

impl TlvValue for () {
    fn from_value(v: &Bytes) -> Option<Self> {
        v.is_empty().then_some(())
    }
    fn put_value(&self, _: &mut BytesMut) {}
    fn value_len(&self) -> usize {
        0
    }
}

impl TlvValue for Octets {
    fn from_value(v: &Bytes) -> Option<Self> {
        Some(Octets(v.clone()))
    }
    fn put_value(&self, dst: &mut BytesMut) {
        dst.put_slice(&self.0)
    }
    fn value_len(&self) -> usize {
        self.0.len()
    }
}

impl TlvValue for NetworkErrorCode {
    fn from_value(v: &Bytes) -> Option<Self> {
        match v[..] {
            [t, a, b] => Some(NetworkErrorCode {
                network_type: t,
                error_code: u16::from_be_bytes([a, b]),
            }),
            _ => None,
        }
    }
    fn put_value(&self, dst: &mut BytesMut) {
        dst.put_u8(self.network_type);
        dst.put_u16(self.error_code);
    }
    fn value_len(&self) -> usize {
        3
    }
}

/// C-octet string values (exactly one NUL, at the end).
impl<const N: usize> TlvValue for FixedStr<N> {
    fn from_value(v: &Bytes) -> Option<Self> {
        let (last, body) = v.split_last()?;
        if *last != 0 || body.contains(&0) {
            return None;
        }
        FixedStr::new(std::str::from_utf8(body).ok()?).ok()
    }
    fn put_value(&self, dst: &mut BytesMut) {
        dst.put_slice(self.as_bytes());
        dst.put_u8(0);
    }
    fn value_len(&self) -> usize {
        self.len() + 1
    }
}

macro_rules! tlv_table {
    ($( $(#[$doc:meta])* $var:ident, $konst:ident = $tag:literal : $ty:ty; )*) => {
        /// The tag numbers of the TLVs this codec names.
        pub mod tag {
            $( pub const $konst: u16 = $tag; )*
        }

        /// One optional parameter. JSON: `{"sar_msg_ref_num": 7}`,
        /// unknown ones `{"raw": {"tag": 5120, "value": "0102"}}`.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Tlv {
            $( $(#[$doc])* $var($ty), )*
            /// An unknown tag, or a known one with a malformed value.
            Raw(RawTlv),
        }

        impl Tlv {
            /// The tag number on the wire.
            pub fn tag(&self) -> u16 {
                match self {
                    $( Tlv::$var(_) => $tag, )*
                    Tlv::Raw(r) => r.tag,
                }
            }

            /// The typed TLV for `tag` and `value`, or [`Tlv::Raw`] when the
            /// tag is unknown or the value has the wrong shape.
            pub fn from_raw(tag: u16, value: Bytes) -> Tlv {
                match tag {
                    $( $tag => match <$ty as TlvValue>::from_value(&value) {
                        Some(v) => Tlv::$var(v),
                        None => Tlv::Raw(RawTlv { tag, value: Octets(value) }),
                    }, )*
                    _ => Tlv::Raw(RawTlv { tag, value: Octets(value) }),
                }
            }

            /// Whether this codec gives `tag` a name.
            pub fn is_known_tag(tag: u16) -> bool {
                matches!(tag, $( $tag )|*)
            }

            /// The spec name of a tag, for logs.
            pub fn tag_name(tag: u16) -> Option<&'static str> {
                match tag {
                    $( $tag => Some(stringify!($konst)), )*
                    _ => None,
                }
            }

            fn value_len(&self) -> usize {
                match self {
                    $( Tlv::$var(v) => v.value_len(), )*
                    Tlv::Raw(r) => r.value.0.len(),
                }
            }

            fn put_value(&self, dst: &mut BytesMut) {
                match self {
                    $( Tlv::$var(v) => v.put_value(dst), )*
                    Tlv::Raw(r) => dst.put_slice(&r.value.0),
                }
            }
        }
    };
}

tlv_table! {
    DestAddrSubunit, DEST_ADDR_SUBUNIT = 0x0005: u8;
    DestNetworkType, DEST_NETWORK_TYPE = 0x0006: u8;
    DestBearerType, DEST_BEARER_TYPE = 0x0007: u8;
    DestTelematicsId, DEST_TELEMATICS_ID = 0x0008: u16;
    SourceAddrSubunit, SOURCE_ADDR_SUBUNIT = 0x000D: u8;
    SourceNetworkType, SOURCE_NETWORK_TYPE = 0x000E: u8;
    SourceBearerType, SOURCE_BEARER_TYPE = 0x000F: u8;
    SourceTelematicsId, SOURCE_TELEMATICS_ID = 0x0010: u8;
    QosTimeToLive, QOS_TIME_TO_LIVE = 0x0017: u32;
    PayloadType, PAYLOAD_TYPE = 0x0019: u8;
    /// Free text explaining a status (C-string up to 256 with the NUL).
    AdditionalStatusInfoText, ADDITIONAL_STATUS_INFO_TEXT = 0x001D: Octets;
    /// The SMSC's id of the message a receipt is about.
    ReceiptedMessageId, RECEIPTED_MESSAGE_ID = 0x001E: FixedStr<64>;
    MsMsgWaitFacilities, MS_MSG_WAIT_FACILITIES = 0x0030: u8;
    PrivacyIndicator, PRIVACY_INDICATOR = 0x0201: u8;
    SourceSubaddress, SOURCE_SUBADDRESS = 0x0202: Octets;
    DestSubaddress, DEST_SUBADDRESS = 0x0203: Octets;
    UserMessageReference, USER_MESSAGE_REFERENCE = 0x0204: u16;
    UserResponseCode, USER_RESPONSE_CODE = 0x0205: u8;
    SourcePort, SOURCE_PORT = 0x020A: u16;
    DestinationPort, DESTINATION_PORT = 0x020B: u16;
    SarMsgRefNum, SAR_MSG_REF_NUM = 0x020C: u16;
    LanguageIndicator, LANGUAGE_INDICATOR = 0x020D: u8;
    SarTotalSegments, SAR_TOTAL_SEGMENTS = 0x020E: u8;
    SarSegmentSeqnum, SAR_SEGMENT_SEQNUM = 0x020F: u8;
    ScInterfaceVersion, SC_INTERFACE_VERSION = 0x0210: u8;
    CallbackNumPresInd, CALLBACK_NUM_PRES_IND = 0x0302: u8;
    CallbackNumAtag, CALLBACK_NUM_ATAG = 0x0303: Octets;
    NumberOfMessages, NUMBER_OF_MESSAGES = 0x0304: u8;
    CallbackNum, CALLBACK_NUM = 0x0381: Octets;
    DpfResult, DPF_RESULT = 0x0420: u8;
    SetDpf, SET_DPF = 0x0421: u8;
    MsAvailabilityStatus, MS_AVAILABILITY_STATUS = 0x0422: u8;
    NetworkErrorCode, NETWORK_ERROR_CODE = 0x0423: NetworkErrorCode;
    /// The whole message when it does not fit `short_message`.
    MessagePayload, MESSAGE_PAYLOAD = 0x0424: Octets;
    DeliveryFailureReason, DELIVERY_FAILURE_REASON = 0x0425: u8;
    MoreMessagesToSend, MORE_MESSAGES_TO_SEND = 0x0426: u8;
    /// The message's final state in a receipt (2 delivered, 5 undeliverable...).
    MessageState, MESSAGE_STATE = 0x0427: u8;
    UssdServiceOp, USSD_SERVICE_OP = 0x0501: u8;
    DisplayTime, DISPLAY_TIME = 0x1201: u8;
    SmsSignal, SMS_SIGNAL = 0x1203: u16;
    MsValidity, MS_VALIDITY = 0x1204: u8;
    AlertOnMessageDelivery, ALERT_ON_MESSAGE_DELIVERY = 0x130C: ();
    ItsReplyType, ITS_REPLY_TYPE = 0x1380: u8;
    ItsSessionInfo, ITS_SESSION_INFO = 0x1383: u16;
}

/// The TLVs of one PDU, in wire order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tlvs(pub Vec<Tlv>);

impl Tlvs {
    pub fn new() -> Self {
        Tlvs(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Tlv> {
        self.0.iter()
    }

    pub fn push(&mut self, tlv: Tlv) {
        self.0.push(tlv)
    }

    /// The first TLV with `tag`.
    pub fn get(&self, tag: u16) -> Option<&Tlv> {
        self.0.iter().find(|t| t.tag() == tag)
    }

    /// Replaces the first TLV with the same tag, or appends.
    pub fn set(&mut self, tlv: Tlv) {
        match self.0.iter_mut().find(|t| t.tag() == tlv.tag()) {
            Some(slot) => *slot = tlv,
            None => self.0.push(tlv),
        }
    }

    /// Removes every TLV with `tag`.
    pub fn remove(&mut self, tag: u16) {
        self.0.retain(|t| t.tag() != tag)
    }

    pub fn message_payload(&self) -> Option<&Bytes> {
        self.0.iter().find_map(|t| match t {
            Tlv::MessagePayload(p) => Some(&p.0),
            _ => None,
        })
    }

    /// The receipted message id; tolerates SMSCs that leave out the NUL (the
    /// TLV is then kept raw, and read here without the padding).
    pub fn receipted_message_id(&self) -> Option<&str> {
        self.0.iter().find_map(|t| match t {
            Tlv::ReceiptedMessageId(id) => Some(id.as_str()),
            Tlv::Raw(r) if r.tag == tag::RECEIPTED_MESSAGE_ID => {
                let v = &r.value.0[..];
                let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
                std::str::from_utf8(&v[..end]).ok()
            }
            _ => None,
        })
    }

    pub fn message_state(&self) -> Option<u8> {
        self.0.iter().find_map(|t| match t {
            Tlv::MessageState(s) => Some(*s),
            _ => None,
        })
    }

    pub fn network_error_code(&self) -> Option<NetworkErrorCode> {
        self.0.iter().find_map(|t| match t {
            Tlv::NetworkErrorCode(c) => Some(*c),
            _ => None,
        })
    }

    pub fn sc_interface_version(&self) -> Option<u8> {
        self.0.iter().find_map(|t| match t {
            Tlv::ScInterfaceVersion(v) => Some(*v),
            _ => None,
        })
    }

    /// `(sar_msg_ref_num, sar_total_segments, sar_segment_seqnum)` when all
    /// three are present.
    pub fn sar(&self) -> Option<(u16, u8, u8)> {
        let mut r = None;
        let mut total = None;
        let mut seq = None;
        for t in &self.0 {
            match t {
                Tlv::SarMsgRefNum(v) => r = r.or(Some(*v)),
                Tlv::SarTotalSegments(v) => total = total.or(Some(*v)),
                Tlv::SarSegmentSeqnum(v) => seq = seq.or(Some(*v)),
                _ => {}
            }
        }
        Some((r?, total?, seq?))
    }

    /// Reads TLVs up to the end of the frame.
    pub fn decode(r: &mut Reader<'_>) -> Result<Tlvs, DecodeError> {
        let mut out = Vec::new();
        while r.remaining() > 0 {
            let offset = r.offset();
            if r.is_lenient() && !r.whole_tlv_follows() {
                // Stray bytes after the last whole TLV: skipped and counted.
                r.finish()?;
                break;
            }
            if r.remaining() < 4 {
                return Err(DecodeError::Truncated {
                    field: "tlv header",
                    offset,
                    needed: 4,
                    available: r.remaining(),
                });
            }
            let tag = r.u16("tlv tag")?;
            let len = usize::from(r.u16("tlv length")?);
            if len > r.remaining() {
                return Err(DecodeError::InvalidValue {
                    field: "tlv length",
                    offset,
                    message: format!(
                        "TLV tag 0x{tag:04x} ({}) at offset {offset} declares {len} bytes, only {} left in the frame",
                        Tlv::tag_name(tag).unwrap_or("unknown"),
                        r.remaining()
                    ),
                });
            }
            let value = r.bytes(len, "tlv value")?;
            out.push(Tlv::from_raw(tag, value));
        }
        Ok(Tlvs(out))
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        for t in &self.0 {
            let len = t.value_len();
            let len16 = u16::try_from(len).map_err(|_| EncodeError::TooLong {
                field: Tlv::tag_name(t.tag()).unwrap_or("tlv value"),
                len,
                max: usize::from(u16::MAX),
            })?;
            dst.put_u16(t.tag());
            dst.put_u16(len16);
            t.put_value(dst);
        }
        Ok(())
    }
}

impl FromIterator<Tlv> for Tlvs {
    fn from_iter<I: IntoIterator<Item = Tlv>>(iter: I) -> Self {
        Tlvs(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tags_type_and_malformed_stay_raw() {
        assert_eq!(
            Tlv::from_raw(0x020C, Bytes::from_static(&[0, 7])),
            Tlv::SarMsgRefNum(7)
        );
        assert!(matches!(
            Tlv::from_raw(0x020C, Bytes::from_static(&[7])),
            Tlv::Raw(RawTlv { tag: 0x020C, .. })
        ));
        let unterminated = Tlvs(vec![Tlv::from_raw(0x001E, Bytes::from_static(b"abc"))]);
        assert_eq!(unterminated.receipted_message_id(), Some("abc"));
    }
}
