//! Application sessions on a three-node cluster (real processes, the
//! simulator as carrier): an application bound to a follower submits; a
//! receiver bound to the leader takes the receipts but never acknowledges
//! them; the leader is killed; the application binds to another node and
//! receives every receipt still owed, carrying our message ids.

mod apps_support;
mod common;

use std::collections::BTreeSet;

use apps_support::{bind_eventually, ready_addr, Kind};
use common::sim_cluster::{apply_text, carrier, leader_index, Sim};
use common::start_cluster_with;

const ADMIN: &str = "sk_admin_apps_cluster_0123456789";
const APP: &str = "[admin]\napi_keys = [\"sk_admin_apps_cluster_0123456789\"]\n\n[[accounts]]\nname = \"app\"\napi_keys = [\"sk_apps_cluster_0123456789\"]\n\
                   [accounts.apps]\nsystem_id = \"app\"\npassword = \"apppw123\"\n";

#[test]
fn receipts_owed_to_an_app_survive_the_death_of_the_node_it_was_bound_to() {
    let sim = Sim::start();
    let mut nodes = start_cluster_with(3, &["--smpp-addr", "127.0.0.1:0", "--cmpp-addr", "127.0.0.1:0"]);
    apply_text(&nodes, &format!("{}{APP}", carrier(&sim, 500)));
    let leader = leader_index(&nodes);
    let followers: Vec<usize> = (0..3).filter(|i| *i != leader).collect();

    // Submit through a follower.
    let mut tx = bind_eventually(
        &ready_addr(&nodes[followers[0]], "smpp="),
        Kind::Transmitter,
        "app",
        "apppw123",
    );
    let numbers: Vec<String> = (0..8).map(|i| format!("1380013850{i}")).collect();
    for n in &numbers {
        tx.submit(n, "owed");
    }
    assert!(tx.pump(30, |c| c.resps.len() == numbers.len()), "{:?}", tx.resps);
    assert!(tx.resps.iter().all(|r| r.1 == 0), "{:?}", tx.resps);
    let ids: BTreeSet<String> = tx.resps.iter().map(|r| r.2.clone()).collect();

    // A receiver on the leader that takes every receipt and answers none.
    let mut mute = bind_eventually(
        &ready_addr(&nodes[leader], "smpp="),
        Kind::Receiver,
        "app",
        "apppw123",
    );
    mute.answer_delivers = false;
    let all_written = mute.pump(60, |c| {
        let got: BTreeSet<String> = c.receipt_ids().into_iter().collect();
        ids.is_subset(&got)
    });
    assert!(
        all_written,
        "receipts written to the mute receiver: {:?}",
        mute.receipt_ids()
    );

    // Any node lists the sessions of every member.
    let r = nodes[followers[1]].call("GET", "/v1/admin/sessions", Some(ADMIN), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut seen: Vec<(u64, String)> = r.body["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| {
            (
                s["node"].as_u64().unwrap_or(0),
                s["mode"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    seen.sort();
    let mut want = vec![
        (followers[0] as u64 + 1, "transmitter".to_string()),
        (leader as u64 + 1, "receiver".to_string()),
    ];
    want.sort();
    assert_eq!(seen, want, "{:?}", r.body);

    // The leader dies with all of them unacknowledged.
    drop(nodes.remove(leader));
    drop(mute);
    let survivor = &nodes[followers[1] - usize::from(followers[1] > leader)];
    let mut rx = bind_eventually(&ready_addr(survivor, "smpp="), Kind::Receiver, "app", "apppw123");
    let all = rx.pump(90, |c| {
        let got: BTreeSet<String> = c.receipt_ids().into_iter().collect();
        ids.is_subset(&got)
    });
    assert!(
        all,
        "owed receipts after the failover: {:?} of {ids:?}",
        rx.receipt_ids()
    );
    for d in rx.delivered.iter().filter(|d| d.is_receipt()) {
        assert!(
            ids.contains(d.tlvs.receipted_message_id().unwrap_or("")),
            "only this account's ids"
        );
    }
}
