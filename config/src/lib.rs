//! Typed configuration for smsgw: the node file (id, data dir, addresses, log
//! format, peers) and the cluster document (carriers, routes by number
//! segment, accounts, message defaults), both loaded from TOML and validated
//! with errors that name the file, the key and the line.
//!
//! It must never do I/O beyond reading the file it is given, except the
//! explicit [`NodeConfig::check_data_dir_writable`] probe.

pub mod cluster;
mod node;
mod spans;

pub use cluster::{
    demo::{DemoCarrier, DemoCarriers, DEMO_ACCOUNT},
    expand_prefix, looks_like_cluster_doc, normalize_number, Account, AccountBilling, AccountKind,
    AdminAccess, AlarmDesk, AlarmLine, ApiKeyHash, AppLogins, BillingRules, Callbacks, Carrier,
    CarrierProfile, CarrierProtocol, ClusterDoc, ContentAction, ContentRules, FeeDefaults, IdFormat,
    MessageDefaults, Priority, ProfileOverrides, ReceiptStyle, Route, RouteChoice, Router, UdhStyle,
    CLUSTER_DOC_KEY, REDACTED,
};
pub use node::{
    ConfigError, LogFormat, NodeConfig, Peer, DEFAULT_APPS_CMPP_ADDR, DEFAULT_APPS_SMPP_ADDR,
    DEFAULT_STORAGE_CACHE_MB, DEFAULT_STORAGE_MIN_FREE_MB,
};
