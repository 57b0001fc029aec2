//! `smsgw`: the node binary and the admins' CLI. Subcommands live in their own
//! modules; this file only parses the command line and dispatches.

mod sim_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "smsgw", version, about = "Carrier-grade SMS gateway cluster")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the carrier simulator (CMPP, SGIP, SMGP, SMPP) on its own.
    Sim(sim_cmd::SimArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim(args) => {
            init_logs();
            tokio::runtime::Runtime::new()?.block_on(sim_cmd::run(args))
        }
    }
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
