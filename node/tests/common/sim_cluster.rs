//! Three real nodes sharing one carrier simulator (`smsgw sim --ephemeral`,
//! its own process), one account with the key [`KEY`]: the cluster the
//! gateway and service failover tests run against.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{cli, http, start_cluster, Node, BIN};

pub const KEY: &str = "sk_gateway_cluster_0123456789";

/// `smsgw sim --ephemeral` as a process; killed on drop.
pub struct Sim {
    child: Child,
    pub cmpp: String,
    pub login: String,
    pub password: String,
    pub control: String,
}

impl Sim {
    pub fn start() -> Sim {
        let mut child = Command::new(BIN)
            .args(["sim", "--ephemeral"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn smsgw sim");
        let out = child.stdout.take().expect("stdout");
        let mut sim = Sim {
            child,
            cmpp: String::new(),
            login: String::new(),
            password: String::new(),
            control: String::new(),
        };
        let mut lines = BufReader::new(out).lines();
        while sim.control.is_empty() {
            let line = lines.next().expect("simulator banner").expect("read banner");
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.first() == Some(&"cmpp") && w.len() >= 4 {
                sim.cmpp = w[1].to_string();
                let acct = w[3].trim_end_matches(',');
                let (l, p) = acct.split_once('/').expect("login/password");
                sim.login = l.into();
                sim.password = p.into();
            }
            if let Some(c) = line.split("control http://").nth(1) {
                sim.control = c.split('/').next().unwrap_or("").to_string();
            }
        }
        std::thread::spawn(move || for _ in lines {});
        sim
    }

    pub fn counts(&self) -> serde_json::Value {
        http(&self.control, "GET", "/counts", None, None).body
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The simulator as carrier `cm` (CMPP 3.0, SP number 1069000) taking every number.
pub fn carrier(sim: &Sim, tps: u32) -> String {
    format!(
        "[[carriers]]\nname = \"cm\"\nprotocol = \"cmpp3\"\naddress = \"{}\"\nlogin = \"{}\"\npassword = \"{}\"\n\
         connections = 1\nwindow = 16\ntps = {tps}\nsp_number = \"1069000\"\n\n\
         [[routes]]\nprefixes = [\"*\"]\ncarrier = \"cm\"\n\n",
        sim.cmpp, sim.login, sim.password
    )
}

pub fn doc(sim: &Sim, tps: u32) -> String {
    format!(
        "{}[[accounts]]\nname = \"app\"\napi_keys = [\"{KEY}\"]\n",
        carrier(sim, tps)
    )
}

/// Three nodes in one cluster with `doc` applied, every node ready.
pub fn cluster(sim: &Sim, tps: u32) -> Vec<Node> {
    let nodes = start_cluster(3);
    apply(&nodes, sim, tps);
    let deadline = Instant::now() + Duration::from_secs(20);
    for n in &nodes {
        loop {
            let r = n.call("GET", "/readyz", None, None);
            if r.status == 200 {
                break;
            }
            assert!(Instant::now() < deadline, "node not ready: {:?}", r.body);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    nodes
}

pub fn apply(nodes: &[Node], sim: &Sim, tps: u32) {
    apply_text(nodes, &doc(sim, tps));
}

/// Applies a cluster document through the CLI (`config apply`).
pub fn apply_text(nodes: &[Node], text: &str) {
    let here = nodes[0].dir.path();
    std::fs::write(here.join("cluster.toml"), text).expect("write doc");
    let (ok, out, err) = cli(
        here,
        &[
            "config",
            "apply",
            "cluster.toml",
            "--addr",
            &nodes[nodes.len() - 1].raft,
        ],
    );
    assert!(ok, "apply: {out}{err}");
}

pub fn leader_index(nodes: &[Node]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for n in nodes {
            let r = n.call("GET", "/readyz", None, None);
            if let Some(l) = r.body["leader"].as_u64() {
                return (l - 1) as usize;
            }
        }
        assert!(Instant::now() < deadline, "no leader");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The texts the simulator's ledger holds for `number`, in order.
pub fn texts_to(sim: &Sim, number: &str) -> Vec<String> {
    let path = format!("/submits?destination={number}&limit=1000");
    http(&sim.control, "GET", &path, None, None)
        .body
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["text"].as_str().unwrap_or("").to_string())
        .collect()
}

pub fn metric(node: &Node, name_and_labels: &str) -> Option<f64> {
    let r = node.call("GET", "/metrics", None, None);
    let text = r.body.as_str().unwrap_or("").to_string();
    text.lines()
        .find(|l| l.starts_with(name_and_labels))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
