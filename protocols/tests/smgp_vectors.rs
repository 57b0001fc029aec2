//! SMGP 3.0 byte-exact tests.
//!
//! `independent.json` holds no SMGP vectors (pycmpp and smpplib speak CMPP
//! and SMPP), so every PDU is checked against a frame hand-built from the
//! spec layout with each field commented, plus the shared file is read to
//! make sure any SMGP vector added later is decoded and re-encoded too.

use bytes::{Bytes, BytesMut};
use chrono::NaiveDate;
use smsgw_protocols::framing::FrameCodec;
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
    let pdu = Pdu::decode(frame.clone(), &Options).unwrap();
    assert_eq!(&pdu.to_bytes().unwrap()[..], &frame[..], "re-encode of {pdu:?}");
    let json = serde_json::to_string(&pdu).unwrap();
    assert_eq!(serde_json::from_str::<Pdu>(&json).unwrap(), pdu, "{json}");
    pdu
}

const MSG_ID: &str = "0590011125 1200000042"; // SMGW 059001 · 11251200 · seq 000042

#[test]
fn independent_vectors_for_smgp_if_any() {
    // The workspace layout (repo next to shared/); a git worktree sits one
    // level deeper.
    let paths = [
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/independent.json"),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/protocols/vectors/independent.json"
        ),
    ];
    let text = paths
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .expect("shared/protocols/vectors/independent.json");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for vector in v.as_array().unwrap() {
        if vector["proto"].as_str().is_some_and(|p| p.starts_with("smgp")) {
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

fn submit_frame() -> Bytes {
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

fn report_frame() -> Bytes {
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

// ---- bad input ----

fn err(frame: &[u8]) -> DecodeError {
    Pdu::decode(Bytes::copy_from_slice(frame), &Options).unwrap_err()
}

fn with_len(mut v: Vec<u8>) -> Vec<u8> {
    let n = v.len() as u32;
    v[..4].copy_from_slice(&n.to_be_bytes());
    v
}

#[test]
fn truncated_body_names_field_and_offset() {
    let full = hx(&[
        "0000002a",
        "00000001",
        "00000001",
        "3130363930303031",
        "03a527434681556524840aeb8c42fbe9",
        "02",
        "11f0e540",
        "30",
    ]);
    // Cut inside TimeStamp (offset 12+8+16+1 = 37).
    let cut = with_len(full[..39].to_vec());
    assert_eq!(
        err(&cut),
        DecodeError::Truncated {
            field: "timestamp",
            offset: 37,
            needed: 4,
            available: 2
        }
    );
    // Every cut is an error naming a field, except a cut that lands on a
    // TLV boundary (TLVs are optional). Never a panic.
    for n in 12..full.len() {
        assert!(!err(&with_len(full[..n].to_vec())).to_string().is_empty());
    }
    let submit_tlv_boundaries = [176, 181, 186, 191, 215];
    for (frame, ok_cuts) in [
        (submit_frame(), &submit_tlv_boundaries[..]),
        (report_frame(), &[][..]),
    ] {
        for n in 12..frame.len() {
            let r = Pdu::decode(Bytes::from(with_len(frame[..n].to_vec())), &Options);
            assert_eq!(r.is_ok(), ok_cuts.contains(&n), "cut at {n}: {r:?}");
        }
    }
}

#[test]
fn submit_content_and_dest_count_checked() {
    let mut f = submit_frame().to_vec();
    // MsgLength at 12+3+24+1+34+42+1+42 = 159; claim 255 bytes.
    assert_eq!(f[159], 8);
    f[159] = 255;
    assert!(matches!(
        err(&f),
        DecodeError::Truncated {
            field: "msg_content",
            offset: 160,
            ..
        }
    ));
    let mut f = submit_frame().to_vec();
    // DestTermIDCount at offset 116.
    assert_eq!(f[116], 2);
    f[116] = 101;
    assert!(matches!(
        err(&f),
        DecodeError::InvalidValue {
            field: "dest_term_id_count",
            offset: 116,
            ..
        }
    ));
    f[116] = 100;
    assert!(matches!(
        err(&f),
        DecodeError::Truncated {
            field: "dest_term_id",
            offset: 117,
            ..
        }
    ));
}

#[test]
fn bad_tlv_length_names_tag_and_offset() {
    let mut f = submit_frame().to_vec();
    // Last TLV (tag 0x00ff) starts 6 bytes from the end; make it claim 9 bytes.
    let at = f.len() - 6;
    f[at + 3] = 9;
    let e = err(&f);
    let msg = e.to_string();
    assert!(
        matches!(e, DecodeError::InvalidValue { field: "tlv", offset, .. } if offset == at),
        "{msg}"
    );
    assert!(msg.contains("0x00ff"), "{msg}");
    // A lone half TLV header at the end.
    let mut f = submit_frame().to_vec();
    f.extend_from_slice(&[0x00, 0x02, 0x00]);
    assert!(matches!(
        err(&with_len(f)),
        DecodeError::Truncated {
            field: "tlv length",
            ..
        }
    ));
}

#[test]
fn trailing_bytes_rejected_in_fixed_bodies() {
    assert_eq!(
        err(&hx(&["0000000d", "00000004", "00000001", "00"])),
        DecodeError::TrailingBytes { offset: 12, count: 1 }
    );
    let f = hx(&["0000001b", "80000002", "00000001", MSG_ID, "00000000", "ff"]);
    assert_eq!(err(&f), DecodeError::TrailingBytes { offset: 26, count: 1 });
}

#[test]
fn unknown_command_and_bad_length_and_text() {
    // 0x00000005 (Forward) is SMGP but not something an SP link carries.
    assert_eq!(
        err(&hx(&["0000000c", "00000005", "00000001"])),
        DecodeError::UnknownCommand { command_id: 5 }
    );
    assert!(matches!(
        err(&hx(&["0000000d", "00000004", "00000001"])),
        DecodeError::InvalidValue {
            field: "packet_length",
            offset: 0,
            ..
        }
    ));
    let f = hx(&[
        "0000002a",
        "00000001",
        "00000001",
        "ff30363930303031",
        "03a527434681556524840aeb8c42fbe9",
        "02",
        "11f0e540",
        "30",
    ]);
    assert!(matches!(
        err(&f),
        DecodeError::InvalidText {
            field: "client_id",
            offset: 12,
            ..
        }
    ));
}

#[test]
fn encode_rejects_overlong_content() {
    let s = Submit {
        msg_content: Bytes::from(vec![0u8; 256]),
        ..Submit::default()
    };
    let mut dst = BytesMut::from(&b"keep"[..]);
    assert!(Pdu::new(1, Body::Submit(s)).encode(&Options, &mut dst).is_err());
    assert_eq!(&dst[..], b"keep", "a failed encode leaves dst as it was");
}

// ---- framing ----

#[test]
fn codec_reassembles_frames_split_at_every_byte() {
    let frames = [
        submit_frame(),
        report_frame(),
        hx(&["0000000c", "00000004", "00000001"]),
    ];
    let stream: Vec<u8> = frames.iter().flat_map(|f| f.to_vec()).collect();
    for split in 0..=stream.len() {
        let mut codec = smgp::Codec::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for chunk in [&stream[..split], &stream[split..]] {
            buf.extend_from_slice(chunk);
            while let Some(item) = codec.decode(&mut buf).unwrap() {
                got.push(item.unwrap());
            }
        }
        assert_eq!(got.len(), 3, "split at {split}");
        let mut out = BytesMut::new();
        for p in got {
            codec.encode(p, &mut out).unwrap();
        }
        assert_eq!(&out[..], &stream[..]);
    }
}

#[test]
fn codec_yields_bad_pdu_with_header_and_rejects_bad_length() {
    let mut codec = FrameCodec::<Smgp>::new();
    let mut buf = BytesMut::from(&hx(&["0000000c", "00000042", "00000007"])[..]);
    let bad = codec.decode(&mut buf).unwrap().unwrap().unwrap_err();
    assert_eq!(bad.header.sequence_id, 7);
    assert_eq!(bad.header.request_id, 0x42);
    assert_eq!(bad.error, DecodeError::UnknownCommand { command_id: 0x42 });
    let mut buf = BytesMut::from(&hx(&["00100000", "00000002"])[..]);
    assert!(codec.decode(&mut buf).is_err());
}
