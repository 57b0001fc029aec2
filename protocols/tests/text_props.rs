//! Text encodings: GSM 03.38 tables and packing against published vectors,
//! segment counts at every billing boundary, error offsets for bad input,
//! and round trips / no-panic properties for every encoding.

use proptest::prelude::*;
use smsgw_protocols::text::{
    self, choose_encoding, decode, encode, gsm7, segments, Encoding, SegmentCount, TextError,
};

/// Every character GSM 7-bit can carry: the default table (without the
/// escape slot) and the extension table.
const GSM_CHARS: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà\u{c}^{}\\[~]|€";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn gsm_alphabet_is_complete() {
    // 127 default characters (128 minus the escape) + 10 extension ones.
    assert_eq!(GSM_CHARS.chars().count(), 137);
    let septets = encode(GSM_CHARS, Encoding::Gsm7).unwrap();
    assert_eq!(septets.len(), 127 + 2 * 10);
    assert_eq!(decode(&septets, Encoding::Gsm7).unwrap(), GSM_CHARS);
}

#[test]
fn gsm7_known_septets() {
    assert_eq!(encode("@", Encoding::Gsm7).unwrap(), [0x00]);
    assert_eq!(encode("@@a", Encoding::Gsm7).unwrap(), [0x00, 0x00, 0x61]);
    assert_eq!(encode("€", Encoding::Gsm7).unwrap(), [0x1B, 0x65]);
    assert_eq!(
        encode("^{}\\[~]|", Encoding::Gsm7).unwrap(),
        [0x1B, 0x14, 0x1B, 0x28, 0x1B, 0x29, 0x1B, 0x2F, 0x1B, 0x3C, 0x1B, 0x3D, 0x1B, 0x3E, 0x1B, 0x40]
    );
    assert_eq!(encode("\u{c}", Encoding::Gsm7).unwrap(), [0x1B, 0x0A]);
    assert_eq!(encode("£¥Δß", Encoding::Gsm7).unwrap(), [0x01, 0x03, 0x10, 0x1E]);
    assert_eq!(decode(&[0x00, 0x1B, 0x65, 0x00], Encoding::Gsm7).unwrap(), "@€@");
}

#[test]
fn gsm7_decode_edge_cases() {
    // Escape + an undefined code shows the default character (TS 23.038).
    assert_eq!(decode(&[0x1B, 0x41], Encoding::Gsm7).unwrap(), "A");
    // Double escape shows a space.
    assert_eq!(decode(&[0x1B, 0x1B], Encoding::Gsm7).unwrap(), " ");
    assert_eq!(
        decode(&[0x41, 0x1B], Encoding::Gsm7),
        Err(TextError::Invalid {
            encoding: Encoding::Gsm7,
            offset: 1,
            reason: "escape at the end with no character after it"
        })
    );
    assert!(matches!(
        decode(&[0x41, 0x42, 0x80], Encoding::Gsm7),
        Err(TextError::Invalid { offset: 2, .. })
    ));
    assert_eq!(
        encode("ab中", Encoding::Gsm7),
        Err(TextError::Unencodable {
            encoding: Encoding::Gsm7,
            ch: '中',
            offset: 2
        })
    );
}

#[test]
fn packed_vectors() {
    let s = encode("hellohello", Encoding::Gsm7).unwrap();
    let packed = gsm7::pack_septets(&s, 0);
    assert_eq!(hex(&packed), "e8329bfd4697d9ec37");
    assert_eq!(gsm7::unpack_septets(&packed, 10, 0).unwrap(), s);
    // "hello" from TS 23.038 examples.
    let p = gsm7::pack_septets(&encode("hello", Encoding::Gsm7).unwrap(), 0);
    assert_eq!(hex(&p), "e8329bfd06");
    // 8 septets fill exactly 7 octets: "12345678".
    let p = gsm7::pack_septets(&encode("12345678", Encoding::Gsm7).unwrap(), 0);
    assert_eq!(hex(&p), "31d98c56b3dd70");
    // One fill bit after a 6-octet UDH: "hellohello" shifted left by one.
    let p = gsm7::pack_septets(&s, 1);
    assert_eq!(hex(&p), "d06536fb8d2eb3d96f");
    assert_eq!(gsm7::unpack_septets(&p, 10, 1).unwrap(), s);
    // Too short for the count asked.
    assert!(matches!(
        gsm7::unpack_septets(&p, 11, 1),
        Err(TextError::Invalid { offset: 9, .. })
    ));
}

#[test]
fn cr_padding_in_seven_spare_bits() {
    // 7 septets leave 7 spare bits: TS 23.038 puts <CR> there.
    let s = encode("1234567", Encoding::Gsm7).unwrap();
    let padded = gsm7::pack_padded(&s, 0);
    assert_eq!(padded.len(), 7);
    assert_eq!(padded[6] >> 1, 0x0D);
    assert_eq!(gsm7::unpack_padded(&padded, 0), s);
    assert_eq!(gsm7::pack_septets(&s, 0)[6], 0);
}

#[test]
fn utf16_errors_have_offsets() {
    let err = |offset, reason| {
        Err(TextError::Invalid {
            encoding: Encoding::Ucs2,
            offset,
            reason,
        })
    };
    assert_eq!(
        decode(&[0x00, 0x41, 0x00], Encoding::Ucs2),
        err(2, "odd number of bytes")
    );
    // Lone high surrogate followed by a normal unit.
    assert_eq!(
        decode(&[0x00, 0x41, 0xD8, 0x3D, 0x00, 0x41], Encoding::Ucs2),
        err(2, "lone surrogate")
    );
    // High surrogate at the end.
    assert_eq!(
        decode(&[0x00, 0x41, 0x00, 0x42, 0xD8, 0x3D], Encoding::Ucs2),
        err(4, "lone surrogate")
    );
    // Lone low surrogate after a valid pair.
    assert_eq!(
        decode(&[0xD8, 0x3D, 0xDE, 0x00, 0xDE, 0x00], Encoding::Ucs2),
        err(4, "lone surrogate")
    );
    assert_eq!(decode(&[0xD8, 0x3D, 0xDE, 0x00], Encoding::Ucs2).unwrap(), "😀");
    assert_eq!(
        encode("a😀", Encoding::Ucs2).unwrap(),
        [0x00, 0x61, 0xD8, 0x3D, 0xDE, 0x00]
    );
}

#[test]
fn gbk_errors_have_offsets() {
    assert_eq!(encode("中文", Encoding::Gbk).unwrap(), [0xD6, 0xD0, 0xCE, 0xC4]);
    assert_eq!(decode(&[0xD6, 0xD0, 0xCE, 0xC4], Encoding::Gbk).unwrap(), "中文");
    assert!(matches!(
        decode(&[0x41, 0x42, 0xFF, 0x41], Encoding::Gbk),
        Err(TextError::Invalid {
            encoding: Encoding::Gbk,
            offset: 2,
            ..
        })
    ));
    // A lead byte with nothing after it.
    assert!(matches!(
        decode(&[0xD6, 0xD0, 0xCE], Encoding::Gbk),
        Err(TextError::Invalid {
            encoding: Encoding::Gbk,
            offset: 2,
            ..
        })
    ));
    // A lead byte followed by a byte that cannot trail it.
    assert!(matches!(
        decode(&[0x41, 0xD6, 0x0A], Encoding::Gbk),
        Err(TextError::Invalid {
            encoding: Encoding::Gbk,
            offset: 1,
            ..
        })
    ));
    // Decoding is GB18030 (a superset): a four-byte sequence decodes, but
    // the character is not one GBK can send back.
    assert_eq!(
        decode(&[0x81, 0x30, 0x81, 0x30], Encoding::Gbk).unwrap(),
        "\u{80}"
    );
    assert!(matches!(
        encode("\u{80}", Encoding::Gbk),
        Err(TextError::Unencodable {
            encoding: Encoding::Gbk,
            ..
        })
    ));
    assert_eq!(decode(&[0x80], Encoding::Gbk).unwrap(), "€");
    assert_eq!(
        encode("中😀", Encoding::Gbk),
        Err(TextError::Unencodable {
            encoding: Encoding::Gbk,
            ch: '😀',
            offset: 3
        })
    );
}

#[test]
fn octet_encodings_reject_and_error() {
    assert_eq!(
        encode("aé", Encoding::Ascii),
        Err(TextError::Unencodable {
            encoding: Encoding::Ascii,
            ch: 'é',
            offset: 1
        })
    );
    assert_eq!(encode("aé", Encoding::Latin1).unwrap(), [0x61, 0xE9]);
    assert_eq!(
        encode("a€", Encoding::Latin1),
        Err(TextError::Unencodable {
            encoding: Encoding::Latin1,
            ch: '€',
            offset: 1
        })
    );
    assert!(matches!(
        decode(&[0x41, 0xE9], Encoding::Ascii),
        Err(TextError::Invalid { offset: 1, .. })
    ));
    assert_eq!(decode(&[0x41, 0xE9], Encoding::Latin1).unwrap(), "Aé");
    assert_eq!(decode(&[0x00, 0xff], Encoding::Binary).unwrap(), "00ff");
    assert_eq!(encode("00fF", Encoding::Binary).unwrap(), [0x00, 0xff]);
    assert!(matches!(
        encode("0g", Encoding::Binary),
        Err(TextError::Invalid { offset: 1, .. })
    ));
    assert!(matches!(
        encode("000", Encoding::Binary),
        Err(TextError::Invalid { .. })
    ));
}

#[test]
fn codes() {
    let table = [
        (Encoding::Gsm7, 0, 0),
        (Encoding::Ascii, 0, 1),
        (Encoding::Latin1, 3, 3),
        (Encoding::Binary, 4, 4),
        (Encoding::Ucs2, 8, 8),
        (Encoding::Gbk, 15, 15),
    ];
    for (e, msg_fmt, data_coding) in table {
        assert_eq!(e.msg_fmt(), msg_fmt, "{e}");
        assert_eq!(e.data_coding(), data_coding, "{e}");
    }
    assert_eq!(Encoding::from_msg_fmt(0), Some(Encoding::Ascii));
    assert_eq!(Encoding::from_data_coding(0), Some(Encoding::Gsm7));
    assert_eq!(Encoding::from_msg_fmt(8), Some(Encoding::Ucs2));
    assert_eq!(Encoding::from_msg_fmt(99), None);
    assert_eq!(serde_json::to_string(&Encoding::Gsm7).unwrap(), "\"gsm7\"");
    assert_eq!(
        serde_json::from_str::<Encoding>("\"ucs2\"").unwrap(),
        Encoding::Ucs2
    );
}

#[test]
fn choosing() {
    assert_eq!(choose_encoding(""), Encoding::Gsm7);
    assert_eq!(choose_encoding("Hello {world} €5 @home"), Encoding::Gsm7);
    assert_eq!(choose_encoding("Ünïcödé"), Encoding::Ucs2); // ï is not GSM
    assert_eq!(choose_encoding("验证码 1234"), Encoding::Ucs2);
    assert_eq!(choose_encoding("hi 😀"), Encoding::Ucs2);
}

fn count(text: &str, e: Encoding) -> (usize, usize, usize) {
    let SegmentCount {
        parts,
        units_per_part,
        total_units,
    } = segments(text, e).unwrap();
    (parts, units_per_part, total_units)
}

#[test]
fn gsm7_segment_boundaries() {
    let a = |n| "a".repeat(n);
    assert_eq!(count("", Encoding::Gsm7), (1, 160, 0));
    assert_eq!(count(&a(160), Encoding::Gsm7), (1, 160, 160));
    assert_eq!(count(&a(161), Encoding::Gsm7), (2, 153, 161));
    assert_eq!(count(&a(306), Encoding::Gsm7), (2, 153, 306));
    assert_eq!(count(&a(307), Encoding::Gsm7), (3, 153, 307));
    // Extension characters cost two septets.
    assert_eq!(count(&"€".repeat(80), Encoding::Gsm7), (1, 160, 160));
    assert_eq!(count(&format!("{}€", a(159)), Encoding::Gsm7), (2, 153, 161));
    // 152 + an extension char would straddle part 1 and 2: it moves to part 2.
    let t = format!("{}€{}", a(152), a(152));
    assert_eq!(count(&t, Encoding::Gsm7), (3, 153, 306));
    let t = format!("{}€{}", a(151), a(152));
    assert_eq!(count(&t, Encoding::Gsm7), (2, 153, 305));
}

#[test]
fn ucs2_segment_boundaries() {
    let zh = |n| "中".repeat(n);
    assert_eq!(count(&zh(70), Encoding::Ucs2), (1, 70, 70));
    assert_eq!(count(&zh(71), Encoding::Ucs2), (2, 67, 71));
    assert_eq!(count(&zh(134), Encoding::Ucs2), (2, 67, 134));
    assert_eq!(count(&zh(135), Encoding::Ucs2), (3, 67, 135));
    // Emoji are surrogate pairs: 2 units each.
    assert_eq!(count(&"😀".repeat(35), Encoding::Ucs2), (1, 70, 70));
    assert_eq!(count(&format!("{}😀", zh(69)), Encoding::Ucs2), (2, 67, 71));
    // A pair that would straddle the part boundary (66 + 2 > 67) moves on.
    let t = format!("{}😀{}", zh(66), zh(66));
    assert_eq!(count(&t, Encoding::Ucs2), (3, 67, 134));
    let t = format!("{}😀{}", zh(65), zh(66));
    assert_eq!(count(&t, Encoding::Ucs2), (2, 67, 133));
}

#[test]
fn octet_segment_boundaries() {
    let a = |n| "a".repeat(n);
    for e in [Encoding::Ascii, Encoding::Latin1] {
        assert_eq!(count(&a(140), e), (1, 140, 140));
        assert_eq!(count(&a(141), e), (2, 134, 141));
        assert_eq!(count(&a(268), e), (2, 134, 268));
        assert_eq!(count(&a(269), e), (3, 134, 269));
    }
    assert_eq!(count(&"00".repeat(141), Encoding::Binary), (2, 134, 141));
    // GBK: 2 bytes per Chinese character, never split.
    assert_eq!(count(&"中".repeat(70), Encoding::Gbk), (1, 140, 140));
    assert_eq!(
        count(&format!("a{}", "中".repeat(70)), Encoding::Gbk),
        (2, 134, 141)
    );
    // 1 + 66*2 = 133: the 67th character would straddle, so part 1 ends early.
    assert_eq!(
        count(&format!("a{}", "中".repeat(133)), Encoding::Gbk),
        (2, 134, 267)
    );
    assert_eq!(
        count(&format!("a{}a", "中".repeat(133)), Encoding::Gbk),
        (3, 134, 268)
    );
    assert!(segments("中", Encoding::Ascii).is_err());
}

fn gsm_text() -> impl Strategy<Value = String> {
    let chars: Vec<char> = GSM_CHARS.chars().collect();
    prop::collection::vec(prop::sample::select(chars), 0..400).prop_map(|v| v.into_iter().collect())
}

fn gbk_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::char::range(' ', '~'),
        prop::char::range('\u{4e00}', '\u{9fa5}'),
        Just('€'),
        Just('，'),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn gsm7_round_trip(text in gsm_text()) {
        let septets = encode(&text, Encoding::Gsm7).unwrap();
        prop_assert_eq!(&decode(&septets, Encoding::Gsm7).unwrap(), &text);
        let n = text::segments(&text, Encoding::Gsm7).unwrap().total_units;
        prop_assert_eq!(septets.len(), n);
    }

    #[test]
    fn pack_unpack_round_trip(septets in prop::collection::vec(0u8..0x80, 0..300), fill in 0u8..7) {
        let packed = gsm7::pack_septets(&septets, fill);
        prop_assert_eq!(packed.len(), (usize::from(fill) + 7 * septets.len()).div_ceil(8));
        prop_assert_eq!(gsm7::unpack_septets(&packed, septets.len(), fill).unwrap(), septets.clone());
        let padded = gsm7::pack_padded(&septets, fill);
        prop_assert_eq!(padded.len(), packed.len());
        let back = gsm7::unpack_padded(&padded, fill);
        // TS 23.038's own ambiguity: a real trailing <CR> on an octet boundary.
        if back != septets {
            prop_assert_eq!(septets.last(), Some(&0x0D));
            prop_assert_eq!(&back[..], &septets[..septets.len() - 1]);
        }
    }

    #[test]
    fn ucs2_round_trip(text in any::<String>()) {
        let b = encode(&text, Encoding::Ucs2).unwrap();
        prop_assert_eq!(b.len(), 2 * text.encode_utf16().count());
        prop_assert_eq!(decode(&b, Encoding::Ucs2).unwrap(), text);
    }

    #[test]
    fn gbk_round_trip(chars in prop::collection::vec(gbk_char(), 0..200)) {
        let text: String = chars.into_iter().collect();
        let b = encode(&text, Encoding::Gbk).unwrap();
        prop_assert_eq!(decode(&b, Encoding::Gbk).unwrap(), text);
    }

    #[test]
    fn octet_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let latin: String = decode(&bytes, Encoding::Latin1).unwrap();
        prop_assert_eq!(encode(&latin, Encoding::Latin1).unwrap(), bytes.clone());
        let h = decode(&bytes, Encoding::Binary).unwrap();
        prop_assert_eq!(encode(&h, Encoding::Binary).unwrap(), bytes.clone());
        let ascii: Vec<u8> = bytes.iter().map(|b| b & 0x7F).collect();
        let t = decode(&ascii, Encoding::Ascii).unwrap();
        prop_assert_eq!(encode(&t, Encoding::Ascii).unwrap(), ascii);
    }

    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for e in Encoding::ALL {
            if let Ok(t) = decode(&bytes, e) {
                // Whatever decodes re-encodes (GSM 7-bit may normalise), except
                // GB18030-only characters, which GBK cannot send.
                match encode(&t, e) {
                    Ok(_) => {}
                    Err(TextError::Unencodable { encoding: Encoding::Gbk, .. }) => {}
                    Err(err) => prop_assert!(false, "{} {:?}: {}", e, t, err),
                }
            }
        }
        let _ = gsm7::unpack_padded(&bytes, bytes.first().copied().unwrap_or(0));
    }

    #[test]
    fn chosen_encoding_carries_text(text in any::<String>()) {
        let e = choose_encoding(&text);
        prop_assert!(encode(&text, e).is_ok());
        let c = segments(&text, e).unwrap();
        prop_assert!(c.parts >= 1);
        prop_assert!(c.total_units <= c.parts * c.units_per_part);
    }
}
