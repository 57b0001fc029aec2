//! `smsgw config validate|apply|show`: check a node file or a cluster
//! document, replicate a cluster document through raft, print the one in
//! force. `validate` must never start anything or change the file; `apply`
//! and `show` talk to a node's raft port and never touch a data dir.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Subcommand;
use smsgw_config::{looks_like_cluster_doc, ClusterDoc, NodeConfig, CLUSTER_DOC_KEY};
use smsgw_raft::network::{RpcClient, RpcRequest, RpcResponse, WriteRefusal};
use smsgw_raft::{admin_call, AdminRequest, AdminResponse, ClusterSecret};
use smsgw_state::{Command, Query, QueryResult, Response};

use crate::cli::cluster::Target;

/// Work with configuration files.
#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Check a node file or a cluster document (told apart by their keys).
    ///
    /// Node file: syntax, unknown keys, node ids, addresses, and that the data dir is writable.
    /// Cluster document: carriers, routes, accounts, defaults.
    /// Errors name the file, the line and the key, e.g.
    /// `node.toml:7: key `peers[1].id`: node id 2 appears twice (first at line 3)`.
    Validate {
        /// The file (TOML).
        file: PathBuf,
    },
    /// Validate a cluster document and replicate it through raft (from any member).
    ///
    /// Every node's HTTP API uses it as soon as its raft log applies it.
    Apply {
        /// The cluster document (TOML).
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Print the cluster document in force (a linearizable read through the leader), as TOML.
    Show {
        #[command(flatten)]
        target: Target,
        /// Print the replicated JSON instead of TOML.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: ConfigCmd, secret_file: crate::cli::secret::SecretFile) -> anyhow::Result<()> {
    match cmd {
        ConfigCmd::Validate { file } => validate(file),
        ConfigCmd::Apply { file, target } => {
            let doc = ClusterDoc::load(&file)?;
            let secret = crate::cli::secret::for_cli(secret_file.as_deref())?;
            let rt = tokio::runtime::Runtime::new()?;
            let version = rt.block_on(apply(&secret, &target.addr, &doc))?;
            println!(
                "{}: applied as version {version} ({} carriers, {} routes, {} accounts)",
                file.display(),
                doc.carriers.len(),
                doc.routes.len(),
                doc.accounts.len()
            );
            Ok(())
        }
        ConfigCmd::Show { target, json } => {
            let secret = crate::cli::secret::for_cli(secret_file.as_deref())?;
            let rt = tokio::runtime::Runtime::new()?;
            let query = Query::GetConfig {
                key: CLUSTER_DOC_KEY.into(),
            };
            let req = AdminRequest::Read {
                query: smsgw_raft::codec::encode(&query)?,
                linearizable: true,
            };
            let resp = rt
                .block_on(admin_call(&secret, &target.addr, req, Duration::from_secs(10)))
                .with_context(|| format!("reading the config from {}", target.addr))?;
            let AdminResponse::Read(answer) = resp else {
                bail!("{} answered with an unexpected response", target.addr);
            };
            let Ok(QueryResult::Config(bytes)) = smsgw_raft::codec::decode(&answer) else {
                bail!("{} answered with an unexpected response", target.addr);
            };
            let Some(bytes) = bytes else {
                println!("# no cluster document applied yet: `smsgw config apply FILE`");
                return Ok(());
            };
            let doc =
                ClusterDoc::from_json(&bytes).context("the replicated cluster document does not decode")?;
            // Keys are stored hashed; carrier passwords are stored as they
            // must be sent, so they are masked here (and never printed).
            let shown = doc.redacted();
            if json {
                println!("{}", String::from_utf8_lossy(&shown.to_json()));
            } else {
                println!(
                    "# carrier passwords are shown as {}; API keys as prefix and SHA-256",
                    smsgw_config::REDACTED
                );
                print!("{}", shown.to_toml());
            }
            Ok(())
        }
    }
}

fn validate(file: PathBuf) -> anyhow::Result<()> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(&file).with_context(|| format!("{name}: cannot read"))?;
    if looks_like_cluster_doc(&text) {
        let doc = ClusterDoc::from_toml_str(&text, &name)?;
        println!(
            "{name}: ok (cluster document: {} carriers, {} routes, {} accounts)",
            doc.carriers.len(),
            doc.routes.len(),
            doc.accounts.len()
        );
        return Ok(());
    }
    let cfg = NodeConfig::from_toml_str(&text, &name)?;
    cfg.check_data_dir_writable(&name)?;
    println!(
        "{name}: ok (node {}, raft {}, data {}, {} peers)",
        cfg.node_id,
        cfg.raft_addr,
        cfg.data_dir.display(),
        cfg.peers.len()
    );
    Ok(())
}

/// Proposes the document through the node at `addr`, following "not the
/// leader" answers to the leader; returns the version (log index) it got.
pub async fn apply(secret: &ClusterSecret, addr: &str, doc: &ClusterDoc) -> anyhow::Result<u64> {
    let cmd = smsgw_raft::codec::encode(&Command::PutConfig {
        key: CLUSTER_DOC_KEY.into(),
        value: doc.to_json(),
    })?;
    let client = RpcClient::new(secret.clone());
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut target = addr.to_string();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bail!("no leader accepted the document within 15 s (last tried {target})");
        }
        let resp = client
            .call(&target, &RpcRequest::ClientWrite(cmd.clone()), left)
            .await;
        match resp {
            Ok(RpcResponse::ClientWrite(Ok(bytes))) => match smsgw_raft::codec::decode::<Response>(&bytes) {
                Ok(Response::ConfigStored { version, .. }) => return Ok(version),
                other => bail!("unexpected answer: {other:?}"),
            },
            Ok(RpcResponse::ClientWrite(Err(WriteRefusal::NotLeader {
                leader: Some((_, info)),
            }))) => {
                target = info.raft_addr;
                continue;
            }
            Ok(RpcResponse::ClientWrite(Err(WriteRefusal::NotLeader { leader: None }))) => {}
            Ok(RpcResponse::ClientWrite(Err(WriteRefusal::Failed(e)))) => bail!("{target}: {e}"),
            Ok(_) => bail!("{target} answered with an unexpected response kind"),
            Err(e @ smsgw_raft::error::RpcError::Auth { .. }) => return Err(e.into()),
            Err(e) if target == addr => return Err(e).with_context(|| format!("cannot reach {addr}")),
            Err(_) => target = addr.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
