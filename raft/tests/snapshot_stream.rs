//! A snapshot larger than a memory bound is built, received in 1 MiB
//! chunks (as openraft sends it) and installed, and the process's peak
//! resident memory during all three grows by far less than the state: the
//! snapshot streams through files and bounded sled batches. One test in
//! this binary, so the peak is this test's.

use std::sync::Arc;

use openraft::storage::{RaftSnapshotBuilder, RaftStateMachine};
use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId};
use smsgw_raft::{App, ApplyError, SledStateMachine, Tx, TypeConfig, View};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Inert;

impl App for Inert {
    fn apply(&self, _tx: &mut Tx<'_>, _index: u64, _command: &[u8]) -> Result<Vec<u8>, ApplyError> {
        Ok(Vec::new())
    }

    fn query(&self, _view: &View, _query: &[u8]) -> Result<Vec<u8>, ApplyError> {
        Ok(Vec::new())
    }
}

/// About 100 MB of rows of a state's typical size: small rows are what
/// made sled's memory grow with a big install batch.
const ROWS: usize = 500_000;
const VALUE: usize = 200;
/// Building and transferring the snapshot may grow the peak by at most
/// this: buffers and the pages sled reads through its 8 MiB cache (it
/// holds a few times its capacity). Measured +24 MB for this state and +27
/// MB for twice it.
const STREAM_BOUND_MB: u64 = 40;
/// Build, transfer and install together may grow the peak by at most
/// this, whatever the state's size (less than the state here). Measured
/// +52 MB for this state and +56 MB for twice it; installing in 4 MiB sled
/// batches grew it by 395 MB.
const INSTALL_BOUND_MB: u64 = 80;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn small_db(path: &std::path::Path) -> sled::Db {
    sled::Config::new()
        .path(path)
        .cache_capacity(8 * 1024 * 1024)
        .open()
        .expect("sled")
}

fn value(i: usize) -> Vec<u8> {
    let mut v = format!("row {i} ").into_bytes();
    v.resize(VALUE, b'a' + (i % 26) as u8);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_larger_than_the_memory_bound_is_built_and_installed_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = small_db(&dir.path().join("a"));
    let mut sm = SledStateMachine::open(&db, Arc::new(Inert), &dir.path().join("snaps-a")).expect("open");
    {
        let tree = db.open_tree("sm").expect("sm");
        let mut batch = sled::Batch::default();
        for i in 0..ROWS {
            batch.insert(format!("m/{i:08}").into_bytes(), value(i));
            // Small batches, as apply writes them: big ones would grow
            // this process's memory before the peak is even reset.
            if i % 256 == 255 {
                tree.apply_batch(std::mem::take(&mut batch)).expect("fill");
            }
        }
        tree.apply_batch(batch).expect("fill");
    }
    let log_id = LogId::new(CommittedLeaderId::new(1, 1), 7);
    let blank: Entry<TypeConfig> = Entry {
        log_id,
        payload: EntryPayload::Blank,
    };
    sm.apply(vec![blank]).await.expect("apply");
    db.flush().expect("flush");

    let db2 = small_db(&dir.path().join("b"));
    let mut other = SledStateMachine::open(&db2, Arc::new(Inert), &dir.path().join("snaps-b")).expect("open");
    other
        .apply(vec![Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), 1),
            payload: EntryPayload::Blank,
        }])
        .await
        .expect("apply");
    db2.open_tree("sm")
        .expect("sm")
        .insert(b"m/stale", b"x".to_vec())
        .expect("stale row");

    // Peak memory from here on (writing 5 to clear_refs resets VmHWM).
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak");
    let base = status_kb("VmRSS:");

    let snap = sm
        .get_snapshot_builder()
        .await
        .build_snapshot()
        .await
        .expect("build");
    assert_eq!(snap.meta.last_log_id, Some(log_id));
    let after_build = status_kb("VmHWM:");
    let mut source = snap.snapshot;
    let mut receiving = other.begin_receiving_snapshot().await.expect("receive");
    let mut chunk = vec![0u8; 1024 * 1024];
    let mut sent = 0u64;
    loop {
        let n = source.read(&mut chunk).await.expect("read chunk");
        if n == 0 {
            break;
        }
        receiving.write_all(&chunk[..n]).await.expect("write chunk");
        sent += n as u64;
    }
    let after_transfer = status_kb("VmHWM:");
    other
        .install_snapshot(&snap.meta, receiving)
        .await
        .expect("install");
    let peak = status_kb("VmHWM:");
    let grew_mb = peak.saturating_sub(base) / 1024;
    eprintln!(
        "snapshot of {} MB sent in 1 MiB chunks; RSS before {} MB, peak after build {} MB, \
         after transfer {} MB, after install {} MB (+{grew_mb} MB)",
        sent / (1024 * 1024),
        base / 1024,
        after_build / 1024,
        after_transfer / 1024,
        peak / 1024
    );
    assert!(sent > (ROWS * VALUE) as u64, "the snapshot holds the state");
    let streamed_mb = after_transfer.saturating_sub(base) / 1024;
    assert!(
        streamed_mb < STREAM_BOUND_MB,
        "build and transfer grew the peak by {streamed_mb} MB"
    );
    // The install adds sled's own pages of the new tree (flushed every
    // few MiB), never a copy of the whole state nor anything that grows
    // with it.
    let state_mb = sent >> 20;
    assert!(state_mb > INSTALL_BOUND_MB, "the state is larger than the bound");
    assert!(
        grew_mb < INSTALL_BOUND_MB,
        "peak grew by {grew_mb} MB for a {state_mb} MB snapshot"
    );

    let view = other.view();
    assert_eq!(
        view.get_raw(b"m/stale").expect("read"),
        None,
        "the old state is gone"
    );
    for i in (0..ROWS).step_by(997) {
        let got = view.get_raw(format!("m/{i:08}").as_bytes()).expect("read");
        assert_eq!(got, Some(value(i)), "row {i}");
    }
    let (applied, _) = other.applied_state().await.expect("applied");
    assert_eq!(applied, Some(log_id));
    let current = other
        .get_current_snapshot()
        .await
        .expect("current")
        .expect("kept");
    assert_eq!(current.meta.snapshot_id, snap.meta.snapshot_id);
    // A reopen finds the installed tree and nothing left behind.
    drop(other);
    drop(view);
    let other = SledStateMachine::open(&db2, Arc::new(Inert), &dir.path().join("snaps-b")).expect("reopen");
    assert_eq!(other.view().get_raw(b"m/00000000").expect("read"), Some(value(0)));
    let files = std::fs::read_dir(dir.path().join("snaps-b"))
        .expect("dir")
        .count();
    assert_eq!(files, 1, "only the current snapshot file is kept");
}
