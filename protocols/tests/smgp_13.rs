//! SMGP 1.3 (and 2.0) Submit and Deliver. Compared with an independent
//! SMGP gateway's definitions (wujunjenny/smgw `smsapp/smgpdef.h`:
//! `Smgp_Submit_Sm`, `Smgp_Deliver_Sm`, `Smgp_Report_Content`), the 1.3
//! bodies are the 3.0 bodies field for field without the TLVs that follow
//! Reserve in 3.0; the report content is the same `id:… stat:…` text. So a
//! 1.3 frame is the 3.0 codec's frame with no TLVs: exactly the fixed
//! fields, nothing after Reserve, and it round-trips.

use bytes::{Bytes, BytesMut};
use smsgw_protocols::framing::Wire as _;
use smsgw_protocols::report::ReportState;
use smsgw_protocols::smgp::{self, Body, Deliver, MsgId, Pdu, Report, Smgp, Submit};
use smsgw_protocols::FixedStr;

fn encode(p: &Pdu) -> Bytes {
    let mut b = BytesMut::new();
    p.encode(&smgp::Options, &mut b).unwrap();
    b.freeze()
}

#[test]
fn a_1_3_submit_is_the_fixed_fields_only_and_round_trips() {
    let s = Submit {
        need_report: 1,
        fee_type: FixedStr::new("00").unwrap(),
        fee_code: FixedStr::new("000000").unwrap(),
        fixed_fee: FixedStr::new("000000").unwrap(),
        msg_format: 8,
        src_term_id: FixedStr::new("10658899").unwrap(),
        dest_term_ids: vec![FixedStr::new("13800138000").unwrap()],
        msg_content: Bytes::from_static(&[0x4F, 0x60, 0x59, 0x7D]),
        ..Submit::default()
    };
    let pdu = Pdu::new(7, Body::Submit(s));
    let frame = encode(&pdu);
    // Header 12, MsgType..DestTermIDCount 105, one DestTermID 21,
    // MsgLength 1, content 4, Reserve 8: 151, and not a byte more.
    assert_eq!(frame.len(), 12 + 105 + 21 + 1 + 4 + 8);
    assert_eq!(&frame[..4], &151u32.to_be_bytes());
    assert_eq!(
        &frame[frame.len() - 12..frame.len() - 8],
        [0x4F, 0x60, 0x59, 0x7D]
    );
    assert_eq!(Smgp::decode(frame, &smgp::Options).unwrap(), pdu);
}

#[test]
fn a_1_3_report_deliver_is_the_fixed_fields_only_and_round_trips() {
    let report = Report {
        msg_id: MsgId::default(),
        sub: FixedStr::new("001").unwrap(),
        dlvrd: FixedStr::new("001").unwrap(),
        submit_date: FixedStr::new("2612031200").unwrap(),
        done_date: FixedStr::new("2612031201").unwrap(),
        stat: FixedStr::new("DELIVRD").unwrap(),
        err: FixedStr::new("000").unwrap(),
        txt: FixedStr::empty(),
    };
    let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 3)
        .and_then(|d| d.and_hms_opt(12, 1, 0))
        .unwrap();
    let d = Deliver::new_report(MsgId::default(), &report, "13800138000", "10658899", &t).unwrap();
    assert!(d.tlvs.is_empty());
    let content_len = d.msg_content.len();
    let pdu = Pdu::new(9, Body::Deliver(d));
    let frame = encode(&pdu);
    // MsgID 10, IsReport 1, MsgFormat 1, RecvTime 14, two numbers 42,
    // MsgLength 1, content, Reserve 8.
    assert_eq!(frame.len(), 12 + 10 + 1 + 1 + 14 + 42 + 1 + content_len + 8);
    let back = Smgp::decode(frame, &smgp::Options).unwrap();
    assert_eq!(back, pdu);
    let Body::Deliver(d) = back.body else {
        panic!("deliver")
    };
    let r = d.delivery_report().unwrap().unwrap();
    assert_eq!(r.state, ReportState::Delivered);
    assert_eq!(r.destination.as_deref(), Some("13800138000"));
}
