//! A carrier in a box: the carrier side of CMPP 2.0/3.0, SGIP 1.2, SMGP 3.0
//! and SMPP 3.4, good enough that the gateway, its tests, the embedded demo,
//! benchmarks and failover drills all run with no real carrier.
//!
//! It is the ground truth of every loss and duplicate count: the [`ledger`]
//! records exactly what was received. For that reason it must never depend on
//! the gateway's crates other than `protocols`.
//!
//! Layout: [`config`] (accounts, listeners, report policy), [`session`] (one
//! generic connection engine), [`dialect`] + [`dialects`] (what differs per
//! protocol), [`shared`] (state shared by sessions: receivers of reports and
//! MOs, TPS buckets), [`faults`], [`quirks`] (what real carriers send
//! that the specs do not), [`control`] (the HTTP control API),
//! [`server`] (start/stop).

pub mod config;
pub mod control;
pub mod dialect;
pub mod dialects;
pub mod faults;
pub mod ledger;
pub mod mo;
pub mod profile;
pub mod quirks;
pub mod server;
pub mod session;
pub mod shared;
pub mod throttle;

pub use config::{Account, Protocol, SimConfig};
pub use server::{Simulator, StartError};
