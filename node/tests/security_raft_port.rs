//! Attacks on the raft/admin port of a real node: a forged admin frame over
//! raw TCP and CLIs with a wrong or missing secret are refused, counted in
//! `smsgw_auth_failures_total{port="raft"}`, and change nothing in the
//! replicated state; the right secret (the README's defaults) still works.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{cli, Node, BIN};
use smsgw_raft::codec::{decode, encode};
use smsgw_raft::network::{AdminRequest, RpcRequest};
use smsgw_raft::{admin_call, AdminResponse, ClusterSecret};
use smsgw_state::{Command, MtPart, Query, QueryResult};

/// Parts, MOs, config documents and the cluster document, read with the
/// node's own secret: what an attacker must not be able to change.
fn digest(node: &Node) -> (u64, u64, u64, Vec<u8>) {
    let secret = ClusterSecret::read_file(&node.data().join("cluster-secret")).expect("node's secret");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let read = |query: Query| AdminRequest::Read {
            query: encode(&query).expect("a query encodes"),
            linearizable: true,
        };
        let counts = admin_call(&secret, &node.raft, read(Query::Counts), Duration::from_secs(5))
            .await
            .expect("counts");
        let AdminResponse::Read(counts) = counts else {
            panic!("unexpected {counts:?}")
        };
        let Ok(QueryResult::Counts {
            parts, mos, configs, ..
        }) = decode(&counts)
        else {
            panic!("unexpected {counts:?}")
        };
        let doc = admin_call(
            &secret,
            &node.raft,
            read(Query::GetConfig {
                key: "cluster".into(),
            }),
            Duration::from_secs(5),
        )
        .await
        .expect("config");
        let AdminResponse::Read(doc) = doc else {
            panic!("unexpected {doc:?}")
        };
        let Ok(QueryResult::Config(Some(doc))) = decode(&doc) else {
            panic!("unexpected {doc:?}")
        };
        (parts, mos, configs, doc)
    })
}

fn auth_failures(node: &Node) -> f64 {
    let r = node.call("GET", "/metrics", None, None);
    let text = r.body.as_str().unwrap_or("").to_string();
    text.lines()
        .find(|l| l.starts_with("smsgw_auth_failures_total{port=\"raft\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn frame(req: &RpcRequest) -> Vec<u8> {
    let body = smsgw_raft::codec::encode(req).expect("encode");
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

#[test]
fn a_forged_admin_frame_over_raw_tcp_is_refused_counted_and_changes_nothing() {
    let node = Node::start(&[]);
    let before = digest(&node);
    let evil_doc = Command::PutConfig {
        key: "cluster".into(),
        value: b"{\"carriers\":[],\"routes\":[],\"accounts\":[]}".to_vec(),
    };
    let evil_parts = Command::AcceptBatch {
        request_id: None,
        messages: vec![MtPart {
            id: "forged.0".into(),
            account: "demo".into(),
            to: "13800138000".into(),
            parts: 1,
            payload: b"forged".to_vec(),
            accepted_at_ms: 0,
            queue: None,
        }],
    };
    for req in [
        RpcRequest::Admin(AdminRequest::Propose(encode(&evil_doc).expect("encode"))),
        RpcRequest::ClientWrite(encode(&evil_parts).expect("encode")),
        RpcRequest::Admin(AdminRequest::HoldElections { ms: 600_000 }),
    ] {
        // An attacker that ignores the handshake and sends a well-formed frame.
        let mut s = TcpStream::connect(&node.raft).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        s.write_all(&frame(&req)).expect("write");
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        // Only the challenge (magic + nonce) ever comes back: no answer.
        assert_eq!(got.len(), 40, "the node answered more than its challenge");
        assert_eq!(&got[..8], b"SMSGWA1\n");
    }
    assert_eq!(auth_failures(&node), 3.0);
    assert_eq!(digest(&node), before, "the replicated state changed");
}

#[test]
fn the_cli_with_a_wrong_or_missing_secret_fails_with_authentication_failed() {
    let node = Node::start(&[]);
    let here = node.dir.path();
    let before = digest(&node);
    let wrong = ClusterSecret::generate();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let wrong_file = elsewhere.path().join("wrong-secret");
    wrong.write_file(&wrong_file).expect("write");
    let runs: Vec<(std::process::Output, &str)> = vec![
        (
            std::process::Command::new(BIN)
                .args(["cluster", "status", "--addr", &node.raft])
                .env("SMSGW_CLUSTER_SECRET", wrong.to_hex())
                .current_dir(here)
                .output()
                .expect("run"),
            "wrong SMSGW_CLUSTER_SECRET",
        ),
        (
            std::process::Command::new(BIN)
                .args(["config", "show", "--addr", &node.raft, "--secret-file"])
                .arg(&wrong_file)
                .current_dir(here)
                .output()
                .expect("run"),
            "wrong --secret-file",
        ),
        (
            std::process::Command::new(BIN)
                .args(["cluster", "transfer-leader", "--to", "2", "--addr", &node.raft])
                .env_remove("SMSGW_CLUSTER_SECRET")
                .current_dir(elsewhere.path())
                .output()
                .expect("run"),
            "no secret at all",
        ),
    ];
    for (out, what) in &runs {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: succeeded");
        assert!(err.contains("authentication failed"), "{what}: {err}");
        assert!(!err.contains(&wrong.to_hex()), "{what}: the secret was printed");
    }
    // Two reached the node with a wrong proof; the third never connected.
    assert_eq!(auth_failures(&node), 2.0);
    // The README's way: the CLI run where the node was started finds its secret.
    let (ok, out, err) = cli(here, &["cluster", "status", "--addr", &node.raft]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Leader"), "{out}");
    assert_eq!(digest(&node), before);
}

#[test]
fn a_node_started_with_a_given_secret_file_accepts_only_that_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = ClusterSecret::generate();
    secret.write_file(&dir.path().join("ops-secret")).expect("write");
    std::fs::write(
        dir.path().join("node.toml"),
        "node_id = 1\ndata_dir = \"d\"\nbootstrap = true\ncluster_secret_file = \"ops-secret\"\n",
    )
    .expect("write");
    let node = Node::start_in(dir, &["--config", "node.toml"]);
    let here = node.dir.path();
    // No secret is created in the data dir when one is given.
    assert!(!here.join("d").join("cluster-secret").exists());
    let (ok, out, err) = cli(
        here,
        &[
            "--secret-file",
            "ops-secret",
            "cluster",
            "status",
            "--addr",
            &node.raft,
        ],
    );
    assert!(ok, "{out}{err}");
    let out = std::process::Command::new(BIN)
        .args(["cluster", "status", "--addr", &node.raft])
        .env("SMSGW_CLUSTER_SECRET", ClusterSecret::generate().to_hex())
        .current_dir(here)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("authentication failed"));
}
