//! `smsgw drill`: a failover drill on this machine. Starts a local cluster
//! of this very binary behind link proxies with the carrier simulator,
//! drives honest clients, injects the chosen nemeses round after round,
//! prints a table per nemesis, writes a JSON report and exits non-zero on
//! any violation. The drill itself lives in `smsgw-chaos-tests`; this module
//! only parses arguments and prints. It must never touch a real cluster: it
//! only starts its own processes on 127.0.0.0/8.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use smsgw_chaos_tests::{drill, report, DrillSpec, Nemesis};

#[derive(Args)]
pub struct DrillArgs {
    /// Nodes in the drill's cluster.
    #[arg(long, default_value_t = 3)]
    nodes: u64,
    /// Nemeses, comma-separated, each optionally with its own rounds
    /// (`kill-leader:10`): kill-leader, kill-follower, kill-random, pause,
    /// pause-follower, partition, partition-follower, slow-net,
    /// slow-carrier, carrier-hard-drop, clock-skew, clock-skew-follower (these two need
    /// Debian's faketime package), replace-follower, disk-full,
    /// disk-full-follower (these two need root: tmpfs data dirs).
    #[arg(long, value_delimiter = ',', default_value = "kill-leader,partition,pause")]
    nemesis: Vec<String>,
    /// Rounds of each nemesis that names none.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Messages per second the honest clients send (all together).
    #[arg(long, default_value_t = 40.0)]
    rate: f64,
    /// Seconds each fault is held before it is healed.
    #[arg(long, default_value_t = 3.0)]
    hold: f64,
    /// Where to write the JSON report.
    #[arg(long, default_value = "drill-report.json")]
    report: PathBuf,
    /// Also write the full history (every request and answer) here.
    #[arg(long)]
    history: Option<PathBuf>,
    /// Keep the node files, data and logs (always kept on a violation).
    #[arg(long)]
    keep: bool,
    /// The smsgw binary to drill (default: this one).
    #[arg(long)]
    bin: Option<PathBuf>,
    /// Mix the nemeses' rounds in proportion instead of running each
    /// nemesis's rounds one after another.
    #[arg(long)]
    interleave: bool,
    /// Start no new round after this many minutes (the report says how
    /// many rounds of the plan were skipped).
    #[arg(long)]
    max_minutes: Option<f64>,
}

pub fn run(a: DrillArgs) -> anyhow::Result<()> {
    let plan = a
        .nemesis
        .iter()
        .map(|n| Nemesis::parse_with_rounds(n.trim(), a.rounds))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    if a.nodes < 3 {
        bail!("--nodes must be at least 3 (a cluster that survives one fault)");
    }
    if a.rate.is_nan() || a.rate <= 0.0 || a.hold.is_nan() || a.hold <= 0.0 {
        bail!("--rate and --hold must be positive");
    }
    let budget = match a.max_minutes {
        Some(m) if m.is_finite() && m > 0.0 && m < 1e6 => Some(Duration::from_secs_f64(m * 60.0)),
        Some(_) => bail!("--max-minutes must be a positive number"),
        None => None,
    };
    let bin = match a.bin {
        Some(b) => b,
        None => std::env::current_exe().context("locating this binary")?,
    };
    let mut spec = DrillSpec {
        plan,
        hold: Duration::from_secs_f64(a.hold),
        keep_dir: a.keep,
        interleave: a.interleave,
        budget,
        ..DrillSpec::default()
    };
    spec.cluster.nodes = a.nodes;
    spec.load.rate = a.rate;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let r = rt
        .block_on(drill::run(&bin, &spec))
        .context("running the drill")?;
    print!("{}", report::table(&r));
    let json = serde_json::to_string_pretty(&r)?;
    std::fs::write(&a.report, json).with_context(|| format!("writing {}", a.report.display()))?;
    println!("report written to {}", a.report.display());
    if let Some(h) = &a.history {
        std::fs::write(h, serde_json::to_string(&r.history)?)
            .with_context(|| format!("writing {}", h.display()))?;
    }
    if !r.ok() {
        bail!("the drill found {} violation(s)", r.verdict.violations.len());
    }
    Ok(())
}
