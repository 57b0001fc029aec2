//! The node as a working gateway, end to end with real processes:
//! `node start` with no config sends 1,000 messages (mixed carriers, long
//! and Chinese texts) through the in-process simulator; every one reaches
//! DELIVERED and the simulator saw each part exactly once.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{http, sim_control, Node};
use serde_json::json;

fn destination(i: usize) -> String {
    match i % 4 {
        0 => format!("138{:08}", i),
        1 => format!("130{:08}", i),
        2 => format!("133{:08}", i),
        _ => format!("+4477009{:05}", i),
    }
}

fn text(i: usize) -> String {
    match i % 3 {
        0 => format!("code {i}"),
        1 => format!("long message {i} ").repeat(12),
        _ => format!("您好，第{i}条长消息。").repeat(8),
    }
}

#[test]
fn demo_node_delivers_1000_mixed_messages_each_part_once() {
    let node = Arc::new(Node::start(&[]));
    let key = node.demo_key();
    let control = sim_control(&node);
    let started = Instant::now();
    // 100 requests of 10 recipients (same text per request), 8 clients.
    let mut handles = Vec::new();
    for c in 0..8 {
        let (node, key) = (node.clone(), key.clone());
        handles.push(std::thread::spawn(move || {
            let mut ids: Vec<(String, String, u64)> = Vec::new();
            for r in (c..100).step_by(8) {
                let to: Vec<String> = (0..10).map(|k| destination(r * 10 + k)).collect();
                let resp = node.post(&key, &json!({"to": to, "text": text(r)}));
                assert_eq!(resp.status, 202, "{:?}", resp.body);
                for m in resp.body["messages"].as_array().expect("messages") {
                    ids.push((
                        m["id"].as_str().unwrap_or("").to_string(),
                        m["to"].as_str().unwrap_or("").to_string(),
                        m["parts"].as_u64().unwrap_or(0),
                    ));
                }
            }
            ids
        }));
    }
    let ids: Vec<(String, String, u64)> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("client thread"))
        .collect();
    assert_eq!(ids.len(), 1000);
    let accepted_in = started.elapsed();
    let total_parts: u64 = ids.iter().map(|(_, _, p)| p).sum();
    assert!(total_parts > 1000, "long texts split");

    // Every message reaches DELIVERED (bounded wait).
    let deadline = Instant::now() + Duration::from_secs(45);
    let mut pending: Vec<&(String, String, u64)> = ids.iter().collect();
    while !pending.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} messages not delivered, e.g. {:?}",
            pending.len(),
            node.call("GET", &format!("/v1/messages/{}", pending[0].0), Some(&key), None)
                .body
        );
        pending.retain(|(id, _, _)| {
            let g = node.call("GET", &format!("/v1/messages/{id}"), Some(&key), None);
            g.body["status"] != "DELIVERED"
        });
        if !pending.is_empty() {
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let delivered_in = started.elapsed();
    eprintln!(
        "1000 messages ({total_parts} parts): accepted in {accepted_in:?}, all DELIVERED after {delivered_in:?}"
    );

    // The simulator counted each part exactly once.
    let counts = http(&control, "GET", "/counts", None, None);
    assert_eq!(
        counts.body["submits"].as_u64(),
        Some(total_parts),
        "{:?}",
        counts.body
    );
    let subs = http(&control, "GET", "/submits?limit=100000", None, None);
    let mut by_dest: HashMap<String, u64> = HashMap::new();
    for s in subs.body.as_array().expect("submits") {
        let d = s["destination"].as_str().unwrap_or("").trim_start_matches('+');
        *by_dest.entry(d.to_string()).or_default() += 1;
    }
    for (_, to, parts) in &ids {
        let d = to.trim_start_matches('+');
        assert_eq!(by_dest.get(d).copied(), Some(*parts), "submits to {to}");
    }
}
