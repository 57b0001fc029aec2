//! SMPP vectors from independent implementations (shared vectors file) and
//! hand-built frames from the spec layout: decode, check every field,
//! re-encode byte-exact. Also the bad-input mapping to generic_nack.
//!
//! `vectors`: decoded, checked field by field, re-encoded byte-exact;
//! `bad_input`: truncation, bad lengths, unknown commands, split reads.

mod bad_input;
#[path = "../common/vectors.rs"]
mod shared_vectors;
mod vectors;

use bytes::{Bytes, BytesMut};
use serde_json::Value;
use smsgw_protocols::framing::BadPdu;
use smsgw_protocols::framing::Wire as _;
use smsgw_protocols::report::ReportState;
use smsgw_protocols::smpp::Smpp;
use smsgw_protocols::smpp::{
    command, nack_status, status, tlv::tag, Body, Codec, Header, Options, Pdu, Receipt, Sm, SmResp, Tlv,
};
use smsgw_protocols::DecodeError;
use tokio_util::codec::{Decoder, Encoder};

fn vectors() -> Vec<Value> {
    shared_vectors::of("smpp")
}

fn decode_hex(h: &str) -> Pdu {
    Smpp::decode(Bytes::from(hex::decode(h).unwrap()), &Options).unwrap()
}

fn encode(p: &Pdu) -> Vec<u8> {
    let mut b = BytesMut::new();
    p.encode(&Options, &mut b).unwrap();
    b.to_vec()
}

fn assert_exact(h: &str) -> Pdu {
    let p = decode_hex(h);
    assert_eq!(hex::encode(encode(&p)), h, "re-encode of {}", p.body.name());
    // JSON round trip, as `smsgw pdu decode | smsgw pdu encode` does.
    let json = serde_json::to_string(&p).unwrap();
    let back: Pdu = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p, "json {json}");
    p
}

fn ucs2(b: &[u8]) -> String {
    let units: Vec<u16> = b.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
    String::from_utf16(&units).unwrap()
}

fn field_u8(f: &Value, k: &str) -> Option<u8> {
    f.get(k).and_then(Value::as_u64).map(|v| v as u8)
}

fn check_sm(sm: &Sm, f: &Value) {
    if let Some(s) = f["source_addr"].as_str() {
        assert_eq!(sm.source_addr, s);
    }
    if let Some(s) = f["destination_addr"].as_str() {
        assert_eq!(sm.destination_addr, s);
    }
    for (k, v) in [
        ("source_addr_ton", sm.source_addr_ton),
        ("esm_class", sm.esm_class),
        ("registered_delivery", sm.registered_delivery),
        ("data_coding", sm.data_coding),
    ] {
        if let Some(want) = field_u8(f, k) {
            assert_eq!(v, want, "{k}");
        }
    }
    if let Some(text) = f["text"].as_str() {
        let got = match sm.data_coding {
            8 => ucs2(sm.payload()),
            _ => String::from_utf8(sm.payload().to_vec()).unwrap(),
        };
        assert_eq!(got, text);
    }
}
