//! SMGP 3.0 byte-exact tests.
//!
//! `independent.json` holds no SMGP vectors (pycmpp and smpplib speak CMPP
//! and SMPP), so every PDU is checked against a frame hand-built from the
//! spec layout with each field commented, plus the shared file is read to
//! make sure any SMGP vector added later is decoded and re-encoded too.
//!
//! `vectors`: decoded, checked field by field, re-encoded byte-exact;
//! `bad_input`: truncation, bad lengths, unknown commands, split reads.

mod bad_input;
#[path = "../common/vectors.rs"]
mod shared_vectors;
mod vectors;

use bytes::{Bytes, BytesMut};
use chrono::NaiveDate;
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::framing::Wire as _;
use smsgw_protocols::report::ReportState;
use smsgw_protocols::smgp::{
    self, status, tlv::Tlv, Body, Deliver, DeliverResp, Login, LoginResp, MsgId, Options, Pdu, Query,
    QueryResp, Report, Smgp, Submit, SubmitResp,
};
use smsgw_protocols::udh::Concat;
use smsgw_protocols::{DecodeError, FixedStr};
use tokio_util::codec::{Decoder, Encoder};

/// Hex segments (whitespace ignored) to bytes.
fn hx(parts: &[&str]) -> Bytes {
    let s: String = parts.concat().chars().filter(|c| !c.is_whitespace()).collect();
    Bytes::from(hex::decode(s).expect("test hex"))
}

fn fs<const N: usize>(s: &str) -> FixedStr<N> {
    FixedStr::new(s).unwrap()
}

/// Decodes, re-encodes to the same bytes, and round-trips through JSON.
fn exact(frame: &Bytes) -> Pdu {
    let pdu = Smgp::decode(frame.clone(), &Options).unwrap();
    assert_eq!(&pdu.to_bytes().unwrap()[..], &frame[..], "re-encode of {pdu:?}");
    let json = serde_json::to_string(&pdu).unwrap();
    assert_eq!(serde_json::from_str::<Pdu>(&json).unwrap(), pdu, "{json}");
    pdu
}

const MSG_ID: &str = "0590011125 1200000042"; // SMGW 059001 · 11251200 · seq 000042
