//! Typed configuration for smsgw: the node file (id, data dir, addresses, log
//! format, peers) loaded from TOML and validated with errors that name the
//! file, the key and the line. The cluster document (carriers, routes,
//! accounts) comes with issue 6.
//!
//! It must never do I/O beyond reading the file it is given, except the
//! explicit [`NodeConfig::check_data_dir_writable`] probe.

mod node;

pub use node::{ConfigError, LogFormat, NodeConfig, Peer};
