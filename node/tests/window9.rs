//! A long MO whose carrier re-delivers only some of its segments, through
//! real processes: one node, the simulator in its own process as the
//! carrier (CMPP). A three-segment MO is delivered whole and recorded; the
//! node is killed (-9) and restarted, and one of the MO's segments comes
//! again alone (as after an answer lost with the node). The gateway knows
//! that segment's key, answers it at once as already recorded, and starts
//! no reassembly with it: one MO recorded, nothing left unanswered. Before segment keys, the MO's key was its first
//! segment's id only: the lone second segment waited unanswered in a
//! reassembly and was then recorded again as an incomplete MO.

mod common;

use std::time::{Duration, Instant};

use common::sim_cluster::{apply_text, carrier, metric, Sim};
use common::{http, start_cluster, Node};
use serde_json::{json, Value};

const KEY: &str = "sk_window9_0123456789abcdef";

fn doc(sim: &Sim) -> String {
    format!(
        "{}[[accounts]]\nname = \"svc\"\napi_keys = [\"{KEY}\"]\nservice_codes = [\"1069000\"]\n",
        carrier(sim, 2000)
    )
}

/// Polls `f` until it is `Some`, for at most `secs`.
fn wait<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ready(node: &Node) {
    wait(30, "the node ready with its carrier up", || {
        let up = node.call("GET", "/readyz", None, None).status == 200
            && metric(
                node,
                "smsgw_carrier_connections_up{carrier=\"cm\",protocol=\"cmpp\"}",
            ) == Some(1.0);
        up.then_some(())
    });
}

fn inbound_from(node: &Node, from: &str) -> Vec<Value> {
    let r = node.call("GET", "/v1/inbound?limit=500", Some(KEY), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["from"] == from)
        .cloned()
        .collect()
}

fn repeats(node: &Node) -> f64 {
    metric(node, "smsgw_mo_repeats_total{carrier=\"cm\"}").unwrap_or(0.0)
}

/// kill -9 and start again on the same data dir: a new leader, whose
/// reassembler has no memory of what the old process completed.
fn kill_and_restart(node: Node) -> Node {
    let mut node = node;
    let _ = node.child.kill();
    let _ = node.child.wait();
    let dir = std::mem::replace(&mut node.dir, tempfile::tempdir().expect("tempdir"));
    drop(node);
    Node::start_in(dir, &["--config", "node.toml"])
}

#[test]
fn a_segment_of_a_recorded_long_mo_redelivered_alone_is_answered_and_not_recorded_again() {
    let sim = Sim::start();
    let mut nodes = start_cluster(1);
    apply_text(&nodes, &doc(&sim));
    ready(&nodes[0]);

    let from = "13800000095";
    // 161 characters of UCS-2: three CMPP segments of at most 67.
    let long = "有人抢劫，地点在人民路与解放路交叉口，请速来。".repeat(7);
    // Delivered whole once; 6 s later its second segment again, alone.
    const AGAIN_MS: u64 = 6000;
    let body = json!({
        "protocol": "cmpp", "account": sim.login, "from": from, "to": "1069000110", "text": &long,
        "redeliver": {"segments": [2], "after_ms": AGAIN_MS},
    });
    let t0 = Instant::now();
    let r = http(
        &sim.control,
        "POST",
        "/mo",
        None,
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(r.status, 202, "inject: {:?}", r.body);
    let segments = r.body["parts"].as_u64().expect("parts");
    assert_eq!(segments, 3, "a three-segment MO");
    let first = wait(20, "the long MO recorded", || {
        inbound_from(&nodes[0], from).into_iter().next()
    });
    assert_eq!(first["text"], long.as_str());
    // Its answers on their way to the carrier, then the leader dies before
    // the lone segment comes (the carrier holds it while no link is up).
    std::thread::sleep(Duration::from_millis(300));
    let node = kill_and_restart(nodes.remove(0));
    assert!(
        t0.elapsed() < Duration::from_millis(AGAIN_MS),
        "too slow to kill the node before the re-delivery: {:?}",
        t0.elapsed()
    );
    ready(&node);

    wait(30, "the lone segment at the gateway", || {
        (sim.counts()["mo_sent"].as_u64() == Some(segments + 1)).then_some(())
    });
    // Answered as a repeat on arrival, not after a reassembly timeout.
    wait(10, "the lone segment answered as already recorded", || {
        (repeats(&node) >= 1.0).then_some(())
    });

    // Drop the link: whatever the gateway left unanswered, the carrier
    // would deliver again now.
    std::thread::sleep(Duration::from_secs(1));
    let r = http(&sim.control, "POST", "/faults/drop", None, None);
    assert!(r.status < 300, "{:?}", r.body);
    std::thread::sleep(Duration::from_secs(1));
    ready(&node);
    std::thread::sleep(Duration::from_secs(2));

    let mos = inbound_from(&node, from);
    assert_eq!(mos.len(), 1, "one record of the long MO: {mos:?}");
    assert_eq!(mos[0]["text"], long.as_str());
    let counts = sim.counts();
    assert_eq!(counts["mo_sent"], segments + 1, "{counts}");
    assert_eq!(counts["redelivered"], 1, "only the segment asked for: {counts}");
}
