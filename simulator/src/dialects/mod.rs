//! The four protocols' [`crate::dialect::Dialect`] implementations, one file
//! each. They translate; they never do I/O (except SGIP's SP pusher, which
//! is the one place a carrier dials out).

pub mod cmpp;
pub mod sgip;
pub mod smgp;
pub mod smpp;

/// Simulated "gateway code" the carrier stamps into its message ids.
pub(crate) const GATEWAY_CODE: u32 = 1234;
