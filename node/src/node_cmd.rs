//! `smsgw node start`: runs one node until it is told to stop. It must never
//! initialise a cluster on its own unless there is no config file or the file
//! says `bootstrap = true`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use smsgw_config::{LogFormat, NodeConfig};
use smsgw_raft::{Cluster, ClusterOptions, NodeInfo};

/// Run a node.
#[derive(Subcommand)]
pub enum NodeCmd {
    /// Start this node: open its data dir, listen on its raft address, join raft.
    ///
    /// Without --config the node is a single-node cluster with data in
    /// ./smsgw-data and raft on 127.0.0.1:7001, initialised at once.
    /// With a config file the node waits to be made part of a cluster
    /// (`smsgw cluster init` or `smsgw cluster add`) unless the file says
    /// `bootstrap = true`. The bound addresses are printed on stdout as
    /// `smsgw node N ready raft=ADDR`.
    Start(StartArgs),
}

/// Arguments of `node start`.
#[derive(Args)]
pub struct StartArgs {
    /// Node file (TOML): node_id, data_dir, raft_addr, http_addr, peers, log_format, bootstrap.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

pub fn run(cmd: NodeCmd) -> anyhow::Result<()> {
    match cmd {
        NodeCmd::Start(args) => start(args),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SMSGW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,smsgw=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn start(args: StartArgs) -> anyhow::Result<()> {
    let (cfg, file) = match &args.config {
        Some(path) => (NodeConfig::load(path)?, path.display().to_string()),
        None => (NodeConfig::default(), "(defaults)".to_string()),
    };
    cfg.check_data_dir_writable(&file)?;
    init_logging(cfg.log_format);
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(run_node(cfg))
}

async fn run_node(cfg: NodeConfig) -> anyhow::Result<()> {
    let mut opts = ClusterOptions::new(cfg.node_id, &cfg.data_dir, &cfg.raft_addr);
    opts.http_addr = cfg.http_addr.clone();
    opts.peers = cfg
        .peers
        .iter()
        .filter(|p| p.id != cfg.node_id)
        .map(|p| {
            (
                p.id,
                NodeInfo {
                    raft_addr: p.raft_addr.clone(),
                    http_addr: p.http_addr.clone(),
                },
            )
        })
        .collect();
    if let Ok(v) = std::env::var("SMSGW_SNAPSHOT_EVERY") {
        opts.snapshot_every = v.parse().context("SMSGW_SNAPSHOT_EVERY must be a number")?;
    }
    let cluster = Cluster::start(opts)
        .await
        .with_context(|| format!("node {} cannot start", cfg.node_id))?;
    if cfg.bootstrap && !cluster.is_initialized().await {
        let msg = cluster.initialize(Vec::new()).await?;
        tracing::info!("{msg}");
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "smsgw node {} ready raft={}",
            cluster.id(),
            cluster.raft_addr()
        )?;
        if !cluster.is_initialized().await {
            writeln!(
                out,
                "not part of a cluster yet: run `smsgw cluster init --addr {}` or `smsgw cluster add` on a member",
                cluster.raft_addr()
            )?;
        }
        out.flush()?;
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    cluster.shutdown().await;
    Ok(())
}
