//! SMGP bad input: every error names its field and offset; nothing panics.

use super::vectors::*;
use super::*;

// ---- bad input ----

pub(crate) fn err(frame: &[u8]) -> DecodeError {
    Smgp::decode(Bytes::copy_from_slice(frame), &Options).unwrap_err()
}

pub(crate) fn with_len(mut v: Vec<u8>) -> Vec<u8> {
    let n = v.len() as u32;
    v[..4].copy_from_slice(&n.to_be_bytes());
    v
}

#[test]
fn truncated_body_names_field_and_offset() {
    let full = hx(&[
        "0000002a",
        "00000001",
        "00000001",
        "3130363930303031",
        "03a527434681556524840aeb8c42fbe9",
        "02",
        "11f0e540",
        "30",
    ]);
    // Cut inside TimeStamp (offset 12+8+16+1 = 37).
    let cut = with_len(full[..39].to_vec());
    assert_eq!(
        err(&cut),
        DecodeError::Truncated {
            field: "timestamp",
            offset: 37,
            needed: 4,
            available: 2
        }
    );
    // Every cut is an error naming a field, except a cut that lands on a
    // TLV boundary (TLVs are optional). Never a panic.
    for n in 12..full.len() {
        assert!(!err(&with_len(full[..n].to_vec())).to_string().is_empty());
    }
    let submit_tlv_boundaries = [176, 181, 186, 191, 215];
    for (frame, ok_cuts) in [
        (submit_frame(), &submit_tlv_boundaries[..]),
        (report_frame(), &[][..]),
    ] {
        for n in 12..frame.len() {
            let r = Smgp::decode(Bytes::from(with_len(frame[..n].to_vec())), &Options);
            assert_eq!(r.is_ok(), ok_cuts.contains(&n), "cut at {n}: {r:?}");
        }
    }
}

#[test]
fn submit_content_and_dest_count_checked() {
    let mut f = submit_frame().to_vec();
    // MsgLength at 12+3+24+1+34+42+1+42 = 159; claim 255 bytes.
    assert_eq!(f[159], 8);
    f[159] = 255;
    assert!(matches!(
        err(&f),
        DecodeError::Truncated {
            field: "msg_content",
            offset: 160,
            ..
        }
    ));
    let mut f = submit_frame().to_vec();
    // DestTermIDCount at offset 116.
    assert_eq!(f[116], 2);
    f[116] = 101;
    assert!(matches!(
        err(&f),
        DecodeError::InvalidValue {
            field: "dest_term_id_count",
            offset: 116,
            ..
        }
    ));
    f[116] = 100;
    assert!(matches!(
        err(&f),
        DecodeError::Truncated {
            field: "dest_term_id",
            offset: 117,
            ..
        }
    ));
}

#[test]
fn bad_tlv_length_names_tag_and_offset() {
    let mut f = submit_frame().to_vec();
    // Last TLV (tag 0x00ff) starts 6 bytes from the end; make it claim 9 bytes.
    let at = f.len() - 6;
    f[at + 3] = 9;
    let e = err(&f);
    let msg = e.to_string();
    assert!(
        matches!(e, DecodeError::InvalidValue { field: "tlv", offset, .. } if offset == at),
        "{msg}"
    );
    assert!(msg.contains("0x00ff"), "{msg}");
    // A lone half TLV header at the end.
    let mut f = submit_frame().to_vec();
    f.extend_from_slice(&[0x00, 0x02, 0x00]);
    assert!(matches!(
        err(&with_len(f)),
        DecodeError::Truncated {
            field: "tlv length",
            ..
        }
    ));
}

#[test]
fn trailing_bytes_rejected_in_fixed_bodies() {
    assert_eq!(
        err(&hx(&["0000000d", "00000004", "00000001", "00"])),
        DecodeError::TrailingBytes { offset: 12, count: 1 }
    );
    let f = hx(&["0000001b", "80000002", "00000001", MSG_ID, "00000000", "ff"]);
    assert_eq!(err(&f), DecodeError::TrailingBytes { offset: 26, count: 1 });
}

#[test]
fn unknown_command_and_bad_length_and_text() {
    // 0x00000005 (Forward) is SMGP but not something an SP link carries.
    assert_eq!(
        err(&hx(&["0000000c", "00000005", "00000001"])),
        DecodeError::UnknownCommand { command_id: 5 }
    );
    assert!(matches!(
        err(&hx(&["0000000d", "00000004", "00000001"])),
        DecodeError::InvalidValue {
            field: "packet_length",
            offset: 0,
            ..
        }
    ));
    let f = hx(&[
        "0000002a",
        "00000001",
        "00000001",
        "ff30363930303031",
        "03a527434681556524840aeb8c42fbe9",
        "02",
        "11f0e540",
        "30",
    ]);
    assert!(matches!(
        err(&f),
        DecodeError::InvalidText {
            field: "client_id",
            offset: 12,
            ..
        }
    ));
}

#[test]
fn encode_rejects_overlong_content() {
    let s = Submit {
        msg_content: Bytes::from(vec![0u8; 256]),
        ..Submit::default()
    };
    let mut dst = BytesMut::from(&b"keep"[..]);
    assert!(Pdu::new(1, Body::Submit(s)).encode(&Options, &mut dst).is_err());
    assert_eq!(&dst[..], b"keep", "a failed encode leaves dst as it was");
}

// ---- framing ----

#[test]
fn codec_reassembles_frames_split_at_every_byte() {
    let frames = [
        submit_frame(),
        report_frame(),
        hx(&["0000000c", "00000004", "00000001"]),
    ];
    let stream: Vec<u8> = frames.iter().flat_map(|f| f.to_vec()).collect();
    for split in 0..=stream.len() {
        let mut codec = smgp::Codec::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for chunk in [&stream[..split], &stream[split..]] {
            buf.extend_from_slice(chunk);
            while let Some(item) = codec.decode(&mut buf).unwrap() {
                got.push(item.unwrap());
            }
        }
        assert_eq!(got.len(), 3, "split at {split}");
        let mut out = BytesMut::new();
        for p in got {
            codec.encode(p, &mut out).unwrap();
        }
        assert_eq!(&out[..], &stream[..]);
    }
}

#[test]
fn codec_yields_bad_pdu_with_header_and_rejects_bad_length() {
    let mut codec = FrameCodec::<Smgp>::new();
    let mut buf = BytesMut::from(&hx(&["0000000c", "00000042", "00000007"])[..]);
    let bad = codec.decode(&mut buf).unwrap().unwrap().unwrap_err();
    assert_eq!(bad.header.sequence_id, 7);
    assert_eq!(bad.header.request_id, 0x42);
    assert_eq!(bad.error, DecodeError::UnknownCommand { command_id: 0x42 });
    let mut buf = BytesMut::from(&hx(&["00100000", "00000002"])[..]);
    assert!(codec.decode(&mut buf).is_err());
}
