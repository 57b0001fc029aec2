//! A snapshot is built in its own task while applies go on (they overwrite,
//! delete and add rows the pass has and has not reached yet), and what it
//! installs elsewhere is exactly the state when the builder was taken, with
//! applies running during the build instead of waiting for it: with the
//! old values kept in memory, and with a memory bound so small that they
//! go to run files again and again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::storage::{RaftSnapshotBuilder, RaftStateMachine};
use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId};
use smsgw_raft::{App, ApplyError, SledStateMachine, Tx, TypeConfig, View};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Commands are `put KEY VALUE` or `del KEY`, as text.
struct Kv;

impl App for Kv {
    fn apply(&self, tx: &mut Tx<'_>, _index: u64, command: &[u8]) -> Result<Vec<u8>, ApplyError> {
        let text = String::from_utf8_lossy(command);
        let mut w = text.splitn(3, ' ');
        match (w.next(), w.next(), w.next()) {
            (Some("put"), Some(k), Some(v)) => tx.put_raw(k.as_bytes().to_vec(), v.as_bytes().to_vec()),
            (Some("del"), Some(k), None) => tx.remove(k.as_bytes().to_vec()),
            _ => {}
        }
        Ok(Vec::new())
    }

    fn query(&self, _view: &View, _query: &[u8]) -> Result<Vec<u8>, ApplyError> {
        Ok(Vec::new())
    }
}

const ROWS: usize = 60_000;

fn key(i: usize) -> String {
    format!("m/{i:08}")
}

fn entry(index: u64, commands: Vec<String>) -> Entry<TypeConfig> {
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
        payload: EntryPayload::Normal(smsgw_raft::Proposal(
            commands.into_iter().map(String::into_bytes).collect(),
        )),
    }
}

fn rows(tree: &sled::Tree) -> BTreeMap<Vec<u8>, Vec<u8>> {
    tree.iter()
        .map(|r| r.expect("row"))
        .filter(|(k, _)| !k.starts_with(b"_/"))
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_built_while_applies_go_on_holds_the_state_of_its_start() {
    let run_files = build_while_applying(None).await;
    assert_eq!(run_files, 0, "the default memory bound spilled on a small state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_whose_kept_values_go_to_run_files_holds_the_state_of_its_start() {
    let run_files = build_while_applying(Some(64 * 1024)).await;
    assert!(
        run_files > 0,
        "a 64 KiB memory bound never spilled: the test shows nothing"
    );
}

/// Builds a snapshot while applies go on, checks it installs as the state
/// of its start, and returns how many run files were seen during the
/// build (`memory`: the pass's memory bound, `None`: the default).
async fn build_while_applying(memory: Option<usize>) -> usize {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sled::Config::new()
        .path(dir.path().join("a"))
        .open()
        .expect("sled");
    let snaps = dir.path().join("snaps-a");
    let mut sm = SledStateMachine::open(&db, Arc::new(Kv), &snaps).expect("open");
    if let Some(bytes) = memory {
        sm = sm.with_snapshot_bounds(bytes, u64::MAX);
    }
    let mut index = 0;
    for chunk in (0..ROWS).collect::<Vec<_>>().chunks(2_000) {
        index += 1;
        let cmds = chunk
            .iter()
            .map(|i| format!("put {} v0-{i}-{}", key(*i), "x".repeat(200)))
            .collect();
        sm.apply(vec![entry(index, cmds)]).await.expect("fill");
    }
    let tree = db.open_tree("sm").expect("sm");
    let expected = rows(&tree);
    let at_start = index;

    let builder = sm.get_snapshot_builder().await;
    // Taking the builder writes nothing: the pass runs in the build's task
    // (it used to stream the whole state here, with every apply waiting).
    let written = std::fs::read_dir(dir.path().join("snaps-a"))
        .expect("snapshot dir")
        .count();
    assert_eq!(written, 0, "the builder wrote the snapshot before the build");
    let build = tokio::spawn(async move {
        let mut builder = builder;
        builder.build_snapshot().await
    });
    // Applies during the build, spread over the whole key range: every
    // tenth row overwritten, every tenth deleted, new rows between them.
    let started = Instant::now();
    let mut applied_during = 0;
    let mut round = 0usize;
    let mut run_files = 0;
    while !build.is_finished() && started.elapsed() < Duration::from_secs(60) {
        round += 1;
        index += 1;
        let mut cmds = Vec::new();
        for i in (round % 10..ROWS).step_by(97) {
            cmds.push(match i % 3 {
                0 => format!("put {} v{round}", key(i)),
                1 => format!("del {}", key(i)),
                _ => format!("put {}-new v{round}", key(i)),
            });
        }
        sm.apply(vec![entry(index, cmds)])
            .await
            .expect("apply during the build");
        applied_during += 1;
        let runs = std::fs::read_dir(&snaps)
            .expect("snapshot dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("undo-"))
            .count();
        run_files = run_files.max(runs);
    }
    let snap = build.await.expect("join").expect("build");
    assert!(
        applied_during > 0,
        "no apply ran while the snapshot was built: the test shows nothing"
    );
    assert_eq!(snap.meta.last_log_id.map(|l| l.index), Some(at_start));

    let db2 = sled::Config::new()
        .path(dir.path().join("b"))
        .open()
        .expect("sled");
    let mut other = SledStateMachine::open(&db2, Arc::new(Kv), &dir.path().join("snaps-b")).expect("open");
    let mut source = snap.snapshot;
    let mut receiving = other.begin_receiving_snapshot().await.expect("receive");
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = source.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        receiving.write_all(&buf[..n]).await.expect("write");
    }
    other
        .install_snapshot(&snap.meta, receiving)
        .await
        .expect("install");
    let installed: BTreeMap<Vec<u8>, Vec<u8>> = other
        .view()
        .scan_prefix(b"m/", usize::MAX)
        .expect("installed rows")
        .into_iter()
        .collect();
    eprintln!(
        "{} rows; {applied_during} entries applied during the build",
        expected.len()
    );
    assert_eq!(installed.len(), expected.len());
    assert!(
        installed == expected,
        "the installed state differs from the state at the build's start"
    );
    assert_ne!(
        rows(&tree),
        expected,
        "the applies during the build changed the live state"
    );
    let left: Vec<_> = std::fs::read_dir(&snaps)
        .expect("snapshot dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("snap-"))
        .collect();
    assert!(left.is_empty(), "files left in the snapshot dir: {left:?}");
    run_files
}
