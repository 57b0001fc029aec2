//! Callbacks to application servers against a real node and its simulated
//! carriers: the demo account's MOs and delivery reports are POSTed to
//! receivers running in this test (plain sockets on 127.0.0.1), signed with
//! the account's secret; a receiver that is down is failed over, one that
//! answers 500 is retried until it answers 200, and every event arrives at
//! least once while `/v1/callbacks/deliveries` drains to 0 pending.

mod callbacks_support;
mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use callbacks_support::{dead_url, verified, wait_all, Got, Receiver, SECRET};
use common::{cli, http, sim_control, Node};
use serde_json::{json, Value};
use smsgw_config::{Callbacks, ClusterDoc, DemoCarrier, DemoCarriers};

/// The demo document (carriers from the node's demo line) with callbacks
/// on the demo account, applied through `config apply`.
fn apply_callbacks(node: &Node, urls: &[String]) {
    apply_doc(node, urls, |_| {});
}

/// As [`apply_callbacks`], with `change` applied to the document first.
fn apply_doc(node: &Node, urls: &[String], change: impl FnOnce(&mut ClusterDoc)) {
    let line = node
        .stdout
        .iter()
        .find(|l| l.starts_with("demo: carriers"))
        .expect("demo line");
    let words: Vec<&str> = line.split_whitespace().collect();
    let addr_after = |p: &str| {
        let i = words
            .iter()
            .position(|w| w.trim_start_matches('(') == p)
            .expect("protocol in demo line");
        words[i + 1].trim_end_matches(',').to_string()
    };
    let accounts = smsgw_simulator::config::default_accounts();
    let carrier = |p: smsgw_simulator::config::Protocol, name: &str| {
        let a = accounts.iter().find(|a| a.protocol == p).expect("sim account");
        DemoCarrier {
            address: addr_after(name),
            login: a.login.clone(),
            password: a.password.clone(),
        }
    };
    use smsgw_simulator::config::Protocol as P;
    let carriers = DemoCarriers {
        china_mobile: carrier(P::Cmpp, "CMPP"),
        china_unicom: carrier(P::Sgip, "SGIP"),
        china_telecom: carrier(P::Smgp, "SMGP"),
        international: carrier(P::Smpp, "SMPP"),
    };
    let mut doc = ClusterDoc::demo(&carriers, &node.demo_key());
    doc.demo = false;
    doc.accounts[0].callbacks = Some(Callbacks {
        urls: urls.to_vec(),
        secret: SECRET.into(),
    });
    change(&mut doc);
    let file = node.dir.path().join("callbacks.toml");
    std::fs::write(&file, doc.to_toml()).expect("write doc");
    let (ok, out, err) = cli(
        node.dir.path(),
        &["config", "apply", "callbacks.toml", "--addr", &node.raft],
    );
    assert!(ok, "config apply: {out}{err}");
    // The leader subscribes the account from the document in force.
    wait_for(node, 15, "the account to be subscribed", |d| {
        d["subscribed"] == true
    });
}

fn deliveries(node: &Node) -> Value {
    deliveries_of(node, &node.demo_key())
}

fn deliveries_of(node: &Node, key: &str) -> Value {
    let r = node.call("GET", "/v1/callbacks/deliveries", Some(key), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

fn wait_for(node: &Node, secs: u64, what: &str, until: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let d = deliveries(node);
        if until(&d) {
            return d;
        }
        assert!(Instant::now() < deadline, "waited {secs} s for {what}: {d}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends one message per number; their ids.
fn send(node: &Node, numbers: &[&str]) -> Vec<String> {
    let key = node.demo_key();
    numbers
        .iter()
        .map(|to| {
            let r = node.post(&key, &json!({"to": [to], "text": format!("hello {to}")}));
            assert!(r.status == 200 || r.status == 202, "{:?}", r.body);
            r.body["messages"][0]["id"].as_str().expect("id").to_string()
        })
        .collect()
}

fn inject_mos(node: &Node, texts: &[&str]) {
    inject_mos_to(node, "1069000123", texts);
}

fn inject_mos_to(node: &Node, to: &str, texts: &[&str]) {
    let sim = sim_control(node);
    for t in texts {
        let body = json!({"protocol": "cmpp", "from": "13900001111", "to": to, "text": t});
        let r = http(&sim, "POST", "/mo", None, Some(body.to_string().as_bytes()));
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
}

#[test]
fn mos_and_reports_reach_the_live_receiver_signed_when_the_other_is_down() {
    let node = Node::start(&[]);
    let live = Receiver::start(0);
    let down = dead_url();
    apply_callbacks(&node, &[live.url.clone(), down.clone()]);
    let ids = send(
        &node,
        &["13800138001", "13800138002", "13800138003", "13800138004"],
    );
    let texts = ["mo one", "mo two", "mo three"];
    inject_mos(&node, &texts);
    let bodies = wait_all("demo", &live, &ids, &texts, 60);
    for v in bodies.values().filter(|v| v["type"] == "report") {
        assert_eq!(v["data"]["status"], "DELIVRD", "{v}");
    }
    for v in bodies.values().filter(|v| v["type"] == "mo") {
        assert_eq!(v["data"]["to"], "1069000123", "{v}");
        assert_eq!(v["data"]["from"], "13900001111", "{v}");
    }
    assert_eq!(
        bodies.len(),
        ids.len() + texts.len(),
        "one event per fact: {bodies:?}"
    );
    let d = wait_for(&node, 15, "0 pending", |d| d["pending"] == 0);
    assert_eq!(d["last_seq"], (ids.len() + texts.len()) as u64, "{d}");
    assert_eq!(d["dropped"], 0);
    // Round robin sent some events to the dead URL first: it failed over.
    let urls = d["urls"].as_array().expect("urls");
    let dead = urls
        .iter()
        .find(|u| u["url"] == down.as_str())
        .expect("dead url listed");
    assert!(dead["failed"].as_u64().unwrap_or(0) >= 1, "{d}");
    assert_eq!(dead["delivered"], 0, "{d}");
    assert!(
        dead["last_error"].as_str().is_some_and(|e| e.contains(&down)),
        "{d}"
    );
    // The gauge follows the replicated queue within a supervisor tick.
    let deadline = Instant::now() + Duration::from_secs(5);
    let text = loop {
        let metrics = node.call("GET", "/metrics", None, None);
        let text = metrics.body.as_str().unwrap_or_default().to_string();
        if text.contains("smsgw_callback_pending 0\n") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(text.contains("smsgw_callback_pending 0\n"), "{text}");
    assert!(
        text.contains("smsgw_callback_deliveries_total{result=\"delivered\"}"),
        "{text}"
    );
    assert!(text.contains("smsgw_callback_deliveries_total{result=\"transport_error\"}"));
    assert!(text.contains("smsgw_callback_delivery_seconds_bucket"));
    // Another account sees none of it, and the secret is never shown.
    let (ok, shown, err) = cli(node.dir.path(), &["config", "show", "--addr", &node.raft]);
    assert!(ok, "{err}");
    assert!(!shown.contains(SECRET) && shown.contains(&live.url), "{shown}");
    let anon = node.call(
        "GET",
        "/v1/callbacks/deliveries",
        Some("sk_not_a_key_0123456789"),
        None,
    );
    assert_eq!(anon.status, 401);
}

#[test]
fn a_receiver_answering_500_is_retried_until_it_answers_200() {
    let node = Node::start(&[]);
    let flaky = Receiver::start(3);
    apply_callbacks(&node, std::slice::from_ref(&flaky.url));
    let ids = send(&node, &["13800138011"]);
    let texts = ["retry me"];
    inject_mos(&node, &texts);
    let bodies = wait_all("demo", &flaky, &ids, &texts, 60);
    assert_eq!(bodies.len(), 2);
    let all = flaky.requests();
    let refused: Vec<&Got> = all.iter().filter(|g| g.answered == 500).collect();
    assert_eq!(refused.len(), 3);
    // Every refused event came again and was then acknowledged.
    let ok_ids: BTreeSet<String> = verified(
        "demo",
        &all.iter()
            .filter(|g| g.answered == 200)
            .cloned()
            .collect::<Vec<_>>(),
    )
    .into_keys()
    .collect();
    for id in verified("demo", &refused.into_iter().cloned().collect::<Vec<_>>()).keys() {
        assert!(ok_ids.contains(id), "{id} was refused and never delivered");
    }
    let d = wait_for(&node, 15, "0 pending", |d| d["pending"] == 0);
    let url = &d["urls"][0];
    assert_eq!(url["failed"], 3, "{d}");
    assert!(
        url["last_error"].as_str().is_some_and(|e| e.contains("500")),
        "{d}"
    );
    assert!(url["delivered"].as_u64().unwrap_or(0) >= 2, "{d}");
}

#[test]
fn one_accounts_dead_receiver_never_holds_back_another_account() {
    const OTHER_KEY: &str = "sk_other_account_0123456789";
    let node = Node::start(&[]);
    let live = Receiver::start(0);
    let down = dead_url();
    apply_doc(&node, std::slice::from_ref(&down), |doc| {
        let mut other = doc.accounts[0].clone();
        other.name = "other".into();
        other.api_key_hashes = vec![smsgw_config::ApiKeyHash::of(OTHER_KEY)];
        // Longer than the demo account's codes: these MOs are `other`'s.
        other.service_codes = vec!["1069000999".into()];
        other.callbacks = Some(Callbacks {
            urls: vec![live.url.clone()],
            secret: SECRET.into(),
        });
        doc.accounts.push(other);
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    // Until the document is in force the key is unknown (401, no `subscribed`).
    let subscribed = |n: &Node| {
        n.call("GET", "/v1/callbacks/deliveries", Some(OTHER_KEY), None)
            .body["subscribed"]
            == true
    };
    while !subscribed(&node) {
        assert!(Instant::now() < deadline, "`other` not subscribed");
        std::thread::sleep(Duration::from_millis(100));
    }
    inject_mos(&node, &["for demo, whose receiver is down"]);
    let texts = ["for other 1", "for other 2", "for other 3"];
    inject_mos_to(&node, "1069000999", &texts);
    let bodies = wait_all("other", &live, &[], &texts, 30);
    assert_eq!(bodies.len(), texts.len(), "only `other`'s events: {bodies:?}");
    // The demo account's event waits, retried, and shows why.
    let d = wait_for(&node, 15, "a failed attempt", |d| {
        d["events"][0]["attempts"].as_u64().unwrap_or(0) >= 2
    });
    assert_eq!(d["pending"], 1, "{d}");
    assert!(
        d["events"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains(&down)),
        "{d}"
    );
    assert!(
        d["urls"]
            .as_array()
            .is_some_and(|u| u.len() == 1 && u[0]["url"] == down.as_str()),
        "the caller's URLs only: {d}"
    );
    let o = deliveries_of(&node, OTHER_KEY);
    assert_eq!(
        (o["account"].as_str(), o["pending"].as_u64()),
        (Some("other"), Some(0)),
        "{o}"
    );
}
