//! Failover drills as a product: multi-process drills against real `smsgw`
//! nodes and the carrier simulator, used by `smsgw drill` and by the tests
//! in `chaos-tests/tests/`.
//!
//! - [`cluster`]: N real node processes ([`node`]), a link proxy per node
//!   ([`proxy`]) as its raft membership address, the simulator in-process
//!   behind a carrier link proxy ([`carrier_link`]) that tells which node
//!   sent each part;
//! - [`client`]: honest clients that retry with the same `client_ref` on
//!   another node (some at alarm priority), recording a [`history`];
//!   [`mo_source`]: MOs from the carrier to the drill account;
//! - [`nemesis`]: kill -9, SIGSTOP/SIGCONT, partitions, slow/lossy links,
//!   carrier hard drops;
//! - [`checker`]: the verdict over the history, the carrier's ledger and the
//!   final statuses; [`drill`] runs it all, [`report`] prints it.
//!
//! Everything here binds 127.0.0.0/8 only, and every process it starts is
//! killed when its handle drops. It must never judge a drill anywhere but in
//! the checker.

pub mod binary;
pub mod carrier_link;
pub mod checker;
pub mod client;
pub mod cluster;
pub mod drill;
pub mod error;
pub mod history;
pub mod http;
pub mod mo_source;
pub mod nemesis;
pub mod node;
pub mod proxy;
pub mod report;

pub use checker::{check, Bounds, Verdict};
pub use drill::{run, DrillReport, DrillSpec};
pub use error::{ChaosError, Result};
pub use nemesis::Nemesis;
