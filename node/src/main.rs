//! `smsgw`: the node binary and the admins' CLI. Subcommands live in their own
//! modules; this file only parses the command line and dispatches.

// mimalloc's thread-local free lists instead of glibc's arenas: under load
// the node allocates and frees small buffers on every thread (sled nodes,
// frames, JSON), and glibc's malloc/free/consolidate was about a fifth of its
// CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod accounts_cmd;
mod alarm;
mod api;
mod apps;
mod bench_alarm;
mod bench_api;
mod bench_apps;
mod bench_cdr;
mod bench_cmd;
mod bench_e2e;
mod bench_service;
mod callbacks;
mod cdr;
mod client_cmd;
mod cluster;
mod config_cmd;
mod console;
mod demo;
mod drill_cmd;
mod gateway;
mod https_client;
mod node_cmd;
mod pdu;
mod pdu_text;
mod secret;
mod service;
mod service_cmd;
mod sim_cmd;
mod storage;
mod users_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "smsgw", version, about = "Carrier-grade SMS gateway cluster")]
struct Cli {
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
    Node(node_cmd::NodeCmd),
    /// Form, inspect and change the cluster (talks to a node's raft port).
    #[command(subcommand)]
    Cluster(cluster::ClusterCmd),
    /// Work with configuration files.
    #[command(subcommand)]
    Config(config_cmd::ConfigCmd),
    /// Run the carrier simulator (CMPP, SGIP, SMGP, SMPP) on its own.
    Sim(sim_cmd::SimArgs),
    /// Decode captured PDU hex into JSON, or encode JSON into hex.
    Pdu(pdu::PduArgs),
    /// Send a message through a node's HTTP API.
    Send(client_cmd::SendArgs),
    /// Show a message's status through a node's HTTP API.
    Status(client_cmd::StatusArgs),
    /// The address book's contacts: import, find, export.
    #[command(subcommand)]
    Contacts(service_cmd::ContactsCmd),
    /// Groups of contacts.
    #[command(subcommand)]
    Groups(service_cmd::GroupsCmd),
    /// Templates (common phrases).
    #[command(subcommand)]
    Templates(service_cmd::TemplatesCmd),
    /// Group and scheduled send jobs.
    #[command(subcommand)]
    Jobs(service_cmd::JobsCmd),
    /// What was sent and received.
    Records(service_cmd::RecordsArgs),
    /// Counts by day, week or month.
    Stats(service_cmd::StatsArgs),
    /// CDR files: decode a day file.
    #[command(subcommand)]
    Cdr(cdr::cli::CdrCmd),
    /// Prepaid accounts: top up, show, ledger, statement (admin key).
    #[command(subcommand)]
    Accounts(accounts_cmd::AccountsCmd),
    /// Console users (through the raft port with the cluster secret).
    #[command(subcommand)]
    Users(users_cmd::UsersCmd),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCmd),
    /// Run a failover drill: a local cluster, honest clients, nemeses, a verdict.
    Drill(drill_cmd::DrillArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain of causes, without a backtrace: these are messages
            // for people at a terminal.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Node(c) => node_cmd::run(c, cli.secret_file),
        Command::Cluster(c) => cluster::run(c, cli.secret_file),
        Command::Config(c) => config_cmd::run(c, cli.secret_file),
        Command::Sim(args) => {
            init_logs();
            tokio::runtime::Runtime::new()?.block_on(sim_cmd::run(args))
        }
        Command::Pdu(args) => pdu::run(args),
        Command::Bench(c) => bench_cmd::run(c),
        Command::Send(a) => client_cmd::send(a),
        Command::Status(a) => client_cmd::status(a),
        Command::Contacts(c) => service_cmd::contacts(c),
        Command::Groups(c) => service_cmd::groups(c),
        Command::Templates(c) => service_cmd::templates(c),
        Command::Jobs(c) => service_cmd::jobs(c),
        Command::Records(a) => service_cmd::records(a),
        Command::Stats(a) => service_cmd::stats(a),
        Command::Accounts(c) => accounts_cmd::run(c),
        Command::Users(c) => users_cmd::run(c, cli.secret_file),
        Command::Cdr(c) => cdr::cli::run(c),
        Command::Drill(a) => drill_cmd::run(a),
    }
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
