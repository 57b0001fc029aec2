//! `smsgw cluster ...`: the cluster admins' commands, talking to any node over
//! its raft port. It must never touch a node's data dir directly: everything
//! goes through the node.

mod status;
#[cfg(feature = "test-commands")]
mod testdata;

use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use smsgw_raft::{admin_call, AdminRequest, AdminResponse, ClusterSecret, NodeId, NodeInfo};

/// The node to talk to.
#[derive(Args, Clone)]
pub struct Target {
    /// Raft address of the node to talk to (any member: leader-only requests are forwarded).
    #[arg(long, short, env = "SMSGW_ADDR", default_value = "127.0.0.1:7001")]
    pub addr: String,
}

/// Form and change the cluster.
#[derive(Subcommand)]
pub enum ClusterCmd {
    /// Initialise a new cluster on the node at --addr.
    ///
    /// With no --node, the voters are that node and the peers in its config file.
    /// Example: `smsgw cluster init --addr 10.0.0.1:7001 --node 1=10.0.0.1:7001 --node 2=10.0.0.2:7001 --node 3=10.0.0.3:7001`.
    /// A node that is already part of a cluster refuses.
    Init {
        #[command(flatten)]
        target: Target,
        /// A voter as ID=RAFT_ADDR; repeat for each.
        #[arg(long = "node", value_name = "ID=ADDR")]
        nodes: Vec<String>,
    },
    /// Add a node: first as a learner that copies the log (or a snapshot), then as a voter.
    ///
    /// Start the new node first (`smsgw node start --config new.toml`, no bootstrap).
    /// Note: here --addr is the NEW node's raft address; --via is the member to talk to.
    Add {
        /// The new node's id.
        #[arg(long)]
        id: NodeId,
        /// The new node's raft address.
        #[arg(long)]
        addr: String,
        /// The new node's HTTP address.
        #[arg(long, default_value = "")]
        http: String,
        /// Keep it a learner (receives the log, does not vote).
        #[arg(long)]
        learner: bool,
        /// Raft address of a current member to talk to.
        #[arg(long, env = "SMSGW_ADDR", default_value = "127.0.0.1:7001")]
        via: String,
    },
    /// Remove a node (voter or learner) from the membership. Stop its process afterwards.
    Remove {
        #[command(flatten)]
        target: Target,
        /// The node to remove.
        #[arg(long)]
        id: NodeId,
    },
    /// Show leader, term, members, and each member's last log / applied index and lag.
    Status {
        #[command(flatten)]
        target: Target,
    },
    /// Planned switchover: make node --to the leader.
    ///
    /// The leader stops taking writes, waits until --to has its whole log, holds the other
    /// voters' elections, and lets --to win an election. Writes pause for about a second.
    TransferLeader {
        #[command(flatten)]
        target: Target,
        /// The node that should lead.
        #[arg(long)]
        to: NodeId,
    },
    /// Build a snapshot on the node at --addr now and purge the log it covers.
    Compact {
        #[command(flatten)]
        target: Target,
    },
    /// Test data: commit COUNT parts with ids PREFIX-0..PREFIX-(COUNT-1) through the node at --addr.
    ///
    /// Prints the number committed; on the first refused write prints the error and exits 1.
    #[cfg(feature = "test-commands")]
    ProposeTest(testdata::ProposeArgs),
    /// Test data: check (linearizable read) that every id PREFIX-0..PREFIX-(COUNT-1) is present.
    #[cfg(feature = "test-commands")]
    CheckTest(testdata::CheckArgs),
}

pub(crate) const ADMIN_TIMEOUT: Duration = Duration::from_secs(130);

pub fn run(cmd: ClusterCmd, secret_file: crate::cli::secret::SecretFile) -> anyhow::Result<()> {
    let secret = crate::cli::secret::for_cli(secret_file.as_deref())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async(cmd, &secret))
}

fn parse_node(s: &str) -> anyhow::Result<(NodeId, NodeInfo)> {
    let (id, addr) = s
        .split_once('=')
        .with_context(|| format!("`{s}`: expected ID=ADDR, e.g. 2=10.0.0.2:7001"))?;
    let id: NodeId = id
        .trim()
        .parse()
        .with_context(|| format!("`{s}`: node id `{id}` is not a number"))?;
    Ok((id, NodeInfo::new(addr.trim())))
}

async fn done(secret: &ClusterSecret, addr: &str, req: AdminRequest) -> anyhow::Result<()> {
    match admin_call(secret, addr, req, ADMIN_TIMEOUT).await? {
        AdminResponse::Done(msg) => {
            println!("{msg}");
            Ok(())
        }
        other => bail!("unexpected answer from {addr}: {other:?}"),
    }
}

async fn run_async(cmd: ClusterCmd, secret: &ClusterSecret) -> anyhow::Result<()> {
    match cmd {
        ClusterCmd::Init { target, nodes } => {
            let members = nodes
                .iter()
                .map(|n| parse_node(n))
                .collect::<anyhow::Result<Vec<_>>>()?;
            done(secret, &target.addr, AdminRequest::Init { members }).await
        }
        ClusterCmd::Add {
            id,
            addr,
            http,
            learner,
            via,
        } => {
            let info = NodeInfo {
                raft_addr: addr,
                http_addr: http,
            };
            done(
                secret,
                &via,
                AdminRequest::AddNode {
                    id,
                    info,
                    voter: !learner,
                },
            )
            .await
        }
        ClusterCmd::Remove { target, id } => {
            done(secret, &target.addr, AdminRequest::RemoveNode { id }).await
        }
        ClusterCmd::TransferLeader { target, to } => {
            done(secret, &target.addr, AdminRequest::TransferLeader { to }).await
        }
        ClusterCmd::Compact { target } => done(secret, &target.addr, AdminRequest::Compact).await,
        ClusterCmd::Status { target } => status::run(secret, &target.addr).await,
        #[cfg(feature = "test-commands")]
        ClusterCmd::ProposeTest(args) => testdata::propose(secret, args).await,
        #[cfg(feature = "test-commands")]
        ClusterCmd::CheckTest(args) => testdata::check(secret, args).await,
    }
}
