//! The 110 SMS alarm desk end to end: one real node, the simulator in its
//! own process as the carrier, citizens' and officers' texts injected at
//! the simulator, the desk's SMS read back from the simulator's ledger.
//! An MO to 110 becomes a case, the citizen gets the case number, the
//! on-duty officer gets the forward, his `JS` accepts it, an unaccepted
//! case escalates, a 1101 help case ranks below a crime case, an officer's
//! key sees only his cases, the live stream shows a new case, and the
//! statistics match.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::sim_cluster::{apply_text, carrier, metric, texts_to, Sim};
use common::{http, start_cluster, Node};
use serde_json::{json, Value};

const DESK: &str = "sk_desk_0123456789abcdef";
const OTHER: &str = "sk_other_0123456789abcdef";

fn desk_doc(sim: &Sim) -> String {
    format!(
        r#"{}
[[accounts]]
name = "desk"
api_keys = ["{DESK}"]

[[accounts]]
name = "other"
api_keys = ["{OTHER}"]

[alarm]
account = "desk"
ack_timeout_secs = 2

[[alarm.lines]]
number = "110"
kind = "crime"
priority = 1
reply = "【110】您的短信报警已收到（编号 {{case}}），请保持手机畅通。"

[[alarm.lines]]
number = "1101"
kind = "help"
priority = 2
reply = "【1101】求助已收到（编号 {{case}}）。"

[[alarm.keywords]]
words = ["抢劫", "持刀"]
rank = 0
"#,
        carrier(sim, 2000)
    )
}

/// A desk with a separate number for officers' commands and a low flood limit.
fn phones_doc(sim: &Sim) -> String {
    format!(
        "{}[[accounts]]\nname = \"desk\"\napi_keys = [\"{DESK}\"]\n\n[alarm]\naccount = \"desk\"\n\
         desk_number = \"12345\"\nflood_per_minute = 3\n\n[[alarm.lines]]\nnumber = \"110\"\nreply = \"收到 {{case}}\"\n",
        carrier(sim, 2000)
    )
}

fn call(node: &Node, key: &str, method: &str, path: &str, body: Option<Value>) -> common::Resp {
    let bytes = body.map(|b| b.to_string().into_bytes());
    node.call(method, path, Some(key), bytes.as_deref())
}

fn wait(node: &Node, key: &str, path: &str, what: &str, until: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = call(node, key, "GET", path, None);
        if r.status == 200 && until(&r.body) {
            return r.body;
        }
        if Instant::now() > deadline {
            let log = node.stderr.lock().map(|l| l.clone()).unwrap_or_default();
            let tail: String = log
                .chars()
                .rev()
                .take(4000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            panic!(
                "{what}: GET {path} → {} {:?}\nnode log:\n{tail}",
                r.status, r.body
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn mo(sim: &Sim, from: &str, to: &str, text: &str) {
    let body = json!({"protocol": "cmpp", "account": sim.login, "from": from, "to": to, "text": text});
    let r = http(
        &sim.control,
        "POST",
        "/mo",
        None,
        Some(body.to_string().as_bytes()),
    );
    assert!(r.status < 300, "inject MO: {:?}", r.body);
}

fn wait_text(sim: &Sim, number: &str, what: &str, has: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = texts_to(sim, number);
        if t.iter().any(|x| x.contains(has)) {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: no text to {number} with {has:?}; got {t:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn open_cases(node: &Node, key: &str) -> Vec<Value> {
    let r = call(node, key, "GET", "/v1/alarm/cases", None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["cases"].as_array().cloned().unwrap_or_default()
}

fn find(list: &Value, citizen: &str) -> Option<Value> {
    list["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["citizen"] == citizen)
        .cloned()
}

fn case_from(node: &Node, citizen: &str) -> Value {
    let found = wait(node, DESK, "/v1/alarm/cases?status=all", "case", |v| {
        find(v, citizen).is_some()
    });
    find(&found, citizen).unwrap_or(Value::Null)
}

/// Waits until the node is ready and its carrier link is up (an MO that
/// arrives before the leader's lease is redelivered only by the carrier).
fn ready(node: &Node) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while node.call("GET", "/readyz", None, None).status != 200
        || metric(
            node,
            "smsgw_carrier_connections_up{carrier=\"cm\",protocol=\"cmpp\"}",
        ) != Some(1.0)
    {
        assert!(Instant::now() < deadline, "node never ready with its carrier up");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn roster(node: &Node) -> String {
    let mut p1_key = String::new();
    for (badge, phone) in [
        ("P1", "13900000001"),
        ("P2", "13900000002"),
        ("P9", "13900000009"),
    ] {
        let body =
            json!({"badge": badge, "name": format!("警员{badge}"), "phone": phone, "key": badge == "P1"});
        let r = call(node, DESK, "POST", "/v1/alarm/officers", Some(body));
        assert_eq!(r.status, 201, "{:?}", r.body);
        if badge == "P1" {
            p1_key = r.body["key"].as_str().expect("a key, once").to_string();
        }
    }
    let group = json!({"name": "一组", "leader": "P9", "members": ["P1", "P2"], "shifts": []});
    assert_eq!(
        call(node, DESK, "POST", "/v1/alarm/groups", Some(group)).status,
        201
    );
    let rule = json!({"line": "110", "target": "one_of", "group": "一组", "pick": "round_robin"});
    let r = call(node, DESK, "POST", "/v1/alarm/rules", Some(rule));
    assert_eq!(r.status, 201, "{:?}", r.body);
    p1_key
}

/// Reads server-sent events from `/v1/alarm/events` until one names `citizen`.
fn sse_shows(node: &Node, key: &str, then: impl FnOnce(), citizen: &str) -> bool {
    let mut s = TcpStream::connect(&node.http).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(500))).ok();
    let req = format!(
        "GET /v1/alarm/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("write");
    std::thread::sleep(Duration::from_millis(300));
    then();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            if seen.contains("event: case") && seen.contains(citizen) {
                return true;
            }
        }
    }
    false
}

#[test]
fn an_sms_alarm_is_taken_in_answered_forwarded_accepted_escalated_ranked_and_counted() {
    let sim = Sim::start();
    let nodes = start_cluster(1);
    let node = &nodes[0];
    apply_text(&nodes, &desk_doc(&sim));
    ready(node);
    let p1_key = roster(node);

    // A citizen texts 110: a case, the reply with its number, the forward to P1.
    let t0 = Instant::now();
    mo(&sim, "13800000001", "1069000110", "公交车上有人偷手机");
    let c1 = case_from(node, "13800000001");
    let id1 = c1["id"].as_str().expect("case id").to_string();
    assert!(
        id1.starts_with('A') && id1.len() == "A20261203-0001".len(),
        "{id1}"
    );
    assert_eq!(c1["line"], "110");
    wait_text(&sim, "13800000001", "auto-reply", &id1);
    let fwd = wait_text(&sim, "13900000001", "forward to P1", &id1);
    println!("MO to forward on the ledger: {:?}", t0.elapsed());
    assert!(
        fwd.iter()
            .any(|t| t.contains("13800000001") && t.contains("偷手机")),
        "{fwd:?}"
    );
    assert_eq!(case_from(node, "13800000001")["status"], "DISPATCHED");

    // P1 accepts by SMS and is told so.
    mo(&sim, "13900000001", "1069000110", &format!("JS {id1}"));
    wait(node, DESK, &format!("/v1/alarm/cases/{id1}"), "accepted", |c| {
        c["status"] == "ACCEPTED" && c["officer"] == "P1"
    });
    wait_text(&sim, "13900000001", "answer to JS", "已接警");

    // The next case goes to P2 (in turn); nobody accepts; it escalates to P1.
    mo(&sim, "13800000002", "1069000110", "小区里有人打架");
    let c2 = case_from(node, "13800000002");
    let id2 = c2["id"].as_str().unwrap_or_default().to_string();
    wait_text(&sim, "13900000002", "forward to P2", &id2);
    let c2 = wait(node, DESK, &format!("/v1/alarm/cases/{id2}"), "escalated", |c| {
        c["escalations"].as_u64() >= Some(1)
    });
    assert_eq!(c2["officer"], "P1", "escalated to the next on-duty officer: {c2}");
    wait_text(&sim, "13900000001", "escalated forward to P1", &id2);

    // A help request, then a knife robbery: the robbery first, the help last.
    mo(&sim, "13800000003", "10690001101", "家门打不开");
    let help_id = case_from(node, "13800000003")["id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    mo(&sim, "13800000004", "1069000110", "有人持刀抢劫");
    case_from(node, "13800000004");
    let order: Vec<String> = open_cases(node, DESK)
        .iter()
        .map(|c| c["citizen"].as_str().unwrap_or("").to_string())
        .collect();
    let pos = |n: &str| order.iter().position(|c| c == n).unwrap_or(usize::MAX);
    assert!(
        pos("13800000004") < pos("13800000002"),
        "top keyword first: {order:?}"
    );
    assert!(
        pos("13800000002") < pos("13800000003"),
        "crime before help: {order:?}"
    );

    // P1's key sees his cases only; another account's key is refused.
    let mine: Vec<String> = open_cases(node, &p1_key)
        .iter()
        .map(|c| c["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(mine.contains(&id1) && mine.contains(&id2), "{mine:?}");
    assert!(!mine.contains(&help_id), "{mine:?}");
    assert_eq!(call(node, OTHER, "GET", "/v1/alarm/cases", None).status, 403);
    let mark = json!({"status": "INVALID"});
    let r = call(
        node,
        &p1_key,
        "POST",
        &format!("/v1/alarm/cases/{id2}/mark"),
        Some(mark),
    );
    assert_eq!(r.status, 403, "an officer cannot mark: {:?}", r.body);

    // The live stream shows a new case.
    let inject = || mo(&sim, "13800000005", "1069000110", "被人跟踪");
    assert!(
        sse_shows(node, DESK, inject, "13800000005"),
        "the new case reached /v1/alarm/events"
    );

    // P1 closes his first case by SMS; the statistics count what happened.
    mo(&sim, "13900000001", "1069000110", &format!("WC {id1} 已处置"));
    wait(node, DESK, &format!("/v1/alarm/cases/{id1}"), "closed", |c| {
        c["status"] == "CLOSED"
    });
    let stats = wait(node, DESK, "/v1/alarm/stats?period=day", "stats", |v| {
        v["rows"].as_array().is_some_and(|r| r.len() == 2)
    });
    let row = |line: &str| {
        stats["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["line"] == line)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(row("110")["counts"]["created"], 4, "{stats}");
    assert_eq!(row("110")["counts"]["CLOSED"], 1, "{stats}");
    assert!(
        row("110")["counts"]["escalated"].as_u64().unwrap_or(0) >= 1,
        "{stats}"
    );
    assert_eq!(row("110")["accept"]["count"], 1, "{stats}");
    assert_eq!(row("1101")["counts"]["created"], 1, "{stats}");
    assert_eq!(
        row("1101")["counts"]["NEW"],
        1,
        "no rule for 1101: it waits for a dispatcher"
    );

    // And the metrics say the same.
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(node, "smsgw_alarm_cases_total{line=\"110\",status=\"CLOSED\"}") != Some(1.0) {
        assert!(
            Instant::now() < deadline,
            "smsgw_alarm_cases_total never showed the closed case"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn bad_desk_requests_are_refused_with_a_code() {
    let sim = Sim::start();
    let nodes = start_cluster(1);
    let node = &nodes[0];
    apply_text(&nodes, &desk_doc(&sim));
    let bad_phone = json!({"badge": "P1", "name": "x", "phone": "12ab"});
    let r = call(node, DESK, "POST", "/v1/alarm/officers", Some(bad_phone));
    assert_eq!((r.status, r.code()), (422, "invalid_number"));
    let unknown_member = json!({"name": "g", "members": ["NOPE"]});
    let r = call(node, DESK, "POST", "/v1/alarm/groups", Some(unknown_member));
    assert_eq!(
        (r.status, r.code()),
        (400, "invalid_alarm_change"),
        "{:?}",
        r.body
    );
    let bad_shift = json!({"name": "g", "members": [], "shifts": ["25:00-08:00"]});
    let r = call(node, DESK, "POST", "/v1/alarm/groups", Some(bad_shift));
    assert_eq!((r.status, r.code()), (400, "invalid_alarm_change"));
    let r = call(node, DESK, "GET", "/v1/alarm/cases/A20990101-0001", None);
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let accept = json!({"badge": "P1"});
    let r = call(
        node,
        DESK,
        "POST",
        "/v1/alarm/cases/A20990101-0001/accept",
        Some(accept),
    );
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = call(node, DESK, "POST", "/v1/alarm/cases/A20990101-0001/fly", None);
    assert_eq!(r.status, 404);
    let r = call(node, DESK, "GET", "/v1/alarm/cases?status=LOST", None);
    assert_eq!((r.status, r.code()), (422, "invalid_parameter"));
    let r = call(node, DESK, "GET", "/v1/alarm/stats?period=year", None);
    assert_eq!((r.status, r.code()), (422, "invalid_parameter"));
    let r = node.call("GET", "/v1/alarm/cases", Some("sk_nobody_0123456789abc"), None);
    assert_eq!(r.status, 401);
}

#[test]
fn officers_run_the_desk_from_their_phones_and_strangers_get_nothing() {
    let sim = Sim::start();
    let nodes = start_cluster(1);
    let node = &nodes[0];
    apply_text(&nodes, &phones_doc(&sim));
    ready(node);
    for (badge, phone) in [("P1", "13900000011"), ("P2", "13900000012")] {
        let body = json!({"badge": badge, "name": badge, "phone": phone});
        assert_eq!(
            call(node, DESK, "POST", "/v1/alarm/officers", Some(body)).status,
            201
        );
    }
    let group = json!({"name": "G", "members": ["P1", "P2"]});
    assert_eq!(
        call(node, DESK, "POST", "/v1/alarm/groups", Some(group)).status,
        201
    );
    let rule = json!({"line": "110", "target": "one_of", "group": "G"});
    assert_eq!(
        call(node, DESK, "POST", "/v1/alarm/rules", Some(rule)).status,
        201
    );
    let desk = "106900012345";

    // ZB OFF: P2 is off duty, so the next case goes to P1.
    mo(&sim, "13900000012", desk, "ZB OFF");
    wait_text(&sim, "13900000012", "answer to ZB OFF", "已下班");
    wait(node, DESK, "/v1/alarm/officers", "P2 off duty", |v| {
        v["officers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|o| o["badge"] == "P2" && o["on_duty"] == false)
    });
    mo(&sim, "13800000021", "1069000110", "电动车被偷");
    let id = case_from(node, "13800000021")["id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    wait_text(&sim, "13900000011", "forward to the one on duty", &id);

    // CX shows it; ZF gives it to P2, who is told.
    mo(&sim, "13900000011", desk, &format!("CX {id}"));
    wait_text(&sim, "13900000011", "answer to CX", "13800000021");
    mo(&sim, "13900000011", desk, &format!("ZF {id} P2"));
    wait(node, DESK, &format!("/v1/alarm/cases/{id}"), "transferred", |c| {
        c["officer"] == "P2" && c["status"] == "DISPATCHED"
    });
    wait_text(&sim, "13900000012", "forward after ZF", &id);

    // FW 110 P2: the line's cases now go to P2 by name.
    mo(&sim, "13900000011", desk, "FW 110 P2");
    wait_text(&sim, "13900000011", "answer to FW", "P2");
    mo(&sim, "13800000022", "1069000110", "有人翻墙");
    let id2 = case_from(node, "13800000022")["id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    wait_text(&sim, "13900000012", "forward by the new rule", &id2);

    // A bad command is answered with the usage.
    mo(&sim, "13900000011", desk, "HELLO");
    wait_text(&sim, "13900000011", "usage", "用法");

    // A stranger texting the desk number gets nothing; it is counted.
    mo(&sim, "13700000000", desk, &format!("JS {id}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(node, "smsgw_alarm_unknown_senders_total ") != Some(1.0) {
        assert!(Instant::now() < deadline, "the stranger's text was not counted");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        texts_to(&sim, "13700000000").is_empty(),
        "a stranger got an answer"
    );

    // A flood: every text recorded on one flagged case, one reply.
    for i in 0..8 {
        mo(&sim, "13800000023", "1069000110", &format!("救命{i}"));
    }
    let flooded = wait(node, DESK, "/v1/alarm/cases?status=all", "flood", |v| {
        find(v, "13800000023").is_some_and(|c| c["texts_total"] == 8)
    });
    let c = find(&flooded, "13800000023").unwrap_or(Value::Null);
    assert!(
        c["flags"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == "flood")),
        "{c}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        texts_to(&sim, "13800000023").len(),
        1,
        "one reply to a flooding number"
    );
}
