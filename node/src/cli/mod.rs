//! The admins' command line: what `smsgw` parses and which module runs each
//! subcommand. Every file under `cli/` is a command or a helper of commands
//! (HTTP and raft-port clients, secrets, PDU decoding, the demo carriers);
//! none of it may be reached by the node's serving paths, which live in the
//! sibling modules and must work without a terminal.

mod accounts;
mod bench;
mod cdr;
mod client;
mod cluster;
mod config;
mod demo;
mod drill;
mod https_client;
mod node;
mod pdu;
mod pdu_text;
mod secret;
mod service;
mod sim;
mod users;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "smsgw", version, about = "Carrier-grade SMS gateway cluster")]
pub struct Cli {
    /// File holding the cluster secret (hex), for commands that talk to a raft
    /// port and for `node start`. The CLI otherwise reads SMSGW_CLUSTER_SECRET,
    /// then ./smsgw-data/cluster-secret.
    #[arg(long, global = true, value_name = "FILE")]
    secret_file: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node.
    #[command(subcommand)]
    Node(node::NodeCmd),
    /// Form, inspect and change the cluster (talks to a node's raft port).
    #[command(subcommand)]
    Cluster(cluster::ClusterCmd),
    /// Work with configuration files.
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// Run the carrier simulator (CMPP, SGIP, SMGP, SMPP) on its own.
    Sim(sim::SimArgs),
    /// Decode captured PDU hex into JSON, or encode JSON into hex.
    Pdu(pdu::PduArgs),
    /// Send a message through a node's HTTP API.
    Send(client::SendArgs),
    /// Show a message's status through a node's HTTP API.
    Status(client::StatusArgs),
    /// The address book's contacts: import, find, export.
    #[command(subcommand)]
    Contacts(service::ContactsCmd),
    /// Groups of contacts.
    #[command(subcommand)]
    Groups(service::GroupsCmd),
    /// Templates (common phrases).
    #[command(subcommand)]
    Templates(service::TemplatesCmd),
    /// Group and scheduled send jobs.
    #[command(subcommand)]
    Jobs(service::JobsCmd),
    /// What was sent and received.
    Records(service::RecordsArgs),
    /// Counts by day, week or month.
    Stats(service::StatsArgs),
    /// CDR files: decode a day file.
    #[command(subcommand)]
    Cdr(cdr::CdrCmd),
    /// Prepaid accounts: top up, show, ledger, statement (admin key).
    #[command(subcommand)]
    Accounts(accounts::AccountsCmd),
    /// Console users (through the raft port with the cluster secret).
    #[command(subcommand)]
    Users(users::UsersCmd),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Run a failover drill: a local cluster, honest clients, nemeses, a verdict.
    Drill(drill::DrillArgs),
}

/// Runs the parsed command line; errors go back to `main` for printing.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Node(c) => node::run(c, cli.secret_file),
        Command::Cluster(c) => cluster::run(c, cli.secret_file),
        Command::Config(c) => config::run(c, cli.secret_file),
        Command::Sim(args) => {
            init_logs();
            tokio::runtime::Runtime::new()?.block_on(sim::run(args))
        }
        Command::Pdu(args) => pdu::run(args),
        Command::Bench(c) => bench::run(c),
        Command::Send(a) => client::send(a),
        Command::Status(a) => client::status(a),
        Command::Contacts(c) => service::contacts(c),
        Command::Groups(c) => service::groups(c),
        Command::Templates(c) => service::templates(c),
        Command::Jobs(c) => service::jobs(c),
        Command::Records(a) => service::records(a),
        Command::Stats(a) => service::stats(a),
        Command::Accounts(c) => accounts::run(c),
        Command::Users(c) => users::run(c, cli.secret_file),
        Command::Cdr(c) => cdr::run(c),
        Command::Drill(a) => drill::run(a),
    }
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
