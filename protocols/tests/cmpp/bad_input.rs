//! CMPP bad input: every error names its field and offset; nothing panics.

use super::*;

// ---- bad input ----

#[test]
fn truncated_body_names_field_and_offset() {
    let (bytes, _, opts) = vector("CMPP_CONNECT");
    // Cut inside the authenticator (offset 18) and fix up the length.
    let mut cut = bytes[..20].to_vec();
    cut[..4].copy_from_slice(&20u32.to_be_bytes());
    assert_eq!(
        Cmpp::decode(Bytes::from(cut), &opts),
        Err(DecodeError::Truncated {
            field: "authenticator_source",
            offset: 18,
            needed: 16,
            available: 2
        })
    );
    // Every shorter prefix of the submit fails with an error, never a panic.
    let (submit, _, opts) = vector("CMPP_SUBMIT");
    for n in 0..submit.len() {
        let mut cut = submit[..n].to_vec();
        if n >= 4 {
            cut[..4].copy_from_slice(&(n as u32).to_be_bytes());
        }
        assert!(Cmpp::decode(Bytes::from(cut), &opts).is_err(), "prefix {n}");
    }
    // Header too short.
    assert!(matches!(
        Cmpp::decode(h("0000000b 00000008 000000"), &V3),
        Err(DecodeError::Truncated {
            field: "sequence_id",
            offset: 8,
            ..
        })
    ));
}

#[test]
fn trailing_bytes_and_wrong_length() {
    assert_eq!(
        Cmpp::decode(h("0000000e 00000008 00000003 0000"), &V2),
        Err(DecodeError::TrailingBytes { offset: 12, count: 2 })
    );
    assert!(matches!(
        Cmpp::decode(h("0000000d 00000008 00000003"), &V2),
        Err(DecodeError::InvalidValue {
            field: "total_length",
            offset: 0,
            ..
        })
    ));
    // Through the codec: a bad body is an item error that keeps the stream.
    let mut codec = cmpp::Codec::new();
    let mut buf = BytesMut::from(&h("0000000e 00000008 00000003 0000 0000000c 00000008 00000004")[..]);
    let bad = codec.decode(&mut buf).unwrap().unwrap().unwrap_err();
    assert_eq!(bad.header.sequence_id, 3);
    assert_eq!(bad.header.command_id, 8);
    assert!(matches!(bad.error, DecodeError::TrailingBytes { .. }));
    assert_eq!(
        codec.decode(&mut buf).unwrap().unwrap().unwrap(),
        Pdu::new(4, Body::ActiveTest)
    );
    // A length below the header is fatal.
    let mut buf = BytesMut::from(&h("0000000b 00000008 000000")[..]);
    assert!(codec.decode(&mut buf).is_err());
}

#[test]
fn unknown_command_and_invalid_text() {
    assert_eq!(
        Cmpp::decode(h("0000000c 00000003 00000001"), &V3),
        Err(DecodeError::UnknownCommand { command_id: 3 })
    );
    assert_eq!(
        Cmpp::decode(h("0000000c 80000009 00000001"), &V3),
        Err(DecodeError::UnknownCommand {
            command_id: 0x8000_0009
        })
    );
    let (bytes, _, opts) = vector("CMPP_CONNECT");
    let mut bad = bytes.to_vec();
    bad[12] = 0xc3; // source_addr starts with a lone UTF-8 lead byte
    bad[13] = 0x28;
    assert!(matches!(
        Cmpp::decode(Bytes::from(bad), &opts),
        Err(DecodeError::InvalidText {
            field: "source_addr",
            offset: 12,
            ..
        })
    ));
}

#[test]
fn codec_handles_frames_split_at_every_byte() {
    let mut stream = Vec::new();
    for v in vectors() {
        stream.extend(hex::decode(v["hex"].as_str().unwrap()).unwrap());
    }
    let expected: Vec<Pdu> = vectors()
        .iter()
        .map(|v| Cmpp::decode(Bytes::from(hex::decode(v["hex"].as_str().unwrap()).unwrap()), &V2).unwrap())
        .collect();
    for split in 0..=stream.len() {
        let mut codec = FrameCodec::<Cmpp>::new().with_options(V2);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for chunk in [&stream[..split], &stream[split..]] {
            buf.extend_from_slice(chunk);
            while let Some(item) = codec.decode(&mut buf).unwrap() {
                got.push(item.unwrap());
            }
        }
        assert_eq!(got, expected, "split at {split}");
    }
    // Byte by byte.
    let mut codec = FrameCodec::<Cmpp>::new().with_options(V2);
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in &stream {
        buf.extend_from_slice(&[*b]);
        while let Some(item) = codec.decode(&mut buf).unwrap() {
            got.push(item.unwrap());
        }
    }
    assert_eq!(got, expected);
    // And the encoder side writes the same bytes.
    let mut out = BytesMut::new();
    for p in expected {
        codec.encode(p, &mut out).unwrap();
    }
    assert_eq!(&out[..], &stream[..]);
}

#[test]
fn version_bytes_and_msg_ids() {
    assert_eq!(CmppVersion::from_byte(0x20), Some(CmppVersion::V20));
    assert_eq!(CmppVersion::from_byte(0x21), Some(CmppVersion::V20));
    assert_eq!(CmppVersion::from_byte(0x30), Some(CmppVersion::V30));
    assert_eq!(CmppVersion::from_byte(0x10), None);
    assert_eq!(CmppVersion::from_byte(0x40), None);
    assert_eq!(CmppVersion::V20.byte(), 0x20);
    assert_eq!(CmppVersion::default(), CmppVersion::V30);
    let t = chrono::NaiveDateTime::parse_from_str("2026-11-25 08:09:10", "%Y-%m-%d %H:%M:%S").unwrap();
    let g = MsgIdGenerator::new(123456);
    let a = g.next_at(&t);
    assert_eq!(a, MsgId::new(11, 25, 8, 9, 10, 123456, 0));
    assert_eq!(a.to_string(), "1125080910012345600000");
    assert_eq!(g.next_at(&t).sequence(), 1);
    assert_eq!(cmpp::timestamp_of(&t), 1125080910);
    assert_eq!(
        result::result_text(result::THROTTLED),
        "flow control: too fast (throttled)"
    );
    assert_eq!(
        result::connect_status_text(result::CONNECT_AUTH_FAILED),
        "authentication failed"
    );
    let id: MsgId = serde_json::from_str("\"1125080910012345600000\"").unwrap();
    assert_eq!(id, a);
    let id: MsgId = serde_json::from_str(&a.0.to_string()).unwrap();
    assert_eq!(id, a);
}
