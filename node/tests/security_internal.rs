//! The standby → leader endpoint `/internal/v1/deliver` on the public HTTP
//! port of a real node: without the cluster signature (or with a wrong,
//! stale or replayed one) it is a 404 like any unknown path, counted in
//! `smsgw_auth_failures_total{port="http"}`, and a forged MO never reaches
//! the replicated state; a correctly signed request is served.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{http, Node};
use smsgw_raft::ClusterSecret;

const FORGED_MO: &str = r#"[{"Mo":{"carrier":"china-mobile","source":"13800138000","destination":"1069000","content":[102,111,114,103,101,100],"udhi":false,"encoding":null}}]"#;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The signature format of `node/src/api/internal.rs`.
fn signature(secret: &ClusterSecret, t: u64, body: &[u8]) -> String {
    let ts = t.to_string();
    let tag = secret.mac(
        b"smsgw internal http v1",
        &[b"POST", b"/internal/v1/deliver", ts.as_bytes(), body],
    );
    format!("t={ts},sig={}", hex::encode(tag))
}

/// POST with an optional `x-smsgw-cluster-auth` header (raw HTTP/1.1).
fn post_internal(node: &Node, auth: Option<&str>, body: &[u8]) -> common::Resp {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(&node.http).expect("connect");
    let mut req = format!(
        "POST /internal/v1/deliver HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(a) = auth {
        req.push_str(&format!("x-smsgw-cluster-auth: {a}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let (head, rest) = raw.split_once("\r\n\r\n").expect("response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    common::Resp {
        status,
        headers: head.to_ascii_lowercase(),
        body: serde_json::from_str(rest).unwrap_or(serde_json::Value::String(rest.into())),
    }
}

fn metric(node: &Node, line_start: &str) -> f64 {
    let r = node.call("GET", "/metrics", None, None);
    r.body
        .as_str()
        .unwrap_or("")
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn inbound_total(node: &Node) -> u64 {
    let r = node.call("GET", "/v1/inbound", Some(&node.demo_key()), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["total"].as_u64().expect("total")
}

#[test]
fn a_forged_deliver_on_the_public_port_is_a_counted_404_and_records_nothing() {
    let node = Node::start(&[]);
    let secret = ClusterSecret::read_file(&node.data().join("cluster-secret")).expect("secret");
    let before = inbound_total(&node);
    let body = FORGED_MO.as_bytes();
    let wrong = ClusterSecret::generate();
    let attempts = [
        None,
        Some("t=1,sig=00".to_string()),
        Some(signature(&wrong, now_ms(), body)),
        Some(signature(&secret, now_ms() - 120_000, body)),
        // Signed for another body: the forged MO does not carry it.
        Some(signature(&secret, now_ms(), b"[]")),
    ];
    for a in &attempts {
        let r = post_internal(&node, a.as_deref(), body);
        assert_eq!(r.status, 404, "{a:?}: {:?}", r.body);
        assert_eq!(r.code(), "not_found", "{a:?}");
    }
    // Other methods and paths under /internal/ look missing too.
    let r = http(&node.http, "GET", "/internal/v1/deliver", None, None);
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = http(&node.http, "DELETE", "/internal/v1/anything", None, None);
    assert_eq!((r.status, r.code()), (404, "not_found"));
    assert_eq!(metric(&node, "smsgw_auth_failures_total{port=\"http\"}"), 7.0);
    assert_eq!(inbound_total(&node), before, "a forged MO was recorded");

    // A member's signed request is served; the same request again is a replay.
    let empty = signature(&secret, now_ms(), b"[]");
    let r = post_internal(&node, Some(&empty), b"[]");
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["committed"], serde_json::json!([]));
    let r = post_internal(&node, Some(&empty), b"[]");
    assert_eq!(r.status, 404, "a replayed signature was accepted");
    assert_eq!(metric(&node, "smsgw_auth_failures_total{port=\"http\"}"), 8.0);
}
