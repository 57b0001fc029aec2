//! Supervised ractor actors that move messages between the replicated state
//! and the carriers.
//!
//! The path of an MT: [`gateway::Gateway::send`] → [`dispatcher`] (per-route
//! priority queues, route choice, credits and [`flow`] TPS tokens) → a
//! carrier's [`session`] actor (window, timeouts, reconnects) over a
//! [`link`] speaking one of the [`proto`] protocols → submit responses and
//! reports to the [`reconcile`] actor → batched [`store::Event`]s to the
//! [`store::Store`]. MOs: link (or the SGIP [`sgip_listener`]) → [`inbound`]
//! (reassembly, record) → router → handlers. A [`supervisor`] per carrier
//! restarts crashed sessions; [`metrics`] names every metric.
//!
//! It must never write to the replicated state other than through
//! [`store::Store`] proposals, and never send MT unless told to by the
//! dispatcher (only the leader dispatches).

pub mod error;
pub mod link;
pub mod metrics;
pub mod mo_key;
pub mod model;
pub mod proto;
pub mod ratelog;
pub mod sgip_listener;
pub mod split;

pub use error::{LinkError, SplitError, StartError};
pub use model::{
    KnownPart, MessageId, Mo, MoPart, OutboundMessage, Part, PartId, Priority, Protocol, SubmitStatus,
};
pub mod dispatcher;
pub mod flow;
pub mod gateway;
pub mod inbound;
pub mod queue;
pub mod reconcile;
pub mod session;
pub mod store;
pub mod supervisor;

pub use gateway::{CarrierSpec, Gateway, GatewayConfig};
pub use split::{split_message, split_text};
pub use store::{Event, MemoryStore, MessageState, PartOutcome, Store, StoreError};
pub use supervisor::CarrierConfig;
