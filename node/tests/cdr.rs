//! CDR files across a leader kill: three real nodes and the simulator; every
//! final MT part and every MO is in each surviving node's day file exactly
//! once, and `smsgw cdr decode` reads the records back field by field.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::sim_cluster::{cluster, leader_index, Sim, KEY};
use common::{cli, http, Node};
use serde_json::{json, Value};

const MESSAGES: usize = 60;

fn decode(node: &Node) -> Vec<Value> {
    let day = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .format("%Y%m%d")
        .to_string();
    let file = node.data().join("cdr").join(day).join("records.cdr");
    if !file.exists() {
        return Vec::new();
    }
    let (ok, out, err) = cli(node.dir.path(), &["cdr", "decode", &file.to_string_lossy()]);
    assert!(ok, "cdr decode: {err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect()
}

#[test]
fn every_final_part_and_mo_is_written_once_on_each_node_across_a_leader_kill() {
    let sim = Sim::start();
    let mut nodes = cluster(&sim, 2000);
    let li = leader_index(&nodes);
    let fi = (li + 1) % 3;
    let long = "应急演练".repeat(20); // 80 characters: 2 parts
    let mut sent: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for i in 0..MESSAGES {
        if i == MESSAGES / 2 {
            drop(nodes.remove(li));
        }
        let target = nodes
            .iter()
            .position(|n| n.http == nodes[fi.min(nodes.len() - 1)].http)
            .unwrap_or(0);
        let (text, parts) = if i % 3 == 0 {
            (long.as_str(), 2)
        } else {
            ("通知", 1)
        };
        let to = format!("1390000{i:04}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let id = loop {
            let body = json!({"to": [to], "text": text, "client_ref": format!("cdr-{i}")});
            let r = nodes[target].post(KEY, &body);
            if r.status == 202 {
                break r.body["messages"][0]["id"].as_str().unwrap_or("").to_string();
            }
            assert!(
                Instant::now() < deadline,
                "message {i} not accepted: {:?}",
                r.body
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        sent.insert(id, (to, parts));
    }
    for k in 0..3 {
        let mo = json!({"protocol": "cmpp", "account": sim.login, "from": format!("1380000000{k}"), "to": "1069000123", "text": format!("回复{k}")});
        let r = http(&sim.control, "POST", "/mo", None, Some(mo.to_string().as_bytes()));
        assert!(r.status < 300, "{:?}", r.body);
    }
    let parts: u64 = sent.values().map(|(_, p)| p).sum();
    let want = parts as usize + 3;
    for node in &nodes {
        let deadline = Instant::now() + Duration::from_secs(90);
        let records = loop {
            let r = decode(node);
            if r.len() >= want {
                break r;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {want} records on {}",
                r.len(),
                node.http
            );
            std::thread::sleep(Duration::from_millis(500));
        };
        let mut seen = BTreeMap::new();
        for r in &records {
            *seen
                .entry(r["id"].as_str().unwrap_or("").to_string())
                .or_insert(0) += 1;
        }
        assert!(
            seen.values().all(|n| *n == 1),
            "a record written twice on {}",
            node.http
        );
        assert_eq!(records.len(), want, "no more records than parts and MOs");
        for (id, (to, n)) in &sent {
            for k in 1..=*n {
                let r = records
                    .iter()
                    .find(|r| r["id"] == json!(format!("{id}.{k}")))
                    .unwrap_or_else(|| panic!("part {id}.{k} missing on {}", node.http));
                assert_eq!(r["destination"], json!(to));
                assert_eq!(r["parts"], json!(n));
                assert_eq!(r["account"], "app");
                assert!(!r["state"].as_str().unwrap_or("").is_empty(), "{r}");
                assert_eq!(r["accepted_at"].as_str().map(str::len), Some(14));
            }
        }
        let mos: Vec<&Value> = records.iter().filter(|r| r["kind"] == "O").collect();
        assert_eq!(mos.len(), 3);
        assert!(
            mos.iter().any(|r| r["text"] == "回复1"),
            "GBK text reads back: {mos:?}"
        );
    }
}
