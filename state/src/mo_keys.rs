//! MO dedupe keys: an MO is recorded once per (carrier, carrier's id),
//! whatever number of times the carrier delivers it (a DELIVER_RESP lost
//! with a killed node, a standby's forward retried after a timeout).
//!
//! Where they live: an MO's key is the request id of its
//! [`Command::RecordMo`](crate::Command::RecordMo), so it shares the
//! request-id table (`r/mo/CARRIER\0ID` → the first answer,
//! `Response::MoRecorded { seq }`) and its expiry: apply files it in the
//! retention index `E/r` under the MO's receive time and the purge drops
//! it after `[retention] client_ref_hours` (24 h by default), reading from
//! its cursor (see [`crate::retention`]). A repeat within the window
//! changes nothing and is answered `Response::Replayed(MoRecorded { seq })`
//! with the first copy's sequence: "already recorded". MOs, once recorded,
//! are read by the MO intake, the alarm desk and the callback tailer from
//! the dense `o/SEQ` table, so each of them sees an MO once.
//!
//! A multi-segment MO is keyed by every segment it was recorded with
//! ([`Command::RecordMoSegments`](crate::Command::RecordMoSegments), applied
//! in [`segments`]): a segment re-delivered alone, or a partial copy, is a
//! repeat of the recorded MO. The keys are the same request ids; a key
//! stored before segment keys existed (an MO's lowest segment) reads the
//! same way.
//!
//! This module names keys and reads answers; only its `segments` part
//! writes, and only when apply calls it.

mod segments;

pub(crate) use segments::apply_segments;

use crate::command::Response;

/// The request id under which carrier `carrier`'s MO `id` is recorded.
/// The NUL keeps two carriers' equal ids (and a carrier name that ends
/// the way another's id starts) apart.
pub fn request_id(carrier: &str, id: &str) -> String {
    format!("mo/{carrier}\0{id}")
}

/// Whether `r`, the answer to a `RecordMo`, says the MO was recorded now
/// (`false`: a repeat of one already recorded, or not an MO answer).
pub fn recorded_now(r: &Response) -> bool {
    matches!(r, Response::MoRecorded { .. })
}

/// The MO sequence an answer to a `RecordMo` names, first copy or repeat.
pub fn recorded_seq(r: &Response) -> Option<u64> {
    match r {
        Response::MoRecorded { seq } => Some(*seq),
        Response::Replayed(first) => recorded_seq(first),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
