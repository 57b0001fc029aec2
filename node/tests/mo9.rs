//! MOs exactly once, through real processes: one node, the simulator in
//! its own process as the carrier (CMPP). A carrier that delivers the same
//! MO again (its answer went missing: the simulator's `copies`, same
//! `Msg_Id` each time) gets every copy answered, and the gateway records
//! it once: one row in `/v1/inbound`, one alarm case with one text, one
//! callback. An MO that waits at the carrier while the link is down is
//! delivered in the session's first instants after login, and recorded.
//! A delivery report that reaches the gateway before its submit result
//! commits, and is still unmatched after the hold (what a partition does
//! to a report for the cut-off leader's submit), is kept and applied when
//! the carrier id commits: the message ends DELIVERED, not SUBMITTED.

mod callbacks_support;
mod common;

use std::time::{Duration, Instant};

use callbacks_support::{Receiver, SECRET};
use common::sim_cluster::{apply_text, carrier, metric, Sim};
use common::{http, start_cluster, Node};
use serde_json::{json, Value};

const DESK: &str = "sk_desk_mo9_0123456789abcdef";

fn doc(sim: &Sim, callback_url: &str) -> String {
    format!(
        r#"{}
[[accounts]]
name = "desk"
api_keys = ["{DESK}"]
service_codes = ["1069000"]
callbacks = {{ urls = ["{callback_url}"], secret = "{SECRET}" }}

[alarm]
account = "desk"

[[alarm.lines]]
number = "110"
kind = "crime"
priority = 1
reply = "【110】已收到（编号 {{case}}）"
"#,
        carrier(sim, 2000)
    )
}

fn call(node: &Node, path: &str) -> common::Resp {
    node.call("GET", path, Some(DESK), None)
}

/// Polls `what` until it is `Some`, for at most `secs`.
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

/// Injects an MO delivered `copies` times; the number of its segments.
fn inject(sim: &Sim, from: &str, to: &str, text: &str, copies: u8) -> u64 {
    let body = json!({"protocol": "cmpp", "account": sim.login, "from": from, "to": to, "text": text, "copies": copies});
    let r = http(
        &sim.control,
        "POST",
        "/mo",
        None,
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(r.status, 202, "inject MO: {:?}", r.body);
    r.body["parts"].as_u64().expect("parts")
}

/// The desk account's MOs from `from`, as `/v1/inbound` lists them.
fn inbound_from(node: &Node, from: &str) -> Vec<Value> {
    let r = call(node, "/v1/inbound?limit=500");
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["from"] == from)
        .cloned()
        .collect()
}

fn cases_from(node: &Node, citizen: &str) -> Vec<Value> {
    let r = call(node, "/v1/alarm/cases?status=all");
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["citizen"] == citizen)
        .cloned()
        .collect()
}

/// The MO callbacks the receiver got from `from` (each body once per request).
fn callbacks_from(rx: &Receiver, from: &str) -> usize {
    rx.requests()
        .iter()
        .filter_map(|g| serde_json::from_slice::<Value>(&g.body).ok())
        .filter(|v| v["type"] == "mo" && v["data"]["from"] == from)
        .count()
}

fn repeats(node: &Node) -> f64 {
    metric(node, "smsgw_mo_repeats_total{carrier=\"cm\"}").unwrap_or(0.0)
}

#[test]
fn a_redelivered_mo_is_recorded_once_with_one_case_and_one_callback() {
    let sim = Sim::start();
    let rx = Receiver::start(0);
    let nodes = start_cluster(1);
    let node = &nodes[0];
    apply_text(&nodes, &doc(&sim, &rx.url));
    ready(node);
    wait(20, "the desk subscribed to callbacks", || {
        (call(node, "/v1/callbacks/deliveries").body["subscribed"] == true).then_some(())
    });

    // One alarm, delivered three times with the same Msg_Id.
    let citizen = "13800000091";
    inject(&sim, citizen, "1069000110", "有人持刀抢劫，三号楼", 3);
    wait(20, "the two repeats answered as already recorded", || {
        (repeats(node) >= 2.0).then_some(())
    });
    let case = wait(20, "the case", || cases_from(node, citizen).into_iter().next());
    wait(20, "the callback", || {
        (callbacks_from(&rx, citizen) >= 1).then_some(())
    });
    // A long MO (three segments), delivered twice: one whole record.
    let long = "我在人民路和解放路路口的便利店门口，看到两个人在打架，其中一个拿着刀，已经有人受伤流血了，请尽快派人来，谢谢！我会在这里等候，\
                我穿着红色的外套，手里拿着一把黑色的雨伞，旁边还有一辆蓝色的自行车，请警察同志尽快赶到现场处理。";
    let segments = inject(&sim, "13800000092", "1069000110", long, 2);
    assert!(segments >= 2, "a long MO: {segments} segments");
    wait(20, "the long MO", || {
        (!inbound_from(node, "13800000092").is_empty()).then_some(())
    });
    wait(20, "every copy at the gateway", || {
        (sim.counts()["mo_sent"].as_u64() == Some(3 + segments * 2)).then_some(())
    });
    // Let anything late land, then drop the link: whatever the gateway had
    // left unanswered, the carrier would deliver again now.
    std::thread::sleep(Duration::from_secs(2));
    let r = http(&sim.control, "POST", "/faults/drop", None, None);
    assert!(r.status < 300, "{:?}", r.body);
    std::thread::sleep(Duration::from_secs(1));
    ready(node);
    std::thread::sleep(Duration::from_secs(2));

    let mos = inbound_from(node, citizen);
    assert_eq!(mos.len(), 1, "one record of the alarm: {mos:?}");
    assert_eq!(mos[0]["text"], "有人持刀抢劫，三号楼");
    let cases = cases_from(node, citizen);
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0]["texts_total"], 1, "a repeat is not another text: {case}");
    assert_eq!(callbacks_from(&rx, citizen), 1, "one callback");
    let long_mos = inbound_from(node, "13800000092");
    assert_eq!(long_mos.len(), 1, "{long_mos:?}");
    assert_eq!(long_mos[0]["text"], long);
    // The alarm's repeats reached the store (a long MO's may be caught
    // earlier, by the reassembler's memory of what it just recorded).
    assert!(repeats(node) >= 2.0);
    // Every copy was answered: nothing is left for the carrier to resend.
    let counts = sim.counts();
    assert_eq!(counts["mo_sent"], 3 + segments * 2, "{counts}");
    assert_eq!(
        counts["redelivered"],
        2 + segments,
        "only the copies asked for: {counts}"
    );
}

#[test]
fn mos_sent_in_the_first_instants_of_a_session_are_recorded_at_once() {
    let sim = Sim::start();
    let rx = Receiver::start(0);
    let nodes = start_cluster(1);
    let node = &nodes[0];
    // Waiting at the carrier before the gateway ever logs in: the
    // simulator writes it right behind the login answer, often in the
    // same segment.
    let first = "13800000093";
    inject(&sim, first, "1069000110", "门口有可疑人员", 1);
    apply_text(&nodes, &doc(&sim, &rx.url));
    // And one the moment the carrier saw the login.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.counts()["logins_ok"].as_u64().unwrap_or(0) < 1 {
        assert!(Instant::now() < deadline, "no login at the simulator");
        std::thread::sleep(Duration::from_millis(2));
    }
    let second = "13800000094";
    inject(&sim, second, "1069000110", "楼道里有烟", 1);
    let t0 = Instant::now();
    // Well inside the 30 s heartbeat: before the fix, an MO read together
    // with the login answer waited for the next bytes on the link.
    for citizen in [first, second] {
        wait(10, &format!("the MO from {citizen} recorded"), || {
            (inbound_from(node, citizen).len() == 1).then_some(())
        });
    }
    println!("both recorded {:?} after the login", t0.elapsed());
    ready(node);
    let counts = sim.counts();
    assert_eq!(counts["redelivered"], 0, "recorded the first time: {counts}");
    assert_eq!(counts["logins_ok"], 1, "one session, never re-dialled: {counts}");
    assert_eq!(cases_from(node, first).len(), 1);
}

#[test]
fn a_report_unmatched_after_the_hold_is_applied_when_its_submit_result_commits() {
    let sim = Sim::start();
    let nodes = start_cluster(1);
    let node = &nodes[0];
    apply_text(&nodes, &common::sim_cluster::doc(&sim, 2000));
    ready(node);
    // The report goes out before the submit's answer, and the answer comes
    // 5 s later: past the gateway's 2 s hold, so the report is looked up,
    // found nowhere and declared unmatched before the carrier id commits.
    let put = |path: &str, body: Value| {
        let r = http(&sim.control, "PUT", path, None, Some(body.to_string().as_bytes()));
        assert!(r.status < 300, "PUT {path}: {:?}", r.body);
    };
    put("/reports", json!({"delay_ms": [0, 0], "early_fraction": 1.0}));
    put("/faults", json!({"delay_ms": 5000}));
    let key = common::sim_cluster::KEY;
    let r = node.post(
        key,
        &json!({"to": ["13800138001"], "text": "report before its submit result"}),
    );
    assert!(r.status == 200 || r.status == 202, "{:?}", r.body);
    let id = r.body["messages"][0]["id"].as_str().expect("id").to_string();
    wait(20, "the report declared unmatched", || {
        (metric(node, "smsgw_reports_unmatched_total").unwrap_or(0.0) >= 1.0).then_some(())
    });
    let status = wait(30, "the message final", || {
        let s = node
            .call("GET", &format!("/v1/messages/{id}"), Some(key), None)
            .body;
        (s["status"] != "SUBMITTED" && s["status"] != "QUEUED" && s["status"] != "ACCEPTED").then_some(s)
    });
    assert_eq!(status["status"], "DELIVERED", "{status}");
    put("/faults", json!({}));
}
