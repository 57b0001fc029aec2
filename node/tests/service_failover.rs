//! A scheduled job across a leader kill at its firing moment, with three
//! real nodes and the simulator in its own process: every recipient gets
//! exactly one message id (the job fires once), and the carrier sees every
//! recipient, duplicates bounded by what can be in flight in one window.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::http;
use common::sim_cluster::{cluster, leader_index, Sim, KEY};
use serde_json::json;

const RECIPIENTS: usize = 600;
/// The carrier link's window: at most this many submits can be unanswered
/// when the leader dies, and only those may be sent again.
const WINDOW: usize = 16;

#[test]
fn a_scheduled_job_fires_once_when_the_leader_is_killed_at_its_firing_time() {
    let sim = Sim::start();
    let mut nodes = cluster(&sim, 2000);
    let li = leader_index(&nodes);
    let fi = (li + 1) % 3;
    let to: Vec<String> = (0..RECIPIENTS).map(|i| format!("1380000{i:04}")).collect();
    let fire_at = chrono::Utc::now() + chrono::Duration::seconds(4);
    let r = nodes[fi].post(
        KEY,
        &json!({"to": to, "text": "定时演练", "send_at": fire_at.to_rfc3339()}),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let job = r.body["job"].as_u64().expect("job id");

    // Kill -9 the leader at the firing moment.
    let wait = (fire_at - chrono::Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(wait);
    drop(nodes.remove(li));
    let survivor = &nodes[0];

    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let r = survivor.call("GET", &format!("/v1/jobs/{job}"), Some(KEY), None);
        if r.status == 200 && r.body["status"] == "DONE" && r.body["in_progress"] == 0 {
            break r.body;
        }
        assert!(Instant::now() < deadline, "job {job} not finished: {:?}", r.body);
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(status["accepted"], RECIPIENTS as u64, "{status}");

    // One message id per recipient: the job fired once.
    let mut per_number: BTreeMap<String, usize> = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let cursor = after.as_ref().map(|a| format!("&after={a}")).unwrap_or_default();
        let r = survivor.call(
            "GET",
            &format!("/v1/records?job={job}&limit=500{cursor}"),
            Some(KEY),
            None,
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        for it in r.body["items"].as_array().into_iter().flatten() {
            *per_number
                .entry(it["to"].as_str().unwrap_or("").to_string())
                .or_default() += 1;
        }
        match r.body["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(per_number.len(), RECIPIENTS);
    assert!(
        per_number.values().all(|n| *n == 1),
        "a recipient got two message ids"
    );

    // The carrier saw everyone; repeats only what one window could hold.
    let submits = http(&sim.control, "GET", "/submits?limit=100000", None, None).body;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for s in submits.as_array().into_iter().flatten() {
        *seen
            .entry(s["destination"].as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    for n in &to {
        assert!(seen.contains_key(n), "{n} never reached the carrier");
    }
    let repeats: usize = seen.values().map(|n| n - 1).sum();
    assert!(repeats <= WINDOW, "{repeats} repeats, more than one window");
}
