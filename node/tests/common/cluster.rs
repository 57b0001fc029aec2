//! Clusters of real nodes for the tests: members started from node files
//! (ids 1..=n, each in its own temp dir, one cluster secret placed in every
//! data dir as an operator would), formed with `smsgw cluster init`, and
//! the raft-port queries the tests wait on (status, leader, local part
//! count), signed with the secret from the node's own data dir.

use std::time::{Duration, Instant};

use smsgw_raft::{admin_call, AdminRequest, AdminResponse, ClusterSecret, NodeStatus};
use smsgw_state::{Query, QueryResult};

use super::{cli, cli_ok, Node};

/// `n` members formed into one cluster with `cluster init` through the first.
pub fn start_cluster(n: u64) -> Vec<Node> {
    start_cluster_with(n, &[])
}

/// As [`start_cluster`], each node started with `extra` arguments too.
pub fn start_cluster_with(n: u64, extra: &[&str]) -> Vec<Node> {
    start_cluster_env(n, extra, &[])
}

/// As [`start_cluster_with`], with environment variables for every node.
pub fn start_cluster_env(n: u64, extra: &[&str], env: &[(&str, &str)]) -> Vec<Node> {
    let secret = ClusterSecret::generate();
    let nodes: Vec<Node> = (1..=n).map(|id| start_member(&secret, id, extra, env)).collect();
    let mut init = vec![
        "cluster".to_string(),
        "init".into(),
        "--addr".into(),
        nodes[0].raft.clone(),
    ];
    for n in &nodes {
        init.extend(["--node".into(), format!("{}={}", n.id, n.raft)]);
    }
    let init: Vec<&str> = init.iter().map(String::as_str).collect();
    cli_ok(nodes[0].dir.path(), &init);
    nodes
}

/// Node `id` started from a node file, waiting to be made a member (by
/// `cluster init` or `cluster add`), sharing `secret` with the others.
pub fn start_member(secret: &ClusterSecret, id: u64, extra: &[&str], env: &[(&str, &str)]) -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("smsgw-data");
    std::fs::create_dir_all(&data).expect("data dir");
    secret
        .write_file(&data.join("cluster-secret"))
        .expect("write secret");
    std::fs::write(
        dir.path().join("node.toml"),
        format!("node_id = {id}\ndata_dir = \"smsgw-data\"\n"),
    )
    .expect("write node file");
    let mut args = vec!["--config", "node.toml"];
    args.extend_from_slice(extra);
    Node::start_with_env(dir, &args, env)
}

impl Node {
    /// The cluster secret in this node's data dir.
    pub fn secret(&self) -> ClusterSecret {
        ClusterSecret::read_file(&self.data().join("cluster-secret")).expect("the node's cluster secret")
    }

    /// Raft status over the raft port; `None` when the node does not answer
    /// within 2 s (stopped, or killed).
    pub fn status(&self) -> Option<NodeStatus> {
        match block_on(admin_call(
            &self.secret(),
            &self.raft,
            AdminRequest::Status,
            Duration::from_secs(2),
        )) {
            Ok(AdminResponse::Status(s)) => Some(*s),
            _ => None,
        }
    }

    /// This node's own (possibly stale) count of message parts; 0 when it
    /// does not answer.
    pub fn local_parts(&self) -> u64 {
        let req = AdminRequest::Read {
            query: smsgw_raft::codec::encode(&Query::Counts).expect("a query encodes"),
            linearizable: false,
        };
        match block_on(admin_call(
            &self.secret(),
            &self.raft,
            req,
            Duration::from_secs(2),
        )) {
            Ok(AdminResponse::Read(bytes)) => match smsgw_raft::codec::decode(&bytes) {
                Ok(QueryResult::Counts { parts, .. }) => parts,
                _ => 0,
            },
            _ => 0,
        }
    }

    /// Waits until this node holds at least `n` parts.
    pub fn wait_parts(&self, n: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let have = self.local_parts();
            if have >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {} has {have} parts, expected {n}",
                self.id
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `smsgw cluster propose-test` through this node: test messages
    /// `PREFIX-0..count`, `batch` per proposal; returns (success, stdout, stderr).
    pub fn try_propose_test(&self, prefix: &str, count: u64, batch: u64) -> (bool, String, String) {
        let (count, batch) = (count.to_string(), batch.to_string());
        cli(
            self.dir.path(),
            &[
                "cluster",
                "propose-test",
                "--addr",
                &self.raft,
                "--prefix",
                prefix,
                "--count",
                &count,
                "--batch",
                &batch,
            ],
        )
    }

    /// As [`Node::try_propose_test`]; asserts that all of them committed.
    pub fn propose_test(&self, prefix: &str, count: u64, batch: u64) {
        let (ok, out, err) = self.try_propose_test(prefix, count, batch);
        assert!(ok && out.contains(&format!("committed {count}")), "{out}{err}");
    }

    /// `smsgw cluster check-test` on this node: every `PREFIX-0..count` is
    /// in its state.
    pub fn check_test(&self, prefix: &str, count: u64) {
        let count = count.to_string();
        cli_ok(
            self.dir.path(),
            &[
                "cluster",
                "check-test",
                "--addr",
                &self.raft,
                "--prefix",
                prefix,
                "--count",
                &count,
            ],
        );
    }
}

/// Waits until one of `nodes` (stopped ones do not answer) reports itself
/// leader; returns its id.
pub fn wait_leader(nodes: &[Node], timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(s) = nodes
            .iter()
            .filter_map(Node::status)
            .find(|s| s.state == "Leader")
        {
            return s.id;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "no leader among nodes {:?} within {timeout:?}",
        nodes.iter().map(|n| n.id).collect::<Vec<_>>()
    );
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime")
        .block_on(f)
}
