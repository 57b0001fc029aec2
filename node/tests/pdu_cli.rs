//! `smsgw pdu decode|encode` as an ops person uses it: hex pasted from a
//! capture in, JSON out, and back; bad input gives an error naming the field
//! and offset, never a panic.

use std::io::Write;
use std::process::{Command, Stdio};

fn smsgw(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run smsgw");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn vectors() -> Vec<serde_json::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../protocols/tests/vectors/independent.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_vector_decodes_to_named_fields_and_encodes_back() {
    for v in vectors() {
        let proto = v["proto"].as_str().unwrap();
        let hex = v["hex"].as_str().unwrap();
        // Pasted the way captures show it: spaced pairs.
        let spaced: Vec<String> = hex
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into())
            .collect();
        let (ok, json, err) = smsgw(&["pdu", "decode", "--proto", proto, &spaced.join(" ")], None);
        assert!(ok, "{proto} {}: {err}", v["what"]);
        let decoded: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(decoded["command"].is_string(), "{json}");
        let (ok, back, err) = smsgw(&["pdu", "encode", "--proto", proto, "-"], Some(&json));
        assert!(ok, "{err}");
        assert_eq!(back.trim(), hex, "{proto} {}", v["what"]);
    }
}

#[test]
fn errors_name_field_and_offset() {
    // A CMPP CONNECT cut inside AuthenticatorSource.
    let (ok, _, err) = smsgw(
        &[
            "pdu",
            "decode",
            "--proto",
            "cmpp2",
            "0000001a000000010000000134343535363600",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("offset"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let (ok, _, err) = smsgw(
        &[
            "pdu",
            "decode",
            "--proto",
            "smpp",
            "00000010000000ff000000000000002e",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("unknown command id 0x000000ff"), "{err}");
    let (ok, _, err) = smsgw(&["pdu", "decode", "--proto", "sgip", "0x0g"], None);
    assert!(!ok);
    assert!(err.contains("not hex"), "{err}");
    let (ok, _, err) = smsgw(
        &["pdu", "encode", "--proto", "smgp", r#"{"command":"nope"}"#],
        None,
    );
    assert!(!ok);
    assert!(err.contains("does not fit"), "{err}");
}

/// `frame` with `extra` appended and its total length fixed.
fn padded_hex(frame: &[u8], extra: &[u8]) -> String {
    let mut v = frame.to_vec();
    v.extend_from_slice(extra);
    let len = (v.len() as u32).to_be_bytes();
    v[..4].copy_from_slice(&len);
    hex::encode(v)
}

#[test]
fn with_a_profile_a_padded_heartbeat_answer_decodes_the_way_the_gateway_reads_it() {
    use smsgw_protocols::smgp;
    let frame = smgp::Pdu::new(9, smgp::Body::ActiveTestResp).to_bytes().unwrap();
    let hex = padded_hex(&frame, &[0]);
    let (ok, _, err) = smsgw(&["pdu", "decode", "--proto", "smgp", &hex], None);
    assert!(!ok && err.contains("trailing"), "strict decode refuses it: {err}");
    let (ok, json, err) = smsgw(&["pdu", "decode", "--profile", "china-telecom", &hex], None);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["command"], "active_test_resp", "{json}");
    assert_eq!(v["gateway"]["reads_as"], "heartbeat_resp", "{json}");
    assert_eq!(v["gateway"]["trailing_bytes"], 1, "{json}");
}

#[test]
fn with_a_profile_a_cmpp_report_of_odd_length_shows_the_id_it_is_matched_by() {
    use smsgw_protocols::cmpp::{self, CmppVersion};
    use smsgw_protocols::FixedStr;
    fn text<const N: usize>(s: &str) -> FixedStr<N> {
        FixedStr::new(s).unwrap()
    }
    let report = cmpp::Report {
        msg_id: cmpp::MsgId(0x1234_5678_9abc_def0),
        stat: text("DELIVRD"),
        submit_time: text("2611250809"),
        done_time: text("2611250810"),
        dest_terminal_id: text("13800138000"),
        smsc_sequence: 7,
    };
    let mut d = report
        .into_deliver(cmpp::MsgId(1), "10658899", CmppVersion::V30)
        .unwrap();
    let mut content = d.msg_content.to_vec();
    content.extend_from_slice(&[0, 0]); // 73 bytes
    d.msg_content = content.into();
    let opts = cmpp::Options::new(CmppVersion::V30);
    let frame = cmpp::Pdu::new(5, cmpp::Body::Deliver(Box::new(d)))
        .to_bytes(&opts)
        .unwrap();
    let (ok, json, err) = smsgw(
        &["pdu", "decode", "--profile", "china-mobile", &hex::encode(&frame)],
        None,
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["gateway"]["reads_as"], "report", "{json}");
    assert_eq!(
        v["gateway"]["report"]["carrier_msg_id"],
        report.to_delivery_report().carrier_msg_id.as_str(),
        "{json}"
    );
    let (ok, _, err) = smsgw(&["pdu", "decode", "--profile", "vodafone", "00"], None);
    assert!(!ok && err.contains("not a carrier profile"), "{err}");
    let (ok, _, err) = smsgw(
        &[
            "pdu",
            "decode",
            "--proto",
            "smpp",
            "--profile",
            "china-mobile",
            "00",
        ],
        None,
    );
    assert!(!ok && err.contains("not for smpp"), "{err}");
}

#[test]
fn a_message_shows_its_text_udh_and_a_receipt_its_fields() {
    use bytes::{Bytes, BytesMut};
    use smsgw_protocols::smpp::{Body, DeliverSm, Options, Pdu, Receipt, SubmitSm};
    use smsgw_protocols::text::{encode, Encoding};
    let mut content = vec![5, 0, 3, 0x2a, 2, 1];
    content.extend(encode("台风预警", Encoding::Ucs2).unwrap());
    let mut sm = SubmitSm::new("1069000", "13800138000", 8, Bytes::from(content)).unwrap();
    sm.esm_class = 0x40;
    let receipt = Receipt::new(
        "123456789",
        smsgw_protocols::report::ReportState::Delivered,
        "2612031200",
        "2612031201",
        0,
    );
    let dlr = DeliverSm::receipt(&receipt, "13800138000", "").unwrap();
    let mut raw = BytesMut::new();
    Pdu::new(7, Body::SubmitSm(sm))
        .encode(&Options, &mut raw)
        .unwrap();
    Pdu::new(8, Body::DeliverSm(dlr))
        .encode(&Options, &mut raw)
        .unwrap();
    let (ok, json, err) = smsgw(&["pdu", "decode", "--proto", "smpp", &hex::encode(&raw)], None);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["decoded"]["text"], "台风预警", "{json}");
    assert_eq!(v[0]["decoded"]["encoding"], "UCS-2");
    assert_eq!(
        v[0]["decoded"]["udh"],
        serde_json::json!({"reference": 42, "total": 2, "sequence": 1})
    );
    assert_eq!(v[1]["receipt"]["id"], "123456789", "{json}");
    assert_eq!(v[1]["receipt"]["stat"], "DELIVRD");
    assert_eq!(v[1]["receipt"]["done_date"], "2612031201");
    // What decode printed encodes back to the same bytes.
    let (ok, back, err) = smsgw(&["pdu", "encode", "--proto", "smpp", "-"], Some(&json));
    assert!(ok, "{err}");
    assert_eq!(back.trim(), hex::encode(&raw));
}
