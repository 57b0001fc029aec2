//! Encode and decode speed of what every accepted message goes through in
//! the state machine's codec (bincode 2, serde mode): the `AcceptBatch`
//! command the API proposes, the raft `Proposal` that carries 27 of them in
//! one log entry (this machine's batch under `smsgw bench e2e`), and the
//! part row apply reads and writes back at the submit result and the report.
//! Throughput is in messages per second (criterion's elements/s).
//!
//! Run: `cargo bench -p smsgw-state --bench codec`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use smsgw_raft::codec::{decode, encode};
use smsgw_raft::Proposal;
use smsgw_state::{Command, PartRecord};
use support::{head, PER_ENTRY};

mod support;

fn accept(i: u64) -> Command {
    Command::AcceptBatch {
        request_id: None,
        messages: vec![head(i)],
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("state codec");
    g.throughput(Throughput::Elements(1));
    let cmd = accept(1);
    let bytes = encode(&cmd).expect("encode");
    g.bench_function("AcceptBatch encode", |b| b.iter(|| encode(black_box(&cmd))));
    g.bench_function("AcceptBatch decode", |b| {
        b.iter(|| decode::<Command>(black_box(&bytes)))
    });
    let row = PartRecord {
        part: head(1),
        accepted_index: 21,
        carrier_msg_id: Some("0x7f3a9c21".into()),
        submit_status: Some("0".into()),
        submitted_at_ms: Some(1_796_460_382_900),
        report_state: None,
        reported_at_ms: None,
        ready_seq: Some(11),
    };
    let row_bytes = encode(&row).expect("encode");
    g.bench_function("part row decode + encode", |b| {
        b.iter(|| {
            let r: PartRecord = decode(black_box(&row_bytes)).expect("decode");
            encode(&r)
        })
    });
    g.throughput(Throughput::Elements(PER_ENTRY));
    let entry = Proposal(
        (0..PER_ENTRY)
            .map(|i| encode(&accept(i)).expect("encode"))
            .collect(),
    );
    let entry_bytes = encode(&entry).expect("encode");
    g.bench_function("log entry of 27 accepts, encode", |b| {
        b.iter(|| encode(black_box(&entry)))
    });
    g.bench_function("log entry of 27 accepts, decode", |b| {
        b.iter(|| decode::<Proposal>(black_box(&entry_bytes)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
