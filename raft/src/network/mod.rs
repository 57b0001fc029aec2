//! The network between nodes: one TCP port per node (its raft address)
//! carrying raft RPCs, forwarded writes and admin requests as length-prefixed
//! bincode frames. It must never depend on HTTP.

pub mod client;
pub mod server;
pub mod wire;

pub use client::{set_source_ip, NetworkFactory, RpcClient};
pub use wire::{AdminRequest, AdminResponse, NodeStatus, RpcRequest, RpcResponse, WriteRefusal};
