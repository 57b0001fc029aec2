//! The drill's history: every request the honest clients made and what came
//! back, with times, and every fault the nemeses injected. The checker reads
//! only this, the carrier's ledger and the API's final statuses; the history
//! must never be edited after the fact.

use serde::{Deserialize, Serialize};

pub use crate::mo_source::MoSent;

/// How one HTTP attempt ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// 202 with the message id.
    Accepted { id: String },
    /// A definite refusal (4xx other than 429): the message does not exist.
    Rejected { status: u16, code: String },
    /// 429/5xx: the node could not take it now; the client tries elsewhere.
    Unavailable { status: u16, code: String },
    /// No answer in time, or the connection failed: it may or may not exist.
    Indeterminate { reason: String },
}

/// One HTTP attempt of an operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    pub node: usize,
    /// Milliseconds since the drill started.
    pub start_ms: u64,
    pub end_ms: u64,
    pub outcome: Outcome,
}

/// One message an honest client wanted sent, with all its attempts (same
/// `client_ref` every time).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Op {
    pub client_ref: String,
    /// The destination, unique per operation: how the carrier's ledger is
    /// matched to it.
    pub to: String,
    /// The priority asked for ("alarm"), when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    pub attempts: Vec<Attempt>,
}

impl Op {
    /// The ids of every 202 answer (all must be the same id).
    pub fn accepted_ids(&self) -> Vec<&str> {
        self.attempts
            .iter()
            .filter_map(|a| match &a.outcome {
                Outcome::Accepted { id } => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }

    /// When the first 202 came back.
    pub fn accepted_at(&self) -> Option<u64> {
        self.attempts
            .iter()
            .find(|a| matches!(a.outcome, Outcome::Accepted { .. }))
            .map(|a| a.end_ms)
    }

    /// When the request that was answered 202 was sent.
    pub fn accepting_request_at(&self) -> Option<u64> {
        self.attempts
            .iter()
            .find(|a| matches!(a.outcome, Outcome::Accepted { .. }))
            .map(|a| a.start_ms)
    }

    pub fn started_at(&self) -> u64 {
        self.attempts.first().map(|a| a.start_ms).unwrap_or(0)
    }
}

/// One injected fault: when it started and when it was healed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultWindow {
    pub nemesis: String,
    pub round: u32,
    /// What was done, e.g. "kill -9 node 2 (leader)".
    pub detail: String,
    pub start_ms: u64,
    pub heal_ms: u64,
    /// When the round ended (the next round starts after this).
    pub end_ms: u64,
    /// Carrier link connections reset during the round (each may cost a
    /// window of resends).
    #[serde(default)]
    pub carrier_resets: u64,
}

/// One submit as the carrier recorded it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CarrierSubmit {
    pub destination: String,
    /// Milliseconds since the drill started.
    pub at_ms: u64,
    /// The node that submitted it (from the connection's address), when
    /// the carrier link proxy could tell.
    #[serde(default)]
    pub node: Option<u64>,
    /// Order of arrival at the carrier (breaks ties of `at_ms`).
    #[serde(default)]
    pub n: u64,
}

/// Everything the checker needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    pub ops: Vec<Op>,
    pub faults: Vec<FaultWindow>,
    pub carrier: Vec<CarrierSubmit>,
    /// The final status of every accepted message id (`GET /v1/messages/{id}`),
    /// or "MISSING" when no node knew it.
    pub statuses: std::collections::BTreeMap<String, String>,
    /// When the clients stopped (ms since start).
    pub end_ms: u64,
    /// The MOs the carrier was given to deliver.
    #[serde(default)]
    pub mos: Vec<MoSent>,
    /// How many times the cluster recorded each MO (`GET /v1/inbound`);
    /// `None` when no node answered a whole listing.
    #[serde(default)]
    pub mo_recorded: Option<Vec<MoSeen>>,
}

/// One MO as the cluster listed it, with how many times.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MoSeen {
    pub from: String,
    pub text: String,
    pub count: u64,
}
