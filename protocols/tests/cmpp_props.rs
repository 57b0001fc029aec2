//! Property tests for CMPP: every PDU type round-trips encode → decode (and
//! through JSON) in both versions, and no input — arbitrary bytes, or
//! well-framed frames with real command ids and arbitrary bodies — makes the
//! decoder panic; whatever decodes re-encodes to something that decodes to
//! the same value.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use smsgw_protocols::cmpp::{
    command, ActiveTestResp, Body, Cancel, CancelResp, Cmpp, CmppVersion, Connect, ConnectResp, Deliver,
    DeliverResp, MsgId, Options, Pdu, Query, QueryResp, Report, Submit, SubmitResp,
};
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::framing::Wire as _;
use smsgw_protocols::FixedStr;
use tokio_util::codec::Decoder;

fn fs<const N: usize>(max: usize) -> impl Strategy<Value = FixedStr<N>> {
    proptest::string::string_regex(&format!("[0-9A-Za-z+ ]{{0,{max}}}"))
        .unwrap()
        .prop_map(|s| FixedStr::new(&s).unwrap())
}

fn content() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..=255).prop_map(Bytes::from)
}

fn msg_id() -> impl Strategy<Value = MsgId> {
    any::<u64>().prop_map(MsgId)
}

fn width(v: CmppVersion) -> usize {
    if v == CmppVersion::V20 {
        21
    } else {
        32
    }
}

/// A result/status value the version can carry.
fn result_for(v: CmppVersion) -> BoxedStrategy<u32> {
    match v {
        CmppVersion::V20 => (0u32..=255).boxed(),
        CmppVersion::V30 => any::<u32>().boxed(),
    }
}

/// A value that only 3.0 carries: default under 2.0.
fn v3_u8(v: CmppVersion) -> BoxedStrategy<u8> {
    match v {
        CmppVersion::V20 => Just(0u8).boxed(),
        CmppVersion::V30 => any::<u8>().boxed(),
    }
}

fn v3_link(v: CmppVersion) -> BoxedStrategy<FixedStr<20>> {
    match v {
        CmppVersion::V20 => Just(FixedStr::empty()).boxed(),
        CmppVersion::V30 => fs::<20>(20).boxed(),
    }
}

fn v2_reserve(v: CmppVersion) -> BoxedStrategy<[u8; 8]> {
    match v {
        CmppVersion::V20 => any::<[u8; 8]>().boxed(),
        CmppVersion::V30 => Just([0u8; 8]).boxed(),
    }
}

fn connect() -> impl Strategy<Value = Connect> {
    (fs::<6>(6), any::<[u8; 16]>(), any::<u8>(), any::<u32>()).prop_map(
        |(source_addr, authenticator_source, version, timestamp)| Connect {
            source_addr,
            authenticator_source,
            version,
            timestamp,
        },
    )
}

fn submit(v: CmppVersion) -> impl Strategy<Value = Submit> {
    let w = width(v);
    (
        (
            msg_id(),
            any::<[u8; 4]>(),
            fs::<10>(10),
            any::<u8>(),
            fs::<32>(w),
            v3_u8(v),
        ),
        (
            any::<[u8; 3]>(),
            fs::<6>(6),
            fs::<2>(2),
            fs::<6>(6),
            fs::<17>(17),
            fs::<17>(17),
        ),
        (
            fs::<21>(21),
            proptest::collection::vec(fs::<32>(w), 0..=100),
            v3_u8(v),
            content(),
            v2_reserve(v),
            v3_link(v),
        ),
    )
        .prop_map(
            |(
                (
                    msg_id,
                    [pk_total, pk_number, registered_delivery, msg_level],
                    service_id,
                    fee_user_type,
                    fee_terminal_id,
                    fee_terminal_type,
                ),
                ([tp_pid, tp_udhi, msg_fmt], msg_src, fee_type, fee_code, valid_time, at_time),
                (src_id, dest_terminal_ids, dest_terminal_type, msg_content, reserve, link_id),
            )| Submit {
                msg_id,
                pk_total,
                pk_number,
                registered_delivery,
                msg_level,
                service_id,
                fee_user_type,
                fee_terminal_id,
                fee_terminal_type,
                tp_pid,
                tp_udhi,
                msg_fmt,
                msg_src,
                fee_type,
                fee_code,
                valid_time,
                at_time,
                src_id,
                dest_terminal_ids,
                dest_terminal_type,
                msg_content,
                reserve,
                link_id,
            },
        )
}

fn deliver(v: CmppVersion) -> impl Strategy<Value = Deliver> {
    (
        (msg_id(), fs::<21>(21), fs::<10>(10), any::<[u8; 3]>()),
        (
            fs::<32>(width(v)),
            v3_u8(v),
            any::<u8>(),
            content(),
            v2_reserve(v),
            v3_link(v),
        ),
    )
        .prop_map(
            |(
                (msg_id, dest_id, service_id, [tp_pid, tp_udhi, msg_fmt]),
                (src_terminal_id, src_terminal_type, registered_delivery, msg_content, reserved, link_id),
            )| Deliver {
                msg_id,
                dest_id,
                service_id,
                tp_pid,
                tp_udhi,
                msg_fmt,
                src_terminal_id,
                src_terminal_type,
                registered_delivery,
                msg_content,
                reserved,
                link_id,
            },
        )
}

fn report(v: CmppVersion) -> impl Strategy<Value = Report> {
    (
        msg_id(),
        fs::<7>(7),
        fs::<10>(10),
        fs::<10>(10),
        fs::<32>(width(v)),
        any::<u32>(),
    )
        .prop_map(
            |(msg_id, stat, submit_time, done_time, dest_terminal_id, smsc_sequence)| Report {
                msg_id,
                stat,
                submit_time,
                done_time,
                dest_terminal_id,
                smsc_sequence,
            },
        )
}

fn query_resp() -> impl Strategy<Value = QueryResp> {
    (fs::<8>(8), any::<u8>(), fs::<10>(10), any::<[u32; 8]>()).prop_map(
        |(time, query_type, query_code, n)| QueryResp {
            time,
            query_type,
            query_code,
            mt_tl_msg: n[0],
            mt_tl_usr: n[1],
            mt_scs: n[2],
            mt_wt: n[3],
            mt_fl: n[4],
            mo_scs: n[5],
            mo_wt: n[6],
            mo_fl: n[7],
        },
    )
}

fn body(v: CmppVersion) -> impl Strategy<Value = Body> {
    prop_oneof![
        connect().prop_map(Body::Connect),
        (result_for(v), any::<[u8; 16]>(), any::<u8>()).prop_map(|(status, authenticator_ismg, version)| {
            Body::ConnectResp(ConnectResp {
                status,
                authenticator_ismg,
                version,
            })
        }),
        Just(Body::Terminate),
        Just(Body::TerminateResp),
        submit(v).prop_map(|s| Body::Submit(Box::new(s))),
        (msg_id(), result_for(v))
            .prop_map(|(msg_id, result)| Body::SubmitResp(SubmitResp { msg_id, result })),
        deliver(v).prop_map(|d| Body::Deliver(Box::new(d))),
        (msg_id(), result_for(v))
            .prop_map(|(msg_id, result)| Body::DeliverResp(DeliverResp { msg_id, result })),
        (fs::<8>(8), any::<u8>(), fs::<10>(10), any::<[u8; 8]>()).prop_map(
            |(time, query_type, query_code, reserve)| Body::Query(Query {
                time,
                query_type,
                query_code,
                reserve,
            })
        ),
        query_resp().prop_map(Body::QueryResp),
        msg_id().prop_map(|msg_id| Body::Cancel(Cancel { msg_id })),
        result_for(v).prop_map(|success_id| Body::CancelResp(CancelResp { success_id })),
        Just(Body::ActiveTest),
        any::<u8>().prop_map(|reserved| Body::ActiveTestResp(ActiveTestResp { reserved })),
    ]
}

fn version() -> impl Strategy<Value = CmppVersion> {
    prop_oneof![Just(CmppVersion::V20), Just(CmppVersion::V30)]
}

fn pdu_with_version() -> impl Strategy<Value = (CmppVersion, Pdu)> {
    version()
        .prop_flat_map(|v| (Just(v), any::<u32>(), body(v)).prop_map(|(v, seq, b)| (v, Pdu::new(seq, b))))
}

/// Decoded PDUs must encode, and decode again to themselves.
fn check_reencode(pdu: &Pdu, opts: &Options) -> Result<(), TestCaseError> {
    let bytes = pdu
        .to_bytes(opts)
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let again = Cmpp::decode(bytes, opts).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(&again, pdu);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_pdu_round_trips((v, pdu) in pdu_with_version()) {
        let opts = Options { version: v };
        let mut out = BytesMut::new();
        pdu.encode(&opts, &mut out).unwrap();
        prop_assert_eq!(u32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize, out.len());
        prop_assert!(out.len() <= 4096);
        let frame = out.freeze();
        let back = Cmpp::decode(frame.clone(), &opts).unwrap();
        prop_assert_eq!(&back, &pdu);
        // Through the codec as well.
        let mut codec = FrameCodec::<Cmpp>::new().with_options(opts.clone());
        let mut buf = BytesMut::from(&frame[..]);
        prop_assert_eq!(codec.decode(&mut buf).unwrap().unwrap().unwrap(), pdu.clone());
        // JSON (what `smsgw pdu decode/encode` shows) round-trips exactly.
        let json = serde_json::to_string(&pdu).unwrap();
        let from_json: Pdu = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(from_json, pdu);
    }

    #[test]
    fn reports_round_trip(v in version(), r in version().prop_flat_map(report)) {
        // Generated for the wider version; only 2.0-fitting ids encode as 2.0.
        match r.to_bytes(v) {
            Ok(bytes) => {
                prop_assert_eq!(bytes.len(), Report::len(v));
                prop_assert_eq!(&Report::decode(&bytes, v).unwrap(), &r);
                prop_assert_eq!(&Report::decode_any(&bytes).unwrap(), &r);
                let d = r.into_deliver(MsgId(1), "1065", v).unwrap();
                prop_assert_eq!(d.report().unwrap(), Some(r.clone()));
                check_reencode(&Pdu::new(1, Body::Deliver(Box::new(d))), &Options { version: v })?;
                prop_assert_eq!(r.to_delivery_report().carrier_msg_id, r.msg_id.to_string());
            }
            Err(_) => prop_assert!(v == CmppVersion::V20 && r.dest_terminal_id.len() > 21),
        }
    }

    #[test]
    fn msg_id_display_parse_round_trip(raw in any::<u64>()) {
        let id = MsgId(raw);
        let s = id.to_string();
        prop_assert_eq!(s.len(), 22);
        prop_assert_eq!(s.parse::<MsgId>().unwrap(), id);
        prop_assert_eq!(raw.to_string().parse::<MsgId>().unwrap(), id);
        prop_assert_eq!(
            MsgId::new(id.month(), id.day(), id.hour(), id.minute(), id.second(), id.gateway(), id.sequence()),
            id
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), v in version()) {
        let opts = Options { version: v };
        let mut codec = FrameCodec::<Cmpp>::new().with_options(opts.clone());
        let mut buf = BytesMut::from(&data[..]);
        while let Ok(Some(item)) = codec.decode(&mut buf) {
            if let Ok(pdu) = item {
                check_reencode(&pdu, &opts)?;
            }
        }
        let _ = codec.decode_eof(&mut buf);
        if let Ok(pdu) = Cmpp::decode(Bytes::from(data), &opts) {
            check_reencode(&pdu, &opts)?;
        }
    }

    #[test]
    fn well_framed_bodies_never_panic(
        cmd in proptest::sample::select(command::ALL.to_vec()),
        seq in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..400),
        v in version(),
    ) {
        let opts = Options { version: v };
        let mut frame = Vec::with_capacity(12 + body.len());
        frame.extend_from_slice(&((12 + body.len()) as u32).to_be_bytes());
        frame.extend_from_slice(&cmd.to_be_bytes());
        frame.extend_from_slice(&seq.to_be_bytes());
        frame.extend_from_slice(&body);
        if let Ok(pdu) = Cmpp::decode(Bytes::from(frame), &opts) {
            prop_assert_eq!(pdu.body.command_id(), cmd);
            prop_assert_eq!(pdu.sequence_id, seq);
            check_reencode(&pdu, &opts)?;
        }
    }

    #[test]
    fn valid_frames_with_mutations_never_panic(
        (v, pdu) in pdu_with_version(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let opts = Options { version: v };
        let mut bytes = pdu.to_bytes(&opts).unwrap().to_vec();
        for (i, b) in flips {
            let i = i.index(bytes.len());
            if i >= 4 {
                bytes[i] = b;
            }
        }
        if let Ok(p) = Cmpp::decode(Bytes::from(bytes), &opts) {
            check_reencode(&p, &opts)?;
        }
    }
}
