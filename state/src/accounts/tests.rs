//! Prepaid accounts through apply on a temporary tree.

use smsgw_raft::View;

use super::*;
use crate::command::{Command, MtPart, PartRecord, ReadySlot, Response};
use crate::jobs::tests::run;
use crate::test_support::tree;
use crate::StateView;

fn topup(parts: u64, reference: &str, at_ms: u64) -> Command {
    Command::Account {
        request_id: Some(format!("topup/a/{reference}")),
        account: "a".into(),
        change: AccountCommand::TopUp {
            parts,
            reference: reference.into(),
            at_ms,
        },
    }
}

/// A message `mid` of `n` parts, charged.
fn send(mid: u64, n: u16) -> Command {
    let mut messages = vec![MtPart {
        id: format!("{mid}.0"),
        account: "a".into(),
        to: "13800000000".into(),
        parts: n,
        payload: vec![],
        accepted_at_ms: 10,
        queue: Some(ReadySlot {
            route: "cmcc".into(),
            priority: 2,
        }),
    }];
    for k in 1..=n {
        let mut p = messages[0].clone();
        p.id = format!("{mid}.{k}");
        p.queue = None;
        messages.push(p);
    }
    Command::Charged {
        account: "a".into(),
        parts: u64::from(n),
        at_ms: 10,
        remember_recipients: false,
        command: Box::new(Command::AcceptBatch {
            request_id: Some(format!("mt/a/{mid}")),
            messages,
        }),
    }
}

fn balance(t: &sled::Tree) -> u64 {
    let v = StateView::new(View::new(t.clone())).accounts();
    v.account("a").unwrap().map_or(0, |r| r.balance)
}

#[test]
fn charges_are_all_or_nothing_refusals_are_forgotten_and_untaken_parts_come_back() {
    let t = tree();
    assert_eq!(
        run(&t, 1, &send(1, 1)),
        Response::Refused(Refusal::InsufficientBalance { needed: 1, left: 0 }),
        "no top-up yet: nothing to pay with"
    );
    run(&t, 2, &topup(4, "r1", 1));
    run(&t, 3, &topup(4, "r1", 1));
    assert_eq!(balance(&t), 4, "a top-up repeated with its reference counts once");
    assert!(matches!(run(&t, 4, &send(2, 3)), Response::Accepted { .. }));
    assert_eq!(balance(&t), 1);
    assert_eq!(
        run(&t, 5, &send(3, 3)),
        Response::Refused(Refusal::InsufficientBalance { needed: 3, left: 1 })
    );
    run(&t, 6, &topup(10, "r2", 2));
    // The refused request, retried with the same client_ref, now goes through.
    assert!(matches!(run(&t, 7, &send(3, 3)), Response::Accepted { .. }));
    assert_eq!(balance(&t), 8);
    // Message 2: part 1 taken by the carrier, parts 2 and 3 fail before any carrier took them.
    run(
        &t,
        8,
        &Command::RecordSubmit {
            part_id: "2.1".into(),
            carrier: "cmcc".into(),
            carrier_msg_id: "c1".into(),
            status: "0".into(),
            at_ms: 20,
        },
    );
    for (i, (p, s)) in [("2.1", "UNDELIV"), ("2.2", "FAILED"), ("2.3", "FAILED")]
        .into_iter()
        .enumerate()
    {
        run(
            &t,
            9 + i as u64,
            &Command::RecordOutcome {
                part_id: p.into(),
                state: s.into(),
                detail: String::new(),
                at_ms: 30,
            },
        );
    }
    assert_eq!(
        balance(&t),
        10,
        "two untaken parts refunded, the taken one stays charged"
    );
    let v = StateView::new(View::new(t.clone()));
    let head: PartRecord = v.part("2.0").unwrap().unwrap();
    assert_eq!(head.report_state.as_deref(), Some("FAILED"));
    // The ledger reads in time order.
    let kinds: Vec<_> = v
        .accounts()
        .ledger("a", 0, u64::MAX, None, 100)
        .unwrap()
        .iter()
        .map(|l| (l.kind, l.parts))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (LedgerKind::TopUp, 4),
            (LedgerKind::TopUp, 10),
            (LedgerKind::Charge, -3),
            (LedgerKind::Charge, -3),
            (LedgerKind::Refund, 2),
        ]
    );
}

#[test]
fn an_idle_account_freezes_then_closes_and_a_top_up_unfreezes_it() {
    let t = tree();
    run(&t, 1, &topup(5, "r1", 1_000));
    let life = |at_ms| Command::Account {
        request_id: None,
        account: "a".into(),
        change: AccountCommand::Lifecycle {
            at_ms,
            freeze_after_ms: 10_000,
            close_after_ms: 30_000,
        },
    };
    let status = |t: &sled::Tree| {
        let v = StateView::new(View::new(t.clone())).accounts();
        v.account("a").unwrap().map(|r| r.status)
    };
    run(&t, 2, &life(10_999));
    assert_eq!(status(&t), Some(AccountStatus::Active));
    run(&t, 3, &life(11_000));
    assert_eq!(status(&t), Some(AccountStatus::Frozen));
    assert_eq!(run(&t, 4, &send(1, 1)), Response::Refused(Refusal::Frozen));
    run(&t, 5, &topup(1, "r2", 12_000));
    assert_eq!(status(&t), Some(AccountStatus::Active));
    run(&t, 6, &life(42_000));
    assert_eq!(status(&t), Some(AccountStatus::Closed));
    run(&t, 7, &topup(1, "r3", 43_000));
    assert_eq!(
        status(&t),
        Some(AccountStatus::Closed),
        "a closed account stays closed"
    );
}
