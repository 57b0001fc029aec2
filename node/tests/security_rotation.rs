//! Rotating the cluster secret of a running two-node cluster by rewriting
//! the secret files (docs/SECURITY.md): POSTs are answered 202 all along
//! (every commit needs both nodes, so any refused raft connection shows),
//! a file that does not parse is logged once and changes nothing, SIGHUP
//! re-reads the file at once, and at
//! the end a CLI with the old secret gets "authentication failed" while
//! the new one works.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{cli, http, start_cluster, Node, BIN};
use serde_json::json;
use smsgw_raft::ClusterSecret;

const KEY: &str = "sk_rotation_test_0123456789";
const RELOADED: &str = "cluster secret file reloaded";
const NOT_RELOADED: &str = "cluster secret file not reloaded";
/// How long each node keeps a step before the next node takes it.
const HOLD: Duration = Duration::from_secs(3);

fn stderr(node: &Node) -> String {
    node.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Writes `text` as an operator should: a temp file renamed into place.
fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

/// Waits until every node logged `what` at least `n` times.
fn wait_logged(nodes: &[Node], what: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    for node in nodes {
        while stderr(node).matches(what).count() < n {
            assert!(
                Instant::now() < deadline,
                "node {} did not log `{what}` {n} times:\n{}",
                node.http,
                stderr(node)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Rewrites `node`'s secret file with `lines` and waits for its reload
/// (its `step`th).
fn rotate(node: &Node, lines: &[&ClusterSecret], step: usize) {
    let text: String = lines.iter().map(|s| format!("{}\n", s.to_hex())).collect();
    replace_file(&node.data().join("cluster-secret"), &text);
    wait_logged(std::slice::from_ref(node), RELOADED, step);
}

fn cli_status(dir: &Path, raft: &str, secret: &ClusterSecret) -> (bool, String, String) {
    let file = dir.join("admin-secret");
    secret.write_file(&file).expect("write");
    let out = std::process::Command::new(BIN)
        .args(["cluster", "status", "--addr", raft, "--secret-file"])
        .arg(&file)
        .env_remove("SMSGW_CLUSTER_SECRET")
        .output()
        .expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_running_cluster_rotates_its_secret_without_a_restart_or_a_failed_post() {
    let nodes = start_cluster(2);
    let here = nodes[0].dir.path();
    let doc = format!(
        "[[carriers]]\nname = \"cm\"\nprotocol = \"cmpp3\"\naddress = \"127.0.0.1:9\"\nlogin = \"900001\"\npassword = \"pw\"\n\n\
         [[routes]]\nprefixes = [\"*\"]\ncarrier = \"cm\"\n\n[[accounts]]\nname = \"app\"\napi_keys = [\"{KEY}\"]\n"
    );
    std::fs::write(here.join("cluster.toml"), doc).expect("write doc");
    let (ok, out, err) = cli(
        here,
        &["config", "apply", "cluster.toml", "--addr", &nodes[1].raft],
    );
    assert!(ok, "apply: {out}{err}");
    let body = json!({"to": ["13800138000"], "text": "during rotation"}).to_string();
    let deadline = Instant::now() + Duration::from_secs(15);
    for n in &nodes {
        while n
            .post(KEY, &json!({"to": ["13800138000"], "text": "warm up"}))
            .status
            != 202
        {
            assert!(Instant::now() < deadline, "node {} never accepted", n.http);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    // POSTs to both nodes, all through the rotation: (phase, status) of each.
    let stop = Arc::new(AtomicBool::new(false));
    let phase = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let poster = {
        let (stop, phase) = (stop.clone(), phase.clone());
        let addrs: Vec<String> = nodes.iter().map(|n| n.http.clone()).collect();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let until = Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                for a in &addrs {
                    let r = http(a, "POST", "/v1/messages", Some(KEY), Some(body.as_bytes()));
                    seen.push((phase.load(Ordering::Relaxed), r.status, r.body.to_string()));
                }
                std::thread::sleep(Duration::from_millis(30));
            }
            seen
        })
    };

    let old = ClusterSecret::read_file(&nodes[0].data().join("cluster-secret")).expect("old secret");
    let new = ClusterSecret::generate();
    std::thread::sleep(HOLD);
    // As an operator would, node by node, each step on every node before the
    // next: 1. accept the new secret too (dial the old); 2. dial the new one
    // (accept the old still); 3. drop the old one (connections made with it
    // are closed). Each node holds its new state for a while, so that a
    // node refusing the other's secret would stall the commits for seconds.
    let steps: [&[&ClusterSecret]; 3] = [&[&old, &new], &[&new, &old], &[&new]];
    for (i, lines) in steps.iter().enumerate() {
        for n in &nodes {
            rotate(n, lines, i + 1);
            phase.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(HOLD);
        }
    }

    // A file that does not parse: logged once, the secrets in force stay.
    replace_file(&nodes[1].data().join("cluster-secret"), "not-a-secret\n");
    wait_logged(&nodes[1..], NOT_RELOADED, 1);
    phase.fetch_add(1, Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        stderr(&nodes[1]).matches(NOT_RELOADED).count(),
        1,
        "{}",
        stderr(&nodes[1])
    );
    assert!(
        !stderr(&nodes[1]).contains(&new.to_hex()),
        "the secret was logged"
    );

    stop.store(true, Ordering::Relaxed);
    let seen = poster.join().expect("poster");
    let failed: Vec<_> = seen.iter().filter(|(_, s, _)| *s != 202).collect();
    assert!(
        failed.is_empty(),
        "{} of {} POSTs failed: {failed:?}",
        failed.len(),
        seen.len()
    );
    // A stalled cluster answers late, not wrong: it shows as few POSTs in a phase.
    for p in 0..=7 {
        let n = seen.iter().filter(|(ph, _, _)| *ph == p).count();
        assert!(n >= 10, "only {n} POSTs answered in phase {p}");
    }

    // SIGHUP re-reads the file at once, even unchanged (which the watcher
    // never does), and the node goes on serving.
    let before = stderr(&nodes[0]).matches(RELOADED).count();
    let pid = nodes[0].child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill")
        .success());
    wait_logged(&nodes[..1], RELOADED, before + 1);
    assert_eq!(
        nodes[0]
            .post(KEY, &json!({"to": ["13800138000"], "text": "after HUP"}))
            .status,
        202
    );

    // The old secret no longer opens the raft port of either node; the new one does.
    let admin = tempfile::tempdir().expect("tempdir");
    for n in &nodes {
        let (ok, out, err) = cli_status(admin.path(), &n.raft, &old);
        assert!(!ok, "the old secret still works on {}: {out}", n.raft);
        assert!(err.contains("authentication failed"), "{err}");
        let (ok, out, err) = cli_status(admin.path(), &n.raft, &new);
        assert!(ok, "{out}{err}");
        assert!(out.contains("Leader"), "{out}");
    }
    for n in nodes {
        let (ok, err, _) = n.terminate();
        assert!(ok, "{err}");
    }
}
