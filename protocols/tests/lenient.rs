//! Liberal in what we accept: bytes after a known body are skipped and
//! counted by the lenient decoders (what the gateway reads carriers with),
//! while the strict decoders (what the simulator and the vector tests use)
//! still refuse them, and well-formed PDUs re-encode byte for byte.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::framing::Wire as _;
use smsgw_protocols::{cmpp, sgip, smgp, smpp, DecodeError};
use tokio_util::codec::Decoder;

/// `frame` with `extra` appended and its 4-byte total length fixed.
fn padded(frame: &[u8], extra: &[u8]) -> Bytes {
    let mut v = frame.to_vec();
    v.extend_from_slice(extra);
    let len = (v.len() as u32).to_be_bytes();
    v[..4].copy_from_slice(&len);
    Bytes::from(v)
}

#[test]
fn an_smgp_active_test_resp_with_a_reserved_byte_is_a_heartbeat_answer() {
    let good = smgp::Pdu::new(7, smgp::Body::ActiveTestResp).to_bytes().unwrap();
    let odd = padded(&good, &[0]);
    assert!(matches!(
        smgp::Smgp::decode(odd.clone(), &smgp::Options),
        Err(DecodeError::TrailingBytes { offset: 12, count: 1 })
    ));
    let (pdu, skipped) = smgp::Smgp::decode_lenient(odd, &smgp::Options).unwrap();
    assert_eq!(pdu, smgp::Pdu::new(7, smgp::Body::ActiveTestResp));
    assert_eq!(skipped, 1);
    // Well formed: nothing skipped and the same bytes back.
    let (pdu, skipped) = smgp::Smgp::decode_lenient(good.clone(), &smgp::Options).unwrap();
    assert_eq!((pdu.to_bytes().unwrap(), skipped), (good, 0));
}

#[test]
fn an_smgp_login_resp_with_extra_bytes_still_logs_in() {
    let resp = smgp::LoginResp {
        status: 0,
        authenticator_server: [3; 16],
        server_version: 0x30,
    };
    let good = smgp::Pdu::new(1, smgp::Body::LoginResp(resp.clone()))
        .to_bytes()
        .unwrap();
    let (pdu, skipped) = smgp::Smgp::decode_lenient(padded(&good, b"\0\0\0"), &smgp::Options).unwrap();
    assert_eq!(pdu.body, smgp::Body::LoginResp(resp));
    assert_eq!(skipped, 3);
}

#[test]
fn an_smgp_deliver_with_a_stray_byte_after_its_tlvs_keeps_the_tlvs() {
    let d = smgp::Deliver {
        msg_id: smgp::MsgId([1; 10]),
        is_report: 0,
        msg_format: 15,
        recv_time: smsgw_protocols::FixedStr::new("20261125080900").unwrap(),
        src_term_id: smsgw_protocols::FixedStr::new("13800138000").unwrap(),
        dest_term_id: smsgw_protocols::FixedStr::new("10659").unwrap(),
        msg_content: Bytes::from_static(b"hi"),
        reserve: [0; 8],
        tlvs: vec![smgp::Tlv::LinkId(smsgw_protocols::FixedStr::new("L1").unwrap())],
    };
    let good = smgp::Pdu::new(5, smgp::Body::Deliver(d.clone()))
        .to_bytes()
        .unwrap();
    let odd = padded(&good, &[0xee]);
    assert!(smgp::Smgp::decode(odd.clone(), &smgp::Options).is_err());
    let (pdu, skipped) = smgp::Smgp::decode_lenient(odd, &smgp::Options).unwrap();
    assert_eq!(pdu.body, smgp::Body::Deliver(d));
    assert_eq!(skipped, 1);
}

#[test]
fn a_cmpp_connect_resp_with_extra_bytes_still_logs_in() {
    let opts = cmpp::Options::new(cmpp::CmppVersion::V30);
    let resp = cmpp::ConnectResp {
        status: 0,
        authenticator_ismg: [9; 16],
        version: 0x30,
    };
    let good = cmpp::Pdu::new(1, cmpp::Body::ConnectResp(resp.clone()))
        .to_bytes(&opts)
        .unwrap();
    let odd = padded(&good, &[0, 0]);
    assert!(matches!(
        cmpp::Cmpp::decode(odd.clone(), &opts),
        Err(DecodeError::TrailingBytes { count: 2, .. })
    ));
    let (pdu, skipped) = cmpp::Cmpp::decode_lenient(odd, &opts).unwrap();
    assert_eq!((pdu.body, skipped), (cmpp::Body::ConnectResp(resp), 2));
}

#[test]
fn an_sgip_bind_resp_with_extra_bytes_still_binds() {
    let seq = sgip::SequenceNumber::new(3_000_000_001, 1_203_101_010, 1);
    let good = sgip::Pdu::new(seq, sgip::Body::BindResp(sgip::Resp::new(0)))
        .to_bytes()
        .unwrap();
    let odd = padded(&good, &[0; 4]);
    assert!(sgip::Sgip::decode(odd.clone(), &sgip::Options).is_err());
    let (pdu, skipped) = sgip::Sgip::decode_lenient(odd, &sgip::Options).unwrap();
    assert_eq!((pdu.body, skipped), (sgip::Body::BindResp(sgip::Resp::new(0)), 4));
}

#[test]
fn smpp_responses_with_stray_bytes_are_read_and_the_bytes_counted() {
    let opts = smpp::Options;
    let bind = smpp::Pdu {
        command_status: 0,
        sequence_number: 1,
        body: smpp::Body::BindTransceiverResp(smpp::BindResp::new("SMSC").unwrap()),
    };
    let good = smpp_bytes(&bind);
    // Three bytes cannot be a TLV (its header alone is four).
    let (pdu, skipped) = smpp::Smpp::decode_lenient(padded(&good, b"xyz"), &opts).unwrap();
    assert_eq!((pdu, skipped), (bind, 3));
    let enquire = smpp::Pdu {
        command_status: 0,
        sequence_number: 2,
        body: smpp::Body::EnquireLinkResp,
    };
    let odd = padded(&smpp_bytes(&enquire), &[0]);
    assert!(smpp::Smpp::decode(odd.clone(), &opts).is_err());
    assert_eq!(smpp::Smpp::decode_lenient(odd, &opts).unwrap(), (enquire, 1));
}

#[tokio::test]
async fn a_lenient_frame_codec_yields_the_pdu_and_reports_the_skipped_bytes() {
    let good = smgp::Pdu::new(7, smgp::Body::ActiveTestResp).to_bytes().unwrap();
    let mut stream = BytesMut::new();
    stream.extend_from_slice(&padded(&good, &[0]));
    stream.extend_from_slice(&good);
    let mut strict = FrameCodec::<smgp::Smgp>::new();
    let mut copy = stream.clone();
    assert!(
        strict.decode(&mut copy).unwrap().unwrap().is_err(),
        "strict: a bad PDU"
    );

    let mut codec = FrameCodec::<smgp::Smgp>::new().lenient();
    let mut reader = tokio_util::codec::FramedRead::new(&stream[..], codec.clone());
    let first = reader.next().await.unwrap().unwrap();
    assert!(first.is_ok());
    assert_eq!(reader.decoder_mut().take_trailing(), 1);
    assert!(reader.next().await.unwrap().unwrap().is_ok());
    assert_eq!(
        reader.decoder_mut().take_trailing(),
        0,
        "counted once, then reset"
    );
    assert!(codec.decode(&mut stream).unwrap().unwrap().is_ok());
}

#[test]
fn cmpp_reports_of_odd_lengths_are_read_as_far_as_they_go() {
    let t = chrono::NaiveDateTime::parse_from_str("2026-11-25 08:09:00", "%Y-%m-%d %H:%M:%S").unwrap();
    let r = cmpp::Report::new(
        cmpp::MsgId(0x1234_5678_9abc_def0),
        smsgw_protocols::report::ReportState::Delivered,
        &t,
        &t,
        "13800138000",
        7,
    )
    .unwrap();
    let v3 = r.to_bytes(cmpp::CmppVersion::V30).unwrap();
    let v2 = r.to_bytes(cmpp::CmppVersion::V20).unwrap();
    // Padded 3.0 (73), padded 2.0 (64), 2.0 cut after the terminal (56), only Msg_Id and Stat (15).
    let cases: [(Bytes, &str, u32); 4] = [
        (padded_content(&v3, 2), "13800138000", 7),
        (padded_content(&v2, 4), "13800138000", 7),
        (v2.slice(..56), "13800138000", 0),
        (v2.slice(..15), "", 0),
    ];
    for (content, dest, seq) in cases {
        let d = cmpp::Deliver {
            registered_delivery: 1,
            msg_content: content.clone(),
            ..cmpp::Deliver::default()
        };
        let got = d.report().unwrap().unwrap();
        assert_eq!(got.msg_id, r.msg_id, "{} bytes", content.len());
        assert_eq!(got.stat, "DELIVRD");
        assert_eq!(got.dest_terminal_id, dest, "{} bytes", content.len());
        assert_eq!(got.smsc_sequence, seq);
        assert_eq!(
            got.to_delivery_report().carrier_msg_id,
            r.to_delivery_report().carrier_msg_id
        );
    }
    let d = cmpp::Deliver {
        registered_delivery: 1,
        msg_content: v2.slice(..14),
        ..cmpp::Deliver::default()
    };
    assert!(matches!(
        d.report(),
        Err(DecodeError::InvalidValue { field: "report", .. })
    ));
}

fn padded_content(b: &Bytes, n: usize) -> Bytes {
    let mut v = b.to_vec();
    v.extend(std::iter::repeat_n(0u8, n));
    Bytes::from(v)
}

fn smpp_bytes(p: &smpp::Pdu) -> Bytes {
    let mut b = BytesMut::new();
    p.encode(&smpp::Options, &mut b).unwrap();
    b.freeze()
}
