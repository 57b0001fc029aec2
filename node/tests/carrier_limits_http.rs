//! A carrier profile's `max_parts` at the HTTP API of a real `smsgw node
//! start`: a text that needs more parts than the route's carrier takes is
//! refused 400 `too_many_parts` naming the limit; one within it is accepted.

mod common;

use std::time::{Duration, Instant};

use common::{cli, Node};
use serde_json::json;

fn doc(key: &str) -> String {
    format!(
        r#"
[[carriers]]
name = "cm"
protocol = "cmpp3"
address = "127.0.0.1:7890"
login = "900001"
password = "secret"
sp_number = "106900012345"
profile = "china-mobile"
[carriers.overrides]
max_parts = 2

[[routes]]
prefixes = ["13"]
carrier = "cm"

[[accounts]]
name = "demo"
api_keys = ["{key}"]
"#
    )
}

#[test]
fn over_the_carriers_max_parts_is_400_naming_the_limit() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let path = node.dir.path().join("limits.toml");
    std::fs::write(&path, doc(&key)).expect("write doc");
    let (ok, _, err) = cli(
        node.dir.path(),
        &["config", "apply", "limits.toml", "--addr", &node.raft],
    );
    assert!(ok, "config apply: {err}");
    // 140 Chinese characters: 3 parts of 67. The demo document (10 parts)
    // takes it; once the new document is in force it is refused.
    let three = json!({"to": ["13800138000"], "text": "长".repeat(140)});
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let r = node.post(&key, &three);
        if r.status == 400 || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        (refused.status, refused.code()),
        (400, "too_many_parts"),
        "{:?}",
        refused.body
    );
    let msg = refused.body["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("at most 2") && msg.contains("`cm`"), "{msg}");

    let two = node.post(&key, &json!({"to": ["13800138000"], "text": "长".repeat(100)}));
    assert_eq!(two.status, 202, "{:?}", two.body);
    assert_eq!(two.body["messages"][0]["parts"], 2);
    let (ok, stderr, _) = node.terminate();
    assert!(ok, "{stderr}");
}
