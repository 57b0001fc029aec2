//! SMGP 3.0 property tests: encode→decode round trip for every PDU type
//! (and through JSON), and arbitrary or well-framed garbage never panics.

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;
use smsgw_protocols::framing::Wire as _;
use smsgw_protocols::smgp::Smgp;
use smsgw_protocols::smgp::{
    tlv::Tlv, Body, Codec, Deliver, DeliverResp, Login, LoginResp, MsgId, Options, Pdu, Query, QueryResp,
    Report, Submit, SubmitResp,
};
use smsgw_protocols::FixedStr;
use tokio_util::codec::Decoder;

fn text<const N: usize>() -> impl Strategy<Value = FixedStr<N>> {
    proptest::string::string_regex(&format!("[ -~]{{0,{N}}}"))
        .unwrap()
        .prop_map(|s| FixedStr::new(&s).unwrap())
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

fn msg_id() -> impl Strategy<Value = MsgId> {
    any::<[u8; 10]>().prop_map(MsgId)
}

fn tlv() -> impl Strategy<Value = Tlv> {
    prop_oneof![
        any::<u8>().prop_map(Tlv::TpPid),
        any::<u8>().prop_map(Tlv::TpUdhi),
        text::<20>().prop_map(Tlv::LinkId),
        any::<u8>().prop_map(Tlv::ChargeUserType),
        any::<u8>().prop_map(Tlv::ChargeTermType),
        text::<64>().prop_map(Tlv::ChargeTermPseudo),
        any::<u8>().prop_map(Tlv::DestTermType),
        text::<64>().prop_map(Tlv::DestTermPseudo),
        any::<u8>().prop_map(Tlv::PkTotal),
        any::<u8>().prop_map(Tlv::PkNumber),
        any::<u8>().prop_map(Tlv::SubmitMsgType),
        any::<u8>().prop_map(Tlv::SpDealReslt),
        any::<u8>().prop_map(Tlv::SrcTermType),
        text::<64>().prop_map(Tlv::SrcTermPseudo),
        any::<u8>().prop_map(Tlv::NodesCount),
        text::<8>().prop_map(Tlv::MsgSrc),
        any::<u8>().prop_map(Tlv::SrcType),
        text::<21>().prop_map(Tlv::MServiceId),
        // Unknown tags only: a known tag with a well-formed value decodes typed.
        (prop_oneof![Just(0u16), 0x13u16..], bytes(40)).prop_map(|(tag, value)| Tlv::Raw { tag, value }),
    ]
}

fn tlvs() -> impl Strategy<Value = Vec<Tlv>> {
    proptest::collection::vec(tlv(), 0..5)
}

fn login() -> impl Strategy<Value = Login> {
    (
        text::<8>(),
        any::<[u8; 16]>(),
        any::<u8>(),
        any::<u32>(),
        any::<u8>(),
    )
        .prop_map(
            |(client_id, authenticator_client, login_mode, timestamp, client_version)| Login {
                client_id,
                authenticator_client,
                login_mode,
                timestamp,
                client_version,
            },
        )
}

fn login_resp() -> impl Strategy<Value = LoginResp> {
    (any::<u32>(), any::<[u8; 16]>(), any::<u8>()).prop_map(
        |(status, authenticator_server, server_version)| LoginResp {
            status,
            authenticator_server,
            server_version,
        },
    )
}

fn submit() -> impl Strategy<Value = Submit> {
    (
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            text::<10>(),
            text::<2>(),
            text::<6>(),
            text::<6>(),
        ),
        (
            any::<u8>(),
            text::<17>(),
            text::<17>(),
            text::<21>(),
            text::<21>(),
        ),
        proptest::collection::vec(text::<21>(), 0..=100),
        (bytes(255), any::<[u8; 8]>(), tlvs()),
    )
        .prop_map(
            |(
                (msg_type, need_report, priority, service_id, fee_type, fee_code, fixed_fee),
                (msg_format, valid_time, at_time, src_term_id, charge_term_id),
                dest_term_ids,
                (msg_content, reserve, tlvs),
            )| Submit {
                msg_type,
                need_report,
                priority,
                service_id,
                fee_type,
                fee_code,
                fixed_fee,
                msg_format,
                valid_time,
                at_time,
                src_term_id,
                charge_term_id,
                dest_term_ids,
                msg_content,
                reserve,
                tlvs,
            },
        )
}

fn deliver() -> impl Strategy<Value = Deliver> {
    (
        msg_id(),
        any::<u8>(),
        any::<u8>(),
        text::<14>(),
        text::<21>(),
        text::<21>(),
        bytes(255),
        any::<[u8; 8]>(),
        tlvs(),
    )
        .prop_map(
            |(
                msg_id,
                is_report,
                msg_format,
                recv_time,
                src_term_id,
                dest_term_id,
                msg_content,
                reserve,
                tlvs,
            )| {
                Deliver {
                    msg_id,
                    is_report,
                    msg_format,
                    recv_time,
                    src_term_id,
                    dest_term_id,
                    msg_content,
                    reserve,
                    tlvs,
                }
            },
        )
}

fn query_resp() -> impl Strategy<Value = QueryResp> {
    (
        text::<8>(),
        any::<u8>(),
        text::<10>(),
        any::<[u32; 8]>(),
        any::<[u8; 8]>(),
    )
        .prop_map(|(time, query_type, query_code, c, reserve)| QueryResp {
            time,
            query_type,
            query_code,
            mt_tl_msg: c[0],
            mt_tl_usr: c[1],
            mt_scs: c[2],
            mt_wt: c[3],
            mt_fl: c[4],
            mo_scs: c[5],
            mo_wt: c[6],
            mo_fl: c[7],
            reserve,
        })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        login().prop_map(Body::Login),
        login_resp().prop_map(Body::LoginResp),
        submit().prop_map(Body::Submit),
        (msg_id(), any::<u32>()).prop_map(|(msg_id, status)| Body::SubmitResp(SubmitResp { msg_id, status })),
        deliver().prop_map(Body::Deliver),
        (msg_id(), any::<u32>())
            .prop_map(|(msg_id, status)| Body::DeliverResp(DeliverResp { msg_id, status })),
        Just(Body::ActiveTest),
        Just(Body::ActiveTestResp),
        Just(Body::Exit),
        Just(Body::ExitResp),
        (text::<8>(), any::<u8>(), text::<10>()).prop_map(|(time, query_type, query_code)| Body::Query(
            Query {
                time,
                query_type,
                query_code
            }
        )),
        query_resp().prop_map(Body::QueryResp),
    ]
}

/// Report text fields: printable, no surrounding spaces (they are padding),
/// and nothing that looks like the next label.
fn report_field<const N: usize>() -> impl Strategy<Value = FixedStr<N>> {
    proptest::string::string_regex(&format!("([0-9A-Z]{{0,{N}}})"))
        .unwrap()
        .prop_map(|s| FixedStr::new(&s).unwrap())
}

fn report() -> impl Strategy<Value = Report> {
    (
        msg_id(),
        report_field::<3>(),
        report_field::<3>(),
        report_field::<10>(),
        report_field::<10>(),
        report_field::<7>(),
        report_field::<3>(),
        report_field::<20>(),
    )
        .prop_map(
            |(msg_id, sub, dlvrd, submit_date, done_date, stat, err, txt)| Report {
                msg_id,
                sub,
                dlvrd,
                submit_date,
                done_date,
                stat,
                err,
                txt,
            },
        )
}

const COMMANDS: [u32; 13] = [
    0x0000_0001,
    0x8000_0001,
    0x0000_0002,
    0x8000_0002,
    0x0000_0003,
    0x8000_0003,
    0x0000_0004,
    0x8000_0004,
    0x0000_0006,
    0x8000_0006,
    0x0000_0007,
    0x8000_0007,
    0x0000_0005,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_pdu_round_trips(seq in any::<u32>(), body in body()) {
        let pdu = Pdu::new(seq, body);
        let frame = pdu.to_bytes().unwrap();
        prop_assert_eq!(u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize, frame.len());
        let back = Smgp::decode(frame.clone(), &Options).unwrap();
        prop_assert_eq!(&back, &pdu);
        prop_assert_eq!(back.to_bytes().unwrap(), frame);
        let json = serde_json::to_string(&pdu).unwrap();
        prop_assert_eq!(serde_json::from_str::<Pdu>(&json).unwrap(), pdu);
    }

    #[test]
    fn reports_round_trip(r in report()) {
        let b = r.to_bytes().unwrap();
        prop_assert_eq!(b.len(), 122);
        prop_assert_eq!(Report::decode(&b).unwrap(), r.clone());
        prop_assert_eq!(r.to_delivery_report().carrier_msg_id, r.msg_id.to_string());
    }

    #[test]
    fn msg_ids_display_and_parse(id in msg_id()) {
        let s = id.to_string();
        prop_assert_eq!(s.len(), 20);
        prop_assert_eq!(s.parse::<MsgId>().unwrap(), id);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Smgp::decode(Bytes::from(data.clone()), &Options);
        let _ = Report::decode(&data);
        let mut codec = Codec::new();
        let mut buf = BytesMut::from(&data[..]);
        while let Ok(Some(_)) = codec.decode(&mut buf) {}
    }

    #[test]
    fn well_framed_garbage_never_panics(
        cmd in proptest::sample::select(&COMMANDS[..]),
        seq in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut f = BytesMut::new();
        f.put_u32((12 + body.len()) as u32);
        f.put_u32(cmd);
        f.put_u32(seq);
        f.put_slice(&body);
        let frame = f.freeze();
        if let Ok(pdu) = Smgp::decode(frame.clone(), &Options) {
            // Whatever decodes re-encodes; fixed bodies byte-exactly.
            let again = pdu.to_bytes().unwrap();
            prop_assert_eq!(Smgp::decode(again, &Options).unwrap(), pdu.clone());
            if let Body::Deliver(d) = &pdu.body {
                let _ = d.report();
                let _ = d.concat();
            }
            if let Body::Submit(s) = &pdu.body {
                let _ = s.concat();
            }
        }
        let mut codec = Codec::new();
        let mut buf = BytesMut::from(&frame[..]);
        prop_assert!(codec.decode(&mut buf).unwrap().is_some());
    }
}
