//! The replicated core: openraft type config, the sled log store and state
//! machine, snapshots, the replicated commands and the network between nodes.
//!
//! It must never know about carrier sessions, HTTP or the CLI: the node wires
//! those on top of [`Cluster`].

// openraft's traits fix `StorageError` (large) as the error type of storage calls.
#![allow(clippy::result_large_err)]

pub mod codec;
pub mod command;
pub mod log_store;
pub mod state_machine;
pub mod types;

pub use command::{Command, MoMessage, MoRecord, MtPart, PartRecord, Query, QueryResult, Response};
pub use log_store::SledLogStore;
pub use state_machine::{SledStateMachine, StateView};
pub use types::{NodeId, NodeInfo, TypeConfig};
pub mod cluster;
pub mod error;
pub mod metrics;
pub mod network;

pub use cluster::{admin_call, BatchOptions, Cluster, ClusterOptions, ReadError, StartError};
pub use error::{AdminError, ProposeError};
pub use network::{AdminRequest, AdminResponse, ClusterSecret, NodeStatus, SecretError};
