//! The console's sessions under the node's rules, over real HTTP(S) on a
//! real node: a cookie session counts against its account's request limit
//! exactly like the account's key (a burst gets 429), the session cookie is
//! `Secure` when the node serves HTTPS and not over plain HTTP, and the
//! overview reports each carrier's actual TPS and the oldest wait per
//! priority class, on the leader and (asked of the leader) on a follower.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::sim_cluster::{cluster, leader_index, Sim, KEY};
use common::{cli, Node};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

const LIMITED_KEY: &str = "sk_limited_console_0123456789";
const TLS_KEY: &str = "sk_tls_console_0123456789abcdef";

struct Answer {
    status: u16,
    /// The response head, lower-cased.
    head: String,
    body: Value,
}

fn parse(raw: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    Answer {
        status,
        head: head.to_ascii_lowercase(),
        body: serde_json::from_str(rest).unwrap_or(Value::String(rest.to_string())),
    }
}

fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\nContent-Type: application/json\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    req
}

/// One plain HTTP/1.1 request with extra headers.
fn call(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    s.write_all(request(addr, method, path, headers, body).as_bytes())
        .expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    parse(&raw)
}

/// `smsgw_session=…` from a sign-in's `Set-Cookie`.
fn cookie_of(a: &Answer) -> String {
    a.head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no session cookie: {}", a.head))
}

fn set_cookie_line(a: &Answer) -> String {
    a.head
        .lines()
        .find(|l| l.starts_with("set-cookie: "))
        .unwrap_or_else(|| panic!("no set-cookie: {}", a.head))
        .to_string()
}

fn apply(node: &Node, doc: &str) {
    std::fs::write(node.dir.path().join("doc.toml"), doc).expect("write doc");
    let (ok, out, err) = cli(
        node.dir.path(),
        &["config", "apply", "doc.toml", "--addr", &node.raft],
    );
    assert!(ok, "apply: {out}{err}");
}

#[test]
fn a_burst_of_console_calls_over_the_cookie_gets_429_like_the_key_would() {
    let node = Node::start(&[]);
    let demo = node.demo_key();
    apply(
        &node,
        &format!(
            "[[carriers]]\nname = \"cm\"\nprotocol = \"cmpp3\"\naddress = \"127.0.0.1:9\"\nlogin = \"900001\"\npassword = \"pw\"\n\n\
             [[routes]]\nprefixes = [\"*\"]\ncarrier = \"cm\"\n\n\
             [[accounts]]\nname = \"demo\"\napi_keys = [\"{demo}\"]\n\n\
             [[accounts]]\nname = \"limited\"\napi_keys = [\"{LIMITED_KEY}\"]\nrequests_per_sec = 5\n"
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let signed_in = loop {
        let a = call(
            &node.http,
            "POST",
            "/console/api/login",
            &[],
            &json!({"key": LIMITED_KEY}).to_string(),
        );
        if a.status == 200 {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "the document is not in force: {:?}",
            a.body
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let cookie = cookie_of(&signed_in);
    let demo_cookie = cookie_of(&call(
        &node.http,
        "POST",
        "/console/api/login",
        &[],
        &json!({"key": demo}).to_string(),
    ));
    std::thread::sleep(Duration::from_millis(1100)); // a full bucket

    // Twenty reads over the cookie: the bucket (5, plus what refills) pass.
    let statuses: Vec<u16> = (0..20)
        .map(|_| call(&node.http, "GET", "/v1/inbound", &[("Cookie", &cookie)], "").status)
        .collect();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!((5..=8).contains(&ok) && ok + limited == 20, "{statuses:?}");
    let a = call(&node.http, "GET", "/v1/inbound", &[("Cookie", &cookie)], "");
    assert_eq!(a.status, 429, "{:?}", a.body);
    assert_eq!(a.body["error"]["code"], "rate_limited", "{:?}", a.body);
    assert!(a.head.contains("retry-after: 1"), "{}", a.head);
    // One bucket for the account: its key is out of tokens too.
    let a = call(
        &node.http,
        "GET",
        "/v1/inbound",
        &[("Authorization", &format!("Bearer {LIMITED_KEY}"))],
        "",
    );
    assert_eq!(a.status, 429, "the key shares the cookie's bucket: {:?}", a.body);
    // The console's own endpoints count too.
    let a = call(
        &node.http,
        "GET",
        "/console/api/overview",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(a.status, 429, "{:?}", a.body);
    // Another account's session is not affected.
    for _ in 0..3 {
        let a = call(&node.http, "GET", "/v1/inbound", &[("Cookie", &demo_cookie)], "");
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    // And the limited one passes again once its bucket refills.
    std::thread::sleep(Duration::from_millis(1100));
    let a = call(&node.http, "GET", "/v1/inbound", &[("Cookie", &cookie)], "");
    assert_eq!(a.status, 200, "{:?}", a.body);
}

fn self_signed() -> (String, String, CertificateDer<'static>) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("rcgen");
    (c.cert.pem(), c.key_pair.serialize_pem(), c.cert.der().clone())
}

/// One HTTPS request to `addr`, trusting `ca` only.
fn https(addr: &str, ca: &CertificateDer<'static>, method: &str, path: &str, body: &str) -> Answer {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).expect("root");
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(15))).ok();
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).expect("tls client");
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(request("localhost", method, path, &[], body).as_bytes())
        .expect("write");
    let mut raw = Vec::new();
    if let Err(e) = tls.read_to_end(&mut raw) {
        // A close without close_notify: what was read is still judged.
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
    }
    parse(&raw)
}

#[test]
fn the_session_cookie_is_secure_over_https_and_not_over_plain_http() {
    // HTTPS: the node file names a certificate and key.
    let (cert, key, der) = self_signed();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("cert.pem"), cert).expect("write");
    std::fs::write(dir.path().join("key.pem"), key).expect("write");
    std::fs::write(
        dir.path().join("node.toml"),
        "node_id = 1\ndata_dir = \"smsgw-data\"\nbootstrap = true\n\
         http_tls_cert = \"cert.pem\"\nhttp_tls_key = \"key.pem\"\n",
    )
    .expect("write");
    let node = Node::start_in(dir, &["--config", "node.toml"]);
    apply(
        &node,
        &format!(
            "[[carriers]]\nname = \"cm\"\nprotocol = \"cmpp3\"\naddress = \"127.0.0.1:9\"\nlogin = \"900001\"\npassword = \"pw\"\n\n\
             [[routes]]\nprefixes = [\"*\"]\ncarrier = \"cm\"\n\n[[accounts]]\nname = \"app\"\napi_keys = [\"{TLS_KEY}\"]\n"
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let a = loop {
        let a = https(
            &node.http,
            &der,
            "POST",
            "/console/api/login",
            &json!({"key": TLS_KEY}).to_string(),
        );
        if a.status == 200 || Instant::now() > deadline {
            break a;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(a.status, 200, "{:?}", a.body);
    let line = set_cookie_line(&a);
    assert!(
        line.contains("; secure"),
        "over HTTPS the cookie is Secure: {line}"
    );
    assert!(
        line.contains("httponly") && line.contains("samesite=strict"),
        "{line}"
    );
    let out = https(&node.http, &der, "POST", "/console/api/logout", "");
    assert_eq!(out.status, 200, "{:?}", out.body);
    assert!(set_cookie_line(&out).contains("; secure"), "{}", out.head);
    drop(node);

    // Plain HTTP: no Secure (the browser would never send it back).
    let node = Node::start(&[]);
    let a = call(
        &node.http,
        "POST",
        "/console/api/login",
        &[],
        &json!({"key": node.demo_key()}).to_string(),
    );
    assert_eq!(a.status, 200, "{:?}", a.body);
    let line = set_cookie_line(&a);
    assert!(
        !line.contains("secure"),
        "over HTTP the cookie is not Secure: {line}"
    );
    assert!(line.contains("httponly"), "{line}");
}

#[test]
fn the_overview_shows_each_carriers_actual_tps_and_the_oldest_wait_per_class() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let cookie = cookie_of(&call(
        &node.http,
        "POST",
        "/console/api/login",
        &[],
        &json!({"key": key}).to_string(),
    ));
    let overview = || {
        let a = call(
            &node.http,
            "GET",
            "/console/api/overview",
            &[("Cookie", &cookie)],
            "",
        );
        assert_eq!(a.status, 200, "{:?}", a.body);
        a.body
    };
    let first = overview();
    // The leader's dispatcher answers: every class has an age (null: empty).
    let oldest = &first["oldest_ms"];
    for class in ["alarm", "high", "normal", "bulk"] {
        assert!(
            oldest[class].is_null() || oldest[class].is_u64(),
            "{class}: {oldest}"
        );
    }
    assert!(oldest.is_object(), "{first}");
    // Sends, one every 200 ms (at most 60), until a carrier shows a rate.
    let start = Instant::now();
    let mut seen = None;
    for i in 0..60 {
        let r = node.post(&key, &json!({"to": [format!("1390000{i:04}")], "text": "tps"}));
        assert_eq!(r.status, 202, "{:?}", r.body);
        std::thread::sleep(Duration::from_millis(200));
        let s = overview();
        let carriers = s["carriers"].as_array().cloned().unwrap_or_default();
        for c in &carriers {
            assert!(
                c["tps"].is_number(),
                "the leader's overview has a numeric TPS: {c}"
            );
            assert!(c["tps_limit"].is_number(), "{c}");
        }
        if let Some(c) = carriers.iter().find(|c| c["tps"].as_f64().unwrap_or(0.0) > 0.0) {
            seen = Some(c.clone());
            break;
        }
    }
    let c = seen.unwrap_or_else(|| panic!("no carrier showed a TPS within {:?}", start.elapsed()));
    let tps = c["tps"].as_f64().unwrap_or(0.0);
    let limit = c["tps_limit"].as_f64().unwrap_or(0.0);
    assert!(tps > 0.0 && tps <= limit * 1.5 + 1.0, "{c}");
}

#[test]
fn a_followers_overview_shows_the_leaders_tps_and_a_waiting_backlog() {
    let sim = Sim::start();
    // 20 parts a second: a burst of 60 waits about three seconds.
    let nodes = cluster(&sim, 20);
    let leader = leader_index(&nodes);
    let follower = &nodes[(leader + 1) % nodes.len()];
    let cookie = cookie_of(&call(
        &follower.http,
        "POST",
        "/console/api/login",
        &[],
        &json!({"key": KEY}).to_string(),
    ));
    let to: Vec<String> = (0..60).map(|i| format!("1391234{i:04}")).collect();
    let r = nodes[leader].post(KEY, &json!({"to": to, "text": "积压"}));
    assert_eq!(r.status, 202, "{:?}", r.body);
    // Polled every 250 ms for at most 15 s: a rate within the limit, and a
    // normal-class message seen waiting.
    let start = Instant::now();
    let (mut best_tps, mut oldest_normal) = (0.0f64, 0u64);
    while start.elapsed() < Duration::from_secs(15) && (best_tps == 0.0 || oldest_normal == 0) {
        let a = call(
            &follower.http,
            "GET",
            "/console/api/overview",
            &[("Cookie", &cookie)],
            "",
        );
        assert_eq!(a.status, 200, "{:?}", a.body);
        assert_ne!(a.body["node"], a.body["leader"], "asked a follower");
        let cm = a.body["carriers"]
            .as_array()
            .and_then(|l| l.iter().find(|c| c["name"] == "cm").cloned())
            .unwrap_or_default();
        if let Some(t) = cm["tps"].as_f64() {
            assert!(t <= 20.0 * 1.5 + 1.0, "over the limit of 20: {cm}");
            best_tps = best_tps.max(t);
        }
        oldest_normal = oldest_normal.max(a.body["oldest_ms"]["normal"].as_u64().unwrap_or(0));
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(best_tps > 0.0, "the follower never showed the leader's TPS");
    assert!(oldest_normal > 0, "the follower never showed a message waiting");
}
