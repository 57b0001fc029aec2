//! Supervised ractor actors that move messages between the replicated state
//! and the carriers.
//!
//! - [`proto`]: the SP side of CMPP, SGIP, SMGP and SMPP (pure translation);
//!   [`link`]: one TCP link (connect, login, reader and writer tasks);
//!   [`sgip_listener`]: the server SGIP carriers push reports and MOs to.
//!
//! It must never write to the replicated state other than through
//! [`store::Store`] proposals, and never send MT unless told to by the
//! dispatcher (only the leader dispatches).

pub mod error;
pub mod link;
pub mod metrics;
pub mod model;
pub mod proto;
pub mod sgip_listener;

pub use error::{LinkError, SplitError, StartError};
pub use model::{
    split_message, MessageId, Mo, MoPart, OutboundMessage, Part, PartId, Priority, Protocol, SubmitStatus,
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
pub use store::{Event, MemoryStore, MessageState, PartOutcome, Store, StoreError};
pub use supervisor::CarrierConfig;
