//! The network between nodes: one TCP port per node (its raft address)
//! carrying raft RPCs, forwarded writes and admin requests as length-prefixed
//! bincode frames. Every connection first passes the mutual handshake of
//! [`auth`] (cluster secret); only then are frames read. It must never
//! depend on HTTP.

pub mod auth;
pub mod client;
pub mod keyring;
pub mod secret;
pub mod server;
pub mod wire;

pub use client::{set_source_ip, NetworkFactory, RpcClient};
pub use keyring::{Keyring, SecretSet};
pub use secret::{ClusterSecret, SecretError};
pub use wire::{AdminRequest, AdminResponse, NodeStatus, RpcRequest, RpcResponse, WriteRefusal};
