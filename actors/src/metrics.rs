//! Every metric this crate emits, by name, through the `metrics` facade (the
//! node installs the Prometheus recorder). Names follow Prometheus rules:
//! `smsgw_` prefix, `_total` counters, `_seconds` durations, labels
//! `carrier`, `protocol`, `priority`, `status`.
//!
//! Only emitting lives here; this module never reads metrics back or keeps
//! state of its own.

use std::time::Duration;

use metrics::{counter, gauge, histogram};

use crate::model::{Priority, Protocol};

fn labels(carrier: &str, p: Protocol) -> [(&'static str, String); 2] {
    [
        ("carrier", carrier.to_string()),
        ("protocol", p.name().to_string()),
    ]
}

pub fn connection_up(carrier: &str, p: Protocol, up: bool) {
    let g = gauge!("smsgw_carrier_connections_up", &labels(carrier, p));
    if up {
        g.increment(1.0)
    } else {
        g.decrement(1.0)
    }
}

pub fn reconnect(carrier: &str, p: Protocol) {
    counter!("smsgw_carrier_reconnects_total", &labels(carrier, p)).increment(1);
}

pub fn connect_failed(carrier: &str, p: Protocol) {
    counter!("smsgw_carrier_connect_failures_total", &labels(carrier, p)).increment(1);
}

pub fn submits(carrier: &str, p: Protocol, n: u64) {
    counter!("smsgw_carrier_submits_total", &labels(carrier, p)).increment(n);
}

/// `status`: ok, throttled, rejected, timeout.
pub fn response(carrier: &str, p: Protocol, status: &'static str, latency: Duration) {
    let [c, pr] = labels(carrier, p);
    counter!(
        "smsgw_carrier_responses_total",
        &[c.clone(), pr.clone(), ("status", status.to_string())]
    )
    .increment(1);
    histogram!("smsgw_carrier_submit_response_seconds", &[c, pr]).record(latency.as_secs_f64());
}

pub fn window_in_use(carrier: &str, p: Protocol, session: usize, n: usize) {
    let [c, pr] = labels(carrier, p);
    gauge!(
        "smsgw_carrier_window_in_use",
        &[c, pr, ("session", session.to_string())]
    )
    .set(n as f64);
}

pub fn tps_limit(carrier: &str, rate: f64) {
    gauge!("smsgw_carrier_tps_limit", "carrier" => carrier.to_string()).set(rate);
}

/// Parts that were in flight on a link that was lost: the carrier may have
/// taken them, so they are the only ones that can go twice.
pub fn resent_after_loss(carrier: &str, n: usize) {
    counter!("smsgw_carrier_resent_after_loss_total", "carrier" => carrier.to_string()).increment(n as u64);
}

pub fn throttled(carrier: &str, p: Protocol) {
    counter!("smsgw_carrier_throttles_total", &labels(carrier, p)).increment(1);
}

/// Bytes a carrier sent after a known PDU body (skipped, never a reason to
/// drop the PDU).
pub fn trailing_bytes(carrier: &str, n: u64) {
    counter!("smsgw_pdu_trailing_bytes_total", "carrier" => carrier.to_string()).increment(n);
}

/// Reports that could not be read far enough to match (left unacknowledged
/// for the carrier to deliver again).
pub fn unreadable_report(carrier: &str, p: Protocol) {
    counter!("smsgw_carrier_unreadable_reports_total", &labels(carrier, p)).increment(1);
}

pub fn bad_pdu(carrier: &str, p: Protocol) {
    counter!("smsgw_carrier_bad_pdus_total", &labels(carrier, p)).increment(1);
}

pub fn session_restart(carrier: &str, crash_loop: bool) {
    counter!("smsgw_carrier_session_restarts_total", "carrier" => carrier.to_string()).increment(1);
    gauge!("smsgw_carrier_crash_loop", "carrier" => carrier.to_string()).set(if crash_loop {
        1.0
    } else {
        0.0
    });
}

pub fn queue_depth(p: Priority, depth: usize) {
    gauge!("smsgw_queue_depth", "priority" => p.name()).set(depth as f64);
}

/// How long the oldest message waiting in class `p` has waited (0 when none).
pub fn queue_age(p: Priority, age: std::time::Duration) {
    gauge!("smsgw_queue_oldest_age_seconds", "priority" => p.name()).set(age.as_secs_f64());
}

/// `what`: matched, early, unmatched, expired.
pub fn reports(what: &'static str, n: u64) {
    counter!(format!("smsgw_reports_{what}_total")).increment(n);
}

pub fn report_latency(carrier: &str, latency: Duration) {
    histogram!("smsgw_carrier_submit_report_seconds", "carrier" => carrier.to_string())
        .record(latency.as_secs_f64());
}

pub fn mo_received(carrier: &str, complete: bool) {
    counter!("smsgw_mo_received_total", "carrier" => carrier.to_string(), "complete" => complete.to_string())
        .increment(1);
}

/// An MO the store had already recorded under its key (a re-delivery).
pub fn mo_repeated(carrier: &str) {
    counter!("smsgw_mo_repeats_total", "carrier" => carrier.to_string()).increment(1);
}

pub fn store_batch(n: usize, ok: bool) {
    counter!("smsgw_store_proposals_total", "status" => if ok { "ok" } else { "error" }).increment(1);
    histogram!("smsgw_store_batch_events").record(n as f64);
}

/// Parts a new leader queued again with no committed carrier id: the ones
/// in flight at the old leader's crash are among them, so they bound what
/// can go twice after an unplanned failover.
pub fn failover_resent(n: usize) {
    counter!("smsgw_failover_resent_parts_total").increment(n as u64);
}

/// Parts a new leader took over as submitted (carrier id committed),
/// waiting for their report instead of being sent again.
pub fn failover_awaiting(n: usize) {
    counter!("smsgw_failover_awaiting_parts_total").increment(n as u64);
}

/// Reports and MOs answered to the carrier after their fact committed.
pub fn reports_acked(n: usize) {
    counter!("smsgw_deliver_acked_total").increment(n as u64);
}

/// Report answers waiting for a commit or for their held report's match.
pub fn acks_pending(n: usize) {
    gauge!("smsgw_deliver_acks_pending").set(n as f64);
}
