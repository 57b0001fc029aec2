//! Parked reports through apply on a temporary tree: a report for a carrier
//! id not yet committed waits in `w/` and applies when the id commits (the
//! partition case), the first outcome stands, and the purge drops parked
//! reports older than the keys' cut-off from its cursor, never a newer one.

use crate::command::{Command, PartRecord, Response};
use crate::keys::{self, retention as rk};
use crate::test_support::{message_parts, step, tree};

/// A one-part message `mid` accepted at `at`.
fn accept(t: &sled::Tree, mid: &str, at: u64) {
    let messages = message_parts(mid, 1, "cm", at);
    step(
        t,
        &Command::AcceptBatch {
            request_id: None,
            messages,
        },
    );
}

fn report(t: &sled::Tree, id: &str, state: &str, at: u64) -> Response {
    step(
        t,
        &Command::RecordReport {
            carrier: "cm".into(),
            carrier_msg_id: id.into(),
            state: state.into(),
            at_ms: at,
        },
    )
}

fn submit(t: &sled::Tree, pid: &str, id: &str) -> Response {
    step(
        t,
        &Command::RecordSubmit {
            part_id: pid.into(),
            carrier: "cm".into(),
            carrier_msg_id: id.into(),
            status: "0".into(),
            at_ms: 10,
        },
    )
}

fn part(t: &sled::Tree, pid: &str) -> PartRecord {
    crate::parts::get(&smsgw_raft::View::new(t.clone()), pid)
        .unwrap()
        .expect("part")
}

fn parked(t: &sled::Tree, id: &str) -> bool {
    t.get(keys::pending_report("cm", id)).unwrap().is_some()
}

fn purge(t: &sled::Tree, keys_before_ms: u64) -> crate::retention::PurgeReport {
    match step(
        t,
        &Command::Purge {
            before_ms: 0,
            keys_before_ms,
            limit: 100,
        },
    ) {
        Response::Purged(r) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_report_before_its_carrier_id_commits_waits_and_closes_the_message_when_it_does() {
    let t = tree();
    accept(&t, "7", 1);
    // The new leader got the report; the old leader's RecordSubmit comes later.
    assert_eq!(
        report(&t, "c-7", "DELIVRD", 20),
        Response::ReportRecorded { part_id: None }
    );
    assert!(parked(&t, "c-7"));
    assert!(part(&t, "7.0").report_state.is_none(), "still open");
    let r = submit(&t, "7.1", "c-7");
    assert_eq!(
        r,
        Response::SubmitRecorded {
            part_id: "7.1".into(),
            report_applied: Some("DELIVRD".into())
        }
    );
    assert!(!parked(&t, "c-7"));
    assert_eq!(part(&t, "7.1").report_state.as_deref(), Some("DELIVRD"));
    assert_eq!(
        part(&t, "7.0").report_state.as_deref(),
        Some("DELIVRD"),
        "the message closed"
    );
}

#[test]
fn the_first_outcome_of_a_part_stands_against_a_late_report() {
    let t = tree();
    accept(&t, "8", 1);
    submit(&t, "8.1", "c-8");
    assert_eq!(
        report(&t, "c-8", "UNDELIV", 20),
        Response::ReportRecorded {
            part_id: Some("8.1".into())
        }
    );
    // The same report again (a re-delivery taken as unmatched elsewhere).
    assert_eq!(
        report(&t, "c-8", "DELIVRD", 30),
        Response::ReportRecorded { part_id: None }
    );
    assert_eq!(part(&t, "8.1").report_state.as_deref(), Some("UNDELIV"));
    assert_eq!(part(&t, "8.0").report_state.as_deref(), Some("UNDELIV"));
}

#[test]
fn parked_reports_older_than_the_cut_off_are_purged_from_the_cursor() {
    let t = tree();
    report(&t, "old", "DELIVRD", 1_000);
    report(&t, "again", "DELIVRD", 2_000);
    report(&t, "new", "DELIVRD", 90_000);
    // "again" is parked anew later (the carrier sent it again): kept.
    report(&t, "again", "DELIVRD", 95_000);
    let p = purge(&t, 50_000);
    assert_eq!(p.parked_reports, 1, "{p:?}");
    assert!(!parked(&t, "old"));
    assert!(parked(&t, "again"), "re-parked after the cut-off");
    assert!(parked(&t, "new"));
    // The index rows it read are gone and the cursor stands at the cut-off:
    // the next purge starts there.
    let cursor: u64 = t
        .get(keys::counter(rk::counter::PARKED))
        .unwrap()
        .map(|v| smsgw_raft::codec::decode(&v).unwrap())
        .unwrap();
    assert_eq!(cursor, 50_000);
    let left = t.scan_prefix(rk::PARKED).count();
    assert_eq!(left, 2, "the rows of 90 s and 95 s");
    // Later, past every report.
    let p = purge(&t, 100_000);
    assert_eq!(p.parked_reports, 2, "{p:?}");
    assert_eq!(t.scan_prefix(keys::pending_report("cm", "")).count(), 0);
}
