//! `smsgw bench ...`: the benchmarks an operator runs against this build or a
//! running node. Each one lives in its own file and prints its figures with
//! the arguments that produced them; none of them may talk to anything but
//! the addresses it is given (127.0.0.1 by default), and each stops by itself.

mod alarm;
mod api;
mod apps;
mod cdr;
mod e2e;
mod raft;
mod service;

use clap::Subcommand;

/// Benchmarks.
#[derive(Subcommand)]
pub enum BenchCmd {
    /// Raft commit throughput and latency on a 3-node loopback cluster.
    Raft(raft::RaftBenchArgs),
    /// POST /v1/messages throughput of a running node (1 recipient, N clients).
    Api(api::ApiBenchArgs),
    /// The service's goals on a running node: import, search, group send.
    Service(service::ServiceBenchArgs),
    /// CDR records encoded and written per second (fsync per 1,000).
    Cdr(cdr::CdrBenchArgs),
    /// The 110 alarm desk under a burst of alarm MOs: case and forward latency.
    Alarm(alarm::AlarmBenchArgs),
    /// Submits per second over one SMPP application bind of a running node, receipts back.
    Apps(apps::AppsBenchArgs),
    /// The gateway end to end: a fresh node and the carrier simulator as child
    /// processes, rounds of HTTP load; accept rate, CPU per message, RSS.
    E2e(e2e::E2eBenchArgs),
}

pub fn run(cmd: BenchCmd) -> anyhow::Result<()> {
    let rt = || tokio::runtime::Runtime::new();
    match cmd {
        BenchCmd::Raft(args) => rt()?.block_on(raft::run(args)),
        BenchCmd::Api(args) => rt()?.block_on(api::run(args)),
        BenchCmd::Service(args) => rt()?.block_on(service::run(args)),
        BenchCmd::Cdr(args) => cdr::run(args),
        BenchCmd::Alarm(args) => rt()?.block_on(alarm::run(args)),
        BenchCmd::Apps(args) => rt()?.block_on(apps::run(args)),
        BenchCmd::E2e(args) => rt()?.block_on(e2e::run(args)),
    }
}
