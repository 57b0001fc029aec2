//! SMGP frames decoded field by field and re-encoded byte-exact.

use super::*;

#[test]
fn independent_vectors_for_smgp_if_any() {
    for vector in &shared_vectors::of("smgp") {
        {
            let frame = hx(&[vector["hex"].as_str().unwrap()]);
            let pdu = exact(&frame);
            if let Some(seq) = vector["fields"]["sequence_id"].as_u64() {
                assert_eq!(u64::from(pdu.sequence_id), seq);
            }
        }
    }
}

#[test]
fn login() {
    let frame = hx(&[
        "0000002a",                         // PacketLength 42
        "00000001",                         // RequestID Login
        "00000001",                         // SequenceID 1
        "3130363930303031",                 // ClientID "10690001"
        "03a527434681556524840aeb8c42fbe9", // MD5("10690001" 00*7 "secret" "0301000000"), by python hashlib
        "02",                               // LoginMode 2 (both)
        "11f0e540",                         // TimeStamp 0301000000
        "30",                               // ClientVersion 3.0
    ]);
    let pdu = exact(&frame);
    assert_eq!(pdu.sequence_id, 1);
    let Body::Login(l) = &pdu.body else {
        panic!("{pdu:?}")
    };
    assert_eq!(l.client_id, "10690001");
    assert_eq!(l.login_mode, 2);
    assert_eq!(l.timestamp, 301_000_000);
    assert_eq!(l.client_version, 0x30);
    assert!(l.verify("secret"));
    assert!(!l.verify("wrong"));
    let t = NaiveDate::from_ymd_opt(2026, 3, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let built = Login::new("10690001", "secret", 2, smgp::timestamp_of(&t)).unwrap();
    assert_eq!(Pdu::new(1, Body::Login(built)).to_bytes().unwrap(), frame);
}

#[test]
fn login_resp() {
    let frame = hx(&[
        "00000021",                         // PacketLength 33
        "80000001",                         // Login_Resp
        "00000001",                         // SequenceID
        "00000000",                         // Status 0
        "bfe79cb06a51e29af5d8c5a094b77b19", // MD5(00000000 ‖ AuthenticatorClient ‖ "secret"), by python hashlib
        "30",                               // ServerVersion
    ]);
    let pdu = exact(&frame);
    let Body::LoginResp(r) = &pdu.body else { panic!() };
    assert_eq!(r.status, status::OK);
    assert_eq!(r.server_version, 0x30);
    let login = Login::new("10690001", "secret", 2, 301_000_000).unwrap();
    assert!(r.verify(&login.authenticator_client, "secret"));
    assert_eq!(LoginResp::new(0, &login, "secret"), *r);
}

pub(crate) fn submit_frame() -> Bytes {
    hx(&[
        "000000dd",                                            // PacketLength 221
        "00000002",                                            // Submit
        "0000007b",                                            // SequenceID 123
        "06",                                                  // MsgType 6 (MT)
        "01",                                                  // NeedReport
        "03",                                                  // Priority
        "48454c50000000000000",                                // ServiceID "HELP" (10)
        "3031",                                                // FeeType "01"
        "303030303130",                                        // FeeCode "000010"
        "303030303030",                                        // FixedFee "000000"
        "0f",                                                  // MsgFormat 15 (GBK)
        "0000000000000000000000000000000000",                  // ValidTime (17, empty)
        "0000000000000000000000000000000000",                  // AtTime (17, empty)
        "313036393030303100000000000000000000000000",          // SrcTermID "10690001" (21)
        "000000000000000000000000000000000000000000",          // ChargeTermID (21, empty)
        "02",                                                  // DestTermIDCount 2
        "313333303030303030303100000000000000000000",          // "13300000001"
        "313839303030303030303200000000000000000000",          // "18900000002"
        "08",                                                  // MsgLength 8
        "0500032a0201 6869",                                   // UDH ref 0x2a part 1 of 2, "hi"
        "0000000000000000",                                    // Reserve 8
        "0002 0001 01",                                        // TLV TP_udhi = 1
        "0009 0001 02",                                        // TLV PkTotal = 2
        "000a 0001 01",                                        // TLV PkNumber = 1
        "0003 0014 616263 0000000000000000000000000000000000", // TLV LinkID "abc" (20)
        "00ff 0002 beef",                                      // unknown tag 0x00ff kept raw
    ])
}

#[test]
fn submit() {
    let frame = submit_frame();
    let pdu = exact(&frame);
    assert_eq!(pdu.sequence_id, 123);
    let Body::Submit(s) = &pdu.body else { panic!() };
    assert_eq!((s.msg_type, s.need_report, s.priority), (6, 1, 3));
    assert_eq!(s.service_id, "HELP");
    assert_eq!(s.fee_type, "01");
    assert_eq!(s.fee_code, "000010");
    assert_eq!(s.fixed_fee, "000000");
    assert_eq!(s.msg_format, 15);
    assert!(s.valid_time.is_empty() && s.at_time.is_empty());
    assert_eq!(s.src_term_id, "10690001");
    assert!(s.charge_term_id.is_empty());
    assert_eq!(s.dest_term_ids, vec![fs::<21>("13300000001"), fs("18900000002")]);
    assert_eq!(&s.msg_content[..], &[5, 0, 3, 0x2a, 2, 1, b'h', b'i']);
    assert_eq!(s.reserve, [0; 8]);
    assert_eq!(
        s.tlvs[..4],
        [
            Tlv::TpUdhi(1),
            Tlv::PkTotal(2),
            Tlv::PkNumber(1),
            Tlv::LinkId(fs("abc"))
        ]
    );
    assert!(matches!(&s.tlvs[4], Tlv::Raw { tag: 0xff, value } if value[..] == [0xbe, 0xef]));
    assert!(s.udhi());
    assert_eq!(
        s.concat(),
        Some(Concat {
            reference: 0x2a,
            wide_reference: false,
            total: 2,
            seq: 1
        })
    );
    let mut s2 = s.clone();
    s2.set_udhi(false);
    assert!(!s2.udhi());
    // Without udhi the PkTotal/PkNumber TLVs still say which part.
    assert_eq!(s2.concat().map(|c| (c.total, c.seq)), Some((2, 1)));
}

#[test]
fn submit_resp() {
    let frame = hx(&[
        "0000001a", // PacketLength 26
        "80000002", // Submit_Resp
        "0000007b", // SequenceID 123
        MSG_ID,     // MsgID
        "0000004b", // Status 75 (daily quota)
    ]);
    let pdu = exact(&frame);
    assert_eq!(
        pdu.body,
        Body::SubmitResp(SubmitResp {
            msg_id: "05900111251200000042".parse().unwrap(),
            status: 75
        })
    );
    let json = serde_json::to_value(&pdu).unwrap();
    assert_eq!(json["command"], "submit_resp");
    assert_eq!(json["msg_id"], "05900111251200000042");
    assert_eq!(status::status_text(75), "SP daily quota exceeded");
}

#[test]
fn deliver_mo() {
    let frame = hx(&[
        "0000006f",                                   // PacketLength 111
        "00000003",                                   // Deliver
        "00000009",                                   // SequenceID
        MSG_ID,                                       // MsgID
        "00",                                         // IsReport 0
        "0f",                                         // MsgFormat 15
        "3230323631313235313230303030",               // RecvTime "20261125120000"
        "313333303030303030303100000000000000000000", // SrcTermID "13300000001"
        "313036393030303100000000000000000000000000", // DestTermID "10690001"
        "05 68656c6c6f",                              // MsgLength 5, "hello"
        "0000000000000000",                           // Reserve
        "0001 0001 00",                               // TLV TP_pid 0
        "0010 0008 5350000000000000",                 // TLV MsgSrc "SP" (8)
    ]);
    let pdu = exact(&frame);
    let Body::Deliver(d) = &pdu.body else { panic!() };
    assert_eq!(d.msg_id.to_string(), "05900111251200000042");
    assert_eq!((d.is_report, d.msg_format), (0, 15));
    assert_eq!(d.recv_time, "20261125120000");
    assert_eq!(d.src_term_id, "13300000001");
    assert_eq!(d.dest_term_id, "10690001");
    assert_eq!(&d.msg_content[..], b"hello");
    assert_eq!(d.tlvs, vec![Tlv::TpPid(0), Tlv::MsgSrc(fs("SP"))]);
    assert!(d.report().is_none());
    assert!(!d.udhi() && d.concat().is_none());
}

pub(crate) fn report_frame() -> Bytes {
    hx(&[
        "000000d3",                                              // PacketLength 211
        "00000003",                                              // Deliver
        "0000000a",                                              // SequenceID
        "0590011125 1200000099",                                 // MsgID of the Deliver itself
        "01",                                                    // IsReport 1
        "00",                                                    // MsgFormat 0
        "3230323631313235313230313030",                          // RecvTime "20261125120100"
        "313333303030303030303100000000000000000000",            // SrcTermID (the handset)
        "313036393030303100000000000000000000000000",            // DestTermID (the SP)
        "7a",                                                    // MsgLength 122
        "69643a",                                                // "id:"
        MSG_ID,                                                  // the reported MsgID, binary
        "207375623a303031",                                      // " sub:001"
        "20646c7672643a303031",                                  // " dlvrd:001"
        "205375626d697420646174653a 32363131323531323030",       // " Submit date:2611251200"
        "20646f6e6520646174653a 32363131323531323031",           // " done date:2611251201"
        "20737461743a 44454c49565244",                           // " stat:DELIVRD"
        "206572723a 303030",                                     // " err:000"
        "20546578743a 68656c6c6f000000000000000000000000000000", // " Text:hello" (20)
        "0000000000000000",                                      // Reserve
    ])
}

#[test]
fn deliver_report() {
    let frame = report_frame();
    let pdu = exact(&frame);
    let Body::Deliver(d) = &pdu.body else { panic!() };
    assert_eq!(d.is_report, 1);
    let r = d.report().unwrap().unwrap();
    assert_eq!(r.msg_id.to_string(), "05900111251200000042");
    assert_eq!(r.sub, "001");
    assert_eq!(r.dlvrd, "001");
    assert_eq!(r.submit_date, "2611251200");
    assert_eq!(r.done_date, "2611251201");
    assert_eq!(r.stat, "DELIVRD");
    assert_eq!(r.err, "000");
    assert_eq!(r.txt, "hello");
    let dr = d.delivery_report().unwrap().unwrap();
    // The reconciler's key: the same string the Submit_Resp id displays as.
    assert_eq!(dr.carrier_msg_id, "05900111251200000042");
    assert_eq!(dr.state, ReportState::Delivered);
    assert_eq!(dr.destination.as_deref(), Some("13300000001"));
    assert_eq!(
        dr.done_time,
        NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(12, 1, 0)
    );
    assert!(d.concat().is_none());

    // The simulator's constructor builds the very same frame.
    let t = NaiveDate::from_ymd_opt(2026, 11, 25)
        .unwrap()
        .and_hms_opt(12, 1, 0)
        .unwrap();
    let built = Deliver::new_report(
        "05900111251200000099".parse().unwrap(),
        &r,
        "13300000001",
        "10690001",
        &t,
    )
    .unwrap();
    assert_eq!(Pdu::new(10, Body::Deliver(built)).to_bytes().unwrap(), frame);
    assert_eq!(Report::decode(&r.to_bytes().unwrap()).unwrap(), r);
}

/// Fuzz finding (smgp target): a `Text:` value longer than its 20 bytes
/// was cut to 20 *after* the padding was trimmed, so NULs that had been
/// inside the longer value ended up at the end of `txt`; encoding pads them
/// away and the report no longer decoded to itself.
#[test]
fn report_text_cut_inside_padding_round_trips() {
    let mut content = Vec::new();
    content.extend_from_slice(b"id:0123456789 sub:001 dlvrd:001 Submit date:2611251200");
    content.extend_from_slice(b" done date:2611251201 stat:DELIVRD err:000 Text:AB");
    content.extend_from_slice(&[0; 20]);
    content.push(b'C');
    let r = Report::decode(&content).unwrap();
    assert_eq!(r.txt.as_str(), "AB");
    assert_eq!(Report::decode(&r.to_bytes().unwrap()).unwrap(), r);
}

#[test]
fn deliver_resp() {
    let frame = hx(&["0000001a", "80000003", "0000000a", MSG_ID, "00000000"]);
    let pdu = exact(&frame);
    assert_eq!(
        pdu.body,
        Body::DeliverResp(DeliverResp {
            msg_id: MsgId(hx(&[MSG_ID])[..].try_into().unwrap()),
            status: 0
        })
    );
}

#[test]
fn bodiless_pdus() {
    for (id, body, name) in [
        ("00000004", Body::ActiveTest, "active_test"),
        ("80000004", Body::ActiveTestResp, "active_test_resp"),
        ("00000006", Body::Exit, "exit"),
        ("80000006", Body::ExitResp, "exit_resp"),
    ] {
        let frame = hx(&["0000000c", id, "00000102"]); // length 12, id, seq 258
        let pdu = exact(&frame);
        assert_eq!(pdu, Pdu::new(258, body));
        assert_eq!(serde_json::to_value(&pdu).unwrap()["command"], name);
    }
}

#[test]
fn query_and_resp() {
    let frame = hx(&[
        "0000001f",             // PacketLength 31
        "00000007",             // Query
        "00000003",             // SequenceID
        "3230323631313235",     // Time "20261125"
        "01",                   // QueryType 1 (by service)
        "48454c50000000000000", // QueryCode "HELP"
    ]);
    let pdu = exact(&frame);
    assert_eq!(
        pdu.body,
        Body::Query(Query {
            time: fs("20261125"),
            query_type: 1,
            query_code: fs("HELP")
        })
    );
    let frame = hx(&[
        "00000047", // PacketLength 71
        "80000007", // Query_Resp
        "00000003",
        "3230323631313235",
        "01",
        "48454c50000000000000",
        "00000001 00000002 00000003 00000004 00000005", // MT TLMsg TLUsr Scs WT FL
        "00000006 00000007 00000008",                   // MO Scs WT FL
        "0000000000000000",                             // Reserve
    ]);
    let pdu = exact(&frame);
    let Body::QueryResp(q) = &pdu.body else { panic!() };
    assert_eq!(
        *q,
        QueryResp {
            time: fs("20261125"),
            query_type: 1,
            query_code: fs("HELP"),
            mt_tl_msg: 1,
            mt_tl_usr: 2,
            mt_scs: 3,
            mt_wt: 4,
            mt_fl: 5,
            mo_scs: 6,
            mo_wt: 7,
            mo_fl: 8,
            reserve: [0; 8],
        }
    );
}
