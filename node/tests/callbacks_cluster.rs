//! Callbacks across a leader kill: three real nodes and a simulator
//! process; the receiver refuses (500) until the events are queued in the
//! replicated state, the leader is killed with SIGKILL, and the new leader
//! delivers every event (at least once) until none is pending.

mod callbacks_support;
mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use callbacks_support::{wait_all, Receiver, SECRET};
use common::sim_cluster::Sim;
use common::{cli, http, start_cluster, Node};
use serde_json::{json, Value};

const KEY: &str = "sk_callbacks_cluster_0123456789";

fn doc(sim: &Sim, url: &str) -> String {
    format!(
        "{}[[accounts]]\nname = \"app\"\napi_keys = [\"{KEY}\"]\n\
         service_codes = [\"1069000\"]\n\n[accounts.callbacks]\nurls = [\"{url}\"]\nsecret = \"{SECRET}\"\n",
        common::sim_cluster::carrier(sim, 500)
    )
}

fn leader_index(nodes: &[&Node]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        for n in nodes {
            if let Some(l) = n.call("GET", "/readyz", None, None).body["leader"].as_u64() {
                if let Some(i) = nodes.iter().position(|m| {
                    m.stdout
                        .iter()
                        .any(|s| s.contains(&format!("smsgw node {l} ready")))
                }) {
                    return i;
                }
            }
        }
        assert!(Instant::now() < deadline, "no leader");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn deliveries(node: &Node) -> Option<Value> {
    let r = node.call("GET", "/v1/callbacks/deliveries", Some(KEY), None);
    (r.status == 200).then_some(r.body)
}

fn wait_deliveries(nodes: &[&Node], secs: u64, what: &str, until: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = Value::Null;
    loop {
        for n in nodes {
            if let Some(d) = deliveries(n) {
                if until(&d) {
                    return d;
                }
                last = d;
            }
        }
        assert!(Instant::now() < deadline, "waited {secs} s for {what}: {last}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn pending_events_are_delivered_by_the_next_leader_after_a_kill() {
    let sim = Sim::start();
    let receiver = Receiver::start(usize::MAX);
    let mut nodes = start_cluster(3);
    let here = nodes[0].dir.path().to_path_buf();
    std::fs::write(here.join("cluster.toml"), doc(&sim, &receiver.url)).expect("write doc");
    let (ok, out, err) = cli(
        &here,
        &["config", "apply", "cluster.toml", "--addr", &nodes[1].raft],
    );
    assert!(ok, "apply: {out}{err}");
    let all: Vec<&Node> = nodes.iter().collect();
    wait_deliveries(&all, 30, "the subscription", |d| d["subscribed"] == true);
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in &nodes {
        while n.call("GET", "/readyz", None, None).status != 200 {
            assert!(Instant::now() < deadline, "node not ready");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = nodes[i % 3].post(KEY, &json!({"to": [format!("1380013810{i}")], "text": "hi"}));
        assert_eq!(r.status, 202, "{:?}", r.body);
        ids.push(r.body["messages"][0]["id"].as_str().expect("id").to_string());
    }
    let texts = ["before the kill 1", "before the kill 2"];
    for t in texts {
        let body = json!({"protocol": "cmpp", "from": "13900002222", "to": "1069000555", "text": t});
        let r = http(
            &sim.control,
            "POST",
            "/mo",
            None,
            Some(body.to_string().as_bytes()),
        );
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
    let want = (ids.len() + texts.len()) as u64;
    // Every event is in the replicated queue and none acknowledged.
    wait_deliveries(&all, 30, "every event queued", |d| d["pending"] == want);
    assert!(
        receiver.requests().iter().all(|g| g.answered == 500),
        "nothing acknowledged yet"
    );
    let li = leader_index(&all);
    let _ = nodes[li].child.kill(); // SIGKILL
    let _ = nodes[li].child.wait();
    let killed = nodes.remove(li);
    receiver.failures.store(0, Ordering::SeqCst);
    let survivors: Vec<&Node> = nodes.iter().collect();
    let bodies = wait_all("app", &receiver, &ids, &texts, 60);
    assert_eq!(bodies.len() as u64, want, "{bodies:?}");
    let d = wait_deliveries(&survivors, 30, "0 pending", |d| {
        d["pending"] == 0 && d["sender"] == "this node"
    });
    assert_eq!(d["last_seq"], want, "{d}");
    drop(killed);
}
