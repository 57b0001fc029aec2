//! Message PDUs: submit_sm and deliver_sm (one layout, [`Sm`]), data_sm,
//! their responses ([`SmResp`]), and query_sm.
//!
//! Content stays bytes here (zero-copy slices of the frame): decoding text by
//! `data_coding` is the text module's job, and this module must never
//! rewrite a message, only read and write it.

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::tlv::{Tlv, Tlvs};
use crate::error::{DecodeError, EncodeError};
use crate::udh::Concat;
use crate::wire::{FixedStr, PutExt, Reader};

/// esm_class bit: the deliver_sm is a delivery receipt (SMSC delivery
/// receipt, message type 0b0001 in bits 2..5).
pub const ESM_RECEIPT: u8 = 0x04;
/// esm_class bit: the content starts with a User Data Header.
pub const ESM_UDHI: u8 = 0x40;

/// The body of submit_sm and deliver_sm, which share one layout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sm {
    pub service_type: FixedStr<5>,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: FixedStr<20>,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: FixedStr<20>,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: FixedStr<16>,
    pub validity_period: FixedStr<16>,
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    #[serde(with = "crate::wire::hex_bytes")]
    pub short_message: Bytes,
    #[serde(skip_serializing_if = "Tlvs::is_empty")]
    pub tlvs: Tlvs,
}

/// submit_sm's body.
pub type SubmitSm = Sm;
/// deliver_sm's body.
pub type DeliverSm = Sm;

impl Sm {
    /// A message from `source` to `destination` with everything else zero.
    pub fn new(source: &str, destination: &str, data_coding: u8, content: Bytes) -> Result<Sm, EncodeError> {
        Ok(Sm {
            source_addr: FixedStr::for_field("source_addr", source)?,
            destination_addr: FixedStr::for_field("destination_addr", destination)?,
            data_coding,
            short_message: content,
            ..Sm::default()
        })
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<Sm, DecodeError> {
        Ok(Sm {
            service_type: r.cstr("service_type")?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstr("source_addr")?,
            dest_addr_ton: r.u8("dest_addr_ton")?,
            dest_addr_npi: r.u8("dest_addr_npi")?,
            destination_addr: r.cstr("destination_addr")?,
            esm_class: r.u8("esm_class")?,
            protocol_id: r.u8("protocol_id")?,
            priority_flag: r.u8("priority_flag")?,
            schedule_delivery_time: r.cstr("schedule_delivery_time")?,
            validity_period: r.cstr("validity_period")?,
            registered_delivery: r.u8("registered_delivery")?,
            replace_if_present_flag: r.u8("replace_if_present_flag")?,
            data_coding: r.u8("data_coding")?,
            sm_default_msg_id: r.u8("sm_default_msg_id")?,
            short_message: {
                let len = r.u8("sm_length")?;
                r.bytes(usize::from(len), "short_message")?
            },
            tlvs: Tlvs::decode(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_cstr(self.service_type.as_bytes(), 6, "service_type")?;
        dst.put_u8(self.source_addr_ton);
        dst.put_u8(self.source_addr_npi);
        dst.put_cstr(self.source_addr.as_bytes(), 21, "source_addr")?;
        dst.put_u8(self.dest_addr_ton);
        dst.put_u8(self.dest_addr_npi);
        dst.put_cstr(self.destination_addr.as_bytes(), 21, "destination_addr")?;
        dst.put_u8(self.esm_class);
        dst.put_u8(self.protocol_id);
        dst.put_u8(self.priority_flag);
        dst.put_cstr(
            self.schedule_delivery_time.as_bytes(),
            17,
            "schedule_delivery_time",
        )?;
        dst.put_cstr(self.validity_period.as_bytes(), 17, "validity_period")?;
        dst.put_u8(self.registered_delivery);
        dst.put_u8(self.replace_if_present_flag);
        dst.put_u8(self.data_coding);
        dst.put_u8(self.sm_default_msg_id);
        let len = u8::try_from(self.short_message.len()).map_err(|_| EncodeError::TooLong {
            field: "short_message",
            len: self.short_message.len(),
            max: 255,
        })?;
        dst.put_u8(len);
        dst.put_slice(&self.short_message);
        self.tlvs.encode(dst)
    }

    pub fn udhi(&self) -> bool {
        self.esm_class & ESM_UDHI != 0
    }

    pub fn set_udhi(&mut self, on: bool) {
        set_bit(&mut self.esm_class, ESM_UDHI, on)
    }

    /// Whether this (deliver_sm) is a delivery receipt rather than a
    /// mobile-originated message.
    pub fn is_receipt(&self) -> bool {
        self.esm_class & ESM_RECEIPT != 0
    }

    /// The message content: `short_message`, or the `message_payload` TLV
    /// when `short_message` is empty.
    pub fn payload(&self) -> &Bytes {
        payload_of(&self.short_message, &self.tlvs)
    }

    /// Which part of a long message this is: from the UDH when udhi is set,
    /// else from the `sar_*` TLVs.
    pub fn concat(&self) -> Option<Concat> {
        concat_of(self.udhi(), self.payload(), &self.tlvs)
    }
}

/// The body of data_sm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataSm {
    pub service_type: FixedStr<5>,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: FixedStr<64>,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: FixedStr<64>,
    pub esm_class: u8,
    pub registered_delivery: u8,
    pub data_coding: u8,
    #[serde(skip_serializing_if = "Tlvs::is_empty")]
    pub tlvs: Tlvs,
}

impl DataSm {
    pub fn decode(r: &mut Reader<'_>) -> Result<DataSm, DecodeError> {
        Ok(DataSm {
            service_type: r.cstr("service_type")?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstr("source_addr")?,
            dest_addr_ton: r.u8("dest_addr_ton")?,
            dest_addr_npi: r.u8("dest_addr_npi")?,
            destination_addr: r.cstr("destination_addr")?,
            esm_class: r.u8("esm_class")?,
            registered_delivery: r.u8("registered_delivery")?,
            data_coding: r.u8("data_coding")?,
            tlvs: Tlvs::decode(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_cstr(self.service_type.as_bytes(), 6, "service_type")?;
        dst.put_u8(self.source_addr_ton);
        dst.put_u8(self.source_addr_npi);
        dst.put_cstr(self.source_addr.as_bytes(), 65, "source_addr")?;
        dst.put_u8(self.dest_addr_ton);
        dst.put_u8(self.dest_addr_npi);
        dst.put_cstr(self.destination_addr.as_bytes(), 65, "destination_addr")?;
        dst.put_u8(self.esm_class);
        dst.put_u8(self.registered_delivery);
        dst.put_u8(self.data_coding);
        self.tlvs.encode(dst)
    }

    pub fn udhi(&self) -> bool {
        self.esm_class & ESM_UDHI != 0
    }

    pub fn set_udhi(&mut self, on: bool) {
        set_bit(&mut self.esm_class, ESM_UDHI, on)
    }

    pub fn is_receipt(&self) -> bool {
        self.esm_class & ESM_RECEIPT != 0
    }

    /// The `message_payload` TLV (data_sm has no `short_message`); empty
    /// when absent.
    pub fn payload(&self) -> &Bytes {
        static EMPTY: Bytes = Bytes::from_static(b"");
        self.tlvs.message_payload().unwrap_or(&EMPTY)
    }

    pub fn concat(&self) -> Option<Concat> {
        concat_of(self.udhi(), self.payload(), &self.tlvs)
    }
}

/// The body of submit_sm_resp, deliver_sm_resp and data_sm_resp: the
/// SMSC's message id (empty in deliver_sm_resp) and, in data_sm_resp, TLVs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmResp {
    pub message_id: FixedStr<64>,
    #[serde(skip_serializing_if = "Tlvs::is_empty")]
    pub tlvs: Tlvs,
}

pub type SubmitSmResp = SmResp;
pub type DeliverSmResp = SmResp;
pub type DataSmResp = SmResp;

impl SmResp {
    pub fn new(message_id: &str) -> Result<SmResp, EncodeError> {
        Ok(SmResp {
            message_id: FixedStr::for_field("message_id", message_id)?,
            tlvs: Tlvs::new(),
        })
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<SmResp, DecodeError> {
        // Error responses (and some sloppy deliver_sm_resp) have no body.
        if r.remaining() == 0 {
            return Ok(SmResp::default());
        }
        Ok(SmResp {
            message_id: r.cstr("message_id")?,
            tlvs: Tlvs::decode(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_cstr(self.message_id.as_bytes(), 65, "message_id")?;
        self.tlvs.encode(dst)
    }
}

/// The body of query_sm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuerySm {
    pub message_id: FixedStr<64>,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: FixedStr<20>,
}

impl QuerySm {
    pub fn decode(r: &mut Reader<'_>) -> Result<QuerySm, DecodeError> {
        let q = QuerySm {
            message_id: r.cstr("message_id")?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstr("source_addr")?,
        };
        r.finish()?;
        Ok(q)
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_cstr(self.message_id.as_bytes(), 65, "message_id")?;
        dst.put_u8(self.source_addr_ton);
        dst.put_u8(self.source_addr_npi);
        dst.put_cstr(self.source_addr.as_bytes(), 21, "source_addr")
    }
}

/// The body of cancel_sm (its response has no body): cancel the message
/// `message_id` (or, with an empty id, those from `source_addr` to
/// `destination_addr` of `service_type`) if it was not sent yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CancelSm {
    pub service_type: FixedStr<5>,
    pub message_id: FixedStr<64>,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: FixedStr<20>,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: FixedStr<20>,
}

impl CancelSm {
    pub fn decode(r: &mut Reader<'_>) -> Result<CancelSm, DecodeError> {
        let c = CancelSm {
            service_type: r.cstr("service_type")?,
            message_id: r.cstr("message_id")?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstr("source_addr")?,
            dest_addr_ton: r.u8("dest_addr_ton")?,
            dest_addr_npi: r.u8("dest_addr_npi")?,
            destination_addr: r.cstr("destination_addr")?,
        };
        r.finish()?;
        Ok(c)
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_cstr(self.service_type.as_bytes(), 6, "service_type")?;
        dst.put_cstr(self.message_id.as_bytes(), 65, "message_id")?;
        dst.put_u8(self.source_addr_ton);
        dst.put_u8(self.source_addr_npi);
        dst.put_cstr(self.source_addr.as_bytes(), 21, "source_addr")?;
        dst.put_u8(self.dest_addr_ton);
        dst.put_u8(self.dest_addr_npi);
        dst.put_cstr(self.destination_addr.as_bytes(), 21, "destination_addr")
    }
}

/// The body of query_sm_resp.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuerySmResp {
    pub message_id: FixedStr<64>,
    pub final_date: FixedStr<16>,
    /// 1 ENROUTE, 2 DELIVERED, 3 EXPIRED, 4 DELETED, 5 UNDELIVERABLE,
    /// 6 ACCEPTED, 7 UNKNOWN, 8 REJECTED.
    pub message_state: u8,
    pub error_code: u8,
}

impl QuerySmResp {
    pub fn decode(r: &mut Reader<'_>) -> Result<QuerySmResp, DecodeError> {
        if r.remaining() == 0 {
            return Ok(QuerySmResp::default());
        }
        let q = QuerySmResp {
            message_id: r.cstr("message_id")?,
            final_date: r.cstr("final_date")?,
            message_state: r.u8("message_state")?,
            error_code: r.u8("error_code")?,
        };
        r.finish()?;
        Ok(q)
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_cstr(self.message_id.as_bytes(), 65, "message_id")?;
        dst.put_cstr(self.final_date.as_bytes(), 17, "final_date")?;
        dst.put_u8(self.message_state);
        dst.put_u8(self.error_code);
        Ok(())
    }
}

fn set_bit(field: &mut u8, bit: u8, on: bool) {
    if on {
        *field |= bit;
    } else {
        *field &= !bit;
    }
}

fn payload_of<'a>(short_message: &'a Bytes, tlvs: &'a Tlvs) -> &'a Bytes {
    if short_message.is_empty() {
        if let Some(p) = tlvs.message_payload() {
            return p;
        }
    }
    short_message
}

fn concat_of(udhi: bool, content: &[u8], tlvs: &Tlvs) -> Option<Concat> {
    if udhi {
        if let Some(c) = crate::udh::concat_in(content) {
            return Some(c);
        }
    }
    let (reference, total, seq) = tlvs.sar()?;
    Some(Concat {
        reference,
        wide_reference: true,
        total,
        seq,
    })
}

/// Builds the TLVs announcing segment `seq` of `total` of message `reference`
/// (the TLV alternative to a UDH).
pub fn sar_tlvs(reference: u16, total: u8, seq: u8) -> [Tlv; 3] {
    [
        Tlv::SarMsgRefNum(reference),
        Tlv::SarTotalSegments(total),
        Tlv::SarSegmentSeqnum(seq),
    ]
}
