//! Helpers for the multi-process cluster tests: start `smsgw node start`
//! processes on 127.0.0.1, read their bound address, run CLI commands, and
//! kill every process on drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use smsgw_raft::{admin_call, AdminRequest, AdminResponse, ClusterSecret, NodeStatus};
use smsgw_state::{Query, QueryResult};

pub const BIN: &str = env!("CARGO_BIN_EXE_smsgw");

/// The cluster secret every node and CLI call of these tests shares (hex).
pub const SECRET_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

pub fn secret() -> ClusterSecret {
    ClusterSecret::from_hex(SECRET_HEX, "test").expect("test secret")
}

pub struct Node {
    pub id: u64,
    pub dir: PathBuf,
    pub addr: String,
    pub child: Option<Child>,
    pub env: Vec<(String, String)>,
}

impl Node {
    /// Starts node `id` with data in `root/n{id}` on `addr` (port 0 allowed).
    pub fn start(root: &Path, id: u64, addr: &str, bootstrap: bool, env: &[(&str, &str)]) -> Node {
        let mut node = Node {
            id,
            dir: root.join(format!("n{id}")),
            addr: addr.to_string(),
            child: None,
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        node.spawn(bootstrap);
        node
    }

    fn spawn(&mut self, bootstrap: bool) {
        let cfg = self.dir.with_extension("toml");
        let secret_file = self.dir.with_extension("secret");
        secret().write_file(&secret_file).expect("write secret");
        let text = format!(
            "node_id = {}\ndata_dir = \"{}\"\nraft_addr = \"{}\"\nhttp_addr = \"127.0.0.1:0\"\nbootstrap = {bootstrap}\n\
             cluster_secret_file = \"{}\"\n",
            self.id,
            self.dir.display(),
            self.addr,
            secret_file.display()
        );
        std::fs::write(&cfg, text).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args(["node", "start", "--config"])
            .arg(&cfg)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn smsgw");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).expect("node did not print its ready line");
            if let Some(addr) = line.split("raft=").nth(1) {
                // `... ready raft=ADDR http=ADDR`
                self.addr = addr.split_whitespace().next().unwrap_or_default().to_string();
                break;
            }
        }
        self.child = Some(child);
    }

    /// Restarts the node on the same address and data dir.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn(false);
    }

    /// SIGKILL, no shutdown.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Starts `n` nodes under `root` and forms them into one cluster with
/// `cluster init` through the first; returns them and their raft addresses.
pub fn start_cluster(root: &Path, n: u64) -> (Vec<Node>, Vec<String>) {
    let nodes: Vec<Node> = (1..=n)
        .map(|id| Node::start(root, id, "127.0.0.1:0", false, &[]))
        .collect();
    let spec: Vec<String> = nodes.iter().map(|n| format!("{}={}", n.id, n.addr)).collect();
    let mut init = vec!["cluster", "init", "--addr", nodes[0].addr.as_str()];
    for s in &spec {
        init.extend(["--node", s.as_str()]);
    }
    cli_ok(&init);
    let addrs = nodes.iter().map(|n| n.addr.clone()).collect();
    (nodes, addrs)
}

/// Runs the CLI (with the cluster's secret in its environment).
pub fn cli(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env("SMSGW_CLUSTER_SECRET", SECRET_HEX)
        .output()
        .expect("run smsgw")
}

/// Runs the CLI and asserts success.
pub fn cli_ok(args: &[&str]) -> String {
    let out = cli(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "smsgw {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn status(addr: &str) -> Option<NodeStatus> {
    rt().block_on(async {
        match admin_call(&secret(), addr, AdminRequest::Status, Duration::from_secs(2)).await {
            Ok(AdminResponse::Status(s)) => Some(*s),
            _ => None,
        }
    })
}

/// Waits until some node among `addrs` reports itself leader; returns its id.
pub fn wait_leader(addrs: &[&str], timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        for a in addrs {
            if let Some(s) = status(a) {
                if s.state == "Leader" {
                    return s.id;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no leader among {addrs:?} within {timeout:?}");
}

/// Local (possibly stale) part count of one node.
pub fn local_parts(addr: &str) -> u64 {
    rt().block_on(async {
        let req = AdminRequest::Read {
            query: smsgw_raft::codec::encode(&Query::Counts).expect("a query encodes"),
            linearizable: false,
        };
        match admin_call(&secret(), addr, req, Duration::from_secs(2)).await {
            Ok(AdminResponse::Read(bytes)) => match smsgw_raft::codec::decode(&bytes) {
                Ok(QueryResult::Counts { parts, .. }) => parts,
                _ => 0,
            },
            _ => 0,
        }
    })
}

pub fn wait_parts(addr: &str, n: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while local_parts(addr) < n {
        assert!(
            Instant::now() < deadline,
            "node at {addr} has {} parts, expected {n}",
            local_parts(addr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
