//! The state machine's cost per message, without raft or the network: the
//! three commands of a delivered one-part message (its accept, the
//! carrier's submit answer, its report) applied as `Domain` applies them,
//! 27 to a log entry (this machine's batch under `smsgw bench e2e`), each
//! entry's writes committed to sled as one batch. The store starts with
//! 20,000 delivered messages, so reads and writes walk a tree of a few
//! hundred thousand keys, not an empty one.
//!
//! Run: `cargo bench -p smsgw-state --bench apply`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smsgw_raft::codec::encode;
use smsgw_raft::{App, Tx};
use smsgw_state::{Command, Domain, MtPart};
use support::{head, message_id, PER_ENTRY};

mod support;

/// Delivered messages in the store before the bench.
const HISTORY: u64 = 20_000;

fn part(i: u64) -> MtPart {
    MtPart {
        id: format!("{}.1", message_id(i)),
        queue: None,
        payload: format!("Your verification code is {i:06}.").into_bytes(),
        ..head(i)
    }
}

/// The three entries of messages `from..from + PER_ENTRY`, encoded.
fn lives(from: u64) -> [Vec<Vec<u8>>; 3] {
    let ids = from..from + PER_ENTRY;
    let accepts = ids
        .clone()
        .map(|i| Command::AcceptBatch {
            request_id: None,
            messages: vec![head(i), part(i)],
        })
        .collect();
    let submits = ids
        .clone()
        .map(|i| Command::RecordSubmit {
            part_id: format!("{}.1", message_id(i)),
            carrier: "china-mobile".into(),
            carrier_msg_id: format!("{i:016x}"),
            status: "0".into(),
            at_ms: 1_796_460_383_000 + i,
        })
        .collect();
    let reports = ids
        .map(|i| Command::RecordReport {
            carrier: "china-mobile".into(),
            carrier_msg_id: format!("{i:016x}"),
            state: "DELIVRD".into(),
            at_ms: 1_796_460_384_000 + i,
        })
        .collect();
    [accepts, submits, reports].map(|cmds| vec![encode(&Command::Batch(cmds)).expect("encode")])
}

/// Applies one log entry of `commands` and commits its writes.
fn apply_entry(tree: &sled::Tree, index: u64, commands: &[Vec<u8>]) {
    let mut tx = Tx::new(tree);
    for c in commands {
        Domain.apply(&mut tx, index, c).expect("apply");
    }
    tree.apply_batch(tx.into_batch()).expect("commit");
}

fn bench(c: &mut Criterion) {
    let db = sled::Config::new().temporary(true).open().expect("sled");
    let tree = db.open_tree("sm").expect("tree");
    let mut index = 1;
    let mut next = 0;
    while next < HISTORY {
        for entry in lives(next) {
            apply_entry(&tree, index, &entry);
            index += 1;
        }
        next += PER_ENTRY;
    }
    let mut g = c.benchmark_group("state apply");
    g.throughput(Throughput::Elements(PER_ENTRY));
    g.bench_function("27 messages: accept, submit answer, report", |b| {
        b.iter(|| {
            for entry in lives(next) {
                apply_entry(&tree, index, &entry);
                index += 1;
            }
            next += PER_ENTRY;
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
