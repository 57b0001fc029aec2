//! Accounts against a real node: `/v1/inbound` shows each account only the
//! MOs to its service codes; API keys and carrier passwords are never shown
//! by `config show`, `/metrics` or the logs, and the shown document applies
//! again as it is (keys still work).

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{cli, Node};
use serde_json::json;
use smsgw_raft::ClusterSecret;

const KEY_A: &str = "sk_live_alpha_0123456789abcdefghij";
const KEY_B: &str = "sk_live_bravo_0123456789abcdefghij";
const CARRIER_PASSWORD: &str = "carrier-pw-s3cret-77";

fn doc(demo_key: &str) -> String {
    format!(
        r#"
[[carriers]]
name = "cm"
protocol = "cmpp3"
address = "127.0.0.1:9"
login = "900001"
password = "{CARRIER_PASSWORD}"
sp_number = "1069000"

[[routes]]
prefixes = ["*"]
carrier = "cm"

[[accounts]]
name = "demo"
api_keys = ["{demo_key}"]

[[accounts]]
name = "alpha"
api_keys = ["{KEY_A}"]
service_codes = ["1069000111"]

[[accounts]]
name = "bravo"
api_keys = ["{KEY_B}"]
service_codes = ["1069000222", "10690002221"]
"#
    )
}

/// Posts MOs to the node's gateway as a standby would (signed).
fn deliver_mos(node: &Node, mos: &[(&str, &str)]) {
    let secret = ClusterSecret::read_file(&node.data().join("cluster-secret")).expect("secret");
    let items: Vec<_> = mos
        .iter()
        .map(|(to, text)| {
            json!({"Mo": {"carrier": "cm", "source": "13800138000", "destination": to,
                          "content": text.as_bytes(), "udhi": false, "encoding": "ascii"}})
        })
        .collect();
    let body = serde_json::to_vec(&items).expect("json");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
            .to_string();
        let tag = secret.mac(
            b"smsgw internal http v1",
            &[b"POST", b"/internal/v1/deliver", t.as_bytes(), &body],
        );
        let mut s = std::net::TcpStream::connect(&node.http).expect("connect");
        let head = format!(
            "POST /internal/v1/deliver HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\nx-smsgw-cluster-auth: t={t},sig={}\r\n\r\n",
            body.len(),
            hex::encode(tag)
        );
        s.write_all(head.as_bytes()).expect("write");
        s.write_all(&body).expect("write");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read");
        let all = raw.contains(" 200 ") && {
            let b = raw.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
            let v: serde_json::Value = serde_json::from_str(b).unwrap_or_default();
            v["committed"]
                .as_array()
                .is_some_and(|c| c.len() == mos.len() && c.iter().all(|x| x == true))
        };
        if all {
            return;
        }
        assert!(Instant::now() < deadline, "MOs not committed: {raw}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn inbound_texts(node: &Node, key: &str) -> Vec<String> {
    let r = node.call("GET", "/v1/inbound", Some(key), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().unwrap_or("").to_string())
        .collect()
}

fn apply(node: &Node, file: &str, text: &str) {
    std::fs::write(node.dir.path().join(file), text).expect("write doc");
    let (ok, out, err) = cli(node.dir.path(), &["config", "apply", file, "--addr", &node.raft]);
    assert!(ok, "apply: {out}{err}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.call("GET", "/v1/inbound", Some(KEY_A), None).status != 200 {
        assert!(Instant::now() < deadline, "document not in force");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_account_reads_only_the_mos_to_its_own_service_codes() {
    let node = Node::start(&[]);
    let demo = node.demo_key();
    apply(&node, "accounts.toml", &doc(&demo));
    deliver_mos(
        &node,
        &[
            ("1069000111", "for alpha"),
            ("10690002221", "for bravo (longest code)"),
            ("1069000222", "for bravo"),
            ("1069000333", "for nobody"),
        ],
    );
    let a = inbound_texts(&node, KEY_A);
    assert_eq!(a, ["for alpha"]);
    let b = inbound_texts(&node, KEY_B);
    assert_eq!(b, ["for bravo", "for bravo (longest code)"]);
    assert!(
        inbound_texts(&node, &demo).is_empty(),
        "the demo account has no service code now"
    );
    // The page total counts the caller's own MOs, never everyone's.
    let r = node.call("GET", "/v1/inbound", Some(KEY_A), None);
    assert_eq!(r.body["total"], 1);
}

#[test]
fn keys_and_carrier_passwords_are_never_shown_and_the_shown_document_applies_again() {
    let node = Node::start(&[]);
    let demo = node.demo_key();
    apply(&node, "accounts.toml", &doc(&demo));
    let (ok, shown, err) = cli(node.dir.path(), &["config", "show", "--addr", &node.raft]);
    assert!(ok, "{err}");
    let (ok, json_shown, err) = cli(
        node.dir.path(),
        &["config", "show", "--json", "--addr", &node.raft],
    );
    assert!(ok, "{err}");
    for text in [&shown, &json_shown] {
        for secret in [KEY_A, KEY_B, demo.as_str(), CARRIER_PASSWORD] {
            assert!(!text.contains(secret), "shown: {text}");
        }
    }
    assert!(shown.contains("prefix = \"sk_live_alp…\""), "{shown}");
    // The shown document (hashed keys) is a valid document; its carrier
    // password is the mask, so put the real one back as an operator would.
    let again = shown.replace("\"********\"", &format!("\"{CARRIER_PASSWORD}\""));
    apply(&node, "again.toml", &again);
    assert_eq!(node.call("GET", "/v1/inbound", Some(KEY_B), None).status, 200);
    assert_eq!(
        node.call(
            "GET",
            "/v1/inbound",
            Some("sk_live_bravo_0123456789abcdefghiX"),
            None
        )
        .status,
        401
    );
    let metrics = node.call("GET", "/metrics", None, None);
    let metrics = metrics.body.as_str().unwrap_or("").to_string();
    let (_, logs, _) = node.terminate();
    for text in [&metrics, &logs] {
        for secret in [KEY_A, KEY_B, CARRIER_PASSWORD] {
            assert!(!text.contains(secret), "leaked {secret}");
        }
    }
}
