use super::PurgeReport;
use crate::command::{Command, MoMessage, Response};
use crate::keys::{self, counter, retention as rk};
use crate::test_support::{message_parts, step, step_writes, tree};

/// Message `mid` of two parts accepted at `at` under `client_ref`.
fn accept(tree: &sled::Tree, mid: &str, at: u64, rid: Option<&str>) -> Response {
    step(
        tree,
        &Command::AcceptBatch {
            request_id: rid.map(String::from),
            messages: message_parts(mid, 2, "cmcc", at),
        },
    )
}

fn deliver(tree: &sled::Tree, mid: &str, at: u64) {
    for seq in 1..=2 {
        let pid = format!("{mid}.{seq}");
        step(
            tree,
            &Command::RecordSubmit {
                part_id: pid.clone(),
                carrier: "cmcc".into(),
                carrier_msg_id: format!("c-{pid}"),
                status: "0".into(),
                at_ms: at,
            },
        );
        step(
            tree,
            &Command::RecordReport {
                carrier: "cmcc".into(),
                carrier_msg_id: format!("c-{pid}"),
                state: "DELIVRD".into(),
                at_ms: at,
            },
        );
    }
}

fn purge(tree: &sled::Tree, before_ms: u64, keys_before_ms: u64, limit: u32) -> PurgeReport {
    match step(
        tree,
        &Command::Purge {
            before_ms,
            keys_before_ms,
            limit,
        },
    ) {
        Response::Purged(r) => r,
        other => panic!("unexpected {other:?}"),
    }
}

fn has(tree: &sled::Tree, key: &[u8]) -> bool {
    tree.contains_key(key).unwrap()
}

fn count(tree: &sled::Tree, name: &str) -> u64 {
    tree.get(keys::counter(name))
        .unwrap()
        .map(|v| smsgw_raft::codec::decode::<u64>(&v).unwrap())
        .unwrap_or(0)
}

#[test]
fn a_purge_removes_expired_closed_messages_and_keys_and_keeps_the_rest() {
    let t = tree();
    accept(&t, "1", 1_000, Some("mt/acme/old"));
    deliver(&t, "1", 1_500);
    accept(&t, "2", 2_000, Some("mt/acme/open")); // old but never finished
    accept(&t, "3", 9_000, Some("mt/acme/new"));
    deliver(&t, "3", 9_500);
    let stats_before: Vec<_> = t.scan_prefix(keys::STATS).keys().map(|k| k.unwrap()).collect();
    assert_eq!(count(&t, counter::PARTS), 9);

    let r = purge(&t, 5_000, 5_000, 100);
    assert_eq!((r.messages, r.parts, r.requests, r.more), (1, 3, 2, false));
    for seq in 0..=2 {
        assert!(!has(&t, &keys::part(&format!("1.{seq}"))));
        assert!(has(&t, &keys::part(&format!("2.{seq}"))), "an open message stays");
        assert!(has(&t, &keys::part(&format!("3.{seq}"))));
    }
    assert!(!has(&t, &keys::carrier_id("cmcc", "c-1.1")));
    assert!(has(&t, &keys::carrier_id("cmcc", "c-3.1")));
    assert!(!has(&t, &keys::record("acme", 1_000, "1")));
    assert!(has(&t, &keys::record("acme", 9_000, "3")));
    assert!(!has(&t, &keys::request("mt/acme/old")));
    // The key of a message still open expires too: its client_ref window
    // is over, whatever the message does.
    assert!(!has(&t, &keys::request("mt/acme/open")));
    assert!(has(&t, &keys::request("mt/acme/new")));
    assert_eq!(count(&t, counter::PARTS), 6);
    // Statistics are per day and kept.
    let stats_after: Vec<_> = t.scan_prefix(keys::STATS).keys().map(|k| k.unwrap()).collect();
    assert_eq!(stats_before, stats_after);
    // Submits to the route's own carrier write no index row: the head's
    // route and the part's id name the carrier id.
    assert_eq!(
        t.scan_prefix(rk::PREFIX).count(),
        1,
        "only the E/r row of mt/acme/new"
    );

    // A message is kept for the records window after it closes, however
    // long ago it was accepted.
    deliver(&t, "2", 10_000);
    let r = purge(&t, 6_000, 6_000, 100);
    assert_eq!((r.messages, r.parts), (0, 0));
    assert!(has(&t, &keys::part("2.0")));
    let r = purge(&t, 10_001, 6_000, 100);
    assert_eq!((r.messages, r.parts, r.more), (2, 6, false));
    assert!(!has(&t, &keys::part("2.0")));
    assert!(!has(&t, &keys::carrier_id("cmcc", "c-3.1")));
    assert_eq!(t.scan_prefix(keys::FINALS).count(), 0);

    // A reused client_ref after expiry is a new request.
    assert!(matches!(
        accept(&t, "4", 11_000, Some("mt/acme/old")),
        Response::Accepted { .. }
    ));
}

#[test]
fn a_purge_is_bounded_by_its_limit_and_resumes_from_its_cursor() {
    let t = tree();
    for i in 0..10u64 {
        let mid = format!("m{i}");
        accept(&t, &mid, 100 + i, None);
        deliver(&t, &mid, 200);
    }
    let r = purge(&t, 1_000, 0, 4);
    assert_eq!((r.messages, r.more), (4, true));
    let r = purge(&t, 1_000, 0, 4);
    assert_eq!((r.messages, r.more), (4, true));
    let r = purge(&t, 1_000, 0, 4);
    assert_eq!((r.messages, r.more), (2, false));
    assert_eq!(t.scan_prefix(keys::PART).count(), 0);
    assert_eq!(t.scan_prefix(rk::MESSAGES).count(), 0);
    assert_eq!(count(&t, counter::PARTS), 0);
    assert_eq!(count(&t, rk::counter::FINALS), 10);
}

fn submit(t: &sled::Tree, pid: &str, carrier: &str, id: &str) {
    step(
        t,
        &Command::RecordSubmit {
            part_id: pid.into(),
            carrier: carrier.into(),
            carrier_msg_id: id.into(),
            status: "0".into(),
            at_ms: 100,
        },
    );
}

fn report(t: &sled::Tree, carrier: &str, id: &str) {
    step(
        t,
        &Command::RecordReport {
            carrier: carrier.into(),
            carrier_msg_id: id.into(),
            state: "DELIVRD".into(),
            at_ms: 200,
        },
    );
}

#[test]
fn a_purge_removes_the_carrier_ids_of_backup_routes_and_resubmissions() {
    let t = tree();
    accept(&t, "6", 100, None);
    // 6.1 went out on its route, then again on a backup carrier; 6.2 was
    // resubmitted on its route and given a second id.
    submit(&t, "6.1", "cmcc", "a");
    submit(&t, "6.1", "backup", "b");
    submit(&t, "6.2", "cmcc", "c");
    submit(&t, "6.2", "cmcc", "d");
    report(&t, "backup", "b");
    report(&t, "cmcc", "d");
    // Rows only for what the route and the last id do not name.
    assert_eq!(t.scan_prefix(rk::submits("6.1")).count(), 2);
    assert_eq!(t.scan_prefix(rk::submits("6.2")).count(), 1);

    let r = purge(&t, 1_000, 0, 100);
    assert_eq!((r.messages, r.parts), (1, 3));
    for (carrier, id) in [("cmcc", "a"), ("backup", "b"), ("cmcc", "c"), ("cmcc", "d")] {
        assert!(
            !has(&t, &keys::carrier_id(carrier, id)),
            "{carrier} {id} left behind"
        );
    }
    assert_eq!(t.scan_prefix(rk::PREFIX).count(), 0, "no index row left behind");
}

#[test]
fn messages_closed_by_an_older_build_are_purged_from_their_legacy_rows() {
    let t = tree();
    accept(&t, "7", 100, None);
    deliver(&t, "7", 200);
    // What a build before the close order carried the purge wrote: the
    // bare message id in `f/` and the purge row in `E/m`.
    t.insert(keys::finals(1), b"7".to_vec()).unwrap();
    let closed = super::Closed {
        account: "acme".into(),
        accepted_at_ms: 100,
        parts: 2,
        finals_seq: 1,
    };
    let row = smsgw_raft::codec::encode(&closed).unwrap();
    t.insert(rk::message(100, "7"), row).unwrap();
    let finals = crate::StateView::new(smsgw_raft::View::new(t.clone()))
        .finals(0, 10)
        .unwrap();
    assert_eq!(finals, vec![(1, "7".to_string())]);

    let r = purge(&t, 1_000, 0, 100);
    assert_eq!((r.messages, r.parts), (1, 3));
    assert!(!has(&t, &keys::part("7.1")));
    assert!(!has(&t, &keys::carrier_id("cmcc", "c-7.1")));
    assert_eq!(t.scan_prefix(keys::FINALS).count(), 0);
    assert_eq!(t.scan_prefix(rk::PREFIX).count(), 0);
}

#[test]
fn a_recycled_carrier_id_of_a_newer_part_is_kept() {
    let t = tree();
    accept(&t, "1", 100, None);
    deliver(&t, "1", 200);
    // The carrier gives part 5.1 the id 1.1 had.
    accept(&t, "5", 5_000, None);
    step(
        &t,
        &Command::RecordSubmit {
            part_id: "5.1".into(),
            carrier: "cmcc".into(),
            carrier_msg_id: "c-1.1".into(),
            status: "0".into(),
            at_ms: 5_000,
        },
    );
    purge(&t, 1_000, 1_000, 100);
    let owner: Option<String> = t
        .get(keys::carrier_id("cmcc", "c-1.1"))
        .unwrap()
        .map(|v| smsgw_raft::codec::decode(&v).unwrap());
    assert_eq!(owner.as_deref(), Some("5.1"));
}

fn mo(t: &sled::Tree, at: u64) {
    step(
        t,
        &Command::RecordMo {
            request_id: Some(format!("mo/cmcc/{at}")),
            message: MoMessage {
                carrier: "cmcc".into(),
                from: "13800138000".into(),
                to: "1069".into(),
                payload: b"hi".to_vec(),
                received_at_ms: at,
            },
        },
    );
}

#[test]
fn mos_are_purged_only_once_the_intake_has_read_them() {
    let t = tree();
    for at in [100, 200, 300, 5_000] {
        mo(&t, at);
    }
    // The intake has read none: nothing goes.
    assert_eq!(purge(&t, 1_000, 0, 100).mos, 0);
    assert!(has(&t, &keys::mo(1)));
    let intake = Command::MoIntake {
        after: 0,
        through: 2,
        mos: vec![],
    };
    step(&t, &intake);
    assert_eq!(purge(&t, 1_000, 0, 100).mos, 2);
    assert!(!has(&t, &keys::mo(2)));
    assert!(has(&t, &keys::mo(3)));
    let intake = Command::MoIntake {
        after: 2,
        through: 4,
        mos: vec![],
    };
    step(&t, &intake);
    let r = purge(&t, 1_000, 1_000, 100);
    assert_eq!((r.mos, r.requests), (1, 3));
    assert!(has(&t, &keys::mo(4)), "a newer MO stays");
    assert!(has(&t, &keys::request("mo/cmcc/5000")));
    assert_eq!(count(&t, rk::counter::MOS), 3);
}

/// The tables `cmd` writes, by key prefix, less the counters and
/// statistics (shared by every message of a batch).
fn rows_written(t: &sled::Tree, cmd: &Command) -> Vec<String> {
    let (_, keys) = step_writes(t, cmd);
    keys.iter()
        .filter(|k| !k.starts_with(keys::COUNTER) && !k.starts_with(keys::STATS))
        .map(|k| String::from_utf8_lossy(&k[..2]).into_owned())
        .collect()
}

#[test]
fn a_one_part_message_writes_eight_rows_over_its_life_and_no_retention_row() {
    let t = tree();
    let accept = Command::AcceptBatch {
        request_id: None,
        messages: message_parts("8", 1, "cmcc", 100),
    };
    let submit = Command::RecordSubmit {
        part_id: "8.1".into(),
        carrier: "cmcc".into(),
        carrier_msg_id: "c8".into(),
        status: "0".into(),
        at_ms: 150,
    };
    let report = Command::RecordReport {
        carrier: "cmcc".into(),
        carrier_msg_id: "c8".into(),
        state: "DELIVRD".into(),
        at_ms: 200,
    };
    // The message's one row (head and part), the account's record row,
    // the ready queue (and `a/`, the first time a route has a queue).
    assert_eq!(rows_written(&t, &accept), ["a/", "p/", "q/", "x/"]);
    // The row and the carrier id.
    assert_eq!(rows_written(&t, &submit), ["k/", "p/"]);
    // The close order, the row, the ready queue's row removed.
    assert_eq!(rows_written(&t, &report), ["f/", "p/", "q/"]);
    let r = purge(&t, 1_000, 0, 100);
    assert_eq!((r.messages, r.parts), (1, 2));
}
