//! SGIP frames decoded field by field and re-encoded byte-exact.

use super::*;

#[test]
fn independent_vectors_if_any() {
    for v in shared_vectors::of("sgip").iter() {
        let bytes = Bytes::from(h(v["hex"].as_str().expect("hex")));
        let pdu = decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", v["what"]));
        assert_eq!(hex::encode(pdu.to_bytes().unwrap()), hex::encode(&bytes));
        // Every listed field that our JSON form also names must agree.
        let ours = serde_json::to_value(&pdu).unwrap();
        if let Some(fields) = v["fields"].as_object() {
            for (k, want) in fields {
                if let Some(got) = ours.get(k) {
                    assert_eq!(got, want, "{}: field {k}", v["what"]);
                }
            }
        }
    }
}

#[test]
fn bind() {
    let bytes = frame(&[
        h("0000003d"),                          // message_length 61
        h("00000001"),                          // command_id BIND
        h(SEQ_HEX),                             // sequence
        h("01"),                                // login_type 1 = SP -> SMG
        h("7370757365720000 0000000000000000"), // login_name "spuser", 16 bytes
        h("7365637265743132 3300000000000000"), // login_password "secret123", 16 bytes
        h("0000000000000000"),                  // reserve 8
    ]);
    assert_eq!(bytes.len(), 61);
    let Body::Bind(b) = roundtrip(&bytes, SEQ) else {
        panic!("not bind")
    };
    assert_eq!(b.login_type, Bind::SP_TO_SMG);
    assert_eq!(b.login_name, "spuser");
    assert_eq!(b.login_password, "secret123");
    assert_eq!(b.reserve, [0; 8]);
    assert_eq!(Bind::new(1, "spuser", "secret123").unwrap(), b);
    assert!(matches!(
        Bind::new(1, "a-login-name-of-17", "x"),
        Err(EncodeError::TooLong {
            field: "login_name",
            ..
        })
    ));
}

#[test]
fn responses_share_result_reserve_layout() {
    for (req, resp_id) in [
        (command::BIND, command::BIND_RESP),
        (command::SUBMIT, command::SUBMIT_RESP),
        (command::DELIVER, command::DELIVER_RESP),
        (command::REPORT, command::REPORT_RESP),
        (command::USERRPT, command::USERRPT_RESP),
    ] {
        assert_eq!(req | 0x8000_0000, resp_id);
        let bytes = frame(&[
            h("0000001d"),                  // message_length 29
            resp_id.to_be_bytes().to_vec(), // command_id
            h(SEQ_HEX),                     // sequence (echoes the request's)
            h("0b"),                        // result 11 = node busy
            h("0102030405060708"),          // reserve, non-zero: must be kept
        ]);
        let body = roundtrip(&bytes, SEQ);
        assert_eq!(body.command_id(), resp_id);
        let r = match body {
            Body::BindResp(r)
            | Body::SubmitResp(r)
            | Body::DeliverResp(r)
            | Body::ReportResp(r)
            | Body::UserrptResp(r) => r,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(r.result as u32, result::NODE_BUSY);
        assert_eq!(r.reserve, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(!r.is_ok());
    }
    assert_eq!(result::result_text(result::NODE_BUSY), "node busy");
}

#[test]
fn unbind_and_resp_are_header_only() {
    for (id, want) in [
        ("00000002", Body::Unbind(Unbind {})),
        ("80000002", Body::UnbindResp(UnbindResp {})),
    ] {
        let bytes = frame(&[h("00000014"), h(id), h(SEQ_HEX)]); // length 20, no body
        assert_eq!(roundtrip(&bytes, SEQ), want);
    }
    let json = serde_json::to_value(Pdu::new(SEQ, Unbind {})).unwrap();
    assert_eq!(json["command"], "unbind");
    assert_eq!(json["sequence"], "3000012345-1124103000-00000001");
}

pub(crate) fn submit_bytes() -> Bytes {
    frame(&[
        h("000000be"),                    // message_length 190
        h("00000003"),                    // command_id SUBMIT
        h(SEQ_HEX),                       // sequence = the carrier message id
        txt("10655001", 21),              // sp_number
        txt("000000000000000000000", 21), // charge_number: 21 zeros = the SP pays
        h("02"),                          // user_count 2
        txt("8613012345678", 21),         // user_number 1
        txt("8613187654321", 21),         // user_number 2
        txt("12345", 5),                  // corp_id
        txt("HELP", 10),                  // service_type
        h("01"),                          // fee_type 1 = free
        txt("0", 6),                      // fee_value
        txt("0", 6),                      // given_value
        h("00"),                          // agent_flag
        h("02"),                          // morelateto_mt_flag 2 = not MO-triggered
        h("09"),                          // priority
        txt("261124120000032+", 16),      // expire_time
        txt("", 16),                      // schedule_time: now
        h("01"),                          // report_flag 1 = always
        h("00"),                          // tp_pid
        h("00"),                          // tp_udhi
        h("0f"),                          // message_coding 15 = GBK
        h("00"),                          // message_type 0 = SMS
        h("00000005"),                    // message_length 5
        b"Hello".to_vec(),                // message_content
        h("0000000000000000"),            // reserve
    ])
}

#[test]
fn submit() {
    let bytes = submit_bytes();
    assert_eq!(bytes.len(), 190);
    let Body::Submit(s) = roundtrip(&bytes, SEQ) else {
        panic!("not submit")
    };
    assert_eq!(s.sp_number, "10655001");
    assert_eq!(s.charge_number, "000000000000000000000");
    assert_eq!(s.user_numbers.len(), 2);
    assert_eq!(s.user_numbers[0], "8613012345678");
    assert_eq!(s.user_numbers[1], "8613187654321");
    assert_eq!(s.corp_id, "12345");
    assert_eq!(s.service_type, "HELP");
    assert_eq!(s.fee_type, 1);
    assert_eq!(s.fee_value, "0");
    assert_eq!(s.given_value, "0");
    assert_eq!(s.agent_flag, 0);
    assert_eq!(s.morelateto_mt_flag, 2);
    assert_eq!(s.priority, 9);
    assert_eq!(s.expire_time, "261124120000032+");
    assert_eq!(s.schedule_time, "");
    assert_eq!(s.report_flag, 1);
    assert_eq!(s.tp_pid, 0);
    assert_eq!(s.tp_udhi, 0);
    assert!(!s.udhi());
    assert_eq!(s.concat(), None);
    assert_eq!(s.message_coding, 15);
    assert_eq!(s.message_type, 0);
    assert_eq!(&s.message_content[..], b"Hello");
    assert_eq!(s.reserve, [0; 8]);
}

#[test]
fn submit_long_message_part() {
    let mut s = Submit {
        user_numbers: vec![FixedStr::new("8613012345678").unwrap()],
        message_coding: 8,
        message_content: Bytes::from(h("060804 1234 03 02  4f60 597d")), // UDH 16-bit ref, part 2 of 3, "你好"
        ..Submit::default()
    };
    assert_eq!(s.concat(), None, "udhi not set yet");
    s.set_udhi(true);
    assert_eq!(s.tp_udhi, 1);
    let c = s.concat().unwrap();
    assert_eq!(
        (c.reference, c.wide_reference, c.total, c.seq),
        (0x1234, true, 3, 2)
    );
    let pdu = Pdu::new(SEQ, s.clone());
    let back = decode(&pdu.to_bytes().unwrap()).unwrap();
    assert_eq!(back.body, Body::Submit(s.clone()));
    s.set_udhi(false);
    assert!(!s.udhi());
}

pub(crate) fn deliver_bytes() -> Bytes {
    frame(&[
        h("00000055"),                   // message_length 85
        h("00000004"),                   // command_id DELIVER
        h("77359400 01010000 ffffffff"), // sequence: SMG node 2000000000, 0101000000, counter max
        txt("8613012345678", 21),        // user_number
        txt("10655001", 21),             // sp_number
        h("00"),                         // tp_pid
        h("01"),                         // tp_udhi 1
        h("00"),                         // message_coding 0 = ASCII
        h("00000008"),                   // message_length 8
        h("050003 2a 02 01"),            // UDH: 8-bit ref 0x2a, 2 parts, part 1
        b"Hi".to_vec(),                  // text
        h("0000000000000000"),           // reserve
    ])
}

#[test]
fn deliver() {
    let bytes = deliver_bytes();
    assert_eq!(bytes.len(), 85);
    let seq = SequenceNumber::new(2000000000, 16842752, u32::MAX);
    let Body::Deliver(d) = roundtrip(&bytes, seq) else {
        panic!("not deliver")
    };
    assert_eq!(seq.to_string(), "2000000000-0016842752-4294967295");
    assert_eq!(d.user_number, "8613012345678");
    assert_eq!(d.sp_number, "10655001");
    assert_eq!(d.tp_pid, 0);
    assert_eq!(d.tp_udhi, 1);
    assert!(d.udhi());
    assert_eq!(d.message_coding, 0);
    assert_eq!(d.message_content.len(), 8);
    assert_eq!(&d.message_content[6..], b"Hi");
    let c = d.concat().unwrap();
    assert_eq!(
        (c.reference, c.wide_reference, c.total, c.seq),
        (0x2a, false, 2, 1)
    );
    let mut no_udhi = d.clone();
    no_udhi.set_udhi(false);
    assert_eq!(no_udhi.concat(), None);
    let _ = Deliver::default();
}

pub(crate) fn report_bytes(state: &str, error_code: &str) -> Bytes {
    frame(&[
        h("00000040"),                   // message_length 64
        h("00000005"),                   // command_id REPORT
        h("77359400 43007420 00000007"), // sequence of the REPORT itself: 2000000000-1124103200-7
        h(SEQ_HEX),                      // submit_sequence_number: the SUBMIT's header sequence
        h("00"),                         // report_type 0 = about a SUBMIT
        txt("8613012345678", 21),        // user_number
        h(state),                        // state
        h(error_code),                   // error_code
        h("0000000000000000"),           // reserve
    ])
}

#[test]
fn report_delivered_waiting_failed() {
    let report_seq = SequenceNumber::new(2000000000, 1124103200, 7);
    let bytes = report_bytes("00", "00");
    assert_eq!(bytes.len(), 64);
    let Body::Report(r) = roundtrip(&bytes, report_seq) else {
        panic!("not report")
    };
    assert_eq!(r.submit_sequence_number, SEQ);
    assert_eq!(r.report_type, report::report_type::SUBMIT);
    assert_eq!(r.user_number, "8613012345678");
    assert_eq!(r.state, report::state::DELIVERED);
    assert_eq!(r.error_code, 0);
    let dr = r.to_delivery_report();
    // The reconciler's key: the SUBMIT's sequence as displayed.
    assert_eq!(dr.carrier_msg_id, SEQ.to_string());
    assert_eq!(dr.carrier_msg_id, "3000012345-1124103000-00000001");
    assert_eq!(dr.state, ReportState::Delivered);
    assert_eq!(dr.stat, "DELIVRD");
    assert_eq!(dr.destination.as_deref(), Some("8613012345678"));

    let Body::Report(r) = roundtrip(&report_bytes("01", "00"), report_seq) else {
        panic!()
    };
    assert_eq!(r.to_delivery_report().state, ReportState::Unknown);

    let Body::Report(r) = roundtrip(&report_bytes("02", "1d"), report_seq) else {
        panic!()
    };
    let dr = r.to_delivery_report();
    assert_eq!(dr.state, ReportState::Undeliverable);
    assert_eq!(dr.error_code, result::UNKNOWN_USER);

    // The simulator's constructor builds the same body.
    let built = Report::for_submit(SEQ, "8613012345678", report::state::FAILED, 29).unwrap();
    assert_eq!(
        Body::Report(built),
        decode(&report_bytes("02", "1d")).unwrap().body
    );
    let ok = Report::for_submit(SEQ, "8613012345678", report::state::DELIVERED, 29).unwrap();
    assert_eq!(ok.error_code, 0, "error_code only with state 2");
}

#[test]
fn userrpt() {
    let bytes = frame(&[
        h("00000047"),            // message_length 71
        h("00000011"),            // command_id USERRPT
        h(SEQ_HEX),               // sequence
        txt("10655001", 21),      // sp_number
        txt("8613012345678", 21), // user_number
        h("01"),                  // user_condition 1
        h("0000000000000000"),    // reserve
    ]);
    assert_eq!(bytes.len(), 71);
    let Body::Userrpt(u) = roundtrip(&bytes, SEQ) else {
        panic!("not userrpt")
    };
    assert_eq!(
        u,
        Userrpt {
            sp_number: FixedStr::new("10655001").unwrap(),
            user_number: FixedStr::new("8613012345678").unwrap(),
            user_condition: 1,
            reserve: [0; 8],
        }
    );
}

#[test]
fn trace_and_resp() {
    let bytes = frame(&[
        h("0000003d"),                   // message_length 61
        h("00001000"),                   // command_id TRACE
        h("00000001 00000002 00000003"), // sequence 1-2-3
        h(SEQ_HEX),                      // submit_sequence_number
        txt("8613012345678", 21),        // user_number
        h("0000000000000000"),           // reserve
    ]);
    let seq = SequenceNumber::new(1, 2, 3);
    let Body::Trace(t) = roundtrip(&bytes, seq) else {
        panic!("not trace")
    };
    assert_eq!(
        t,
        Trace {
            submit_sequence_number: SEQ,
            user_number: FixedStr::new("8613012345678").unwrap(),
            reserve: [0; 8]
        }
    );

    let bytes = frame(&[
        h("00000044"),                   // message_length 68
        h("80001000"),                   // command_id TRACE_RESP
        h("00000001 00000002 00000003"), // sequence
        h("01"),                         // count 1
        h("00"),                         // result 0
        txt("123456", 6),                // node_id
        txt("261124103000", 16),         // receive_time
        txt("261124103001", 16),         // send_time
        h("0000000000000000"),           // reserve
    ]);
    let Body::TraceResp(t) = roundtrip(&bytes, seq) else {
        panic!("not trace_resp")
    };
    assert_eq!(
        t,
        TraceResp {
            hops: vec![TraceHop {
                result: 0,
                node_id: FixedStr::new("123456").unwrap(),
                receive_time: FixedStr::new("261124103000").unwrap(),
                send_time: FixedStr::new("261124103001").unwrap(),
                reserve: [0; 8],
            }]
        }
    );
}

#[test]
fn requests_get_matching_responses() {
    let pdu = decode(&submit_bytes()).unwrap();
    let resp = pdu.response(0).unwrap();
    assert_eq!(resp.sequence, pdu.sequence);
    assert_eq!(resp.body, Body::SubmitResp(Resp::ok()));
    assert!(resp.response(0).is_none());
    assert_eq!(
        Body::Unbind(Unbind {}).response(0),
        Some(Body::UnbindResp(UnbindResp {}))
    );
    assert_eq!(pdu.body.name(), "SUBMIT");
}
