//! `smsgw bench raft`: committed proposals per second on a 3-node loopback
//! cluster in this process (durable flushes, TCP between nodes), with 1, 16
//! and 256 concurrent clients proposing 10-message batches of ~200 bytes.
//! It must never talk to anything but 127.0.0.1 and stops by itself.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use smsgw_raft::{BatchOptions, Cluster, ClusterOptions};
use smsgw_state::{Command, MtPart};

/// Arguments of `bench raft`.
#[derive(Args)]
pub struct RaftBenchArgs {
    /// Concurrent clients, comma separated.
    #[arg(long, default_value = "1,16,256", value_delimiter = ',')]
    clients: Vec<usize>,
    /// Seconds per run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Proposals batched into one raft entry at most (see `BatchOptions`).
    #[arg(long, default_value_t = BatchOptions::default().max_commands)]
    batch_max: usize,
    /// Approximate bytes in one raft entry at most.
    #[arg(long, default_value_t = BatchOptions::default().max_bytes)]
    batch_bytes: usize,
    /// Batches proposed or forwarded at once per node.
    #[arg(long, default_value_t = BatchOptions::default().max_in_flight)]
    in_flight: usize,
    /// Microseconds a batch waits for more proposals (0: only what is queued).
    #[arg(long, default_value_t = BatchOptions::default().linger.as_micros() as u64)]
    linger_us: u64,
    /// Where the nodes keep their data (a fresh temp dir when omitted).
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn batch(client: usize, seq: u64) -> Command {
    let messages = (0..10)
        .map(|k| MtPart {
            id: format!("b{client}-{seq}-{k}"),
            account: "bench".into(),
            to: "13800138000".into(),
            parts: 1,
            payload: vec![b'x'; 140],
            queue: None,
            accepted_at_ms: seq,
        })
        .collect();
    Command::AcceptBatch {
        request_id: Some(format!("b{client}-{seq}")),
        messages,
    }
}

pub async fn run(args: RaftBenchArgs) -> anyhow::Result<()> {
    let tmp = std::env::temp_dir().join(format!("smsgw-bench-{}", std::process::id()));
    let dir = args.dir.clone().unwrap_or(tmp);
    // In-process nodes of one benchmark share a fresh secret.
    let secret = smsgw_raft::ClusterSecret::generate();
    let mut nodes = Vec::new();
    for id in 1..=3u64 {
        let mut opts = ClusterOptions::new(id, dir.join(format!("n{id}")), "127.0.0.1:0");
        opts.secret = Some(secret.clone());
        opts.batch = BatchOptions {
            max_commands: args.batch_max,
            max_bytes: args.batch_bytes,
            max_in_flight: args.in_flight,
            linger: Duration::from_micros(args.linger_us),
            ..BatchOptions::default()
        };
        nodes.push(
            Cluster::start(opts, smsgw_state::Domain::app())
                .await
                .with_context(|| format!("starting node {id}"))?,
        );
    }
    let members = nodes.iter().map(|n| (n.id(), n.node_info())).collect();
    nodes[0].initialize(members).await?;
    smsgw_state::propose(&nodes[0], &batch(0, 0))
        .await
        .context("first write")?;
    println!("clients  proposals/s  messages/s  p50_ms  p99_ms  errors");
    for &clients in &args.clients {
        let stop = Instant::now() + Duration::from_secs(args.seconds);
        let errors = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        let started = Instant::now();
        for c in 0..clients {
            let node = nodes[c % nodes.len()].clone();
            let errors = errors.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut seq = 0u64;
                while Instant::now() < stop {
                    seq += 1;
                    let t = Instant::now();
                    match smsgw_state::propose(&node, &batch(clients * 1000 + c, seq)).await {
                        Ok(_) => lat.push(t.elapsed()),
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await?);
        }
        let secs = started.elapsed().as_secs_f64();
        all.sort();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .copied()
        };
        let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
        let rate = all.len() as f64 / secs;
        println!(
            "{clients:>7}  {rate:>11.0}  {:>10.0}  {:>6.2}  {:>6.2}  {}",
            rate * 10.0,
            ms(pct(0.50)),
            ms(pct(0.99)),
            errors.load(Ordering::Relaxed)
        );
    }
    for n in &nodes {
        n.shutdown().await;
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
