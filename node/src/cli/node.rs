//! `smsgw node start`: runs one node until it is told to stop. It must never
//! initialise a cluster on its own unless there is no config file or the file
//! says `bootstrap = true`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use smsgw_config::{LogFormat, NodeConfig};
use smsgw_raft::{Cluster, ClusterOptions, NodeInfo};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::{self, AppState};

/// Run a node.
#[derive(Subcommand)]
pub enum NodeCmd {
    /// Start this node: open its data dir, listen on its raft and HTTP addresses, join raft.
    ///
    /// Without --config the node is a single-node cluster with data in
    /// ./smsgw-data, raft on 127.0.0.1:7001 and HTTP on 127.0.0.1:8080,
    /// initialised at once, with the in-process carrier simulator and the
    /// demo cluster document (its API key is printed and written to
    /// DATA_DIR/demo-api-key) and applications' SMPP/CMPP password
    /// (DATA_DIR/demo-password). With a config file the node waits to be made
    /// part of a cluster (`smsgw cluster init` or `smsgw cluster add`) unless
    /// the file says `bootstrap = true`. The bound addresses are printed on
    /// stdout as `smsgw node N ready raft=ADDR http=ADDR smpp=ADDR cmpp=ADDR`.
    Start(StartArgs),
    /// Check a (stopped) node's data dir: the marker, the storage format, and
    /// every raft record and log entry read through. Says what is damaged
    /// (naming the file) and how to recover; exits non-zero if anything is.
    Check(crate::storage::check::CheckArgs),
}

/// Arguments of `node start`.
#[derive(Args)]
pub struct StartArgs {
    /// Node file (TOML): node_id, data_dir, raft_addr, http_addr, peers, log_format, bootstrap,
    /// raft_source_ip, cluster_secret_file, http_tls_cert, http_tls_key, storage_min_free_mb, storage_cache_mb,
    /// apps_smpp_addr, apps_cmpp_addr.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Override the data dir.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Override the raft address (port 0 picks a free one).
    #[arg(long)]
    pub raft_addr: Option<String>,
    /// Override the HTTP address (port 0 picks a free one).
    #[arg(long)]
    pub http_addr: Option<String>,
    /// Override the log format: text or json.
    #[arg(long, value_parser = ["text", "json"])]
    pub log_format: Option<String>,
    /// Override the high-water mark: free MiB under which new messages are refused (0: off).
    #[arg(long)]
    pub storage_min_free_mb: Option<u64>,
    /// Override where applications bind over SMPP (port 0 picks a free one).
    /// An account's `[accounts.apps] tps` and each session's window apply
    /// per node: an account bound to N nodes may submit up to N × tps.
    #[arg(long)]
    pub smpp_addr: Option<String>,
    /// Override where applications CONNECT over CMPP (port 0 picks a free one).
    #[arg(long)]
    pub cmpp_addr: Option<String>,
}

pub fn run(cmd: NodeCmd, secret_file: crate::cli::secret::SecretFile) -> anyhow::Result<()> {
    match cmd {
        NodeCmd::Start(args) => start(args, secret_file),
        NodeCmd::Check(args) => crate::storage::check::run(args),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SMSGW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,smsgw=info"));
    // Colour codes only for a terminal: a log sent to a file or a journal
    // must read as plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn start(args: StartArgs, secret_file: crate::cli::secret::SecretFile) -> anyhow::Result<()> {
    let (mut cfg, file) = match &args.config {
        Some(path) => (NodeConfig::load(path)?, path.display().to_string()),
        None => (NodeConfig::default(), "(defaults)".to_string()),
    };
    if let Some(d) = args.data_dir {
        cfg.data_dir = d;
    }
    if let Some(a) = args.raft_addr {
        cfg.raft_addr = a;
    }
    if let Some(a) = args.http_addr {
        cfg.http_addr = a;
    }
    match args.log_format.as_deref() {
        Some("json") => cfg.log_format = LogFormat::Json,
        Some("text") => cfg.log_format = LogFormat::Text,
        _ => {}
    }
    if let Some(a) = args.smpp_addr {
        cfg.apps_smpp_addr = Some(a);
    }
    if let Some(a) = args.cmpp_addr {
        cfg.apps_cmpp_addr = Some(a);
    }
    if let Some(mb) = args.storage_min_free_mb {
        cfg.storage_min_free_mb = Some(mb);
    }
    if secret_file.is_some() {
        cfg.cluster_secret_file = secret_file;
    }
    cfg.check_data_dir_writable(&file)?;
    // Read before anything listens: a bad certificate or key stops the start.
    let tls = match (&cfg.http_tls_cert, &cfg.http_tls_key) {
        (Some(cert), Some(key)) => Some(api::tls::acceptor(cert, key, &file)?),
        _ => None,
    };
    init_logging(cfg.log_format);
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(run_node(cfg, tls, args.config.is_none()))
}

/// Bucket bounds (seconds) of every `_seconds` histogram: from a fast
/// commit (sub-millisecond) to a slow delivery report (minutes).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
    300.0,
];
/// Bucket bounds of the batch-size histograms.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// The recorder: histograms with buckets, not summaries, so that latencies
/// aggregate across nodes in Prometheus (`histogram_quantile` over the sum
/// of `_bucket` rates) and read honestly when idle.
fn metrics_builder(
) -> Result<metrics_exporter_prometheus::PrometheusBuilder, metrics_exporter_prometheus::BuildError> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full("smsgw_raft_proposal_batch_commands".into()),
            BATCH_BUCKETS,
        )?
        .set_buckets_for_metric(Matcher::Full("smsgw_store_batch_events".into()), BATCH_BUCKETS)
}

/// Installs the process-wide Prometheus recorder (once) and its upkeep task.
fn install_metrics() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    match metrics_builder().and_then(|b| b.install_recorder()) {
        Ok(h) => {
            let upkeep = h.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    upkeep.run_upkeep();
                }
            });
            Some(h)
        }
        Err(e) => {
            tracing::warn!("metrics recorder not installed: {e}");
            None
        }
    }
}

async fn run_node(cfg: NodeConfig, tls: Option<tokio_rustls::TlsAcceptor>, demo: bool) -> anyhow::Result<()> {
    let metrics = install_metrics();
    if let Some(ip) = cfg.raft_source_ip {
        smsgw_raft::network::set_source_ip(ip);
    }
    let http = TcpListener::bind(&cfg.http_addr)
        .await
        .with_context(|| format!("cannot listen on http address {}", cfg.http_addr))?;
    let http_addr = http.local_addr()?;
    let smpp_apps = crate::apps::listener::bind(
        cfg.apps_smpp_addr.as_deref(),
        smsgw_config::DEFAULT_APPS_SMPP_ADDR,
        "SMPP",
    )
    .await?;
    let cmpp_apps = crate::apps::listener::bind(
        cfg.apps_cmpp_addr.as_deref(),
        smsgw_config::DEFAULT_APPS_CMPP_ADDR,
        "CMPP",
    )
    .await?;
    let app_addr = |l: &Option<TcpListener>| {
        l.as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or_else(|| "-".to_string(), |a| a.to_string())
    };
    let (smpp_addr, cmpp_addr) = (app_addr(&smpp_apps), app_addr(&cmpp_apps));
    let mut opts = ClusterOptions::new(cfg.node_id, &cfg.data_dir, &cfg.raft_addr);
    opts.secret_file = crate::cli::secret::for_node(cfg.cluster_secret_file.as_deref())?;
    opts.http_addr = http_addr.to_string();
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
    opts.cache_bytes = cfg.storage_cache_mb << 20;
    if let Ok(v) = std::env::var("SMSGW_SNAPSHOT_EVERY") {
        opts.snapshot_every = v.parse().context("SMSGW_SNAPSHOT_EVERY must be a number")?;
    }
    let cluster = Cluster::start(opts, smsgw_state::Domain::app())
        .await
        .with_context(|| format!("node {} cannot start", cfg.node_id))?;
    if (cfg.bootstrap || demo) && !cluster.is_initialized().await {
        let msg = cluster.initialize(Vec::new()).await?;
        tracing::info!("{msg}");
    }
    let demo = if demo {
        Some(crate::cli::demo::start(&cluster, &cfg.data_dir).await?)
    } else {
        None
    };
    let sgip_hook = demo.as_ref().map(|d| crate::cli::demo::sgip_hook(&d.sim));
    let runtime = crate::gateway::Runtime::new(cluster.clone(), sgip_hook);
    let gateway_tasks = runtime.spawn();
    let disk = crate::storage::Disk::new(&cfg.data_dir, cfg.storage_min_free_mb);
    let storage_tasks = [
        disk.spawn(),
        crate::storage::supervise::spawn(cluster.clone(), disk.clone()),
    ];
    let state = AppState::new(
        cluster.clone(),
        vec![runtime.ready_check(), disk.ready_check()],
        metrics,
    )
    .with_runtime(runtime.clone())
    .with_storage(disk);
    let watch_task = state.spawn_config_watch();
    let jobs_task = crate::service::runner::spawn(state.clone());
    let billing_task = crate::service::billing::spawn(state.clone());
    let retention_task = crate::service::retention::spawn(state.clone());
    let cdr_task = crate::cdr::spawn(state.clone(), cfg.data_dir.join("cdr"));
    let callbacks_task = crate::callbacks::spawn(state.clone());
    let alarm_task = crate::alarm::spawn(state.clone());
    let mut app_tasks = vec![crate::apps::delivery::spawn(state.clone())];
    if let Some(l) = smpp_apps {
        app_tasks.push(crate::apps::listener::spawn(
            state.clone(),
            l,
            crate::apps::listener::Proto::Smpp,
        ));
    }
    if let Some(l) = cmpp_apps {
        app_tasks.push(crate::apps::listener::spawn(
            state.clone(),
            l,
            crate::apps::listener::Proto::Cmpp,
        ));
    }
    let (stop_tx, mut stop_rx) = watch::channel(false);
    if tls.is_some() {
        tracing::info!(addr = %http_addr, "the HTTP API speaks HTTPS only");
    }
    let server = tokio::spawn(api::serve(http, state, tls, async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    }));
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "smsgw node {} ready raft={} http={} smpp={smpp_addr} cmpp={cmpp_addr}",
            cluster.id(),
            cluster.raft_addr(),
            http_addr
        )?;
        if let Some(d) = &demo {
            writeln!(
                out,
                "demo: carriers simulated in-process (CMPP {} SGIP {} SMGP {} SMPP {}, control http://{})",
                fmt_addr(d.sim.addr(smsgw_simulator::Protocol::Cmpp)),
                fmt_addr(d.sim.addr(smsgw_simulator::Protocol::Sgip)),
                fmt_addr(d.sim.addr(smsgw_simulator::Protocol::Smgp)),
                fmt_addr(d.sim.addr(smsgw_simulator::Protocol::Smpp)),
                fmt_addr(d.sim.control_addr()),
            )?;
            writeln!(
                out,
                "demo API key: {} (saved in {})",
                d.api_key,
                d.key_file.display()
            )?;
            writeln!(
                out,
                "demo applications: SMPP {smpp_addr} system_id {} / CMPP {cmpp_addr} sp_id {}, password {} (saved in {})",
                crate::cli::demo::DEMO_SYSTEM_ID,
                crate::cli::demo::DEMO_SP_ID,
                d.password,
                d.password_file.display()
            )?;
            writeln!(
                out,
                "try: smsgw send --api http://{http_addr} --to 13800138000 --text 'hello'"
            )?;
        }
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
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: shutting down"),
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = hup.recv() => {
                // The watcher would see the change within seconds; SIGHUP
                // lets an operator's script know it is in force now.
                if !cluster.reload_secret() {
                    tracing::info!("SIGHUP: the cluster secret is fixed, nothing to reload");
                }
                continue;
            }
        }
        break;
    }
    // Stop accepting, let in-flight requests finish (bounded), then stop raft.
    let _ = stop_tx.send(true);
    match tokio::time::timeout(Duration::from_secs(10), server).await {
        Ok(Ok(Ok(()))) => tracing::info!("http stopped; in-flight requests finished"),
        Ok(Ok(Err(e))) => tracing::warn!("http server: {e}"),
        Ok(Err(e)) => tracing::warn!("http server task: {e}"),
        Err(_) => tracing::warn!("in-flight requests did not finish within 10 s; stopping anyway"),
    }
    watch_task.abort();
    jobs_task.abort();
    billing_task.abort();
    retention_task.abort();
    cdr_task.abort();
    callbacks_task.abort();
    alarm_task.abort();
    for t in app_tasks {
        t.abort();
    }
    // Before raft stops: the supervisor must not take the shutdown for a
    // failure to repair.
    for t in storage_tasks {
        t.abort();
    }
    // Stop feeding, let submits in flight be answered (bounded), log out of
    // the carriers, flush the last facts to raft.
    for t in gateway_tasks {
        t.abort();
    }
    if let Some(gw) = runtime.gw.write().await.take() {
        if !gw.drain(Duration::from_secs(5)).await {
            tracing::warn!("submits still in flight after 5 s; stopping anyway");
        }
        gw.stop().await;
        tracing::info!("carrier sessions logged out");
    }
    cluster.shutdown().await;
    drop(demo);
    tracing::info!("node {} stopped", cfg.node_id);
    Ok(())
}

fn fmt_addr(a: Option<std::net::SocketAddr>) -> String {
    a.map(|a| a.to_string()).unwrap_or_else(|| "-".into())
}
