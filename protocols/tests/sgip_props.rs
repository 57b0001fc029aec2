//! SGIP 1.2 property tests: every PDU type survives encode → decode (and
//! JSON), and no input, random or well-framed, makes the decoder or the
//! frame codec panic.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use smsgw_protocols::framing::Wire as _;
use smsgw_protocols::sgip::Sgip;
use smsgw_protocols::sgip::{
    command, Bind, Body, Codec, Deliver, Options, Pdu, Report, Resp, SequenceNumber, Submit, Trace, TraceHop,
    TraceResp, Unbind, UnbindResp, Userrpt,
};
use smsgw_protocols::FixedStr;
use tokio_util::codec::Decoder;

/// Printable ASCII up to N bytes (what text fields carry).
fn fs<const N: usize>() -> impl Strategy<Value = FixedStr<N>> {
    proptest::string::string_regex(&format!("[ -~]{{0,{N}}}"))
        .expect("regex")
        .prop_map(|s| FixedStr::new(&s).expect("fits"))
}

fn seq() -> impl Strategy<Value = SequenceNumber> {
    (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(n, t, c)| SequenceNumber::new(n, t, c))
}

fn reserve() -> impl Strategy<Value = [u8; 8]> {
    prop_oneof![Just([0u8; 8]), any::<[u8; 8]>()]
}

fn content() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::from)
}

fn resp() -> impl Strategy<Value = Resp> {
    (any::<u8>(), reserve()).prop_map(|(result, reserve)| Resp { result, reserve })
}

fn bind() -> impl Strategy<Value = Bind> {
    (any::<u8>(), fs::<16>(), fs::<16>(), reserve()).prop_map(
        |(login_type, login_name, login_password, reserve)| Bind {
            login_type,
            login_name,
            login_password,
            reserve,
        },
    )
}

fn submit() -> impl Strategy<Value = Submit> {
    (
        (
            fs::<21>(),
            fs::<21>(),
            proptest::collection::vec(fs::<21>(), 0..8),
            fs::<5>(),
            fs::<10>(),
        ),
        (
            any::<u8>(),
            fs::<6>(),
            fs::<6>(),
            any::<[u8; 3]>(),
            fs::<16>(),
            fs::<16>(),
        ),
        (any::<[u8; 5]>(), content(), reserve()),
    )
        .prop_map(
            |(
                (sp_number, charge_number, user_numbers, corp_id, service_type),
                (
                    fee_type,
                    fee_value,
                    given_value,
                    [agent_flag, morelateto_mt_flag, priority],
                    expire_time,
                    schedule_time,
                ),
                ([report_flag, tp_pid, tp_udhi, message_coding, message_type], message_content, reserve),
            )| Submit {
                sp_number,
                charge_number,
                user_numbers,
                corp_id,
                service_type,
                fee_type,
                fee_value,
                given_value,
                agent_flag,
                morelateto_mt_flag,
                priority,
                expire_time,
                schedule_time,
                report_flag,
                tp_pid,
                tp_udhi,
                message_coding,
                message_type,
                message_content,
                reserve,
            },
        )
}

fn deliver() -> impl Strategy<Value = Deliver> {
    (fs::<21>(), fs::<21>(), any::<[u8; 3]>(), content(), reserve()).prop_map(
        |(user_number, sp_number, [tp_pid, tp_udhi, message_coding], message_content, reserve)| Deliver {
            user_number,
            sp_number,
            tp_pid,
            tp_udhi,
            message_coding,
            message_content,
            reserve,
        },
    )
}

fn report() -> impl Strategy<Value = Report> {
    (
        seq(),
        any::<u8>(),
        fs::<21>(),
        any::<u8>(),
        any::<u8>(),
        reserve(),
    )
        .prop_map(
            |(submit_sequence_number, report_type, user_number, state, error_code, reserve)| Report {
                submit_sequence_number,
                report_type,
                user_number,
                state,
                error_code,
                reserve,
            },
        )
}

fn userrpt() -> impl Strategy<Value = Userrpt> {
    (fs::<21>(), fs::<21>(), any::<u8>(), reserve()).prop_map(
        |(sp_number, user_number, user_condition, reserve)| Userrpt {
            sp_number,
            user_number,
            user_condition,
            reserve,
        },
    )
}

fn trace() -> impl Strategy<Value = Trace> {
    (seq(), fs::<21>(), reserve()).prop_map(|(submit_sequence_number, user_number, reserve)| Trace {
        submit_sequence_number,
        user_number,
        reserve,
    })
}

fn trace_resp() -> impl Strategy<Value = TraceResp> {
    proptest::collection::vec(
        (any::<u8>(), fs::<6>(), fs::<16>(), fs::<16>(), reserve()).prop_map(
            |(result, node_id, receive_time, send_time, reserve)| TraceHop {
                result,
                node_id,
                receive_time,
                send_time,
                reserve,
            },
        ),
        0..5,
    )
    .prop_map(|hops| TraceResp { hops })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        bind().prop_map(Body::Bind),
        resp().prop_map(Body::BindResp),
        Just(Body::Unbind(Unbind {})),
        Just(Body::UnbindResp(UnbindResp {})),
        submit().prop_map(Body::Submit),
        resp().prop_map(Body::SubmitResp),
        deliver().prop_map(Body::Deliver),
        resp().prop_map(Body::DeliverResp),
        report().prop_map(Body::Report),
        resp().prop_map(Body::ReportResp),
        userrpt().prop_map(Body::Userrpt),
        resp().prop_map(Body::UserrptResp),
        trace().prop_map(Body::Trace),
        trace_resp().prop_map(Body::TraceResp),
    ]
}

fn pdu() -> impl Strategy<Value = Pdu> {
    (seq(), body()).prop_map(|(sequence, body)| Pdu { sequence, body })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_decode_roundtrip(p in pdu()) {
        let bytes = p.to_bytes().unwrap();
        prop_assert_eq!(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize, bytes.len());
        let back = Sgip::decode(bytes.clone(), &Options).unwrap();
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.to_bytes().unwrap(), bytes);
        let json = serde_json::to_string(&p).unwrap();
        let from_json: Pdu = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(from_json, p);
    }

    #[test]
    fn sequence_display_parse(s in seq()) {
        prop_assert_eq!(s.to_string().parse::<SequenceNumber>().unwrap(), s);
        prop_assert_eq!(SequenceNumber::from_slice(&s.to_bytes()), Some(s));
    }

    #[test]
    fn report_carrier_id_is_submit_sequence(r in report()) {
        let dr = r.to_delivery_report();
        prop_assert_eq!(dr.carrier_msg_id, r.submit_sequence_number.to_string());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Sgip::decode(Bytes::from(data.clone()), &Options);
        let mut codec = Codec::new();
        let mut buf = BytesMut::from(&data[..]);
        while let Ok(Some(_)) = codec.decode(&mut buf) {}
        let _ = codec.decode_eof(&mut buf);
    }

    #[test]
    fn well_framed_bytes_never_panic(
        id in proptest::sample::select(command::ALL.to_vec()),
        s in any::<[u8; 12]>(),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut frame = ((20 + body.len()) as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&id.to_be_bytes());
        frame.extend_from_slice(&s);
        frame.extend_from_slice(&body);
        if let Ok(p) = Sgip::decode(Bytes::from(frame.clone()), &Options) {
            // Anything accepted re-encodes to something that reads back the
            // same (not always the same bytes: text after a field's NUL is
            // not kept).
            let again = Sgip::decode(p.to_bytes().unwrap(), &Options).unwrap();
            prop_assert_eq!(again, p);
        }
        let mut codec = Codec::new();
        let mut buf = BytesMut::from(&frame[..]);
        let item = codec.decode(&mut buf).unwrap();
        prop_assert!(item.is_some());
    }

    #[test]
    fn codec_any_chunking(p in pdu(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4)) {
        let bytes = p.to_bytes().unwrap();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut codec = Codec::new().with_max_frame(1 << 16);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut last = 0;
        for at in points.into_iter().chain([bytes.len()]) {
            buf.extend_from_slice(&bytes[last..at]);
            last = at;
            while let Some(item) = codec.decode(&mut buf).unwrap() {
                got.push(item.unwrap());
            }
        }
        prop_assert_eq!(got, vec![p]);
    }
}
