//! Issue 9's storage items through real node processes: a node whose sled
//! page-table snapshot was cut by a full disk (an empty `snap.*.generating`)
//! or is unreadable starts again with every committed message; a follower
//! far behind catches up through a streamed snapshot.

mod common;

use std::path::{Path, PathBuf};

use common::Node;
use serde_json::json;

fn snapshot_files(db: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(db)
        .expect("db dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("snap."))
        })
        .collect();
    v.sort();
    v
}

fn all_kept(node: &Node, key: &str, ids: &[String]) {
    for id in ids {
        let g = node.call("GET", &format!("/v1/messages/{id}"), Some(key), None);
        assert_eq!(g.status, 200, "message {id} after the restart: {:?}", g.body);
    }
}

#[test]
fn a_node_whose_sled_snapshot_was_cut_by_a_full_disk_starts_with_every_committed_message() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let mut ids = Vec::new();
    for i in 0..40 {
        let r = node.post(
            &key,
            &json!({"to": [format!("1380014{i:04}")], "text": format!("kept {i}")}),
        );
        assert_eq!(r.status, 202, "{:?}", r.body);
        for m in r.body["messages"].as_array().expect("messages") {
            ids.push(m["id"].as_str().expect("id").to_string());
        }
    }
    let (ok, err, dir) = node.terminate();
    assert!(ok, "{err}");
    // A start writes sled's snapshot of what the last run left.
    let node = Node::start_in(dir, &[]);
    all_kept(&node, &key, &ids);
    let (ok, err, dir) = node.terminate();
    assert!(ok, "{err}");
    let db = dir.path().join("smsgw-data").join("store-v2.sled");
    let snaps = snapshot_files(&db);
    let last = snaps.last().expect("sled wrote its snapshot");

    // What ENOSPC leaves in sled's snapshot write: an empty `.generating`
    // file, which sled reads first and refuses.
    let cut = PathBuf::from(format!("{}.generating", last.display()));
    std::fs::File::create(&cut).expect("empty snapshot");
    let node = Node::start_in(dir, &[]);
    all_kept(&node, &key, &ids);
    let err = node.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(
        err.contains("removed an unfinished sled page-table snapshot"),
        "{err}"
    );
    let (ok, err, dir) = node.terminate();
    assert!(ok, "{err}");

    // A complete snapshot that cannot be read is damage, not a cut write:
    // the node refuses to start and names the store, never rebuilding from
    // whatever part of the log sled can still read.
    for snap in snapshot_files(&db) {
        std::fs::write(&snap, b"cut").expect("truncate");
    }
    let err = common::start_refused(dir.path());
    assert!(err.contains("store-v2.sled"), "{err}");
    assert!(!dir
        .path()
        .join("smsgw-data")
        .join("sled-snapshot-quarantine")
        .exists());
}

#[test]
fn a_follower_stopped_while_thousands_of_entries_were_purged_catches_up_by_a_streamed_snapshot() {
    use std::time::{Duration, Instant};
    let mut nodes = common::start_cluster_env(3, &[], &[("SMSGW_SNAPSHOT_EVERY", "500")]);
    nodes[0].propose_test("a", 300, 3);
    nodes[2].wait_parts(300, Duration::from_secs(20));
    // Node 3 stops with its old state; thousands of entries go by and the
    // others purge them, so only a snapshot can bring it back.
    nodes[2].kill9();
    nodes[0].propose_test("b", 4000, 1);
    for n in &nodes[..2] {
        common::cli_ok(n.dir.path(), &["cluster", "compact", "--addr", &n.raft]);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while nodes[..2]
        .iter()
        .any(|n| n.status().and_then(|s| s.purged_index).unwrap_or(0) < 3000)
    {
        assert!(Instant::now() < deadline, "logs not purged");
        std::thread::sleep(Duration::from_millis(100));
    }
    nodes[2].restart();
    nodes[2].wait_parts(4300, Duration::from_secs(30));
    // The state switches to the installed tree a moment before openraft
    // publishes the snapshot in its metrics.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s3 = nodes[2].status().expect("status of node 3");
        if s3.snapshot_index.unwrap_or(0) >= 3000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node 3 did not install a snapshot: {s3:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(nodes[2].local_parts(), 4300);
    nodes[2].check_test("a", 300);
    nodes[2].check_test("b", 4000);
    // The installed state survives a restart (the switch is durable) and
    // only the current snapshot file is kept.
    nodes[2].restart();
    nodes[2].wait_parts(4300, Duration::from_secs(20));
    let files = std::fs::read_dir(nodes[2].data().join("raft-snapshots"))
        .expect("snapshot dir")
        .count();
    assert_eq!(files, 1);
}

/// The largest log entry is measured (`smsgw_raft_entry_bytes_max`) and
/// stays under the 1 MiB bound even for a 1,000-recipient POST of
/// 1,000-character texts (about 2.7 MB of parts): it is staged (bounded
/// entries, then one commit, `smsgw::state::staging`), and every message is
/// accepted at once, readable, and delivered to the carrier.
#[test]
fn the_largest_log_entry_stays_under_the_bound_for_a_thousand_recipient_post() {
    use std::time::{Duration, Instant};
    let node = Node::start(&[]);
    let key = node.demo_key();
    let metric = |name: &str| common::sim_cluster::metric(&node, name);
    let before = metric("smsgw_raft_entry_bytes_max").unwrap_or(0.0);
    let text: String = "Evacuate block 7 now; assemble at the east gate. "
        .repeat(21)
        .chars()
        .take(1000)
        .collect();
    let to: Vec<String> = (0..1000).map(|i| format!("1380015{i:04}")).collect();
    let r = node.post(&key, &json!({"to": to, "text": text}));
    assert_eq!(r.status, 202, "{:?}", r.body);
    let answers = r.body["messages"].as_array().expect("messages").clone();
    assert_eq!(answers.len(), 1000);
    let bound = smsgw_raft::entry_size::MAX_ENTRY_BYTES as f64;
    let largest = metric("smsgw_raft_entry_bytes_max").expect("the metric");
    eprintln!("largest log entry: {largest} bytes (before the POST: {before})");
    assert!(before < 100_000.0, "{before}");
    assert!(largest <= bound, "an entry of {largest} bytes: over {bound}");
    // It went staged: several chunks and one commit.
    assert_eq!(metric("smsgw_staged_accepts_total"), Some(1.0));
    assert!(metric("smsgw_staged_chunks_total").unwrap_or(0.0) >= 3.0);
    let mut parts = 0;
    for a in &answers {
        let id = a["id"].as_str().expect("id");
        let g = node.call("GET", &format!("/v1/messages/{id}"), Some(&key), None);
        assert_eq!(g.status, 200, "message {id}: {:?}", g.body);
        assert_eq!(g.body["to"], a["to"]);
        assert_eq!(
            g.body["parts"].as_array().map(Vec::len),
            a["parts"].as_u64().map(|n| n as usize)
        );
        parts += a["parts"].as_u64().expect("parts");
    }
    assert!(
        parts >= 7000,
        "1,000 characters are 7 or more parts each: {parts}"
    );
    let control = common::sim_control(&node);
    let deadline = Instant::now() + Duration::from_secs(180);
    let submits = loop {
        let c = common::http(&control, "GET", "/counts", None, None).body;
        let n = c["submits"].as_u64().unwrap_or(0);
        if n >= parts || Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(
        submits, parts,
        "every part of every message reached the carrier once"
    );
    assert!(metric("smsgw_raft_entry_bytes_max").expect("the metric") <= bound);
}
