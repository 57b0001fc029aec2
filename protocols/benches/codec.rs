//! Encode and decode speed of the PDUs the gateway sends most: a CMPP 3.0
//! SUBMIT carrying a full 70-character UCS-2 part, and an SMPP submit_sm.
//! Throughput is reported in PDUs per second (criterion's elements/s).
//!
//! Run: `cargo bench -p smsgw-protocols --bench codec`.

use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use smsgw_protocols::cmpp::{self, CmppVersion};
use smsgw_protocols::framing::Wire as _;
use smsgw_protocols::smpp;
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::FixedStr;

fn cmpp_submit() -> cmpp::Pdu {
    let body = "台风红色预警：请市民立即停止户外活动，关闭门窗，远离广告牌、临时建筑，注意防范强降雨引发的次生灾害，谢谢配合。";
    let text: String = body.chars().cycle().take(70).collect();
    let s = cmpp::Submit {
        registered_delivery: 1,
        msg_fmt: 8,
        service_id: FixedStr::new("ALERT").unwrap(),
        msg_src: FixedStr::new("900001").unwrap(),
        src_id: FixedStr::new("10658899").unwrap(),
        dest_terminal_ids: vec![FixedStr::new("13800138000").unwrap()],
        msg_content: Bytes::from(text::encode(&text, Encoding::Ucs2).unwrap()),
        ..cmpp::Submit::default()
    };
    cmpp::Pdu::new(42, cmpp::Body::Submit(Box::new(s)))
}

fn smpp_submit() -> smpp::Pdu {
    let mut s = smpp::SubmitSm::new(
        "10658899",
        "8613800138000",
        0,
        Bytes::from_static(b"Your verification code is 552134. It expires in 5 minutes."),
    )
    .unwrap();
    s.registered_delivery = 1;
    smpp::Pdu::new(42, smpp::Body::SubmitSm(s))
}

fn bench(c: &mut Criterion) {
    let opts = cmpp::Options::new(CmppVersion::V30);
    let cmpp_pdu = cmpp_submit();
    let cmpp_frame = cmpp_pdu.to_bytes(&opts).unwrap();
    let smpp_pdu = smpp_submit();
    let mut b = BytesMut::new();
    smpp_pdu.encode(&smpp::Options, &mut b).unwrap();
    let smpp_frame = b.freeze();

    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Elements(1));
    g.bench_function("cmpp3_submit_ucs2_70/decode", |bn| {
        bn.iter(|| cmpp::Cmpp::decode(black_box(cmpp_frame.clone()), &opts).unwrap())
    });
    g.bench_function("cmpp3_submit_ucs2_70/encode", |bn| {
        let mut dst = BytesMut::with_capacity(4096);
        bn.iter(|| {
            dst.clear();
            black_box(&cmpp_pdu).encode(&opts, &mut dst).unwrap();
        })
    });
    g.bench_function("smpp_submit_sm/decode", |bn| {
        bn.iter(|| smpp::Smpp::decode(black_box(smpp_frame.clone()), &smpp::Options).unwrap())
    });
    g.bench_function("smpp_submit_sm/encode", |bn| {
        let mut dst = BytesMut::with_capacity(4096);
        bn.iter(|| {
            dst.clear();
            black_box(&smpp_pdu).encode(&smpp::Options, &mut dst).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
