//! The HTTP API against a real `smsgw node start` (no config: demo document,
//! in-process simulator) over 127.0.0.1: send and read back, idempotency,
//! `config apply`/`show`, every error case documented in `/openapi.json`,
//! and graceful SIGTERM with JSON logs.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{cli, Node};
use serde_json::{json, Value};

const RESTRICTED_KEY: &str = "sk_restricted_0123456789";

/// A document with no `*` route and a second account that may only send `normal`.
fn restricted_doc(demo_key: &str) -> String {
    format!(
        r#"
[[carriers]]
name = "cm"
protocol = "cmpp3"
address = "127.0.0.1:7890"
login = "900001"
password = "secret"
sp_number = "106900012345"

[[routes]]
prefixes = ["13", "15", "18"]
carrier = "cm"

[[accounts]]
name = "demo"
api_keys = ["{demo_key}"]

[[accounts]]
name = "restricted"
api_keys = ["{RESTRICTED_KEY}"]
priorities = ["normal"]

[alarm]
account = "demo"

[[alarm.lines]]
number = "110"
"#
    )
}

fn expand(key: &str, v: &Value) -> Value {
    match v {
        Value::Object(m) if m.contains_key("repeat") => {
            let s = m["repeat"].as_str().unwrap_or_default();
            let n = m["times"].as_u64().unwrap_or(0) as usize;
            if key == "to" {
                Value::Array(vec![json!(s); n])
            } else {
                Value::String(s.repeat(n))
            }
        }
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), expand(k, v))).collect()),
        other => other.clone(),
    }
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn send_read_back_idempotency_documented_errors_and_sigterm() {
    let node = Node::start(&["--log-format", "json"]);
    let key = node.demo_key();
    assert!(
        node.stdout.iter().any(|l| l.contains(&key)),
        "the key is printed: {:?}",
        node.stdout
    );
    assert_eq!(node.call("GET", "/healthz", None, None).status, 200);
    wait_until("readyz", || node.call("GET", "/readyz", None, None).status == 200);

    // Send, read back.
    let r = node.post(
        &key,
        &json!({"to": ["13800138000", "+447700900123", "18612345678"], "text": "hello"}),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let msgs = r.body["messages"].as_array().expect("messages").clone();
    let routes: Vec<&str> = msgs.iter().map(|m| m["route"].as_str().unwrap_or("")).collect();
    assert_eq!(routes, ["china-mobile", "international", "china-unicom"]);
    let id = msgs[0]["id"].as_str().expect("id").to_string();
    let g = node.call("GET", &format!("/v1/messages/{id}"), Some(&key), None);
    assert_eq!(g.status, 200, "{:?}", g.body);
    let st = g.body["status"].as_str().unwrap_or("");
    assert!(["QUEUED", "SUBMITTED", "DELIVERED"].contains(&st), "{st}");
    assert_eq!(g.body["to"], "13800138000");
    assert_eq!(g.body["parts"].as_array().map(Vec::len), Some(1));

    // Long Chinese text splits into UCS-2 parts.
    let long = "短信网关测试".repeat(20);
    let r = node.post(
        &key,
        &json!({"to": ["13912345678"], "text": long, "priority": "alarm"}),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["messages"][0]["encoding"], "ucs2");
    assert_eq!(r.body["messages"][0]["parts"], 2);

    // Same client_ref twice: same answer, one effect.
    let body = json!({"to": ["13800138000", "13300000000"], "text": "once", "client_ref": "order-42"});
    let a = node.post(&key, &body);
    let b = node.post(&key, &body);
    assert_eq!((a.status, b.status), (202, 202));
    assert_eq!(a.body, b.body);
    assert!(b.headers.contains("idempotent-replayed: true"));
    let c = node.post(
        &key,
        &json!({"to": ["13800138000"], "text": "twice", "client_ref": "order-43"}),
    );
    assert_ne!(c.body["messages"][0]["id"], a.body["messages"][0]["id"]);

    // config apply / show; then another account's message is not visible.
    let (ok, _, err) = {
        let doc = node.dir.path().join("restricted.toml");
        std::fs::write(&doc, restricted_doc(&key)).expect("write doc");
        let (ok, _, err) = cli(node.dir.path(), &["config", "validate", "restricted.toml"]);
        assert!(ok, "{err}");
        cli(
            node.dir.path(),
            &["config", "apply", "restricted.toml", "--addr", &node.raft],
        )
    };
    assert!(ok, "config apply: {err}");
    let (ok, shown, err) = cli(node.dir.path(), &["config", "show", "--addr", &node.raft]);
    assert!(ok, "{err}");
    assert!(
        shown.contains("name = \"restricted\"") && !shown.contains("demo = true"),
        "{shown}"
    );
    wait_until("the applied document in force", || {
        node.post(RESTRICTED_KEY, &json!({"to": ["13800138000"], "text": "hi"}))
            .status
            == 202
    });
    let hidden = node.call("GET", &format!("/v1/messages/{id}"), Some(RESTRICTED_KEY), None);
    assert_eq!((hidden.status, hidden.code()), (404, "not_found"));

    // Every documented error case, driven by /openapi.json.
    let spec = node.call("GET", "/openapi.json", None, None).body;
    let mut covered = BTreeSet::new();
    let mut n = 0;
    for (path, ops) in spec["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("ops") {
            for case in op["x-smsgw-error-cases"].as_array().cloned().unwrap_or_default() {
                let key = match case["auth"].as_str().unwrap_or("valid") {
                    "none" => None,
                    "wrong" => Some("sk_wrong_0000000000000000"),
                    "restricted" => Some(RESTRICTED_KEY),
                    _ => Some(key.as_str()),
                };
                let body = match (&case["raw_body"], &case["body"]) {
                    (Value::String(raw), _) => Some(raw.clone().into_bytes()),
                    (_, Value::Null) => None,
                    (_, b) => Some(expand("", b).to_string().into_bytes()),
                };
                let p = case["path"].as_str().unwrap_or(path);
                let r = node.call(&method.to_uppercase(), p, key, body.as_deref());
                let want = (
                    case["status"].as_u64().unwrap_or(0) as u16,
                    case["code"].as_str().unwrap_or(""),
                );
                assert_eq!((r.status, r.code()), want, "{method} {p} {case}: {:?}", r.body);
                assert!(r.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
                covered.insert(want.1.to_string());
                n += 1;
            }
        }
    }
    assert!(n >= 20, "only {n} documented error cases");
    let codes = &spec["components"]["schemas"]["ErrorCode"];
    let untestable = codes["x-smsgw-untestable"].as_object().expect("untestable list");
    for code in codes["enum"].as_array().expect("codes") {
        let c = code.as_str().unwrap_or("");
        assert!(
            covered.contains(c) || untestable.contains_key(c),
            "error code `{c}` is documented but has no x-smsgw-error-cases entry"
        );
    }

    // Metrics show the API traffic.
    let m = node.call("GET", "/metrics", None, None);
    let text = m.body.as_str().unwrap_or_default().to_string();
    assert!(text.contains("smsgw_http_requests_total"), "{text}");
    assert!(text.contains("smsgw_api_messages_accepted_total"), "{text}");

    // SIGTERM: clean exit, logs are JSON.
    let (ok, stderr, _) = node.terminate();
    assert!(ok, "exit status after SIGTERM: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(
            serde_json::from_str::<Value>(l).is_ok(),
            "not a JSON log line: {l}"
        );
    }
    assert!(stderr.contains("SIGTERM"), "{stderr}");
}

#[test]
fn restart_keeps_key_and_messages() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let r = node.post(&key, &json!({"to": ["13800138000"], "text": "survives"}));
    assert_eq!(r.status, 202, "{:?}", r.body);
    let id = r.body["messages"][0]["id"].as_str().expect("id").to_string();
    let (ok, err, dir) = node.terminate();
    assert!(ok, "{err}");
    let again = Node::start_in(dir, &[]);
    assert_eq!(again.demo_key(), key);
    let g = again.call("GET", &format!("/v1/messages/{id}"), Some(&key), None);
    assert_eq!(g.status, 200, "{:?}", g.body);
}
