//! A drill's world: N real `smsgw` nodes, one link proxy per node (their
//! membership addresses), and the carrier simulator in this process behind
//! the carrier link proxy,
//! formed with the product's own CLI (`cluster init`, `config apply`).
//! Everything it starts stops when it is dropped. It must never bind
//! outside 127.0.0.0/8.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smsgw_simulator::{Account, Protocol, SimConfig, Simulator};

use crate::carrier_link::{CarrierProxy, Owners};
use crate::error::{ChaosError, Result};
use crate::http::{request, Answer};
use crate::node::{node_ip, NodeProc};
use crate::proxy::{Net, Proxy};

/// The file (in the drill's dir) holding the cluster secret.
pub const SECRET_FILE: &str = "cluster-secret";

/// The API key of the drill's account.
pub const KEY: &str = "sk_chaos_drill_0123456789abcdef";
pub(crate) const SIM_LOGIN: &str = "900001";
const SIM_PASSWORD: &str = "secret";
/// The drill account's service code: MOs to numbers under it are its own.
pub const SERVICE_CODE: &str = "1069000";

/// How to build the cluster.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub nodes: u64,
    /// The carrier session's window (what may be in flight per link).
    pub window: u32,
    /// The TPS ceiling of the carrier account in the cluster document.
    pub tps: u32,
    /// Delay of delivery reports at the simulator (min, max ms).
    pub report_delay_ms: [u64; 2],
    /// Put each node's data dir on its own tmpfs of this many MB (needs
    /// root), so a nemesis can fill it.
    pub tmpfs_data_mb: Option<u64>,
    /// Environment of every node process (e.g. a test build's fault switch).
    pub node_env: Vec<(String, String)>,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            nodes: 3,
            window: 16,
            tps: 2000,
            report_delay_ms: [0, 50],
            tmpfs_data_mb: None,
            node_env: Vec::new(),
        }
    }
}

/// The running drill world.
pub struct Cluster {
    pub spec: ClusterSpec,
    pub bin: PathBuf,
    pub nodes: Vec<NodeProc>,
    pub net: Net,
    pub sim: Simulator,
    proxies: Vec<Proxy>,
    /// Between every node and the simulator (the document's carrier address).
    pub carrier: CarrierProxy,
    /// The drill cluster's secret (hex), proven on every raft connection;
    /// also in `DIR/cluster-secret`, named by every node file.
    secret: String,
    /// Dropped after the nodes (fields drop in order), before the dir.
    _mounts: Mounts,
    dir: tempfile::TempDir,
}

/// tmpfs mounts under the drill's dir, unmounted (lazily) on drop.
#[derive(Default)]
struct Mounts(Vec<PathBuf>);

impl Mounts {
    fn mount(&mut self, dir: &Path, mb: u64) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| ChaosError::io(format!("create {}", dir.display()), e))?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|source| ChaosError::Spawn {
                what: "mount".into(),
                source,
            })?;
        if !out.status.success() {
            return Err(ChaosError::Command {
                what: format!("mount a {mb} MB tmpfs on {} (needs root)", dir.display()),
                detail: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        self.0.push(dir.to_path_buf());
        Ok(())
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        for d in &self.0 {
            // Lazy: a node killed a moment ago may still hold files open.
            let _ = std::process::Command::new("umount").arg("-l").arg(d).status();
        }
    }
}

impl Cluster {
    /// Starts the simulator, the nodes and their proxies, forms the cluster
    /// through the proxies, applies the drill's cluster document and waits
    /// until every node is ready.
    pub async fn start(bin: &Path, spec: ClusterSpec) -> Result<Cluster> {
        let dir = tempfile::Builder::new()
            .prefix("smsgw-drill-")
            .tempdir()
            .map_err(|e| ChaosError::io("temp dir", e))?;
        let mut account = Account::new(Protocol::Cmpp, SIM_LOGIN, SIM_PASSWORD);
        account.window = spec.window as usize * 4;
        let mut cfg = SimConfig::for_tests();
        cfg.accounts = vec![account];
        cfg.reports.delay_ms = spec.report_delay_ms;
        cfg.reports.mix.undeliverable = 0;
        cfg.reports.mix.expired = 0;
        cfg.reports.mix.rejected = 0;
        cfg.max_records = 2_000_000;
        let sim = Simulator::start(cfg)
            .await
            .map_err(|e| ChaosError::Simulator(e.to_string()))?;
        // One secret for the whole drill cluster: nodes prove it to each
        // other on the raft port, and the CLI proves it to them.
        let secret: String = (0..32).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
        let secret_file = dir.path().join(SECRET_FILE);
        std::fs::write(&secret_file, &secret)
            .map_err(|e| ChaosError::io(format!("write {}", secret_file.display()), e))?;
        let net = Net::default();
        let owners = Owners::default();
        let cmpp = sim
            .addr(Protocol::Cmpp)
            .ok_or_else(|| ChaosError::Simulator("no CMPP listener".into()))?;
        let carrier = CarrierProxy::start(net.clone(), owners.clone(), cmpp).await?;
        let mut nodes = Vec::new();
        let mut proxies = Vec::new();
        let mut mounts = Mounts::default();
        for id in 1..=spec.nodes {
            if let Some(mb) = spec.tmpfs_data_mb {
                mounts.mount(&dir.path().join(format!("n{id}")), mb)?;
            }
            let node = NodeProc::start(bin, dir.path(), id, owners.clone(), spec.node_env.clone()).await?;
            net.register_source(node_ip(id).into(), id);
            let target = Arc::new(Mutex::new(node.raft.clone()));
            proxies.push(net.proxy(id, target).await?);
            nodes.push(node);
        }
        let c = Cluster {
            spec,
            bin: bin.to_path_buf(),
            nodes,
            net,
            sim,
            proxies,
            carrier,
            secret,
            _mounts: mounts,
            dir,
        };
        let mut init = vec![
            "cluster".to_string(),
            "init".into(),
            "--addr".into(),
            c.nodes[0].raft.clone(),
        ];
        for (node, proxy) in c.nodes.iter().zip(&c.proxies) {
            init.extend(["--node".into(), format!("{}={}", node.id, proxy.addr)]);
        }
        c.cli(&init).await?;
        let doc = c.doc()?;
        let doc_path = c.dir.path().join("cluster.toml");
        std::fs::write(&doc_path, doc).map_err(|e| ChaosError::io("write cluster.toml", e))?;
        let apply = [
            "config".to_string(),
            "apply".into(),
            doc_path.display().to_string(),
            "--addr".into(),
            c.nodes[0].raft.clone(),
        ];
        c.cli(&apply).await?;
        c.wait_ready(Duration::from_secs(40)).await?;
        Ok(c)
    }

    fn doc(&self) -> Result<String> {
        let cmpp = self.carrier.addr;
        Ok(format!(
            "[[carriers]]\nname = \"cm\"\nprotocol = \"cmpp3\"\naddress = \"{cmpp}\"\nlogin = \"{SIM_LOGIN}\"\npassword = \"{SIM_PASSWORD}\"\n\
             connections = 1\nwindow = {}\ntps = {}\nsp_number = \"{SERVICE_CODE}\"\n\n\
             [[routes]]\nprefixes = [\"*\"]\ncarrier = \"cm\"\n\n[[accounts]]\nname = \"drill\"\napi_keys = [\"{KEY}\"]\nservice_codes = [\"{SERVICE_CODE}\"]\n",
            self.spec.window, self.spec.tps
        ))
    }

    /// Where the drill keeps node files, data and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Keeps the drill's directory (node logs) after the drill; returns it.
    pub fn keep_dir(self) -> PathBuf {
        let Cluster { dir, .. } = self;
        dir.keep()
    }

    /// Node `id`'s membership address (its proxy).
    pub fn membership_addr(&self, id: u64) -> Option<String> {
        let i = self.nodes.iter().position(|n| n.id == id)?;
        self.proxies.get(i).map(|p| p.addr.to_string())
    }

    /// Node `id`'s own raft port (for the CLI).
    pub fn raft_addr(&self, id: u64) -> Option<String> {
        self.nodes.iter().find(|n| n.id == id).map(|n| n.raft.clone())
    }

    pub fn ids(&self) -> Vec<u64> {
        self.nodes.iter().map(|n| n.id).collect()
    }

    pub fn node_mut(&mut self, id: u64) -> Option<&mut NodeProc> {
        self.nodes.iter_mut().find(|n| n.id == id)
    }

    /// The HTTP addresses clients use (stable across restarts).
    pub fn http_addrs(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.http.clone()).collect()
    }

    /// Runs the CLI against the cluster; its stdout on success.
    pub async fn cli(&self, args: &[String]) -> Result<String> {
        let what = format!("smsgw {}", args.join(" "));
        let run = tokio::process::Command::new(&self.bin)
            .args(args)
            .env("SMSGW_CLUSTER_SECRET", &self.secret)
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .map_err(|_| ChaosError::Timeout {
                what: what.clone(),
                secs: 60,
            })?
            .map_err(|source| ChaosError::Spawn {
                what: what.clone(),
                source,
            })?;
        if !out.status.success() {
            return Err(ChaosError::Command {
                what,
                detail: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `/readyz` of every running, unpaused node: (id, status, body).
    async fn probe(&self) -> Vec<(u64, Answer)> {
        let mut out = Vec::new();
        for n in self.nodes.iter().filter(|n| n.is_running() && !n.is_paused()) {
            let a = request(&n.http, "GET", "/readyz", None, None, Duration::from_secs(2)).await;
            out.push((n.id, a));
        }
        out
    }

    /// The node that says it is leader and that most reachable nodes
    /// follow; none while an election is on.
    pub async fn leader(&self) -> Option<u64> {
        let answers = self.probe().await;
        let mut claimed = Vec::new();
        let mut votes: std::collections::HashMap<u64, usize> = Default::default();
        for (id, a) in &answers {
            let Some(body) = a.body() else { continue };
            if body["state"] == "Leader" {
                claimed.push(*id);
            }
            if let Some(l) = body["leader"].as_u64() {
                *votes.entry(l).or_default() += 1;
            }
        }
        claimed
            .into_iter()
            .max_by_key(|id| votes.get(id).copied().unwrap_or(0))
    }

    /// Waits for a leader known to a majority.
    pub async fn wait_leader(&self, timeout: Duration) -> Result<u64> {
        let deadline = Instant::now() + timeout;
        let majority = self.nodes.len() / 2 + 1;
        loop {
            if let Some(l) = self.leader().await {
                let followers = self
                    .probe()
                    .await
                    .iter()
                    .filter(|(_, a)| a.body().is_some_and(|b| b["leader"].as_u64() == Some(l)))
                    .count();
                if followers >= majority {
                    return Ok(l);
                }
            }
            if Instant::now() >= deadline {
                return Err(ChaosError::Timeout {
                    what: "a leader".into(),
                    secs: timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until every running node answers `/readyz` with 200.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let answers = self.probe().await;
            let ready = answers.iter().filter(|(_, a)| a.status() == Some(200)).count();
            if ready == answers.len() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let detail: Vec<String> = answers
                    .iter()
                    .filter(|(_, a)| a.status() != Some(200))
                    .map(|(id, a)| format!("node {id}: {a:?}"))
                    .collect();
                return Err(ChaosError::Timeout {
                    what: format!("every node ready ({})", detail.join("; ")),
                    secs: timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A node other than `not`, running and unpaused, for reads.
    pub fn any_other(&self, not: Option<u64>) -> Option<&NodeProc> {
        self.nodes
            .iter()
            .find(|n| Some(n.id) != not && n.is_running() && !n.is_paused())
    }
}
