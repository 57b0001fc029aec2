//! One real `smsgw node start` process: its node file, its own loopback
//! address (`127.0.0.{10+id}`, so the link proxies know who is calling), its
//! data dir, and the signals nemeses send it (SIGKILL, SIGSTOP, SIGCONT).
//! Restarts reuse the same addresses and data. The process is killed when
//! the handle is dropped, also on panic; it must never outlive the drill.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::carrier_link::Owners;
use crate::error::{ChaosError, Result};

/// The loopback address node `id` listens on and connects from.
pub fn node_ip(id: u64) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(127, 0, 0, 10 + id as u8)
}

/// A node process and where it listens.
pub struct NodeProc {
    pub id: u64,
    pub bin: PathBuf,
    pub dir: PathBuf,
    /// The raft port itself (the proxies forward here; the CLI talks here).
    pub raft: String,
    pub http: String,
    /// Extra environment for the next (re)start, e.g. libfaketime's.
    pub env: Vec<(String, String)>,
    /// Environment of every start (the drill's, e.g. a fault switch).
    pub base_env: Vec<(String, String)>,
    child: Option<Child>,
    paused: bool,
    /// Told every process id this node runs as (carrier link attribution).
    owners: Owners,
}

impl NodeProc {
    /// Starts node `id` with its data under `root/n{id}`.
    pub async fn start(
        bin: &Path,
        root: &Path,
        id: u64,
        owners: Owners,
        base_env: Vec<(String, String)>,
    ) -> Result<NodeProc> {
        let mut node = NodeProc {
            id,
            bin: bin.to_path_buf(),
            dir: root.join(format!("n{id}")),
            raft: format!("{}:0", node_ip(id)),
            http: "127.0.0.1:0".into(),
            env: Vec::new(),
            base_env,
            child: None,
            paused: false,
            owners,
        };
        node.spawn().await?;
        Ok(node)
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    async fn spawn(&mut self) -> Result<()> {
        let file = self.dir.with_extension("toml");
        let secret = self
            .dir
            .parent()
            .map(|root| root.join(crate::cluster::SECRET_FILE))
            .unwrap_or_default();
        let text = format!(
            "node_id = {}\ndata_dir = \"{}\"\nraft_addr = \"{}\"\nhttp_addr = \"{}\"\nraft_source_ip = \"{}\"\ncluster_secret_file = \"{}\"\n",
            self.id,
            self.dir.display(),
            self.raft,
            self.http,
            node_ip(self.id),
            secret.display()
        );
        std::fs::write(&file, text).map_err(|e| ChaosError::io(format!("write {}", file.display()), e))?;
        let log_path = self.dir.with_extension("log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| ChaosError::io(format!("open {}", log_path.display()), e))?;
        let mut child = Command::new(&self.bin)
            .args(["node", "start", "--config"])
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(log)
            .envs(self.base_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| ChaosError::Spawn {
                what: format!("{} node start", self.bin.display()),
                source,
            })?;
        let Some(out) = child.stdout.take() else {
            return Err(ChaosError::NotReady {
                node: self.id,
                secs: 0,
            });
        };
        let mut lines = BufReader::new(out).lines();
        let ready = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains(" ready ") {
                    return Some(line);
                }
            }
            None
        };
        let secs = 30;
        let line = tokio::time::timeout(Duration::from_secs(secs), ready)
            .await
            .ok()
            .flatten()
            .ok_or(ChaosError::NotReady { node: self.id, secs })?;
        for w in line.split_whitespace() {
            if let Some(a) = w.strip_prefix("raft=") {
                self.raft = a.to_string();
            }
            if let Some(a) = w.strip_prefix("http=") {
                self.http = a.to_string();
            }
        }
        // Keep reading so a chatty stdout never blocks the node.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        if let Some(pid) = child.id() {
            self.owners.insert(pid, self.id);
        }
        self.child = Some(child);
        self.paused = false;
        Ok(())
    }

    /// SIGKILL: no shutdown, no flush beyond what the node already did.
    pub async fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            if let Some(pid) = c.id() {
                self.owners.remove(pid);
            }
            let _ = c.kill().await;
        }
        self.paused = false;
    }

    /// Starts the node again on the same addresses and data dir.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill9().await;
        self.spawn().await
    }

    /// Kills the node and deletes its data dir: the next start is a new,
    /// empty node with the same id and addresses.
    pub async fn kill_and_wipe(&mut self) -> Result<()> {
        self.kill9().await;
        let wipe = |e| ChaosError::io(format!("wipe {}", self.dir.display()), e);
        // The contents, not the dir: it may be a tmpfs mount point.
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(wipe(e)),
        };
        for entry in entries {
            let path = entry.map_err(wipe)?.path();
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(wipe)?;
        }
        Ok(())
    }

    /// Starts a node that is not running (after [`NodeProc::kill_and_wipe`]).
    pub async fn start_again(&mut self) -> Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        self.spawn().await
    }

    /// SIGSTOP: the process holds its sockets but answers nothing.
    pub fn pause(&mut self) -> Result<()> {
        self.signal("-STOP")?;
        self.paused = true;
        Ok(())
    }

    /// SIGCONT after [`NodeProc::pause`].
    pub fn resume(&mut self) -> Result<()> {
        self.signal("-CONT")?;
        self.paused = false;
        Ok(())
    }

    fn signal(&self, sig: &str) -> Result<()> {
        let Some(pid) = self.child.as_ref().and_then(Child::id) else {
            return Err(ChaosError::Command {
                what: format!("kill {sig} node {}", self.id),
                detail: "not running".into(),
            });
        };
        let st = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .map_err(|source| ChaosError::Spawn {
                what: "kill".into(),
                source,
            })?;
        if st.success() {
            Ok(())
        } else {
            Err(ChaosError::Command {
                what: format!("kill {sig} {pid}"),
                detail: st.to_string(),
            })
        }
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            // SIGKILL ends a stopped process too.
            let _ = c.start_kill();
        }
    }
}
