//! Alarm first under a backlog, end to end with a real node: the carriers
//! go down, a backlog of normal messages builds up, an alarm is posted
//! last; when the carriers come back, the alarm is among the first window
//! of submits they see (not behind the backlog), on whichever of the
//! route's carriers (primary or backup) logs in first.

mod common;

use std::time::{Duration, Instant};

use common::{http, sim_control, Node};
use serde_json::{json, Value};

fn control(addr: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let bytes = body.map(|b| b.to_string().into_bytes());
    let r = http(addr, method, path, None, bytes.as_deref());
    assert!(r.status < 300, "{method} {path}: {} {:?}", r.status, r.body);
    r.body
}

/// The simulator's arrival number of the first submit to `to`, if any.
fn arrival(sim: &str, to: &str) -> Option<u64> {
    let body = control(sim, "GET", &format!("/submits?destination={to}&limit=1"), None);
    body.as_array()?.first()?.get("n")?.as_u64()
}

const BACKLOG_REQUESTS: usize = 50;
const PER_REQUEST: usize = 100;
/// The demo carriers' window (one connection of 16 each).
const WINDOW: u64 = 16;

#[test]
fn an_alarm_posted_last_behind_a_carrier_outage_backlog_goes_first_on_recovery() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let sim = sim_control(&node);
    // The carrier goes away: every link dropped, every login refused.
    control(&sim, "PUT", "/faults", Some(json!({"refuse_logins": true})));
    control(&sim, "POST", "/faults/drop", None);
    std::thread::sleep(Duration::from_millis(300));
    let before = control(&sim, "GET", "/submits?limit=100000", None)
        .as_array()
        .map_or(0, Vec::len);

    for r in 0..BACKLOG_REQUESTS {
        let to: Vec<String> = (0..PER_REQUEST)
            .map(|k| format!("138{:08}", r * PER_REQUEST + k))
            .collect();
        let resp = node.post(
            &key,
            &json!({"to": to, "text": format!("notice {r}"), "priority": "normal"}),
        );
        if resp.status != 202 {
            let log = node.stderr.lock().map(|s| s.clone()).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            panic!(
                "request {r}: {:?}\n{}",
                resp.body,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
    let alarm_to = "13900000110";
    let resp = node.post(
        &key,
        &json!({"to": [alarm_to], "text": "台风红色预警，立即撤离", "priority": "alarm"}),
    );
    assert_eq!(resp.status, 202, "{:?}", resp.body);

    // The carrier comes back.
    control(&sim, "PUT", "/faults", Some(json!({"refuse_logins": false})));
    let deadline = Instant::now() + Duration::from_secs(60);
    let alarm_n = loop {
        if let Some(n) = arrival(&sim, alarm_to) {
            break n;
        }
        assert!(Instant::now() < deadline, "the alarm never reached the carrier");
        std::thread::sleep(Duration::from_millis(50));
    };
    let earlier = control(&sim, "GET", "/submits?limit=100000", None)
        .as_array()
        .expect("submits")
        .iter()
        .filter(|r| r["n"].as_u64().is_some_and(|n| n < alarm_n))
        .count()
        - before;
    println!(
        "backlog {} messages; submits before the alarm after recovery: {earlier}",
        BACKLOG_REQUESTS * PER_REQUEST
    );
    assert!(
        (earlier as u64) < WINDOW,
        "{earlier} backlog submits reached the carrier before the alarm"
    );
    // The backlog still drains afterwards: more than the feeder's target
    // per queue, so the dispatcher is topped up from the ready queue.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = control(&sim, "GET", "/submits?limit=100000", None)
            .as_array()
            .map_or(0, Vec::len)
            - before;
        if n > BACKLOG_REQUESTS * PER_REQUEST {
            break;
        }
        if Instant::now() >= deadline {
            let metrics = http(&node.http, "GET", "/metrics", None, None);
            let text = metrics.body.as_str().unwrap_or("").to_string();
            let depth: Vec<String> = text
                .lines()
                .filter(|l| {
                    (l.starts_with("smsgw_queue") || l.contains("china-mobile"))
                        && !l.contains("_bucket")
                        && !l.starts_with('#')
                })
                .map(str::to_string)
                .collect();
            let log = node.stderr.lock().map(|s| s.clone()).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            let counts = control(&sim, "GET", "/counts", None);
            panic!(
                "only {n} submits after recovery\nsimulator: {counts}\n{}\n{}",
                depth.join("\n"),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
