//! Fuzzes the text layer: every decoder on arbitrary bytes (whatever decodes
//! must re-encode, and for the lossless encodings to the same bytes), GSM
//! unpacking with every fill, `udh::parse_udh` and `part_payload`, and a
//! bounded `Reassembler` fed parts cut from the input, which must never hold
//! more than its limits or lose a part without reporting it.

#![no_main]

use std::time::{Duration, Instant};

use bytes::Bytes;
use smsgw_protocols::text::{self, gsm7, Encoding};
use smsgw_protocols::udh::{
    self, part_payload, Concat, Gsm7Packing, PushOutcome, Reassembler, ReassemblerLimits,
};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for e in Encoding::ALL {
        if let Ok(t) = text::decode(data, e) {
            let back = match text::encode(&t, e) {
                Ok(back) => back,
                // GBK decoding accepts GB18030's four-byte sequences, whose
                // characters GBK cannot send back.
                Err(text::TextError::Unencodable {
                    encoding: Encoding::Gbk,
                    ..
                }) => continue,
                Err(err) => panic!("{e}: decoded text must re-encode: {err}"),
            };
            if matches!(
                e,
                Encoding::Ucs2 | Encoding::Latin1 | Encoding::Binary | Encoding::Ascii
            ) {
                assert_eq!(back, data, "{e} round trip");
            }
            let _ = text::segments(&t, e);
            let _ = udh::split(&t, udh::SplitRule::new(e), 1);
        }
    }
    for fill in 0..7 {
        let septets = gsm7::unpack_padded(data, fill);
        let _ = gsm7::unpack_septets(data, data.len(), fill);
        assert!(septets.iter().all(|&s| s < 0x80));
    }
    if let Ok(t) = std::str::from_utf8(data) {
        let e = text::choose_encoding(t);
        let segs = udh::split(t, udh::SplitRule::new(e).with_style(udh::ConcatStyle::Udh16), 0x1234).expect("chosen encoding carries the text");
        assert!(!segs.is_empty());
    }

    let content = Bytes::copy_from_slice(data);
    if let Ok((h, payload)) = udh::parse_udh(data) {
        assert_eq!(h.encoded_len() + payload.len(), data.len());
    }
    for e in Encoding::ALL {
        let _ = part_payload(&content, true, e, Gsm7Packing::Packed);
    }

    // Parts from the input: each record is [ref, total, seq, len, payload..].
    let limits = ReassemblerLimits {
        max_messages: 4,
        max_parts: 8,
        max_bytes: 64,
        timeout: Duration::from_secs(10),
    };
    let mut r = Reassembler::new(limits);
    let t0 = Instant::now();
    let mut rest = data;
    let mut step = 0u64;
    let (mut pushed, mut accounted) = (0u64, 0u64);
    while let [reference, total, seq, len, tail @ ..] = rest {
        let n = usize::from(*len % 16).min(tail.len());
        let (payload, tail) = tail.split_at(n);
        rest = tail;
        step += 1;
        let now = t0 + Duration::from_secs(step);
        let concat = Concat {
            reference: u16::from(*reference % 4),
            wide_reference: false,
            total: *total % 10,
            seq: *seq % 10,
        };
        let p = r.push("s", "r", concat, Bytes::copy_from_slice(payload), now);
        pushed += 1;
        accounted += p.evicted.iter().map(|i| i.parts.len() as u64).sum::<u64>();
        match &p.outcome {
            PushOutcome::Complete(m) => accounted += m.parts.len() as u64,
            PushOutcome::Duplicate | PushOutcome::Rejected { .. } => accounted += 1,
            PushOutcome::Buffered => {}
        }
        let s = r.stats();
        assert!(s.pending_messages <= limits.max_messages);
        assert!(s.pending_bytes <= limits.max_bytes);
        if step.trailing_zeros() >= 2 {
            accounted += r.expire(now).iter().map(|i| i.parts.len() as u64).sum::<u64>();
        }
    }
    let end = t0 + Duration::from_secs(step + 1_000);
    accounted += r.expire(end).iter().map(|i| i.parts.len() as u64).sum::<u64>();
    assert!(r.is_empty());
    assert_eq!(
        pushed, accounted,
        "every part is delivered, rejected, counted or returned"
    );
});
