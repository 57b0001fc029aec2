//! The emergency SMS service on top of the gateway: what the address book,
//! group sends and scheduled jobs need besides the replicated tables of
//! `smsgw_state::{book, jobs}`: search tokens (with pinyin initials), CSV
//! import and export (UTF-8 or GBK), template filling, recipient resolution,
//! and the leader's job runner. Pure functions here take no locks and do no
//! I/O, except the runner. None of it may write state other than through a
//! proposed command.

pub mod billing;
pub mod content;
pub mod csvio;
pub mod recipients;
pub mod retention;
pub mod runner;
pub mod template;
pub mod tokens;
pub mod zone;
