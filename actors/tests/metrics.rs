//! The metrics the actors emit, through a recorder installed for this test
//! binary alone (the node installs the Prometheus one).

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use smsgw_actors::Priority;

/// Sums every series of a name (labels ignored).
#[derive(Default)]
struct Series {
    sum: AtomicU64,
    samples: AtomicU64,
}

impl CounterFn for Series {
    fn increment(&self, v: u64) {
        self.sum.fetch_add(v, Ordering::Relaxed);
    }
    fn absolute(&self, v: u64) {
        self.sum.store(v, Ordering::Relaxed);
    }
}

impl GaugeFn for Series {
    fn increment(&self, _v: f64) {
        self.samples.fetch_add(1, Ordering::Relaxed);
    }
    fn decrement(&self, _v: f64) {
        self.samples.fetch_add(1, Ordering::Relaxed);
    }
    fn set(&self, _v: f64) {
        self.samples.fetch_add(1, Ordering::Relaxed);
    }
}

impl HistogramFn for Series {
    fn record(&self, _v: f64) {
        self.samples.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Default, Clone)]
struct Names(Arc<Mutex<HashMap<String, Arc<Series>>>>);

impl Names {
    fn series(&self, key: &Key) -> Arc<Series> {
        self.0
            .lock()
            .unwrap()
            .entry(key.name().to_string())
            .or_default()
            .clone()
    }

    fn seen(&self, name: &str) -> Option<(u64, u64)> {
        self.0
            .lock()
            .unwrap()
            .get(name)
            .map(|s| (s.sum.load(Ordering::Relaxed), s.samples.load(Ordering::Relaxed)))
    }
}

impl Recorder for Names {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.series(key))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.series(key))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.series(key))
    }
}

#[tokio::test]
async fn carrier_queue_and_report_metrics_are_emitted() {
    let names = Names::default();
    metrics::set_global_recorder(names.clone()).expect("first recorder");
    let sim = sim().await;
    set_account(&sim, Protocol::Cmpp, |a| {
        a.tps = 40;
        // Padded login answers: skipped, counted, never a failed login.
        a.quirks.trailing_bytes = 1;
    });
    let mut spec = carrier(&sim, Protocol::Cmpp, "c1", 1, 8);
    spec.cfg.tps = 200;
    let (gw, store) = gateway(&sim, spec).await;
    let msgs = messages(1, 60, Priority::Bulk);
    gw.send(msgs.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    sim.shared().faults.drop_all_now();
    wait_done(&store, &msgs, Duration::from_secs(20)).await;
    for name in [
        "smsgw_carrier_connections_up",
        "smsgw_carrier_window_in_use",
        "smsgw_carrier_tps_limit",
        "smsgw_queue_depth",
        "smsgw_carrier_submit_response_seconds",
        "smsgw_carrier_submit_report_seconds",
    ] {
        assert!(names.seen(name).is_some_and(|(_, n)| n > 0), "{name} never set");
    }
    for name in [
        "smsgw_carrier_submits_total",
        "smsgw_carrier_responses_total",
        "smsgw_carrier_throttles_total",
        "smsgw_reports_matched_total",
        "smsgw_carrier_reconnects_total",
        "smsgw_pdu_trailing_bytes_total",
    ] {
        assert!(
            names.seen(name).is_some_and(|(sum, _)| sum > 0),
            "{name} never counted"
        );
    }
    assert!(names.seen("smsgw_reports_matched_total").unwrap().0 >= 54 + 18);
    gw.stop().await;
}
