//! SGIP bad input: every error names its field and offset; nothing panics.

use super::vectors::*;
use super::*;

// ---- bad input ------------------------------------------------------------

#[test]
fn truncated_body_names_field_and_offset() {
    // BIND cut inside login_password; the header's length matches the cut
    // frame (a peer that built it short), so the body is what fails.
    let bytes = frame(&[
        h("00000032"), // message_length 50
        h("00000001"), // BIND
        h(SEQ_HEX),
        h("01"),           // login_type
        txt("spuser", 16), // login_name, offsets 21..37
        txt("secret", 13), // login_password: 13 of 16 bytes
    ]);
    assert_eq!(
        decode(&bytes),
        Err(DecodeError::Truncated {
            field: "login_password",
            offset: 37,
            needed: 16,
            available: 13
        })
    );
    // Shorter than a header.
    assert!(matches!(
        decode(&Bytes::from(h("0000000a 00000002 0000"))),
        Err(DecodeError::Truncated {
            field: "header",
            offset: 0,
            ..
        })
    ));
    // user_count promising more numbers than the frame holds.
    let mut b = submit_bytes().to_vec();
    b[20 + 42] = 200;
    assert!(matches!(
        decode(&Bytes::from(b)),
        Err(DecodeError::Truncated {
            field: "user_number",
            ..
        })
    ));
}

#[test]
fn header_length_must_match_frame() {
    let mut b = submit_bytes().to_vec();
    b[3] = 0xbf; // says 191, frame is 190
    assert_eq!(
        decode(&Bytes::from(b)),
        Err(DecodeError::InvalidValue {
            field: "message_length",
            offset: 0,
            message: "says 191 but the frame is 190 bytes".into()
        })
    );
}

#[test]
fn content_length_must_match_frame() {
    // DELIVER says 10 bytes of content but carries 8 (then the reserve).
    let mut b = deliver_bytes().to_vec();
    let at = 20 + 21 + 21 + 3; // offset of message_length
    b[at + 3] = 10;
    match decode(&Bytes::from(b.clone())) {
        Err(DecodeError::InvalidValue {
            field: "message_length",
            offset,
            ..
        }) => assert_eq!(offset, at),
        other => panic!("{other:?}"),
    }
    // Says fewer than it carries.
    b[at + 3] = 2;
    assert!(matches!(
        decode(&Bytes::from(b.clone())),
        Err(DecodeError::InvalidValue {
            field: "message_length",
            ..
        })
    ));
    // A huge claim must not allocate or panic.
    b[at] = 0xff;
    assert!(decode(&Bytes::from(b)).is_err());
    // SUBMIT too.
    let mut s = submit_bytes().to_vec();
    s[190 - 8 - 5 - 1] = 6; // low byte of message_length, at offset 173..177
    assert!(matches!(
        decode(&Bytes::from(s)),
        Err(DecodeError::InvalidValue {
            field: "message_length",
            offset: 173,
            ..
        })
    ));
}

#[test]
fn trailing_bytes_rejected() {
    let bytes = frame(&[
        h("0000001e"), // message_length 30
        h("80000001"), // BIND_RESP
        h(SEQ_HEX),
        h("00"),               // result
        h("0000000000000000"), // reserve
        h("ff"),               // one byte too many
    ]);
    assert_eq!(
        decode(&bytes),
        Err(DecodeError::TrailingBytes { offset: 29, count: 1 })
    );
    let unbind = frame(&[h("00000015"), h("00000002"), h(SEQ_HEX), h("00")]);
    assert_eq!(
        decode(&unbind),
        Err(DecodeError::TrailingBytes { offset: 20, count: 1 })
    );
}

#[test]
fn unknown_command_rejected() {
    let bytes = frame(&[h("00000014"), h("00000006"), h(SEQ_HEX)]);
    assert_eq!(decode(&bytes), Err(DecodeError::UnknownCommand { command_id: 6 }));
}

#[test]
fn invalid_text_rejected() {
    let mut b = deliver_bytes().to_vec();
    b[20] = 0xff; // first byte of user_number
    assert!(matches!(
        decode(&Bytes::from(b)),
        Err(DecodeError::InvalidText {
            field: "user_number",
            offset: 20,
            ..
        })
    ));
}

#[test]
fn encode_errors_leave_buffer_untouched() {
    let s = Submit {
        user_numbers: vec![FixedStr::new("1").unwrap(); 256],
        ..Submit::default()
    };
    let mut dst = BytesMut::from(&b"keep"[..]);
    assert!(matches!(
        Pdu::new(SEQ, s).encode(&Options, &mut dst),
        Err(EncodeError::TooLong {
            field: "user_count",
            ..
        })
    ));
    assert_eq!(&dst[..], b"keep");
}

// ---- sequence numbers -----------------------------------------------------

#[test]
fn sequence_display_parse_serde() {
    assert_eq!(SEQ.to_string(), "3000012345-1124103000-00000001");
    assert_eq!(
        "3000012345-1124103000-00000001"
            .parse::<SequenceNumber>()
            .unwrap(),
        SEQ
    );
    assert_eq!(
        serde_json::to_string(&SEQ).unwrap(),
        "\"3000012345-1124103000-00000001\""
    );
    assert!(serde_json::from_str::<SequenceNumber>("\"x-1-2\"").is_err());
    assert_eq!(SEQ.to_bytes().to_vec(), h(SEQ_HEX));
}

// ---- framing ----------------------------------------------------------------

#[test]
fn codec_split_at_every_byte_boundary() {
    let stream: Vec<u8> = [submit_bytes(), deliver_bytes(), report_bytes("00", "00")].concat();
    for cut in 0..=stream.len() {
        let mut codec = Codec::new();
        let mut buf = BytesMut::from(&stream[..cut]);
        let mut got = Vec::new();
        while let Some(item) = codec.decode(&mut buf).unwrap() {
            got.push(item.unwrap());
        }
        buf.extend_from_slice(&stream[cut..]);
        while let Some(item) = codec.decode(&mut buf).unwrap() {
            got.push(item.unwrap());
        }
        assert_eq!(got.len(), 3, "cut at {cut}");
        assert!(buf.is_empty());
    }
    let mut codec = Codec::new();
    let mut out = BytesMut::new();
    codec.encode(decode(&submit_bytes()).unwrap(), &mut out).unwrap();
    assert_eq!(&out[..], &submit_bytes()[..]);
}

#[test]
fn codec_bad_body_keeps_stream_bad_length_ends_it() {
    let bad = frame(&[h("00000014"), h("00000006"), h(SEQ_HEX)]);
    let stream: Vec<u8> = [bad, submit_bytes()].concat();
    let mut codec = Codec::new();
    let mut buf = BytesMut::from(&stream[..]);
    let first = codec.decode(&mut buf).unwrap().unwrap().unwrap_err();
    assert_eq!(
        first.header.sequence, SEQ,
        "sequence echoed for the error response"
    );
    assert_eq!(first.header.command_id, 6);
    assert!(codec.decode(&mut buf).unwrap().unwrap().is_ok());

    let mut huge = BytesMut::from(&h("00100000 00000003")[..]);
    assert!(matches!(
        codec.decode(&mut huge),
        Err(FrameError::BadLength { .. })
    ));
    let mut tiny = BytesMut::from(&h("00000013 00000002")[..]);
    assert!(matches!(
        codec.decode(&mut tiny),
        Err(FrameError::BadLength { declared: 19, .. })
    ));
}

#[test]
fn json_form_for_pdu_encode() {
    // What `smsgw pdu encode` accepts: the command tag, the sequence as its
    // display string, and for SUBMIT only the fields that matter.
    let json = r#"{
        "sequence": "3000012345-1124103000-00000001",
        "command": "submit",
        "sp_number": "10655001",
        "user_numbers": ["8613012345678"],
        "message_content": "48656c6c6f"
    }"#;
    let pdu: Pdu = serde_json::from_str(json).unwrap();
    assert_eq!(pdu.sequence, SEQ);
    let Body::Submit(s) = &pdu.body else {
        panic!("not submit")
    };
    assert_eq!(&s.message_content[..], b"Hello");
    assert_eq!(s.report_flag, 1, "default asks for a report");
    let out = serde_json::to_value(&pdu).unwrap();
    assert_eq!(out["command"], "submit");
    assert!(out.get("reserve").is_none(), "zero reserve left out");
    assert!(decode(&pdu.to_bytes().unwrap()).is_ok());
}
