//! `smsgw`: the node binary and the admins' CLI. Subcommands live in their own
//! modules; this file only parses the command line and dispatches.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "smsgw", version, about = "Carrier-grade SMS gateway cluster")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {}
}
