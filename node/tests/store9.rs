//! Issue 9's storage items through real node processes: a node whose sled
//! page-table snapshot was cut by a full disk (an empty `snap.*.generating`)
//! or is unreadable starts again with every committed message.

mod common;

use std::path::{Path, PathBuf};

use common::Node;
use serde_json::json;

fn snapshot_files(db: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(db)
        .expect("db dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("snap.")))
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
        let r = node.post(&key, &json!({"to": [format!("1380014{i:04}")], "text": format!("kept {i}")}));
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
    assert!(err.contains("removed an unfinished sled page-table snapshot"), "{err}");
    let (ok, err, dir) = node.terminate();
    assert!(ok, "{err}");

    // A complete snapshot that cannot be read: moved aside, rebuilt from the log.
    for snap in snapshot_files(&db) {
        std::fs::write(&snap, b"cut").expect("truncate");
    }
    let node = Node::start_in(dir, &[]);
    all_kept(&node, &key, &ids);
    let err = node.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(err.contains("page-table snapshot was moved aside"), "{err}");
    let quarantined = node.data().join("sled-snapshot-quarantine");
    assert!(quarantined.is_dir());
    let (ok, err, _dir) = node.terminate();
    assert!(ok, "{err}");
}
