//! `smsgw`: the node binary and the admins' CLI. Subcommands live in their own
//! modules; this file only parses the command line and dispatches.

mod bench_cmd;
mod cluster;
mod config_cmd;
mod node_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "smsgw", version, about = "Carrier-grade SMS gateway cluster")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node.
    #[command(subcommand)]
    Node(node_cmd::NodeCmd),
    /// Form, inspect and change the cluster (talks to a node's raft port).
    #[command(subcommand)]
    Cluster(cluster::ClusterCmd),
    /// Work with configuration files.
    #[command(subcommand)]
    Config(config_cmd::ConfigCmd),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCmd),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Node(c) => node_cmd::run(c),
        Command::Cluster(c) => cluster::run(c),
        Command::Config(c) => config_cmd::run(c),
        Command::Bench(c) => bench_cmd::run(c),
    }
}
