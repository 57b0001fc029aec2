use smsgw_raft::Tx;

use super::apply::append_capped;
use super::*;
use crate::apply::apply_command;
use crate::command::{Command, MtPart, Response};
use crate::keys;
use crate::test_support::tree;

fn ev(tx: &mut Tx<'_>, cmd: EventsCommand) -> EventsResponse {
    match apply_command(tx, 1, &Command::Events(cmd)).unwrap() {
        Response::Events(r) => r,
        other => panic!("unexpected {other:?}"),
    }
}

fn subscribe(tx: &mut Tx<'_>, accounts: &[&str]) {
    let accounts = accounts.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        ev(tx, EventsCommand::Subscribe { accounts }),
        EventsResponse::Subscribed
    );
}

fn meta(tx: &Tx<'_>, a: &str) -> AccountEvents {
    tx.get(&keys::events::account(a)).unwrap().unwrap_or_default()
}

fn send(tx: &mut Tx<'_>, account: &str, mid: &str) {
    let part = |seq: u16| MtPart {
        id: format!("{mid}.{seq}"),
        account: account.into(),
        to: "13800138000".into(),
        parts: 1,
        payload: vec![],
        accepted_at_ms: 5,
        queue: None,
    };
    let accept = Command::AcceptBatch {
        request_id: None,
        messages: vec![part(0), part(1)],
    };
    apply_command(tx, 1, &accept).unwrap();
    let done = Command::RecordOutcome {
        part_id: format!("{mid}.1"),
        state: "DELIVRD".into(),
        detail: String::new(),
        at_ms: 9,
    };
    apply_command(tx, 2, &done).unwrap();
}

fn mo(tx: &mut Tx<'_>) -> u64 {
    let cmd = Command::RecordMo {
        request_id: None,
        message: crate::MoMessage {
            carrier: "c".into(),
            from: "1".into(),
            to: "10690001".into(),
            payload: b"hi".to_vec(),
            received_at_ms: 3,
        },
    };
    match apply_command(tx, 3, &cmd).unwrap() {
        Response::MoRecorded { seq } => seq,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_final_state_queues_a_report_for_subscribed_accounts_only() {
    let t = tree();
    let mut tx = Tx::new(&t);
    send(&mut tx, "a", "1");
    assert_eq!(meta(&tx, "a").last_seq, 0, "no events before a subscription");
    subscribe(&mut tx, &["a"]);
    send(&mut tx, "a", "2");
    send(&mut tx, "b", "3");
    assert_eq!(meta(&tx, "b").last_seq, 0);
    let m = meta(&tx, "a");
    assert_eq!((m.last_seq, m.pending()), (1, 1));
    let e: Event = tx.get(&keys::events::event("a", 1)).unwrap().unwrap();
    assert!(
        matches!(e.kind, EventKind::Report { ref message, ref state, .. } if message == "2" && state == "DELIVRD")
    );
    // Unsubscribing stops collecting but keeps what is queued.
    subscribe(&mut tx, &[]);
    send(&mut tx, "a", "4");
    assert_eq!(meta(&tx, "a").pending(), 1);
    assert!(!meta(&tx, "a").subscribed);
}

#[test]
fn mos_are_taken_once_from_the_cursor_the_proposer_read() {
    let t = tree();
    let mut tx = Tx::new(&t);
    mo(&mut tx);
    subscribe(&mut tx, &["a", "b"]);
    // History before the first subscription is not taken.
    let cursor = || keys::counter(keys::counter::EVENTS_MO_CURSOR);
    assert_eq!(tx.get::<u64>(&cursor()).unwrap(), Some(1));
    let (s2, s3) = (mo(&mut tx), mo(&mut tx));
    let take = EventsCommand::TakeMos {
        after: 1,
        through: s3,
        mos: vec![("a".into(), s2), ("b".into(), s3), ("a".into(), 1)],
    };
    assert_eq!(
        ev(&mut tx, take.clone()),
        EventsResponse::MosTaken { appended: 2 }
    );
    // The same proposal again (a second leader, a retry) changes nothing.
    assert_eq!(ev(&mut tx, take), EventsResponse::Stale);
    assert_eq!((meta(&tx, "a").last_seq, meta(&tx, "b").last_seq), (1, 1));
    // A range past the last MO is refused.
    let ahead = EventsCommand::TakeMos {
        after: s3,
        through: s3 + 5,
        mos: vec![],
    };
    assert_eq!(ev(&mut tx, ahead), EventsResponse::Stale);
}

#[test]
fn acks_remove_rows_and_never_go_back() {
    let t = tree();
    let mut tx = Tx::new(&t);
    subscribe(&mut tx, &["a"]);
    for m in 1..=3 {
        send(&mut tx, "a", &m.to_string());
    }
    let ack = |through| EventsCommand::Ack {
        account: "a".into(),
        through,
    };
    assert_eq!(ev(&mut tx, ack(2)), EventsResponse::Acked { removed: 2 });
    assert_eq!(ev(&mut tx, ack(1)), EventsResponse::Stale);
    assert!(!tx.contains(&keys::events::event("a", 2)).unwrap());
    assert!(tx.contains(&keys::events::event("a", 3)).unwrap());
    // Never past the last event.
    assert_eq!(ev(&mut tx, ack(99)), EventsResponse::Acked { removed: 1 });
    assert_eq!(meta(&tx, "a").pending(), 0);
    assert_eq!(meta(&tx, "a").acked, 3);
}

#[test]
fn a_full_queue_drops_its_oldest_and_counts_it() {
    let t = tree();
    let mut tx = Tx::new(&t);
    subscribe(&mut tx, &["a"]);
    let kind = |n: u64| EventKind::Report {
        message: n.to_string(),
        to: String::new(),
        state: "DELIVRD".into(),
        parts: 1,
        accepted_at_ms: 0,
        final_at_ms: 0,
    };
    for n in 1..=5 {
        assert!(append_capped(&mut tx, "a", kind(n), 3).unwrap());
    }
    let m = meta(&tx, "a");
    assert_eq!((m.last_seq, m.acked, m.dropped, m.pending()), (5, 2, 2, 3));
    assert!(!tx.contains(&keys::events::event("a", 2)).unwrap());
    assert!(tx.contains(&keys::events::event("a", 3)).unwrap());
}

#[test]
fn the_view_reads_from_the_cursor_on() {
    let t = tree();
    let mut tx = Tx::new(&t);
    subscribe(&mut tx, &["a", "ab"]);
    for m in 1..=4 {
        send(&mut tx, "a", &m.to_string());
    }
    send(&mut tx, "ab", "9");
    ev(
        &mut tx,
        EventsCommand::Ack {
            account: "a".into(),
            through: 1,
        },
    );
    t.apply_batch(tx.into_batch()).unwrap();
    let view = EventsView::new(smsgw_raft::View::new(t.clone()));
    let seqs: Vec<u64> = view.events("a", 1, 10).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![2, 3, 4], "never another account's rows");
    assert_eq!(view.events("a", 2, 1).unwrap()[0].seq, 3);
    assert_eq!(view.account("a").unwrap().pending(), 3);
    assert_eq!(
        view.subscriptions().unwrap(),
        vec!["a".to_string(), "ab".to_string()]
    );
    assert_eq!(view.mo_cursor().unwrap(), Some(0));
}
