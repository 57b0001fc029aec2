//! Issue 18, through storage faults, with real node processes: the
//! high-water mark refuses new messages with 507 `storage_full` before the
//! disk fills and lets them in again without a restart; raft stopped by a
//! storage error is rebuilt in-process; refused requests do not flood the
//! log; what was accepted is delivered; a damaged data dir is named at start
//! and by `node check`. The faults come from the test-only switch
//! (`DATA_DIR/test-storage-fault`, feature `test-commands`), so no root is
//! needed; the tiny-filesystem test runs only as root.

mod common;

use std::time::{Duration, Instant};

use common::{cli, http, sim_control, Node, Resp};
use serde_json::json;

const FAULT_FILE: &str = "test-storage-fault";

fn send(node: &Node, key: &str, i: usize) -> Resp {
    node.post(
        key,
        &json!({"to": [format!("1380013{:04}", i % 10_000)], "text": format!("storage {i}")}),
    )
}

/// Posts until `pred` holds on a response (at most `secs`); returns it.
fn until(node: &Node, key: &str, secs: u64, pred: impl Fn(&Resp) -> bool, seen: &mut Vec<Resp>) -> Resp {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut i = 50_000;
    loop {
        let r = send(node, key, i);
        i += 1;
        if pred(&r) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "not within {secs} s; last answer {r:?}"
        );
        seen.push(r);
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn stderr_lines(node: &Node, needle: &str) -> usize {
    let err = node.stderr.lock().unwrap_or_else(|p| p.into_inner());
    err.lines().filter(|l| l.contains(needle)).count()
}

/// Every accepted id reaches DELIVERED within 45 s.
fn all_delivered(node: &Node, key: &str, ids: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(45);
    let mut pending: Vec<&String> = ids.iter().collect();
    while !pending.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} accepted messages not delivered, e.g. {:?}",
            pending.len(),
            node.call("GET", &format!("/v1/messages/{}", pending[0]), Some(key), None)
                .body
        );
        pending.retain(|id| {
            let g = node.call("GET", &format!("/v1/messages/{id}"), Some(key), None);
            g.body["status"] != "DELIVERED"
        });
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn accepted_ids(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, 202, "{:?}", r.body);
    r.body["messages"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Refused requests keep coming for a while: the log stays bounded (one
/// line per error code per 10 s, so 1 + one more per 10 s elapsed); returns
/// that bound.
fn hammer_refused(node: &Node, key: &str, code: &str, n: usize) -> usize {
    let started = Instant::now();
    for i in 0..n {
        let r = send(node, key, 70_000 + i);
        assert_eq!(r.code(), code, "{:?}", r.body);
    }
    1 + (started.elapsed().as_secs() / 10) as usize
}

#[test]
fn under_the_high_water_mark_new_messages_get_507_and_accepting_resumes_without_restart() {
    let mut node = Node::start(&["--storage-min-free-mb", "64"]);
    let key = node.demo_key();
    let control = sim_control(&node);
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.extend(accepted_ids(&send(&node, &key, i)));
    }
    // The disk "fills" under the mark (1 MiB free, mark 64 MiB).
    std::fs::write(node.data().join(FAULT_FILE), "free=1048576\n").expect("fault file");
    let mut seen = Vec::new();
    let r = until(&node, &key, 5, |r| r.status == 507, &mut seen);
    assert!(seen.iter().all(|r| r.status == 202), "{seen:?}");
    for r in &seen {
        ids.extend(accepted_ids(r));
    }
    assert_eq!(r.code(), "storage_full", "{:?}", r.body);
    let msg = r.body["error"]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("1 MiB free") && msg.contains("storage_min_free_mb"),
        "{msg}"
    );
    let ready = node.call("GET", "/readyz", None, None);
    assert_eq!(ready.status, 503, "{:?}", ready.body);
    assert!(
        ready.body["checks"]["storage"]
            .as_str()
            .unwrap_or("")
            .contains("1 MiB free"),
        "{:?}",
        ready.body
    );
    let metrics = node.call("GET", "/metrics", None, None);
    let text = metrics.body.as_str().unwrap_or("");
    assert!(text.contains("smsgw_storage_free_bytes 1048576"), "{text}");
    assert!(text.contains("smsgw_storage_used_bytes"), "{text}");

    // 300 refused requests: a bounded number of log lines.
    let before = stderr_lines(&node, "storage_full");
    let bound = hammer_refused(&node, &key, "storage_full", 300);
    std::thread::sleep(Duration::from_millis(300));
    let logged = stderr_lines(&node, "storage_full") - before;
    assert!(logged <= bound, "{logged} log lines for 300 refused requests");

    // What was accepted is still sent.
    all_delivered(&node, &key, &ids);
    let counts = http(&control, "GET", "/counts", None, None);
    assert_eq!(
        counts.body["submits"].as_u64(),
        Some(ids.len() as u64),
        "{:?}",
        counts.body
    );

    // Space returns: accepting again within seconds, same process.
    std::fs::remove_file(node.data().join(FAULT_FILE)).expect("clear fault");
    let r = until(&node, &key, 5, |r| r.status == 202, &mut Vec::new());
    ids.extend(accepted_ids(&r));
    let ready = node.call("GET", "/readyz", None, None);
    assert_eq!(ready.body["checks"]["storage"], "ok", "{:?}", ready.body);
    assert!(
        node.child.try_wait().expect("wait").is_none(),
        "the node did not restart"
    );
    all_delivered(&node, &key, &ids);
}

#[test]
fn raft_stopped_by_a_storage_error_answers_storage_full_and_is_rebuilt_in_process() {
    // No high-water mark: the disk fills under raft itself.
    let mut node = Node::start(&["--storage-min-free-mb", "0"]);
    let key = node.demo_key();
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.extend(accepted_ids(&send(&node, &key, i)));
    }
    // Log appends now fail as on a full disk (1 MiB left): raft stops.
    std::fs::write(node.data().join(FAULT_FILE), "raft-full\nfree=1048576\n").expect("fault file");
    let mut seen = Vec::new();
    let r = until(&node, &key, 10, |r| r.code() == "storage_full", &mut seen);
    assert_eq!(r.status, 507, "{:?}", r.body);
    for r in &seen {
        // Before the fault was seen, or in flight when raft stopped; never
        // a lost majority on a one-node cluster.
        assert!(r.status == 202 || r.code() == "outcome_unknown", "{:?}", r.body);
        if r.status == 202 {
            ids.extend(accepted_ids(r));
        }
    }
    let ready_deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ready = node.call("GET", "/readyz", None, None);
        let storage = ready.body["checks"]["storage"].as_str().unwrap_or("").to_string();
        if storage.contains("raft stopped on a storage error") {
            assert_eq!(ready.status, 503);
            break;
        }
        assert!(Instant::now() < ready_deadline, "{:?}", ready.body);
        std::thread::sleep(Duration::from_millis(100));
    }
    // Reads that need the leader say the same, not "no quorum".
    let g = node.call("GET", &format!("/v1/messages/{}", ids[0]), Some(&key), None);
    assert_eq!((g.status, g.code()), (507, "storage_full"), "{:?}", g.body);
    let before = stderr_lines(&node, "storage_full");
    let bound = hammer_refused(&node, &key, "storage_full", 200);
    std::thread::sleep(Duration::from_millis(300));
    let logged = stderr_lines(&node, "storage_full") - before;
    assert!(logged <= bound, "{logged} log lines for 200 refused requests");

    // The fault clears: the node rebuilds raft itself and accepts again.
    std::fs::remove_file(node.data().join(FAULT_FILE)).expect("clear fault");
    let r = until(&node, &key, 20, |r| r.status == 202, &mut Vec::new());
    ids.extend(accepted_ids(&r));
    assert_eq!(stderr_lines(&node, "raft rebuilt in-process"), 1);
    assert!(
        node.child.try_wait().expect("wait").is_none(),
        "the node did not restart"
    );
    all_delivered(&node, &key, &ids);
    let (ok, err, _) = node.terminate();
    assert!(ok, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_damaged_data_file_is_named_at_start_and_by_node_check() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    for i in 0..30 {
        accepted_ids(&send(&node, &key, i));
    }
    let (ok, err, dir) = node.terminate();
    assert!(ok, "{err}");
    let data = dir.path().join("smsgw-data");
    let data_arg = data.to_string_lossy().to_string();
    let (ok, out, err) = cli(dir.path(), &["node", "check", "--data-dir", &data_arg]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("storage sound"), "{out}");

    // Damage the database file: 2 KiB of flipped bits near its start
    // (sled would open it and silently keep what precedes the damage).
    let db = data.join("store-v2.sled").join("db");
    let mut bytes = std::fs::read(&db).expect("db file");
    assert!(bytes.len() > 4096, "{} bytes", bytes.len());
    for b in &mut bytes[1000..3000] {
        *b ^= 0x55;
    }
    std::fs::write(&db, &bytes).expect("damage");

    let (ok, out, err) = cli(dir.path(), &["node", "check", "--data-dir", &data_arg]);
    assert!(!ok, "{out}{err}");
    assert!(out.contains("DAMAGED") && out.contains("store-v2.sled"), "{out}");
    assert!(out.contains("rejoin") || out.contains("snapshot"), "{out}");
    assert!(!err.contains("panicked"), "{err}");

    let err = common::start_refused(dir.path());
    assert!(err.contains("store-v2.sled") && err.contains("damaged"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0")
}

/// Unmounts the tiny filesystem however the test ends (after the node is gone).
struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_real_full_disk_stops_raft_with_storage_full_and_freeing_space_brings_it_back() {
    if !is_root() {
        eprintln!("skipped: mounting a 16 MiB tmpfs as the data dir needs root (the fault-switch tests cover the same paths)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("smsgw-data");
    std::fs::create_dir_all(&data).expect("mount point");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
        .arg(&data)
        .status()
        .expect("mount");
    if !mounted.success() {
        eprintln!("skipped: this root cannot mount a tmpfs (a container without CAP_SYS_ADMIN?)");
        return;
    }
    let _mount = Mount(data.clone());
    let node = Node::start_in(dir, &["--storage-min-free-mb", "0"]);
    let key = node.demo_key();
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.extend(accepted_ids(&send(&node, &key, i)));
    }
    // Fill the filesystem to the last byte, as an operator's mistake would.
    let ballast = node.data().join("ballast");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&ballast).expect("ballast");
        let chunk = vec![0u8; 64 * 1024];
        while let Ok(n) = f.write(&chunk) {
            if n == 0 {
                break;
            }
        }
        let _ = f.sync_all();
    }
    // Requests until raft meets ENOSPC: never `no_quorum`.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 100;
    let refused = loop {
        let r = send(&node, &key, i);
        i += 1;
        match r.status {
            202 => ids.extend(accepted_ids(&r)),
            507 => break r,
            _ => assert_eq!(r.code(), "outcome_unknown", "{:?}", r.body),
        }
        assert!(Instant::now() < deadline, "the full disk never refused a write");
    };
    assert_eq!(refused.code(), "storage_full", "{:?}", refused.body);
    // Space returns: the node reopens its store and rebuilds raft itself.
    std::fs::remove_file(&ballast).expect("free space");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = send(&node, &key, i);
        i += 1;
        if r.status == 202 {
            ids.extend(accepted_ids(&r));
            break;
        }
        if Instant::now() > deadline {
            let err = node.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let tail: Vec<&str> = err
                .lines()
                .filter(|l| !l.contains(" INFO ") && !l.contains("CheckIsLeader") && !l.contains("reconcile"))
                .rev()
                .take(30)
                .collect();
            panic!(
                "not accepting 30 s after space returned: {:?}\n{}",
                r.body,
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(stderr_lines(&node, "raft rebuilt in-process"), 1);
    all_delivered(&node, &key, &ids);
    drop(node);
}
