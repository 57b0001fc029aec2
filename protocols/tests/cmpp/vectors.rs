//! CMPP frames decoded field by field and re-encoded byte-exact.

use super::*;

#[test]
fn every_cmpp_vector_decodes_and_reencodes_exactly() {
    let all = vectors();
    assert!(all.len() >= 3);
    for v in all {
        let opts = if v["proto"] == "cmpp2" { V2 } else { V3 };
        let bytes = Bytes::from(hex::decode(v["hex"].as_str().unwrap()).unwrap());
        exact(&bytes, &opts);
        // Through the codec too.
        let mut codec = FrameCodec::<Cmpp>::new().with_options(opts.clone());
        let mut buf = BytesMut::from(&bytes[..]);
        let pdu = codec.decode(&mut buf).unwrap().unwrap().unwrap();
        assert!(buf.is_empty());
        assert_eq!(pdu, Cmpp::decode(bytes, &opts).unwrap());
    }
}

#[test]
fn vector_connect_pycmpp() {
    let (bytes, f, opts) = vector("CMPP_CONNECT");
    let pdu = exact(&bytes, &opts);
    assert_eq!(pdu.sequence_id, f["sequence_id"].as_u64().unwrap() as u32);
    let Body::Connect(c) = &pdu.body else {
        panic!("not a connect: {pdu:?}")
    };
    assert_eq!(c.source_addr, f["source_addr"].as_str().unwrap());
    assert_eq!(c.version, 0x21);
    assert_eq!(c.cmpp_version(), Some(CmppVersion::V20));
    assert_eq!(c.timestamp, f["timestamp"].as_u64().unwrap() as u32);
    let secret = f["shared_secret"].as_str().unwrap();
    assert_eq!(secret, "abc123");
    // MD5('445566' + 9 zero bytes + 'abc123' + '0101000000').
    assert_eq!(
        hex::encode(c.authenticator_source),
        "a9ea5b8c4bb533caec10cab8a53e8403"
    );
    assert_eq!(
        c.authenticator_source,
        authenticator_source("445566", secret, 101000000)
    );
    assert!(c.verify(secret));
    assert!(!c.verify("abc124"));
    // Our own CONNECT with the same inputs differs only in the version byte.
    let mut ours = Connect::new("445566", secret, 101000000, CmppVersion::V20).unwrap();
    assert_eq!(ours.version, 0x20);
    ours.version = 0x21;
    assert_eq!(&ours, c);
    assert_eq!(pdu.body.name(), "CMPP_CONNECT");
}

#[test]
fn vector_submit_ucs2_with_udh_pycmpp() {
    let (bytes, f, opts) = vector("CMPP_SUBMIT");
    let pdu = exact(&bytes, &opts);
    assert_eq!(pdu.sequence_id, 2);
    let Body::Submit(s) = &pdu.body else {
        panic!("not a submit: {pdu:?}")
    };
    let n = |k: &str| f[k].as_u64().unwrap() as u8;
    assert_eq!(s.msg_id, MsgId(0));
    assert_eq!(s.pk_total, n("pk_total"));
    assert_eq!(s.pk_number, n("pk_number"));
    assert_eq!(s.registered_delivery, n("registered_delivery"));
    assert_eq!(s.msg_level, 0);
    assert_eq!(s.service_id, f["service_id"].as_str().unwrap());
    assert_eq!(s.fee_user_type, n("fee_user_type"));
    assert_eq!(s.fee_terminal_id, "");
    assert_eq!(s.tp_pid, n("tp_pid"));
    assert_eq!(s.tp_udhi, n("tp_udhi"));
    assert_eq!(s.msg_fmt, n("msg_fmt"));
    assert_eq!(s.msg_src, f["msg_src"].as_str().unwrap());
    assert_eq!(s.fee_type, f["fee_type"].as_str().unwrap());
    assert_eq!(s.fee_code, f["fee_code"].as_str().unwrap());
    assert_eq!(s.valid_time, "");
    assert_eq!(s.at_time, "");
    assert_eq!(s.src_id, f["src_id"].as_str().unwrap());
    let dests: Vec<&str> = s.dest_terminal_ids.iter().map(|d| d.as_str()).collect();
    let want: Vec<&str> = f["dest_terminal_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(dests, want);
    assert_eq!(s.reserve, [0; 8]);
    assert_eq!(s.link_id, "");
    // Content: the UDH then UCS-2 text.
    let udh = hex::decode(f["udh"].as_str().unwrap()).unwrap();
    assert!(s.udhi());
    assert_eq!(&s.msg_content[..udh.len()], &udh[..]);
    let units: Vec<u16> = s.msg_content[udh.len()..]
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(String::from_utf16(&units).unwrap(), f["text"].as_str().unwrap());
    assert_eq!(
        s.concat(),
        Some(Concat {
            reference: 0x2a,
            wide_reference: false,
            total: 2,
            seq: 1
        })
    );
    // The content is a view into the frame, not a copy.
    let frame_range = bytes.as_ptr() as usize..bytes.as_ptr() as usize + bytes.len();
    assert!(frame_range.contains(&(s.msg_content.as_ptr() as usize)));
    // The same submit in a 2.0 frame does not decode as 3.0.
    assert!(Cmpp::decode(bytes.clone(), &V3).is_err());
}

#[test]
fn vector_active_test_pycmpp() {
    let (bytes, _f, opts) = vector("CMPP_ACTIVE_TEST");
    let pdu = exact(&bytes, &opts);
    assert_eq!(pdu, Pdu::new(3, Body::ActiveTest));
    assert_eq!(exact(&bytes, &V3), pdu);
}

// ---- hand-built frames from the spec layout ----

const AUTH: &str = "a9ea5b8c4bb533caec10cab8a53e8403";

#[test]
fn connect_resp_both_versions() {
    let src: [u8; 16] = hex::decode(AUTH).unwrap().try_into().unwrap();
    // 2.0: status 1 byte; the ISMG authenticator hashes that one byte.
    let ismg2 = authenticator_ismg_for(CmppVersion::V20, 0, &src, "abc123");
    let f2 = h(&format!(
        "0000001e 80000001 00000001 \
         00 {} 20",
        hex::encode(ismg2)
    ));
    let p = exact(&f2, &V2);
    let Body::ConnectResp(r) = &p.body else { panic!() };
    assert_eq!((r.status, r.version), (0, 0x20));
    assert!(r.verify(&src, "abc123", CmppVersion::V20));
    // 3.0: status 4 bytes.
    let ismg3 = authenticator_ismg(0, &src, "abc123");
    let f3 = h(&format!(
        "00000021 80000001 00000001 \
         00000000 {} 30",
        hex::encode(ismg3)
    ));
    let p3 = exact(&f3, &V3);
    let want = Pdu::new(
        1,
        Body::ConnectResp(ConnectResp {
            status: 0,
            authenticator_ismg: ismg3,
            version: 0x30,
        }),
    );
    assert_eq!(p3, want);
    // Hand-computed: MD5(00000000 ‖ src ‖ 'abc123').
    let mut input = vec![0u8; 4];
    input.extend_from_slice(&src);
    input.extend_from_slice(b"abc123");
    assert_eq!(ismg3, md5_of(&input));
    // The wrong layout for the link is caught.
    assert!(Cmpp::decode(f3.clone(), &V2).is_err());
    assert!(Cmpp::decode(f2, &V3).is_err());
    // A 3.0 status that does not fit 2.0's byte cannot be encoded.
    let big = Pdu::new(
        1,
        Body::ConnectResp(ConnectResp {
            status: 300,
            authenticator_ismg: [0; 16],
            version: 0x20,
        }),
    );
    assert!(matches!(
        big.to_bytes(&V2),
        Err(EncodeError::InvalidValue { field: "status", .. })
    ));
}

pub(crate) fn md5_of(b: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    Md5::digest(b).into()
}

#[test]
fn terminate_and_active_test_resp() {
    exact(&h("0000000c 00000002 00000007"), &V2);
    assert_eq!(
        exact(&h("0000000c 80000002 00000007"), &V3).body,
        Body::TerminateResp
    );
    let p = exact(&h("0000000d 80000008 00000009 00"), &V2);
    assert_eq!(p.body, Body::ActiveTestResp(ActiveTestResp { reserved: 0 }));
    assert_eq!(p.body.name(), "CMPP_ACTIVE_TEST_RESP");
    assert!(p.body.is_response());
}

#[test]
fn submit_v30_layout() {
    let mut content = vec![0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02];
    content.extend_from_slice(b"hello");
    let s = Submit {
        msg_id: MsgId(0),
        pk_total: 3,
        pk_number: 2,
        registered_delivery: 1,
        msg_level: 1,
        service_id: FixedStr::new("SVC").unwrap(),
        fee_user_type: 3,
        fee_terminal_id: FixedStr::new("13800138000").unwrap(),
        fee_terminal_type: 1,
        tp_pid: 0,
        tp_udhi: 1,
        msg_fmt: 4,
        msg_src: FixedStr::new("901234").unwrap(),
        fee_type: FixedStr::new("02").unwrap(),
        fee_code: FixedStr::new("000010").unwrap(),
        valid_time: FixedStr::new("261126120000032+").unwrap(),
        at_time: FixedStr::empty(),
        src_id: FixedStr::new("1065").unwrap(),
        dest_terminal_ids: vec![
            FixedStr::new("13900001111").unwrap(),
            FixedStr::new("13900002222").unwrap(),
        ],
        dest_terminal_type: 0,
        msg_content: Bytes::from(content),
        reserve: [0; 8],
        link_id: FixedStr::new("LINK01").unwrap(),
    };
    let pad = |s: &str, w: usize| {
        let mut v = s.as_bytes().to_vec();
        v.resize(w, 0);
        hex::encode(v)
    };
    let body = [
        "0000000000000000".to_string(), // msg_id
        "03 02 01 01".into(),           // pk_total pk_number registered_delivery msg_level
        pad("SVC", 10),                 // service_id
        "03".into(),                    // fee_user_type
        pad("13800138000", 32),         // fee_terminal_id (3.0: 32)
        "01".into(),                    // fee_terminal_type (3.0)
        "00 01 04".into(),              // tp_pid tp_udhi msg_fmt
        pad("901234", 6),
        pad("02", 2),
        pad("000010", 6),
        pad("261126120000032+", 17),
        pad("", 17),
        pad("1065", 21),
        "02".into(), // dest_usr_tl
        pad("13900001111", 32),
        pad("13900002222", 32),
        "00".into(),                           // dest_terminal_type
        "0c 060804123403 0268656c6c6f".into(), // msg_length, content
        pad("LINK01", 20),                     // link_id
    ]
    .join(" ");
    let len = 12 + h(&body).len();
    assert_eq!(
        len,
        12 + 8 + 4 + 10 + 1 + 33 + 3 + 6 + 2 + 6 + 34 + 21 + 1 + 64 + 1 + 1 + 12 + 20
    );
    let frame = h(&format!("{len:08x} 00000004 0000002a {body}"));
    let pdu = exact(&frame, &V3);
    assert_eq!(pdu, Pdu::new(42, Body::Submit(Box::new(s.clone()))));
    assert_eq!(
        s.concat(),
        Some(Concat {
            reference: 0x1234,
            wide_reference: true,
            total: 3,
            seq: 2
        })
    );
    // The 3.0-only values cannot be written as 2.0.
    assert!(matches!(
        Pdu::new(1, Body::Submit(Box::new(s.clone()))).to_bytes(&V2),
        Err(EncodeError::InvalidValue {
            field: "fee_terminal_type",
            ..
        })
    ));
    let mut s2 = s.clone();
    s2.fee_terminal_type = 0;
    s2.link_id = FixedStr::empty();
    s2.fee_terminal_id = FixedStr::new("1380013800012345678901").unwrap(); // 22 > 21
    assert!(matches!(
        Pdu::new(1, Body::Submit(Box::new(s2))).to_bytes(&V2),
        Err(EncodeError::TooLong {
            field: "fee_terminal_id",
            ..
        })
    ));
}

#[test]
fn submit_limits_are_enforced() {
    let mut s = Submit {
        dest_terminal_ids: vec![FixedStr::new("1").unwrap(); 101],
        ..Submit::default()
    };
    let mut out = BytesMut::from(&b"keep"[..]);
    let err = Pdu::new(1, Body::Submit(Box::new(s.clone()))).encode(&V3, &mut out);
    assert!(matches!(
        err,
        Err(EncodeError::TooLong {
            field: "dest_terminal_ids",
            ..
        })
    ));
    assert_eq!(&out[..], b"keep", "a failed encode leaves the buffer as it was");
    s.dest_terminal_ids.truncate(100);
    s.msg_content = Bytes::from(vec![0u8; 256]);
    assert!(matches!(
        Pdu::new(1, Body::Submit(Box::new(s.clone()))).to_bytes(&V3),
        Err(EncodeError::TooLong {
            field: "msg_content",
            ..
        })
    ));
    s.msg_content = Bytes::from(vec![0u8; 255]);
    let frame = Pdu::new(1, Body::Submit(Box::new(s))).to_bytes(&V3).unwrap();
    assert!(
        frame.len() <= Cmpp::DEFAULT_MAX_FRAME,
        "largest submit fits the default max frame"
    );
    // 101 destinations on the wire are refused by name and offset.
    let mut bad = frame.to_vec();
    let count_at = 12 + 8 + 4 + 10 + 1 + 33 + 3 + 6 + 2 + 6 + 34 + 21;
    assert_eq!(bad[count_at], 100);
    bad[count_at] = 101;
    assert_eq!(
        Cmpp::decode(Bytes::from(bad), &V3),
        Err(DecodeError::InvalidValue {
            field: "dest_usr_tl",
            offset: count_at,
            message: "101 destinations, at most 100 allowed".into()
        })
    );
}

#[test]
fn submit_resp_deliver_resp_cancel_both_versions() {
    let id = MsgId::new(11, 25, 8, 9, 10, 123456, 7);
    let id_hex = format!("{:016x}", id.0);
    let p = exact(&h(&format!("00000015 80000004 00000005 {id_hex} 08")), &V2);
    assert_eq!(
        p.body,
        Body::SubmitResp(SubmitResp {
            msg_id: id,
            result: result::THROTTLED
        })
    );
    let p = exact(&h(&format!("00000018 80000004 00000005 {id_hex} 00000000")), &V3);
    assert_eq!(
        p.body,
        Body::SubmitResp(SubmitResp {
            msg_id: id,
            result: result::OK
        })
    );
    let p = exact(&h(&format!("00000015 80000005 00000006 {id_hex} 00")), &V2);
    assert_eq!(
        p.body,
        Body::DeliverResp(DeliverResp {
            msg_id: id,
            result: 0
        })
    );
    let p = exact(&h(&format!("00000018 80000005 00000006 {id_hex} 00000009")), &V3);
    assert_eq!(
        p.body,
        Body::DeliverResp(DeliverResp {
            msg_id: id,
            result: 9
        })
    );
    let p = exact(&h(&format!("00000014 00000007 00000007 {id_hex}")), &V2);
    assert_eq!(p.body, Body::Cancel(Cancel { msg_id: id }));
    let p = exact(&h("0000000d 80000007 00000007 01"), &V2);
    assert_eq!(p.body, Body::CancelResp(CancelResp { success_id: 1 }));
    let p = exact(&h("00000010 80000007 00000007 00000000"), &V3);
    assert_eq!(p.body, Body::CancelResp(CancelResp { success_id: 0 }));
    // 2.0 result bytes under a 3.0 link: too short.
    assert!(matches!(
        Cmpp::decode(h(&format!("00000015 80000004 00000005 {id_hex} 08")), &V3),
        Err(DecodeError::Truncated {
            field: "result",
            offset: 20,
            needed: 4,
            available: 1
        })
    ));
    // JSON shows the id the way ops see it.
    let json = serde_json::to_value(p_submit_resp(id)).unwrap();
    assert_eq!(json["msg_id"], "1125080910012345600007");
    assert_eq!(json["command"], "submit_resp");
}

pub(crate) fn p_submit_resp(id: MsgId) -> Pdu {
    Pdu::new(
        5,
        Body::SubmitResp(SubmitResp {
            msg_id: id,
            result: 0,
        }),
    )
}

#[test]
fn query_and_query_resp() {
    // time '20261125', type 1, code 'ALERT', reserve 8
    let q = h("00000027 00000006 0000000b \
               3230323631313235 01 414c4552540000000000 0000000000000000");
    for opts in [V2, V3] {
        let p = exact(&q, &opts);
        assert_eq!(
            p.body,
            Body::Query(Query {
                time: FixedStr::new("20261125").unwrap(),
                query_type: 1,
                query_code: FixedStr::new("ALERT").unwrap(),
                reserve: [0; 8],
            })
        );
    }
    let qr = h("0000003f 80000006 0000000b \
                3230323631313235 01 414c4552540000000000 \
                00000001 00000002 00000003 00000004 00000005 00000006 00000007 00000008");
    let p = exact(&qr, &V3);
    assert_eq!(
        p.body,
        Body::QueryResp(QueryResp {
            time: FixedStr::new("20261125").unwrap(),
            query_type: 1,
            query_code: FixedStr::new("ALERT").unwrap(),
            mt_tl_msg: 1,
            mt_tl_usr: 2,
            mt_scs: 3,
            mt_wt: 4,
            mt_fl: 5,
            mo_scs: 6,
            mo_wt: 7,
            mo_fl: 8,
        })
    );
}

pub(crate) fn report_fixture() -> Report {
    Report {
        msg_id: MsgId::new(11, 25, 8, 9, 10, 123456, 7),
        stat: FixedStr::new("DELIVRD").unwrap(),
        submit_time: FixedStr::new("2611250809").unwrap(),
        done_time: FixedStr::new("2611250810").unwrap(),
        dest_terminal_id: FixedStr::new("13700001111").unwrap(),
        smsc_sequence: 0x0102_0304,
    }
}

#[test]
fn deliver_mo_v20_layout() {
    let frame = h("00000059 00000005 00000010 \
        0000000000000001 \
        3130363538383939000000000000000000000000 00 \
        414c4552540000000000 \
        00 00 0f \
        3133373030303031313131000000000000000000 00 \
        00 \
        04 c4e3bac3 \
        0000000000000000");
    let p = exact(&frame, &V2);
    let Body::Deliver(d) = &p.body else { panic!() };
    assert_eq!(d.dest_id, "10658899");
    assert_eq!(d.service_id, "ALERT");
    assert_eq!(d.msg_fmt, 15);
    assert_eq!(d.src_terminal_id, "13700001111");
    assert!(!d.is_report());
    assert_eq!(d.report(), Ok(None));
    assert_eq!(&d.msg_content[..], &[0xc4, 0xe3, 0xba, 0xc3]);
    assert!(d.concat().is_none());
    assert!(Cmpp::decode(frame, &V3).is_err());
}

#[test]
fn deliver_report_both_versions() {
    let r = report_fixture();
    let id_hex = format!("{:016x}", r.msg_id.0);
    let pad = |s: &str, w: usize| {
        let mut v = s.as_bytes().to_vec();
        v.resize(w, 0);
        hex::encode(v)
    };
    let report_hex = |w: usize| {
        format!(
            "{id_hex} {} {} {} {} 01020304",
            hex::encode("DELIVRD"),
            hex::encode("2611250809"),
            hex::encode("2611250810"),
            pad("13700001111", w)
        )
    };
    // 3.0: Src_terminal_Id 32 + type, report with a 32-byte dest, LinkID 20.
    let body3 = format!(
        "0000000000000063 {} {} 00 00 00 {} 00 01 47 {} {}",
        pad("10658899", 21),
        pad("", 10),
        pad("13700001111", 32),
        report_hex(32),
        pad("", 20)
    );
    let frame3 = h(&format!("{:08x} 00000005 00000011 {body3}", 12 + h(&body3).len()));
    let p = exact(&frame3, &V3);
    let Body::Deliver(d) = &p.body else { panic!() };
    assert!(d.is_report());
    assert_eq!(d.msg_content.len(), 71);
    assert_eq!(d.report().unwrap(), Some(r.clone()));
    let built = r.into_deliver(MsgId(0x63), "10658899", CmppVersion::V30).unwrap();
    assert_eq!(&built, &**d);
    // 2.0: 21-byte ids, 60-byte report, Reserved 8.
    let body2 = format!(
        "0000000000000063 {} {} 00 00 00 {} 01 3c {} 0000000000000000",
        pad("10658899", 21),
        pad("", 10),
        pad("13700001111", 21),
        report_hex(21)
    );
    let frame2 = h(&format!("{:08x} 00000005 00000011 {body2}", 12 + h(&body2).len()));
    let p = exact(&frame2, &V2);
    let Body::Deliver(d) = &p.body else { panic!() };
    assert_eq!(d.msg_content.len(), 60);
    assert_eq!(d.report().unwrap(), Some(r.clone()));
    assert_eq!(
        &Deliver::with_report(MsgId(0x63), "10658899", &r, CmppVersion::V20).unwrap(),
        &**d
    );
    // The normalised report carries the SUBMIT_RESP id's display form.
    let dr = r.to_delivery_report();
    assert_eq!(
        dr.carrier_msg_id,
        SubmitResp {
            msg_id: r.msg_id,
            result: 0
        }
        .msg_id
        .to_string()
    );
    assert_eq!(dr.carrier_msg_id, "1125080910012345600007");
    assert_eq!(dr.state, ReportState::Delivered);
    assert_eq!(dr.stat, "DELIVRD");
    assert_eq!(dr.destination.as_deref(), Some("13700001111"));
    assert_eq!(dr.submit_time.unwrap().to_string(), "2026-11-25 08:09:00");
    assert_eq!(dr.done_time.unwrap().to_string(), "2026-11-25 08:10:00");
}

#[test]
fn report_bad_content() {
    let d = Deliver {
        registered_delivery: 1,
        msg_content: Bytes::from_static(b"short"),
        ..Deliver::default()
    };
    assert!(matches!(
        d.report(),
        Err(DecodeError::InvalidValue { field: "report", .. })
    ));
    let mut bytes = report_fixture().to_bytes(CmppVersion::V30).unwrap().to_vec();
    bytes[8] = 0xff; // stat is not text
    assert!(matches!(
        Report::decode(&Bytes::from(bytes), CmppVersion::V30),
        Err(DecodeError::InvalidText {
            field: "report.stat",
            offset: 8,
            ..
        })
    ));
    let r = Report::new(
        MsgId(1),
        ReportState::Expired,
        &chrono::NaiveDateTime::parse_from_str("2026-11-25 08:09:10", "%Y-%m-%d %H:%M:%S").unwrap(),
        &chrono::NaiveDateTime::parse_from_str("2026-11-26 08:09:10", "%Y-%m-%d %H:%M:%S").unwrap(),
        "13700001111",
        5,
    )
    .unwrap();
    assert_eq!(
        (r.stat.as_str(), r.submit_time.as_str()),
        ("EXPIRED", "2611250809")
    );
    assert_eq!(r.to_delivery_report().state, ReportState::Expired);
}
