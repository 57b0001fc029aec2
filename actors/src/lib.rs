//! Supervised ractor actors that move messages between the replicated state
//! and the carriers: carrier sessions, window and TPS flow control, priority
//! dispatch, report reconciliation, inbound routing.
//!
//! Not built yet (issue 5). It must never write to the replicated state other
//! than through proposals.
