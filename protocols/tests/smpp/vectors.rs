//! SMPP frames decoded field by field and re-encoded byte-exact.

use super::*;

#[test]
fn independent_vectors_decode_check_and_reencode_exactly() {
    let vs = vectors();
    assert_eq!(vs.len(), 5, "expected 5 smpp vectors");
    for v in vs {
        let h = v["hex"].as_str().unwrap();
        let f = &v["fields"];
        let p = assert_exact(h);
        let what = v["what"].as_str().unwrap();
        assert_eq!(p.body.name(), what);
        assert_eq!(p.command_status, 0);
        match (&p.body, what) {
            (Body::BindTransmitter(b), _) => {
                assert_eq!(p.sequence_number, 42);
                assert_eq!(b.system_id, f["system_id"].as_str().unwrap());
                assert_eq!(b.password, f["password"].as_str().unwrap());
                assert_eq!(b.system_type, f["system_type"].as_str().unwrap());
                assert_eq!(
                    format!("0x{:02x}", b.interface_version),
                    f["interface_version"].as_str().unwrap()
                );
                assert_eq!((b.addr_ton, b.addr_npi), (0, 0));
                assert_eq!(b.address_range, "");
            }
            (Body::SubmitSm(sm), _) => {
                check_sm(sm, f);
                assert!(!sm.udhi());
                assert!(sm.concat().is_none());
                assert!(sm.tlvs.is_empty());
            }
            (Body::DeliverSm(sm), _) => {
                assert_eq!(p.sequence_number, 0x2d);
                check_sm(sm, f);
                assert!(sm.is_receipt());
                assert_eq!(sm.destination_addr, "10658899");
                let r = Receipt::parse(sm.payload()).unwrap();
                assert_eq!(r.id, f["receipt_id"].as_str().unwrap());
                assert_eq!(r.stat, f["stat"].as_str().unwrap());
                assert_eq!(r.err, f["err"].as_str().unwrap());
                assert_eq!((r.sub.as_str(), r.dlvrd.as_str()), ("001", "000"));
                assert_eq!(
                    (r.submit_date.as_str(), r.done_date.as_str()),
                    ("2611241200", "2611241201")
                );
                assert_eq!(r.text, "");
                // The receipt re-written in standard form is what the SMSC sent.
                assert_eq!(r.to_text().as_bytes(), &sm.short_message[..]);
                let rep = sm.delivery_report().unwrap().unwrap();
                assert_eq!(rep.carrier_msg_id, "A1B2C3");
                assert_eq!(rep.state, ReportState::Undeliverable);
                assert_eq!(rep.stat, "UNDELIV");
                assert_eq!(rep.error_code, 1);
                assert_eq!(rep.destination.as_deref(), Some("8618912345678"));
                assert!(rep.submit_time.is_some() && rep.done_time.is_some());
            }
            (Body::EnquireLink, _) => assert_eq!(p.sequence_number, 0x2e),
            (b, w) => panic!("unexpected {w}: {b:?}"),
        }
    }
}

#[test]
fn first_submit_sm_every_field() {
    let p = decode_hex(vectors()[1]["hex"].as_str().unwrap());
    assert_eq!(p.sequence_number, 0x2b);
    let Body::SubmitSm(sm) = p.body else { panic!() };
    assert_eq!(sm.service_type, "");
    assert_eq!((sm.source_addr_ton, sm.source_addr_npi), (0, 0));
    assert_eq!((sm.dest_addr_ton, sm.dest_addr_npi), (0, 0));
    assert_eq!((sm.esm_class, sm.protocol_id, sm.priority_flag), (0, 0, 0));
    assert_eq!(sm.schedule_delivery_time, "");
    assert_eq!(sm.validity_period, "");
    assert_eq!((sm.registered_delivery, sm.replace_if_present_flag), (1, 0));
    assert_eq!((sm.data_coding, sm.sm_default_msg_id), (8, 0));
    assert_eq!(sm.short_message.len(), 20);
}

// Hand-built frames for PDUs without an independent vector.
#[rustfmt::skip]
pub(crate) const BIND_TRX_RESP: &str = concat!(
    "0000001a", "80000009", "00000000", "00000007", // header
    "534d534300",                                   // system_id "SMSC"
    "0210", "0001", "34"                            // sc_interface_version 0x34
);
pub(crate) const SUBMIT_SM_RESP: &str =
    concat!("00000017", "80000004", "00000000", "00000003", "6d73672d303100"); // "msg-01"
pub(crate) const SUBMIT_SM_RESP_THROTTLED: &str = concat!("00000010", "80000004", "00000058", "00000004");
pub(crate) const GENERIC_NACK: &str = concat!("00000010", "80000000", "00000003", "00000009");
pub(crate) const UNBIND: &str = concat!("00000010", "00000006", "00000000", "00000001");
pub(crate) const UNBIND_RESP: &str = concat!("00000010", "80000006", "00000000", "00000001");
pub(crate) const ENQUIRE_LINK_RESP: &str = concat!("00000010", "80000015", "00000000", "0000002e");
pub(crate) const DELIVER_SM_RESP: &str = concat!("00000011", "80000005", "00000000", "0000002d", "00");
#[rustfmt::skip]
pub(crate) const QUERY_SM: &str = concat!(
    "00000019", "00000003", "00000000", "00000005",
    "61626300", // message_id "abc"
    "01", "01", // source ton / npi
    "343400"    // source_addr "44"
);
#[rustfmt::skip]
pub(crate) const QUERY_SM_RESP: &str = concat!(
    "00000027", "80000003", "00000000", "00000005",
    "61626300",                           // message_id
    "3236313132343132303030303030302b00", // final_date 16 chars
    "02", "00"                            // message_state DELIVERED, error_code
);
pub(crate) const OUTBIND: &str = concat!(
    "00000018",
    "0000000b",
    "00000000",
    "00000001",
    "736d736300",
    "707700"
); // "smsc", "pw"

#[test]
fn hand_built_frames_are_byte_exact() {
    let p = assert_exact(BIND_TRX_RESP);
    let Body::BindTransceiverResp(b) = &p.body else {
        panic!()
    };
    assert_eq!(b.system_id, "SMSC");
    assert_eq!(b.sc_interface_version(), Some(0x34));
    assert_eq!(p.sequence_number, 7);

    let p = assert_exact(SUBMIT_SM_RESP);
    assert_eq!(p.body, Body::SubmitSmResp(SmResp::new("msg-01").unwrap()));

    let p = assert_exact(SUBMIT_SM_RESP_THROTTLED);
    assert_eq!(p.command_status, status::ESME_RTHROTTLED);
    assert_eq!(p.body, Body::SubmitSmResp(SmResp::default()));

    let p = assert_exact(GENERIC_NACK);
    assert_eq!(
        (p.command_status, p.sequence_number, &p.body),
        (3, 9, &Body::GenericNack)
    );
    assert_eq!(assert_exact(UNBIND).body, Body::Unbind);
    assert_eq!(assert_exact(UNBIND_RESP).body, Body::UnbindResp);
    assert_eq!(assert_exact(ENQUIRE_LINK_RESP).body, Body::EnquireLinkResp);
    assert_eq!(
        assert_exact(DELIVER_SM_RESP).body,
        Body::DeliverSmResp(SmResp::default())
    );

    let p = assert_exact(QUERY_SM);
    let Body::QuerySm(q) = &p.body else { panic!() };
    assert_eq!(
        (
            q.message_id.as_str(),
            q.source_addr_ton,
            q.source_addr_npi,
            q.source_addr.as_str()
        ),
        ("abc", 1, 1, "44")
    );
    let p = assert_exact(QUERY_SM_RESP);
    let Body::QuerySmResp(q) = &p.body else { panic!() };
    assert_eq!(q.message_id, "abc");
    assert_eq!(q.final_date, "261124120000000+");
    assert_eq!((q.message_state, q.error_code), (2, 0));
    let p = assert_exact(OUTBIND);
    let Body::Outbind(o) = &p.body else { panic!() };
    assert_eq!((o.system_id.as_str(), o.password.as_str()), ("smsc", "pw"));
}

/// deliver_sm, part 2 of 3 of a long message by UDH, with a
/// user_message_reference TLV and an unknown vendor TLV that must survive.
#[rustfmt::skip]
pub(crate) const DELIVER_SM_UDH: &str = concat!(
    "00000040", "00000005", "00000000", "00000011",
    "00",                       // service_type ""
    "01", "01", "343437393100", // source ton, npi, "44791"
    "00", "00", "313233343500", // dest ton, npi, "12345"
    "40",                       // esm_class: UDHI
    "00", "00",                 // protocol_id, priority_flag
    "00", "00",                 // schedule_delivery_time, validity_period
    "00", "00", "00", "00",     // registered_delivery, replace, data_coding, sm_default_msg_id
    "08", "0500032a0302", "6869", // sm_length 8: UDH ref 0x2a total 3 seq 2, "hi"
    "0204", "0002", "1234",     // user_message_reference 0x1234
    "1400", "0003", "aabbcc"    // vendor tag 0x1400, kept raw
);

/// data_sm with the content in message_payload and the sar_* TLVs.
#[rustfmt::skip]
pub(crate) const DATA_SM_SAR: &str = concat!(
    "00000036", "00000103", "00000000", "00000021",
    "434d5400",                 // service_type "CMT"
    "00", "00", "3100",         // source "1"
    "01", "01", "3200",         // dest "2"
    "00", "01", "00",           // esm_class, registered_delivery, data_coding
    "020c", "0002", "0102",     // sar_msg_ref_num 0x0102
    "020e", "0001", "02",       // sar_total_segments 2
    "020f", "0001", "01",       // sar_segment_seqnum 1
    "0424", "0003", "616263"    // message_payload "abc"
);

/// deliver_sm receipt whose text id differs from the receipted_message_id
/// TLV (some SMSCs write decimal in the text, hex in the TLV).
#[rustfmt::skip]
pub(crate) const DELIVER_SM_RECEIPT_TLV: &str = concat!(
    "00000067", "00000005", "00000000", "00000001",
    "00", "01", "01", "3100", "00", "00", "3200",
    "04", "00", "00", "00", "00", "00", "00", "00", "00",
    "32",                                  // sm_length 50
    "69643a3132207375623a30303120646c7672643a303031", // "id:12 sub:001 dlvrd:001"
    "20737461743a44454c49565244206572723a30303020746578743a", // " stat:DELIVRD err:000 text:"
    "001e", "0002", "6300",                // receipted_message_id "c"
    "0427", "0001", "02",                  // message_state DELIVERED
    "0423", "0003", "030005"               // network_error_code GSM 5
);

#[test]
fn tlvs_udh_and_payload_are_read_and_reencoded_exactly() {
    let p = assert_exact(DELIVER_SM_UDH);
    let Body::DeliverSm(sm) = &p.body else { panic!() };
    assert_eq!(
        (sm.source_addr.as_str(), sm.destination_addr.as_str()),
        ("44791", "12345")
    );
    assert!(sm.udhi() && !sm.is_receipt());
    let c = sm.concat().unwrap();
    assert_eq!(
        (c.reference, c.wide_reference, c.total, c.seq),
        (0x2a, false, 3, 2)
    );
    assert_eq!(sm.tlvs.0[0], Tlv::UserMessageReference(0x1234));
    assert!(matches!(&sm.tlvs.0[1], Tlv::Raw(r) if r.tag == 0x1400 && r.value.0[..] == [0xaa, 0xbb, 0xcc]));
    assert!(sm.delivery_report().is_none());
    let mut off = sm.clone();
    off.set_udhi(false);
    assert_eq!(off.esm_class, 0);
    assert!(off.concat().is_none());

    let p = assert_exact(DATA_SM_SAR);
    let Body::DataSm(d) = &p.body else { panic!() };
    assert_eq!(d.service_type, "CMT");
    assert_eq!(
        (d.dest_addr_ton, d.dest_addr_npi, d.registered_delivery),
        (1, 1, 1)
    );
    assert_eq!(&d.payload()[..], b"abc");
    let c = d.concat().unwrap();
    assert_eq!((c.reference, c.total, c.seq), (0x0102, 2, 1));

    let p = assert_exact(DELIVER_SM_RECEIPT_TLV);
    let Body::DeliverSm(sm) = &p.body else { panic!() };
    assert_eq!(sm.tlvs.receipted_message_id(), Some("c"));
    let rep = sm.delivery_report().unwrap().unwrap();
    assert_eq!(
        rep.carrier_msg_id, "c",
        "receipted_message_id wins over the text id"
    );
    assert_eq!(rep.state, ReportState::Delivered);
    assert_eq!(sm.tlvs.get(tag::NETWORK_ERROR_CODE).map(Tlv::tag), Some(0x0423));
}

#[test]
fn payload_prefers_short_message_then_message_payload() {
    let mut sm = Sm::new("1", "2", 0, Bytes::new()).unwrap();
    assert!(sm.payload().is_empty());
    sm.tlvs
        .push(Tlv::MessagePayload(smsgw_protocols::smpp::tlv::Octets(
            Bytes::from_static(b"long"),
        )));
    assert_eq!(&sm.payload()[..], b"long");
    sm.short_message = Bytes::from_static(b"short");
    assert_eq!(&sm.payload()[..], b"short");
}

#[test]
fn receipt_deliver_sm_builds_and_reads_back() {
    let r = Receipt::new("5F3A", ReportState::Expired, "2611241200", "2611251200", 0);
    let sm = Sm::receipt(&r, "8613800000000", "10658899").unwrap();
    let p = Pdu::new(9, Body::DeliverSm(sm));
    let back = Smpp::decode(Bytes::from(encode(&p)), &Options).unwrap();
    assert_eq!(back, p);
    let Body::DeliverSm(sm) = back.body else { panic!() };
    assert!(sm.is_receipt());
    let rep = sm.delivery_report().unwrap().unwrap();
    assert_eq!(rep.carrier_msg_id, "5F3A");
    assert_eq!(rep.state, ReportState::Expired);
    assert_eq!(rep.destination.as_deref(), Some("8613800000000"));
    assert_eq!(sm.tlvs.message_state(), Some(3));
}

#[test]
fn unparseable_receipt_falls_back_to_tlvs_or_errors() {
    let mut sm = Sm::new("1", "2", 0, Bytes::from_static(b"garbage")).unwrap();
    sm.esm_class = 0x04;
    assert!(sm.delivery_report().unwrap().is_err());
    sm.tlvs.push(Tlv::ReceiptedMessageId("XYZ".try_into().unwrap()));
    sm.tlvs.push(Tlv::MessageState(5));
    let rep = sm.delivery_report().unwrap().unwrap();
    assert_eq!(
        (rep.carrier_msg_id.as_str(), rep.state),
        ("XYZ", ReportState::Undeliverable)
    );
}
