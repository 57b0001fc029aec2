//! A snapshot chunk on the raft port (`snapshot_max_chunk_size`, 1 MiB):
//! encoded and decoded as the wire does it (`RpcRequest::InstallSnapshot`,
//! the chunk as one byte string) and as openraft's own serde derive does it
//! (a call per byte), which writes the same bytes. Throughput in bytes/s.
//!
//! Run: `cargo bench -p smsgw-raft --bench wire`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use openraft::raft::InstallSnapshotRequest;
use smsgw_raft::codec::{decode, decode_frame, encode};
use smsgw_raft::network::wire::RpcRequest;
use smsgw_raft::TypeConfig;

const CHUNK: usize = 1024 * 1024;

fn bench(c: &mut Criterion) {
    let chunk = InstallSnapshotRequest::<TypeConfig> {
        vote: openraft::Vote::new_committed(7, 2),
        meta: openraft::SnapshotMeta {
            snapshot_id: "7-2-1234".into(),
            ..Default::default()
        },
        offset: 0,
        data: (0..=255u8).cycle().take(CHUNK).collect(),
        done: false,
    };
    let mut g = c.benchmark_group("snapshot chunk");
    g.throughput(Throughput::Bytes(CHUNK as u64));
    g.sample_size(20);
    let req = RpcRequest::InstallSnapshot(chunk.clone());
    let wire = encode(&req).expect("encode");
    let derived = encode(&chunk).expect("encode");
    g.bench_function("encode, as the wire does", |b| b.iter(|| encode(black_box(&req))));
    g.bench_function("encode, openraft's derive", |b| {
        b.iter(|| encode(black_box(&chunk)))
    });
    g.bench_function("decode, as the wire does", |b| {
        b.iter(|| decode_frame::<RpcRequest>(black_box(&wire)))
    });
    g.bench_function("decode, openraft's derive", |b| {
        b.iter(|| decode::<InstallSnapshotRequest<TypeConfig>>(black_box(&derived)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
