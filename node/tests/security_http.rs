//! The public HTTP port of a real node against hostile or sloppy clients:
//! strict JSON (unknown fields, nulls), duplicate recipients, the error
//! envelope on 405/413/415, slow and idle connections (slowloris), and an
//! account's limits (429 with Retry-After).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{cli, http, Node};
use serde_json::json;

#[test]
fn unknown_fields_nulls_and_duplicates_are_answered_plainly() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let r = node.post(
        &key,
        &json!({"to": ["13800138000"], "text": "hi", "priorty": "high"}),
    );
    assert_eq!((r.status, r.code()), (400, "invalid_json"), "{:?}", r.body);
    let msg = r.body["error"]["message"].as_str().unwrap_or("");
    assert!(msg.contains("priorty"), "the message names the field: {msg}");
    let r = node.post(
        &key,
        &json!({"to": ["13800138000"], "text": "hi", "report": null}),
    );
    assert_eq!((r.status, r.code()), (400, "invalid_json"), "{:?}", r.body);

    let r = node.post(
        &key,
        &json!({"to": ["13800138000", "+8613800138000", "13900139000", "13800138000"], "text": "once each"}),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["messages"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        r.body["duplicates_merged"],
        json!(["+8613800138000", "13800138000"])
    );
}

#[test]
fn every_http_layer_error_is_the_json_envelope() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let r = http(&node.http, "PUT", "/v1/messages", Some(&key), Some(b"{}"));
    assert_eq!((r.status, r.code()), (405, "method_not_allowed"), "{:?}", r.body);
    let big = json!({"to": ["13800138000"], "text": "a".repeat(300_000)}).to_string();
    let r = http(
        &node.http,
        "POST",
        "/v1/messages",
        Some(&key),
        Some(big.as_bytes()),
    );
    assert_eq!((r.status, r.code()), (413, "payload_too_large"), "{:?}", r.body);
    let r = http(&node.http, "GET", "/nothing/here", None, None);
    assert_eq!((r.status, r.code()), (404, "not_found"));

    // 415: a text/plain body.
    let mut s = TcpStream::connect(&node.http).expect("connect");
    let body = br#"{"to":["13800138000"],"text":"hi"}"#;
    write!(
        s,
        "POST /v1/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {key}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .expect("write");
    s.write_all(body).expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    assert!(raw.starts_with("HTTP/1.1 415"), "{raw}");
    assert!(raw.contains("\"unsupported_media_type\""), "{raw}");
}

/// Reads until the server closes; returns how long that took.
fn time_to_close(mut s: TcpStream) -> Duration {
    let started = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => {}
        }
    }
}

#[test]
fn slow_headers_and_idle_connections_are_closed() {
    let node = Node::start(&[]);
    // Slowloris: a request head trickled a byte a second never completes.
    let s = TcpStream::connect(&node.http).expect("connect");
    let mut w = s.try_clone().expect("clone");
    let trickle = std::thread::spawn(move || {
        for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaa".iter() {
            if w.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    let slow = time_to_close(s);
    // An idle connection that never sends a byte.
    let idle = time_to_close(TcpStream::connect(&node.http).expect("connect"));
    let _ = trickle.join();
    for (what, t) in [("slow headers", slow), ("idle", idle)] {
        assert!(t < Duration::from_secs(9), "{what} connection open for {t:?}");
    }
    // The node still serves others.
    assert_eq!(node.call("GET", "/healthz", None, None).status, 200);
}

const LIMITED_KEY: &str = "sk_limited_0123456789abcdef";

#[test]
fn a_burst_over_an_accounts_limits_gets_429_with_retry_after() {
    let node = Node::start(&[]);
    let demo = node.demo_key();
    let doc = format!(
        r#"
[[carriers]]
name = "cm"
protocol = "cmpp3"
address = "127.0.0.1:9"
login = "900001"
password = "secret"

[[routes]]
prefixes = ["*"]
carrier = "cm"

[[accounts]]
name = "demo"
api_keys = ["{demo}"]

[[accounts]]
name = "limited"
api_keys = ["{LIMITED_KEY}"]
requests_per_sec = 5
messages_per_day = 8
"#
    );
    std::fs::write(node.dir.path().join("limits.toml"), doc).expect("write");
    let (ok, out, err) = cli(
        node.dir.path(),
        &["config", "apply", "limits.toml", "--addr", &node.raft],
    );
    assert!(ok, "{out}{err}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.call("GET", "/v1/inbound", Some(LIMITED_KEY), None).status == 401 {
        assert!(Instant::now() < deadline, "document not in force");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1100)); // a full bucket
                                                     // A burst of 20 reads: at most the bucket (5, plus what refills) pass.
    let statuses: Vec<u16> = (0..20)
        .map(|_| node.call("GET", "/v1/inbound", Some(LIMITED_KEY), None).status)
        .collect();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!((5..=8).contains(&ok) && ok + limited == 20, "{statuses:?}");
    let r = node.call("GET", "/v1/inbound", Some(LIMITED_KEY), None);
    assert_eq!((r.status, r.code()), (429, "rate_limited"), "{:?}", r.body);
    assert!(r.headers.contains("retry-after: 1"), "{}", r.headers);
    // Other accounts are not affected.
    assert_eq!(node.call("GET", "/v1/inbound", Some(&demo), None).status, 200);

    // Messages per day: 8; a request that would pass it is refused whole.
    std::thread::sleep(Duration::from_millis(1100));
    let five: Vec<String> = (0..5).map(|i| format!("1380013800{i}")).collect();
    let r = node.post(LIMITED_KEY, &json!({"to": five, "text": "quota"}));
    assert_eq!(r.status, 202, "{:?}", r.body);
    let r = node.post(LIMITED_KEY, &json!({"to": five, "text": "quota"}));
    assert_eq!((r.status, r.code()), (429, "rate_limited"), "{:?}", r.body);
    let retry: u64 = r
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("retry-after: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("retry-after");
    assert!((1..=86_400).contains(&retry), "{retry}");
    let r = node.post(
        LIMITED_KEY,
        &json!({"to": ["13800138009", "13800138008", "13800138007"], "text": "fits"}),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
}
