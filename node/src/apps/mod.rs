//! The SMPP 3.4 and CMPP 2.0/3.0 servers for applications: business
//! systems and SP customers bind (SMPP) or CONNECT (CMPP) to any node with
//! their account's logins, submit messages that go exactly the way
//! `POST /v1/messages` goes ([`crate::api::messages::send`]), and receive
//! their delivery reports and MOs as `deliver_sm` / DELIVER.
//!
//! - [`listener`]: the two TCP listeners;
//! - [`auth`]: logins, compared in constant time;
//! - [`session`]: the one session loop (window, rate, long messages,
//!   commits, deliveries, keepalive answers, idle timeout, end), generic
//!   over a protocol's [`session::Dialect`];
//! - [`smpp`] and [`cmpp`]: each protocol's bind and dialect (decode a PDU
//!   into a request, encode answers and deliveries); [`query`]: SMPP
//!   `query_sm` / `cancel_sm`; [`outbound`]: the events written to a
//!   receiving session;
//! - [`submit`]: a submit (or the segments of a long one) to one send;
//!   [`held`]: a submit the content rules hold, as a job for review;
//! - [`delivery`]: the account's replicated event queue to its receiving
//!   sessions on every node (leases from the leader, acknowledgement
//!   through raft);
//! - [`hub`]: the sessions of this node, their receivers and the
//!   per-account submit rate.
//!
//! A session never writes the replicated state except through the shared
//! send and the leader's acknowledgement, never answers a submit before its
//! commit, and never shows one account's traffic to another's session.

pub mod auth;
pub mod cmpp;
pub mod delivery;
pub mod held;
pub mod hub;
pub mod listener;
pub mod outbound;
pub mod query;
pub mod session;
pub mod smpp;
pub mod submit;

pub use hub::Hub;
