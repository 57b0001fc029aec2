//! Replication: openraft type config, the sled log store and state machine
//! driver, snapshots, proposal batching and the network between nodes.
//!
//! It must never know about SMS, carrier sessions, HTTP or the CLI: commands
//! are opaque bytes applied by an [`App`] (the domain lives in `smsgw-state`),
//! and the node wires the rest on top of [`Cluster`].

// openraft's traits fix `StorageError` (large) as the error type of storage calls.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod codec;
pub mod entry_size;
pub mod log_store;
mod reclaim;
pub mod state_machine;
pub mod types;

pub use app::{App, Applied, ApplyError, Proposal, Tx, View};
pub use log_store::SledLogStore;
pub use state_machine::SledStateMachine;
pub use types::{NodeId, NodeInfo, TypeConfig};
pub mod cluster;
pub mod error;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod metrics;
pub mod network;

pub use cluster::{
    admin_call, inspect_data_dir, BatchOptions, Cluster, ClusterOptions, Inspection, ReadError, StartError,
    StorageOpenError, TransferHook,
};
pub use error::{AdminError, ProposeError};
pub use network::{AdminRequest, AdminResponse, ClusterSecret, Keyring, NodeStatus, SecretError, SecretSet};
