//! SMPP bad input: every error names its field and offset; nothing panics.

use super::vectors::*;
use super::*;

// ---- bad input ----

pub(crate) fn frame(command_id: u32, body: &[u8]) -> Bytes {
    let mut v = Vec::new();
    v.extend_from_slice(&((16 + body.len()) as u32).to_be_bytes());
    v.extend_from_slice(&command_id.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(&77u32.to_be_bytes());
    v.extend_from_slice(body);
    Bytes::from(v)
}

#[test]
fn truncated_body_names_field_and_offset() {
    let full = hex::decode(vectors()[0]["hex"].as_str().unwrap()).unwrap();
    // Cut after system_id + password + system_type: interface_version missing.
    let e = Smpp::decode(frame(command::BIND_TRANSMITTER, &full[16..28]), &Options).unwrap_err();
    assert_eq!(
        e,
        DecodeError::Truncated {
            field: "interface_version",
            offset: 28,
            needed: 1,
            available: 0
        }
    );
    assert_eq!(nack_status(&e), status::ESME_RINVCMDLEN);
    // short_message longer than what is left.
    let mut sm = hex::decode(vectors()[2]["hex"].as_str().unwrap()).unwrap();
    sm.truncate(sm.len() - 3);
    let e = Smpp::decode(frame(command::SUBMIT_SM, &sm[16..]), &Options).unwrap_err();
    assert!(
        matches!(
            e,
            DecodeError::Truncated {
                field: "short_message",
                needed: 17,
                available: 14,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn bad_tlv_length_names_tag_and_offset() {
    let mut body = hex::decode(&SUBMIT_SM_RESP[32..]).unwrap();
    body.extend_from_slice(&[0x04, 0x24, 0x00, 0x10, 1, 2]); // message_payload says 16, has 2
    let e = Smpp::decode(frame(command::SUBMIT_SM_RESP, &body), &Options).unwrap_err();
    match &e {
        DecodeError::InvalidValue {
            field: "tlv length",
            offset: 23,
            message,
        } => {
            assert!(
                message.contains("0x0424") && message.contains("MESSAGE_PAYLOAD"),
                "{message}"
            );
            assert!(message.contains("offset 23"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(nack_status(&e), status::ESME_RINVCMDLEN);
    // Three stray bytes cannot even hold a TLV header.
    body.truncate(body.len() - 4);
    let e = Smpp::decode(frame(command::SUBMIT_SM_RESP, &body), &Options).unwrap_err();
    assert!(
        matches!(
            e,
            DecodeError::Truncated {
                field: "tlv header",
                offset: 23,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn unterminated_cstring_and_bad_text_and_trailing_bytes() {
    // system_id of 16 non-NUL bytes: max is 15 + NUL.
    let mut body = vec![b'a'; 16];
    body.extend_from_slice(b"\0pw\0\0\x34\0\0\0");
    let e = Smpp::decode(frame(command::BIND_TRANSCEIVER, &body), &Options).unwrap_err();
    assert_eq!(
        e,
        DecodeError::Unterminated {
            field: "system_id",
            offset: 16,
            max: 16
        }
    );
    assert_eq!(nack_status(&e), status::ESME_RSYSERR);
    let e = Smpp::decode(frame(command::SUBMIT_SM_RESP, b"\xff\xfe\0"), &Options).unwrap_err();
    assert!(matches!(
        e,
        DecodeError::InvalidText {
            field: "message_id",
            offset: 16,
            ..
        }
    ));
    let e = Smpp::decode(frame(command::ENQUIRE_LINK, b"x"), &Options).unwrap_err();
    assert_eq!(e, DecodeError::TrailingBytes { offset: 16, count: 1 });
    // Declared length disagrees with the frame.
    let mut f = frame(command::ENQUIRE_LINK, b"").to_vec();
    f[3] = 17;
    assert!(matches!(
        Smpp::decode(Bytes::from(f), &Options),
        Err(DecodeError::InvalidValue {
            field: "command_length",
            ..
        })
    ));
}

#[test]
fn unknown_command_is_answered_with_generic_nack() {
    let mut codec = Codec::new();
    let mut buf = BytesMut::from(&frame(0x0000_0021, b"\x01\x02")[..]); // submit_multi: not supported
    let item = codec.decode(&mut buf).unwrap().unwrap();
    let Err(BadPdu { header, error }) = item else {
        panic!("should be BadPdu")
    };
    assert_eq!(error, DecodeError::UnknownCommand { command_id: 0x21 });
    assert_eq!(
        header,
        Header {
            command_length: 18,
            command_id: 0x21,
            command_status: 0,
            sequence_number: 77
        }
    );
    let nack = Pdu::answer_bad(&header, &error).unwrap();
    assert_eq!(nack, Pdu::generic_nack_for(&header, status::ESME_RINVCMDID));
    assert_eq!(hex::encode(encode(&nack)), "0000001080000000000000030000004d");
    // A bad *response* is not answered.
    let resp_header = Header {
        command_id: 0x8000_0021,
        ..header
    };
    assert!(Pdu::answer_bad(&resp_header, &error).is_none());
}

#[test]
fn codec_handles_frames_split_at_every_byte() {
    let mut stream = Vec::new();
    for v in vectors() {
        stream.extend(hex::decode(v["hex"].as_str().unwrap()).unwrap());
    }
    for h in [BIND_TRX_RESP, DELIVER_SM_UDH, DATA_SM_SAR] {
        stream.extend(hex::decode(h).unwrap());
    }
    let expected: Vec<Pdu> = {
        let mut c = Codec::new();
        let mut b = BytesMut::from(&stream[..]);
        std::iter::from_fn(|| c.decode(&mut b).unwrap().map(|r| r.unwrap())).collect()
    };
    assert_eq!(expected.len(), 8);
    for cut in 0..stream.len() {
        let mut c = Codec::new();
        let mut b = BytesMut::from(&stream[..cut]);
        let mut got = Vec::new();
        while let Some(p) = c.decode(&mut b).unwrap() {
            got.push(p.unwrap());
        }
        b.extend_from_slice(&stream[cut..]);
        while let Some(p) = c.decode(&mut b).unwrap() {
            got.push(p.unwrap());
        }
        assert_eq!(got, expected, "cut at {cut}");
    }
    // And the encoder writes the same stream back.
    let mut c = Codec::new();
    let mut out = BytesMut::new();
    for p in expected {
        c.encode(p, &mut out).unwrap();
    }
    assert_eq!(&out[..], &stream[..]);
}

#[test]
fn oversized_frame_is_fatal_and_status_text_names_codes() {
    let mut c = Codec::new();
    let mut b = BytesMut::from(&[0x00u8, 0x01, 0x00, 0x01][..]);
    assert!(c.decode(&mut b).is_err());
    assert!(status::status_text(status::ESME_RTHROTTLED).starts_with("ESME_RTHROTTLED"));
    assert!(status::status_text(0x0D).starts_with("ESME_RBINDFAIL"));
    assert_eq!(status::status_text(0x401), "SMSC vendor-specific error");
}

#[test]
fn json_shape_is_what_the_cli_prints() {
    let p = decode_hex(DELIVER_SM_UDH);
    let v: Value = serde_json::to_value(&p).unwrap();
    assert_eq!(v["command"], "deliver_sm");
    assert_eq!(v["sequence_number"], 0x11);
    assert_eq!(v["esm_class"], 0x40);
    assert_eq!(v["short_message"], "0500032a03026869");
    assert_eq!(v["tlvs"][0]["user_message_reference"], 0x1234);
    assert_eq!(v["tlvs"][1]["raw"]["tag"], 0x1400);
    assert_eq!(v["tlvs"][1]["raw"]["value"], "aabbcc");
    let p: Pdu = serde_json::from_str(r#"{"command":"enquire_link","sequence_number":5}"#).unwrap();
    assert_eq!(p, Pdu::new(5, Body::EnquireLink));
}

#[test]
fn requests_get_matching_empty_responses() {
    let req = decode_hex(vectors()[2]["hex"].as_str().unwrap());
    let resp = req.response(status::ESME_RTHROTTLED).unwrap();
    assert_eq!(resp.sequence_number, req.sequence_number);
    assert_eq!(resp.body.command_id(), command::SUBMIT_SM_RESP);
    // An error response with an empty body is written without one.
    assert_eq!(encode(&resp).len(), 16);
    assert!(resp.response(0).is_none());
    assert_eq!(
        decode_hex(vectors()[4]["hex"].as_str().unwrap())
            .response(0)
            .unwrap()
            .body,
        Body::EnquireLinkResp
    );
}
