//! Property tests: every SMPP PDU type survives encode -> decode (and JSON)
//! unchanged, and no input, framed or not, makes the decoder panic; whatever
//! decodes re-encodes to something that decodes to the same value.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use smsgw_protocols::framing::Wire as _;
use smsgw_protocols::smpp::bind::{Bind, BindResp, Outbind};
use smsgw_protocols::smpp::sm::{DataSm, QuerySm, QuerySmResp, Sm, SmResp};
use smsgw_protocols::smpp::Smpp;
use smsgw_protocols::smpp::{command, Body, Codec, Options, Pdu, Receipt, Tlv, Tlvs};
use smsgw_protocols::FixedStr;
use tokio_util::codec::Decoder;

fn fstr<const N: usize>() -> impl Strategy<Value = FixedStr<N>> {
    proptest::string::string_regex(&format!("[ -~]{{0,{N}}}"))
        .unwrap()
        .prop_map(|s| FixedStr::new(&s).unwrap())
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

const SOME_KNOWN: &[u16] = &[
    0x0005, 0x0008, 0x0017, 0x0019, 0x001D, 0x001E, 0x0204, 0x020A, 0x020B, 0x020C, 0x020E, 0x020F, 0x0210,
    0x0381, 0x0423, 0x0424, 0x0426, 0x0427, 0x130C, 0x1383,
];

fn tlv() -> impl Strategy<Value = Tlv> {
    let tag = prop_oneof![3 => proptest::sample::select(SOME_KNOWN), 1 => any::<u16>()];
    let value = prop_oneof![
        bytes(6),
        "[a-zA-Z0-9]{0,12}".prop_map(|s| Bytes::from(format!("{s}\0"))),
        bytes(300),
    ];
    (tag, value).prop_map(|(t, v)| Tlv::from_raw(t, v))
}

fn tlvs() -> impl Strategy<Value = Tlvs> {
    proptest::collection::vec(tlv(), 0..4).prop_map(Tlvs)
}

prop_compose! {
    fn sm()(
        service_type in fstr::<5>(), source_addr_ton in any::<u8>(), source_addr_npi in any::<u8>(),
        source_addr in fstr::<20>(), dest_addr_ton in any::<u8>(), dest_addr_npi in any::<u8>(),
        destination_addr in fstr::<20>(), esm_class in any::<u8>(), protocol_id in any::<u8>(),
        priority_flag in any::<u8>(), schedule_delivery_time in fstr::<16>(), validity_period in fstr::<16>(),
        registered_delivery in any::<u8>(), replace_if_present_flag in any::<u8>(), data_coding in any::<u8>(),
        sm_default_msg_id in any::<u8>(), short_message in bytes(255), tlvs in tlvs(),
    ) -> Sm {
        Sm { service_type, source_addr_ton, source_addr_npi, source_addr, dest_addr_ton, dest_addr_npi,
             destination_addr, esm_class, protocol_id, priority_flag, schedule_delivery_time, validity_period,
             registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id, short_message, tlvs }
    }
}

prop_compose! {
    fn data_sm()(
        service_type in fstr::<5>(), source_addr_ton in any::<u8>(), source_addr_npi in any::<u8>(),
        source_addr in fstr::<64>(), dest_addr_ton in any::<u8>(), dest_addr_npi in any::<u8>(),
        destination_addr in fstr::<64>(), esm_class in any::<u8>(), registered_delivery in any::<u8>(),
        data_coding in any::<u8>(), tlvs in tlvs(),
    ) -> DataSm {
        DataSm { service_type, source_addr_ton, source_addr_npi, source_addr, dest_addr_ton, dest_addr_npi,
                 destination_addr, esm_class, registered_delivery, data_coding, tlvs }
    }
}

prop_compose! {
    fn bind()(
        system_id in fstr::<15>(), password in fstr::<8>(), system_type in fstr::<12>(),
        interface_version in any::<u8>(), addr_ton in any::<u8>(), addr_npi in any::<u8>(),
        address_range in fstr::<40>(),
    ) -> Bind {
        Bind { system_id, password, system_type, interface_version, addr_ton, addr_npi, address_range }
    }
}

fn bind_resp() -> impl Strategy<Value = BindResp> {
    (fstr::<15>(), tlvs()).prop_map(|(system_id, tlvs)| BindResp { system_id, tlvs })
}

fn sm_resp() -> impl Strategy<Value = SmResp> {
    (fstr::<64>(), tlvs()).prop_map(|(message_id, tlvs)| SmResp { message_id, tlvs })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        bind().prop_map(Body::BindReceiver),
        bind().prop_map(Body::BindTransmitter),
        bind().prop_map(Body::BindTransceiver),
        bind_resp().prop_map(Body::BindReceiverResp),
        bind_resp().prop_map(Body::BindTransmitterResp),
        bind_resp().prop_map(Body::BindTransceiverResp),
        (fstr::<15>(), fstr::<8>())
            .prop_map(|(system_id, password)| Body::Outbind(Outbind { system_id, password })),
        Just(Body::Unbind),
        Just(Body::UnbindResp),
        sm().prop_map(Body::SubmitSm),
        sm_resp().prop_map(Body::SubmitSmResp),
        sm().prop_map(Body::DeliverSm),
        sm_resp().prop_map(Body::DeliverSmResp),
        data_sm().prop_map(Body::DataSm),
        sm_resp().prop_map(Body::DataSmResp),
        (fstr::<64>(), any::<u8>(), any::<u8>(), fstr::<20>()).prop_map(
            |(message_id, source_addr_ton, source_addr_npi, source_addr)| Body::QuerySm(QuerySm {
                message_id,
                source_addr_ton,
                source_addr_npi,
                source_addr
            })
        ),
        (fstr::<64>(), fstr::<16>(), any::<u8>(), any::<u8>()).prop_map(
            |(message_id, final_date, message_state, error_code)| Body::QuerySmResp(QuerySmResp {
                message_id,
                final_date,
                message_state,
                error_code
            })
        ),
        Just(Body::EnquireLink),
        Just(Body::EnquireLinkResp),
        Just(Body::GenericNack),
    ]
}

fn pdu() -> impl Strategy<Value = Pdu> {
    (prop_oneof![Just(0u32), any::<u32>()], any::<u32>(), body()).prop_map(
        |(command_status, sequence_number, body)| Pdu {
            command_status,
            sequence_number,
            body,
        },
    )
}

fn roundtrip(p: &Pdu) -> Result<(), TestCaseError> {
    let mut b = BytesMut::new();
    if p.encode(&Options, &mut b).is_ok() {
        let again = Smpp::decode(b.freeze(), &Options);
        prop_assert_eq!(again.as_ref(), Ok(p));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_pdu_roundtrips_bytes_json_and_codec(p in pdu()) {
        let mut b = BytesMut::new();
        p.encode(&Options, &mut b).unwrap();
        let frame = b.clone().freeze();
        prop_assert_eq!(&Smpp::decode(frame.clone(), &Options).unwrap(), &p);
        // Byte-exact when encoded again.
        let mut again = BytesMut::new();
        p.encode(&Options, &mut again).unwrap();
        prop_assert_eq!(&again[..], &frame[..]);
        let json = serde_json::to_string(&p).unwrap();
        prop_assert_eq!(&serde_json::from_str::<Pdu>(&json).unwrap(), &p, "{}", json);
        let mut c = Codec::new();
        let got = c.decode(&mut b).unwrap().unwrap().unwrap();
        prop_assert_eq!(got, p);
        prop_assert!(b.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_codec(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut c = Codec::new();
        let mut b = BytesMut::from(&data[..]);
        while let Ok(Some(item)) = c.decode(&mut b) {
            if let Ok(p) = item {
                roundtrip(&p)?;
            }
        }
    }

    #[test]
    fn well_framed_bodies_never_panic_and_reencode(
        id in proptest::sample::select(command::ALL),
        status in prop_oneof![Just(0u32), any::<u32>()],
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..120),
            // Mostly-text bodies reach deeper into the C-string fields.
            proptest::collection::vec(prop_oneof![Just(0u8), 0x30u8..0x7a], 0..120),
        ],
    ) {
        let mut f = Vec::with_capacity(16 + body.len());
        f.extend_from_slice(&((16 + body.len()) as u32).to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(&status.to_be_bytes());
        f.extend_from_slice(&1u32.to_be_bytes());
        f.extend_from_slice(&body);
        if let Ok(p) = Smpp::decode(Bytes::from(f.clone()), &Options) {
            prop_assert_eq!(p.body.command_id(), id);
            roundtrip(&p)?;
        }
        let mut c = Codec::new();
        let mut b = BytesMut::from(&f[..]);
        prop_assert!(c.decode(&mut b).unwrap().is_some());
    }

    #[test]
    fn receipt_text_roundtrips(
        id in "[0-9A-Fa-f]{1,20}", sub in "[0-9]{3}", dlvrd in "[0-9]{3}",
        submit_date in "[0-9]{10}", done_date in "[0-9]{10}",
        stat in proptest::sample::select(&["DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN", "ACCEPTD"][..]),
        err in "[0-9]{3}", text in "[ -~]{0,20}",
    ) {
        let r = Receipt { id, sub, dlvrd, submit_date, done_date, stat: stat.to_string(), err, text };
        prop_assert_eq!(Receipt::parse(r.to_text().as_bytes()).unwrap(), r);
    }

    #[test]
    fn receipt_parse_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Receipt::parse(&raw);
    }
}
