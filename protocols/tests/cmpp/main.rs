//! Byte-exact CMPP tests: the third-party vectors (pycmpp) from
//! `shared/protocols/vectors/independent.json`, then hand-built frames from
//! the spec layout for every PDU the vectors do not cover (both versions),
//! then bad input and the frame codec over split reads.
//!
//! `vectors`: decoded, checked field by field, re-encoded byte-exact;
//! `bad_input`: truncation, bad lengths, unknown commands, split reads.

mod bad_input;
#[path = "../common/vectors.rs"]
mod shared_vectors;
mod vectors;

use bytes::{Bytes, BytesMut};
use serde_json::Value;
use smsgw_protocols::cmpp::{
    self, authenticator_ismg, authenticator_ismg_for, authenticator_source, result, ActiveTestResp, Body,
    Cancel, CancelResp, Cmpp, CmppVersion, Connect, ConnectResp, Deliver, DeliverResp, MsgId, MsgIdGenerator,
    Options, Pdu, Query, QueryResp, Report, Submit, SubmitResp,
};
use smsgw_protocols::framing::{FrameCodec, Wire};
use smsgw_protocols::report::ReportState;
use smsgw_protocols::udh::Concat;
use smsgw_protocols::{DecodeError, EncodeError, FixedStr};
use tokio_util::codec::{Decoder, Encoder};

const V2: Options = Options {
    version: CmppVersion::V20,
};
const V3: Options = Options {
    version: CmppVersion::V30,
};

fn vectors() -> Vec<Value> {
    shared_vectors::of("cmpp")
}

fn vector(what_prefix: &str) -> (Bytes, Value, Options) {
    let v = vectors()
        .into_iter()
        .find(|v| v["what"].as_str().unwrap().starts_with(what_prefix))
        .unwrap_or_else(|| panic!("no vector {what_prefix}"));
    let opts = match v["proto"].as_str().unwrap() {
        "cmpp2" => V2,
        "cmpp3" => V3,
        p => panic!("unknown proto {p}"),
    };
    let bytes = Bytes::from(hex::decode(v["hex"].as_str().unwrap()).unwrap());
    (bytes, v["fields"].clone(), opts)
}

fn reencode(pdu: &Pdu, opts: &Options) -> Vec<u8> {
    let mut out = BytesMut::new();
    pdu.encode(opts, &mut out).unwrap();
    out.to_vec()
}

fn h(s: &str) -> Bytes {
    let digits: String = s.split_whitespace().collect();
    Bytes::from(hex::decode(digits).unwrap())
}

/// Decodes, checks the encode gives the same bytes, and checks the JSON form
/// round-trips.
fn exact(frame: &Bytes, opts: &Options) -> Pdu {
    let pdu = Cmpp::decode(frame.clone(), opts).unwrap();
    assert_eq!(
        hex::encode(reencode(&pdu, opts)),
        hex::encode(frame),
        "re-encode of {pdu:?}"
    );
    let json = serde_json::to_string(&pdu).unwrap();
    let back: Pdu = serde_json::from_str(&json).unwrap();
    assert_eq!(back, pdu, "json {json}");
    pdu
}
