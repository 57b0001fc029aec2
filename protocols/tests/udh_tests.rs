//! Long messages, the header side: UDH parsing against an independent CMPP
//! vector and by hand (errors that name the offset), reading the
//! concatenation element, and splitting at the boundaries for every
//! numbering style. The reassembler has its own file (`reassembly.rs`).

use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::udh::{parse_udh, split, Concat, ConcatStyle, Gsm7Packing, SplitRule, Udh};
use smsgw_protocols::DecodeError;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The CMPP_SUBMIT vector from pycmpp: Msg_Content starts with the UDH.
#[test]
fn independent_cmpp_vector_udh() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/protocols/vectors/independent.json"
    );
    let Ok(json) = std::fs::read_to_string(path) else {
        eprintln!("no vectors at {path}; skipping");
        return;
    };
    let vectors: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut seen = 0;
    for v in vectors.as_array().unwrap() {
        let Some(udh_hex) = v["fields"]["udh"].as_str() else {
            continue;
        };
        let frame = unhex(v["hex"].as_str().unwrap());
        let udh = unhex(udh_hex);
        let start = frame.windows(udh.len()).position(|w| w == udh).unwrap();
        // Msg_Length is the octet just before the content.
        let len = usize::from(frame[start - 1]);
        let content = &frame[start..start + len];
        let (parsed, payload) = parse_udh(content).unwrap();
        assert_eq!(
            parsed.concat(),
            Some(Concat {
                reference: 0x2A,
                wide_reference: false,
                total: 2,
                seq: 1
            })
        );
        assert_eq!(parsed.concat().unwrap().to_udh(), udh);
        let text = text::decode(payload, Encoding::Ucs2).unwrap();
        assert_eq!(text, v["fields"]["text"].as_str().unwrap());
        seen += 1;
    }
    assert!(seen >= 1);
}

#[test]
fn parse_wide_and_other_elements() {
    // Port addressing (0x05) first, then a 16-bit concat element.
    let content = [
        0x0C, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x08, 0x04, 0xAB, 0xCD, 0x03, 0x02, 0x41,
    ];
    let (udh, payload) = parse_udh(&content).unwrap();
    assert_eq!(payload, [0x41]);
    assert_eq!(udh.elements.len(), 2);
    assert_eq!(udh.elements[0], (0x05, vec![0x0B, 0x84, 0x23, 0xF0]));
    assert_eq!(udh.encoded_len(), 13);
    assert_eq!(
        udh.concat(),
        Some(Concat {
            reference: 0xABCD,
            wide_reference: true,
            total: 3,
            seq: 2
        })
    );
    // Empty payload, empty header.
    let (udh, payload) = parse_udh(&[0x00]).unwrap();
    assert_eq!(udh, Udh::default());
    assert!(payload.is_empty());
}

#[test]
fn invalid_concat_numbers_are_not_concat() {
    for (total, seq) in [(0, 0), (2, 0), (0, 1), (2, 3)] {
        let content = [0x05, 0x00, 0x03, 0x01, total, seq, 0x41];
        let (udh, _) = parse_udh(&content).unwrap();
        assert_eq!(udh.concat(), None, "total {total} seq {seq}");
    }
    // Wrong element length for IEI 0x00.
    let (udh, _) = parse_udh(&[0x04, 0x00, 0x02, 0x01, 0x01]).unwrap();
    assert_eq!(udh.concat(), None);
    // A bad one first, then a good one.
    let (udh, _) = parse_udh(&[0x0A, 0x00, 0x03, 0x01, 0x00, 0x01, 0x00, 0x03, 0x07, 0x02, 0x02]).unwrap();
    assert_eq!(udh.concat().map(|c| (c.reference, c.seq)), Some((7, 2)));
}

#[test]
fn malformed_udh_errors_name_offsets() {
    assert_eq!(
        parse_udh(&[]),
        Err(DecodeError::Truncated {
            field: "udh_length",
            offset: 0,
            needed: 1,
            available: 0
        })
    );
    assert_eq!(
        parse_udh(&[0x05, 0x00, 0x03]),
        Err(DecodeError::Truncated {
            field: "udh",
            offset: 1,
            needed: 5,
            available: 2
        })
    );
    // Element claims 4 bytes but the header has 2 left.
    assert_eq!(
        parse_udh(&[0x05, 0x00, 0x01, 0x00, 0x08, 0x04, 0x41]),
        Err(DecodeError::Truncated {
            field: "udh_element_data",
            offset: 6,
            needed: 4,
            available: 0
        })
    );
    // A lone IEI with no length octet.
    assert_eq!(
        parse_udh(&[0x01, 0x00]),
        Err(DecodeError::Truncated {
            field: "udh_element_header",
            offset: 1,
            needed: 2,
            available: 1
        })
    );
}

#[test]
fn single_part_has_no_udh() {
    let segs = split("hello", SplitRule::new(Encoding::Gsm7), 9).unwrap();
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].concat, None);
    assert!(!segs[0].udhi());
    assert_eq!(segs[0].content.as_ref(), unhex("e8329bfd06"));
    let segs = split(
        "hello",
        SplitRule::new(Encoding::Gsm7).with_packing(Gsm7Packing::Unpacked),
        9,
    )
    .unwrap();
    assert_eq!(segs[0].content.as_ref(), b"hello");
    let segs = split(&"中".repeat(70), SplitRule::new(Encoding::Ucs2), 9).unwrap();
    assert_eq!((segs.len(), segs[0].content.len()), (1, 140));
}

#[test]
fn gsm7_parts_with_udh_and_fill_bits() {
    let text = "a".repeat(161);
    let segs = split(&text, SplitRule::new(Encoding::Gsm7), 0x1234).unwrap();
    assert_eq!(segs.len(), 2);
    // 6 UDH octets + 153 septets packed after 1 fill bit = 134 octets.
    assert_eq!(segs[0].content.len(), 140);
    assert_eq!(&segs[0].content[..6], [0x05, 0x00, 0x03, 0x34, 0x02, 0x01]);
    assert_eq!(segs[0].content[6] & 1, 0, "fill bit is zero");
    assert_eq!(&segs[1].content[..6], [0x05, 0x00, 0x03, 0x34, 0x02, 0x02]);
    // 8 septets + 1 fill bit = 57 bits -> 8 octets.
    assert_eq!(segs[1].content.len(), 6 + 8);
    let wide = split(
        &text,
        SplitRule::new(Encoding::Gsm7).with_style(ConcatStyle::Udh16),
        0x1234,
    )
    .unwrap();
    assert_eq!(&wide[0].content[..7], [0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01]);
    // 7 + 152 septets (no fill) = 7 + 133.
    assert_eq!(wide[0].content.len(), 140);
    let unpacked = split(
        &text,
        SplitRule::new(Encoding::Gsm7).with_packing(Gsm7Packing::Unpacked),
        1,
    )
    .unwrap();
    assert_eq!(unpacked[0].content.len(), 6 + 153);
    assert_eq!(unpacked[1].content.len(), 6 + 8);
}

#[test]
fn no_part_splits_a_pair_or_an_escape() {
    let text = format!("{}😀{}", "中".repeat(66), "中".repeat(10));
    let segs = split(&text, SplitRule::new(Encoding::Ucs2), 1).unwrap();
    assert_eq!(segs[0].content.len(), 6 + 132);
    assert_eq!(&segs[1].content[6..10], [0xD8, 0x3D, 0xDE, 0x00]);
    let text = format!("{}€{}", "a".repeat(152), "a".repeat(10));
    let segs = split(
        &text,
        SplitRule::new(Encoding::Gsm7).with_packing(Gsm7Packing::Unpacked),
        1,
    )
    .unwrap();
    assert_eq!(segs[0].content.len(), 6 + 152);
    assert_eq!(&segs[1].content[6..8], [0x1B, 0x65]);
}

#[test]
fn too_many_parts() {
    let text = "a".repeat(134 * 256);
    assert_eq!(
        split(&text, SplitRule::new(Encoding::Ascii), 1),
        Err(text::TextError::TooManyParts { parts: 256, max: 255 })
    );
    assert_eq!(
        split(&"a".repeat(134 * 255), SplitRule::new(Encoding::Ascii), 1)
            .unwrap()
            .len(),
        255
    );
}

#[test]
fn the_rules_max_parts_is_the_limit() {
    // 4 parts of 67 UTF-16 units.
    let text = "中".repeat(67 * 4);
    let rule = SplitRule::new(Encoding::Ucs2).with_max_parts(4);
    assert_eq!(split(&text, rule, 1).unwrap().len(), 4);
    assert_eq!(
        split(&text, rule.with_max_parts(3), 1),
        Err(text::TextError::TooManyParts { parts: 4, max: 3 })
    );
    // A single part is never refused, even with max_parts 1.
    assert_eq!(split("hi", rule.with_max_parts(1), 1).unwrap().len(), 1);
}

#[test]
fn sar_parts_carry_no_udh_and_hold_a_whole_sms() {
    let text = "中".repeat(71);
    let segs = split(
        &text,
        SplitRule::new(Encoding::Ucs2).with_style(ConcatStyle::Sar),
        0x1234,
    )
    .unwrap();
    assert_eq!(segs.len(), 2);
    assert!(segs.iter().all(|s| !s.udhi()));
    // 70 units in the first part: no UDH takes room.
    assert_eq!(segs[0].content.len(), 140);
    assert_eq!(&segs[0].content[..2], [0x4E, 0x2D], "payload first, no UDH");
    assert_eq!(
        segs[1].sar(),
        Some(Concat {
            reference: 0x1234,
            wide_reference: true,
            total: 2,
            seq: 2
        })
    );
    let udh = split(&text, SplitRule::new(Encoding::Ucs2), 0x1234).unwrap();
    assert!(udh[0].udhi() && udh[0].sar().is_none());
}

#[test]
fn concat_in_reads_8_and_16_bit_and_skips_other_elements() {
    use smsgw_protocols::udh::concat_in;
    let c = concat_in(&[5, 0, 3, 0x2a, 3, 2, b'h']).unwrap();
    assert_eq!(
        (c.reference, c.wide_reference, c.total, c.seq),
        (0x2a, false, 3, 2)
    );
    let c = concat_in(&[6, 8, 4, 0x12, 0x34, 2, 1]).unwrap();
    assert_eq!(
        (c.reference, c.wide_reference, c.total, c.seq),
        (0x1234, true, 2, 1)
    );
    // A port-addressing element (0x05) first, then 0x00.
    let c = concat_in(&[11, 5, 4, 0, 1, 0, 2, 0, 3, 7, 2, 1]).unwrap();
    assert_eq!((c.reference, c.total, c.seq), (7, 2, 1));
    assert_eq!(concat_in(&[]), None);
    assert_eq!(concat_in(&[5, 0, 3, 1]), None, "header longer than content");
    assert_eq!(concat_in(&[3, 0, 9, 1]), None, "element longer than header");
}
