//! Three real nodes: `config apply` through one node is in force on all and
//! visible through `config show` on another; a POST to a follower commits
//! (forwarded to the leader) and reads back from a third node.

mod common;

use std::time::{Duration, Instant};

use common::{cli, start_cluster};
use serde_json::json;

const KEY: &str = "sk_cluster_test_0123456789";

#[test]
fn config_apply_on_one_node_is_in_force_on_all_and_followers_accept() {
    let nodes = start_cluster(3);
    let here = nodes[0].dir.path();

    // Before any document: not ready, and the API says so.
    let r = nodes[1].post(KEY, &json!({"to": ["13800138000"], "text": "hi"}));
    assert_eq!((r.status, r.code()), (503, "not_configured"), "{:?}", r.body);

    let doc = here.join("cluster.toml");
    std::fs::write(
        &doc,
        format!(
            "[[carriers]]\nname = \"cm\"\nprotocol = \"cmpp3\"\naddress = \"127.0.0.1:7890\"\nlogin = \"900001\"\npassword = \"secret\"\ntps = 321\n\n\
             [[routes]]\nprefixes = [\"*\"]\ncarrier = \"cm\"\n\n[[accounts]]\nname = \"app\"\napi_keys = [\"{KEY}\"]\n"
        ),
    )
    .expect("write doc");
    let (ok, out, err) = cli(
        here,
        &["config", "apply", "cluster.toml", "--addr", &nodes[2].raft],
    );
    assert!(ok, "apply: {out}{err}");
    let (ok, shown, err) = cli(here, &["config", "show", "--addr", &nodes[1].raft]);
    assert!(ok, "{err}");
    assert!(shown.contains("tps = 321"), "{shown}");

    // Every node's API takes the new account; a follower's POST commits.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut accepted = None;
    for n in &nodes {
        loop {
            let r = n.post(KEY, &json!({"to": ["13800138000"], "text": "from every node"}));
            if r.status == 202 {
                accepted = Some(
                    r.body["messages"][0]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node {} never accepted: {:?}",
                n.http,
                r.body
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let id = accepted.expect("an id");
    for n in &nodes {
        let g = n.call("GET", &format!("/v1/messages/{id}"), Some(KEY), None);
        assert_eq!(g.status, 200, "{} {:?}", n.http, g.body);
        // Nothing listens at the carrier's address: queued, and not ready.
        assert_eq!(g.body["status"], "QUEUED");
        let ready = n.call("GET", "/readyz", None, None);
        assert_eq!(ready.status, 503, "{:?}", ready.body);
        assert_ne!(
            ready.body["checks"]["carrier sessions up"], "ok",
            "{:?}",
            ready.body
        );
    }
}
