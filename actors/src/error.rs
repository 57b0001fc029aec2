//! The errors of this crate, one enum per concern, so callers can tell a
//! carrier refusing us from a broken link from a store that is unavailable.
//! This module only names failures; it never decides what to do about them.

use thiserror::Error;

/// Why a PDU could not be built or a link could not be used.
#[derive(Debug, Error)]
pub enum LinkError {
    #[error("connect to {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("connect to {addr} timed out")]
    ConnectTimeout { addr: String },
    #[error("login refused by the carrier: status {status} ({text})")]
    LoginRefused { status: u32, text: String },
    #[error("no login response within the timeout")]
    LoginTimeout,
    #[error("the carrier closed the link")]
    Closed,
    #[error("unexpected PDU during login: {0}")]
    Unexpected(String),
    #[error("cannot encode a PDU: {0}")]
    Encode(#[from] smsgw_protocols::EncodeError),
    #[error("framing: {0}")]
    Frame(#[from] smsgw_protocols::FrameError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Why text could not be turned into parts.
#[derive(Debug, Error)]
pub enum SplitError {
    #[error("text cannot be encoded: {0}")]
    Text(#[from] smsgw_protocols::text::TextError),
    #[error("message has no parts")]
    Empty,
}

/// Why the gateway could not be started.
#[derive(Debug, Error)]
pub enum StartError {
    #[error("spawning actor {name}: {source}")]
    Spawn { name: String, source: ractor::SpawnErr },
    #[error("listening on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("configuration: {0}")]
    Config(String),
}
