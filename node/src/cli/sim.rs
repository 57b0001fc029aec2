//! `smsgw sim`: run the carrier simulator on its own, for drills, demos and
//! load tests against a gateway in another process.
//!
//! With no config it listens on the well-known ports with one default account
//! per protocol and says so. This module only parses arguments and prints; the
//! carrier lives in `smsgw-simulator`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use smsgw_simulator::{SimConfig, Simulator};

#[derive(Args)]
pub struct SimArgs {
    /// A TOML file with listeners, accounts, report policy (see
    /// `smsgw-simulator`'s config docs). Without it: CMPP 7890, SGIP 8801,
    /// SMGP 8890, SMPP 2775, control API 7899 on 127.0.0.1, one account per
    /// protocol, password `secret`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Listen on 127.0.0.1 port 0 for everything (printed at start); handy
    /// when the well-known ports are taken.
    #[arg(long)]
    ephemeral: bool,
    /// Play a shipped carrier profile (china-mobile, china-unicom,
    /// china-telecom, generic-smpp) on every account of its protocol:
    /// its version, id format, receipt style, data_coding. Repeatable.
    #[arg(long = "profile", value_name = "NAME")]
    profiles: Vec<String>,
}

pub async fn run(args: SimArgs) -> Result<()> {
    let mut config = match &args.config {
        Some(path) => SimConfig::load(path)?,
        None => SimConfig::default(),
    };
    if args.ephemeral {
        config.listen = smsgw_simulator::config::Listen::ephemeral();
    }
    for name in &args.profiles {
        smsgw_simulator::profile::play_everywhere(&mut config, name).map_err(anyhow::Error::msg)?;
    }
    let sim = Simulator::start(config).await.context("starting the simulator")?;
    print!("{}", sim.banner());
    println!("  Ctrl-C stops it.");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    println!(
        "stopping; {} submits received",
        sim.shared().ledger.counts().submits
    );
    Ok(())
}
