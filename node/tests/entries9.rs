//! Issue 9, point 5 through a real node and the simulator in its own
//! process: a request too big for one log entry is staged (bounded entries,
//! then one commit) and stays one request to its client — all or nothing
//! against a prepaid balance, charged once, and a retry with its
//! `client_ref` answers the first response.

mod common;

use std::time::{Duration, Instant};

use common::sim_cluster::{apply_text, carrier, metric, Sim};
use common::{start_cluster, Node};
use serde_json::{json, Value};

const BIG: &str = "sk_big_0123456789abcdef";

fn node(sim: &Sim, balance: u64) -> Vec<Node> {
    let nodes = start_cluster(1);
    let doc = format!(
        "{}[[accounts]]\nname = \"big\"\napi_keys = [\"{BIG}\"]\nbalance = {balance}\n[accounts.billing]\nprice_fen = 5\n",
        carrier(sim, 5000)
    );
    apply_text(&nodes, &doc);
    // The billing worker opens the prepaid account with its balance.
    let deadline = Instant::now() + Duration::from_secs(20);
    while balance_of(&nodes[0]) != Some(balance) {
        assert!(Instant::now() < deadline, "the account never opened");
        std::thread::sleep(Duration::from_millis(200));
    }
    nodes
}

fn balance_of(node: &Node) -> Option<u64> {
    node.call("GET", "/v1/account", Some(BIG), None).body["balance"].as_u64()
}

/// `n` recipients of a 1,000-character text (8 parts each in CMPP's ASCII).
fn request(n: usize, first: usize, client_ref: Option<&str>) -> Value {
    let text: String = "Flood warning for the river district; move to higher ground. "
        .repeat(17)
        .chars()
        .take(1000)
        .collect();
    let to: Vec<String> = (first..first + n).map(|i| format!("1390016{i:04}")).collect();
    let mut body = json!({"to": to, "text": text});
    if let Some(r) = client_ref {
        body["client_ref"] = json!(r);
    }
    body
}

/// A POST of `body` by the prepaid account, its time said on stderr.
fn post(n: &Node, body: &Value) -> common::Resp {
    let started = Instant::now();
    let r = n.post(BIG, body);
    eprintln!("POST answered {} in {:?}", r.status, started.elapsed());
    r
}

fn submits(sim: &Sim) -> u64 {
    sim.counts()["submits"].as_u64().unwrap_or(0)
}

#[test]
fn a_balance_too_low_for_a_staged_thousand_recipient_request_accepts_none_and_charges_nothing() {
    let sim = Sim::start();
    let nodes = node(&sim, 6_000);
    let n = &nodes[0];
    let bound = smsgw_raft::entry_size::MAX_ENTRY_BYTES as f64;

    // 1,000 × 8 = 8,000 parts for 6,000: refused whole, at the commit.
    let r = post(n, &request(1000, 0, Some("flood-1")));
    assert_eq!(
        (r.status, r.code()),
        (402, "insufficient_balance"),
        "{:?}",
        r.body
    );
    assert_eq!(
        r.body["error"]["message"].as_str().map(|m| m.contains("8000")),
        Some(true),
        "{:?}",
        r.body
    );
    assert_eq!(
        metric(n, "smsgw_staged_accepts_total"),
        Some(1.0),
        "it was staged"
    );
    assert_eq!(balance_of(n), Some(6_000), "nothing charged");
    let records = n.call("GET", "/v1/records", Some(BIG), None);
    assert_eq!(records.status, 200, "{:?}", records.body);
    assert_eq!(
        records.body["items"].as_array().map(Vec::len),
        Some(0),
        "{:?}",
        records.body
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(submits(&sim), 0, "nothing reached the carrier");

    // 700 × 8 = 5,600 parts fit the balance: accepted whole, charged once.
    let r = post(n, &request(700, 0, Some("flood-1")));
    assert_eq!(r.status, 202, "{:?}", r.body);
    let first: Vec<Value> = r.body["messages"].as_array().expect("messages").clone();
    assert_eq!(first.len(), 700);
    assert!(first.iter().all(|m| m["parts"] == 8), "{:?}", first[0]);
    assert_eq!(metric(n, "smsgw_staged_accepts_total"), Some(2.0));
    assert_eq!(balance_of(n), Some(400));

    // The client retries with the same client_ref (say its connection
    // dropped): the first answer, nothing accepted or charged again.
    let again = post(n, &request(700, 0, Some("flood-1")));
    assert_eq!(again.status, 202, "{:?}", again.body);
    assert!(
        again.headers.contains("idempotent-replayed: true"),
        "{}",
        again.headers
    );
    assert_eq!(again.body["messages"].as_array(), Some(&first));
    assert_eq!(balance_of(n), Some(400));
    assert_eq!(
        metric(n, "smsgw_staged_accepts_total"),
        Some(2.0),
        "the retry was not staged again"
    );

    let deadline = Instant::now() + Duration::from_secs(120);
    while submits(&sim) < 5_600 {
        assert!(
            Instant::now() < deadline,
            "delivered {} of 5,600 parts",
            submits(&sim)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(submits(&sim), 5_600, "each part once");
    let largest = metric(n, "smsgw_raft_entry_bytes_max").expect("the metric");
    assert!(largest <= bound, "an entry of {largest} bytes");
}

#[test]
fn a_two_thousand_recipient_job_of_long_texts_is_created_and_sent_in_entries_under_the_bound() {
    let sim = Sim::start();
    let nodes = node(&sim, 100_000);
    let n = &nodes[0];
    let bound = smsgw_raft::entry_size::MAX_ENTRY_BYTES as f64;
    // `vars` makes it a job: 2,000 recipients of 1,000 characters are about
    // 2 MB to create, and each chunk of 500 about 1.4 MB to accept.
    let mut body = request(2000, 0, Some("job-1"));
    body["vars"] = json!({});
    let r = post(n, &body);
    assert_eq!(r.status, 202, "{:?}", r.body);
    let job = r.body["job"].as_u64().expect("job id");
    assert_eq!(r.body["recipients"], 2000);
    assert_eq!(r.body["parts"], 16_000);
    assert_eq!(balance_of(n), Some(84_000), "charged once, at creation");
    let again = post(n, &body);
    assert_eq!(
        (again.status, again.body["job"].as_u64()),
        (202, Some(job)),
        "{:?}",
        again.body
    );
    assert_eq!(balance_of(n), Some(84_000));

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let j = n.call("GET", &format!("/v1/jobs/{job}"), Some(BIG), None).body;
        if j["status"] == "DONE" && submits(&sim) >= 16_000 {
            assert_eq!(j["accepted"], 2000, "{j}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "job {j}, {} parts delivered",
            submits(&sim)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(submits(&sim), 16_000, "each part once");
    // The creation and its 4 chunks were staged (the retry was answered
    // without staging).
    assert_eq!(metric(n, "smsgw_staged_accepts_total"), Some(5.0));
    let largest = metric(n, "smsgw_raft_entry_bytes_max").expect("the metric");
    assert!(largest <= bound, "an entry of {largest} bytes");
}
