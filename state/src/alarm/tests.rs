//! The alarm desk through apply on a temporary tree: intake exactly once,
//! joining and flooding, triage order, dispatch by rule and duty,
//! escalation to the next officer and the leader, officers' SMS commands,
//! the outbox, statistics.

use smsgw_raft::{Tx, View};

use super::*;
use crate::apply::apply_command;
use crate::command::{Command, MoMessage, Response};
use crate::test_support::tree;
use crate::StateView;

fn run(tree: &sled::Tree, at_ms: u64, change: AlarmCommand) -> AlarmResponse {
    let mut tx = Tx::new(tree);
    let r = apply_command(&mut tx, 1, &Command::Alarm { at_ms, change }).unwrap();
    tree.apply_batch(tx.into_batch()).unwrap();
    match r {
        Response::Alarm(a) => a,
        other => panic!("unexpected {other:?}"),
    }
}

fn view(tree: &sled::Tree) -> AlarmView {
    StateView::new(View::new(tree.clone())).alarm()
}

const POLICY: Policy = Policy {
    ack_timeout_ms: 120_000,
    open_limit_ms: 3_600_000,
    join_window_ms: 600_000,
    flood_per_minute: 5,
};

/// 2026-12-03 10:00 Beijing.
const T0: u64 = 1_796_263_200_000;

fn mos(tree: &sled::Tree, n: u64) -> u64 {
    let mut last = 0;
    for _ in 0..n {
        let mut tx = Tx::new(tree);
        let cmd = Command::RecordMo {
            request_id: None,
            message: MoMessage {
                carrier: "cm".into(),
                from: "x".into(),
                to: "y".into(),
                payload: vec![],
                received_at_ms: 0,
            },
        };
        if let Response::MoRecorded { seq } = apply_command(&mut tx, 1, &cmd).unwrap() {
            last = seq;
        }
        tree.apply_batch(tx.into_batch()).unwrap();
    }
    last
}

fn line(number: &str, priority: u8) -> LineRef {
    LineRef {
        number: number.into(),
        kind: if number == "110" { "crime" } else { "help" }.into(),
        priority,
        reply: Some("【110】您的短信报警已收到（编号 {case}），请保持手机畅通。".into()),
    }
}

fn alarm(seq: u64, number: &str, citizen: &str, text: &str, at_ms: u64) -> IntakeItem {
    let prio = if number == "110" { 1 } else { 2 };
    IntakeItem::Alarm {
        mo_seq: seq,
        line: line(number, prio),
        rank: prio as u16 * 10,
        citizen: citizen.into(),
        text: text.into(),
        at_ms,
        carrier: "cm".into(),
    }
}

fn intake(tree: &sled::Tree, after: u64, items: Vec<IntakeItem>, at_ms: u64) -> AlarmResponse {
    let through = items
        .iter()
        .map(|i| match i {
            IntakeItem::Alarm { mo_seq, .. }
            | IntakeItem::Officer { mo_seq, .. }
            | IntakeItem::Unknown { mo_seq } => *mo_seq,
        })
        .max()
        .unwrap();
    run(
        tree,
        at_ms,
        AlarmCommand::Intake {
            after,
            through,
            policy: POLICY,
            items,
        },
    )
}

fn officer(badge: &str, phone: &str) -> Officer {
    Officer {
        badge: badge.into(),
        name: format!("警员{badge}"),
        phone: phone.into(),
        duty: None,
        open_cases: 0,
        key_sha256: None,
    }
}

/// Three officers in group 一组 (leader P9, always on duty) and a
/// round-robin rule for line 110.
fn roster(tree: &sled::Tree) {
    for (b, p) in [
        ("P1", "13900000001"),
        ("P2", "13900000002"),
        ("P9", "13900000009"),
    ] {
        assert_eq!(
            run(tree, T0, AlarmCommand::PutOfficer(officer(b, p))),
            AlarmResponse::Done(None)
        );
    }
    let g = DutyGroup {
        name: "一组".into(),
        leader: Some("P9".into()),
        members: vec!["P1".into(), "P2".into()],
        shifts: vec![],
    };
    assert_eq!(
        run(tree, T0, AlarmCommand::PutGroup(g)),
        AlarmResponse::Done(None)
    );
    let rule = Rule {
        line: Some("110".into()),
        keyword: None,
        target: Target::OneOf {
            group: Some("一组".into()),
            pick: Pick::RoundRobin,
        },
        turn: 0,
    };
    let put = AlarmCommand::PutRule {
        rule,
        by: "dispatcher".into(),
        via: Via::Api,
    };
    assert_eq!(run(tree, T0, put), AlarmResponse::Done(None));
}

fn outbox(tree: &sled::Tree) -> Vec<(String, String)> {
    view(tree)
        .outbox(1000)
        .unwrap()
        .into_iter()
        .map(|o| (o.to, o.text))
        .collect()
}

#[test]
fn an_mo_becomes_exactly_one_case_even_when_the_intake_is_proposed_twice() {
    let t = tree();
    mos(&t, 1);
    let items = vec![alarm(1, "110", "13800000001", "公交车上有人偷手机", T0)];
    let first = intake(&t, 0, items.clone(), T0);
    let AlarmResponse::Taken { created, .. } = first else {
        panic!("{first:?}")
    };
    assert_eq!(created, vec!["A20261203-0001".to_string()]);
    assert_eq!(intake(&t, 0, items, T0), AlarmResponse::Stale);
    let c = view(&t).case("A20261203-0001").unwrap().unwrap();
    assert_eq!(
        (c.status, c.line.as_str(), c.citizen.as_str()),
        (CaseStatus::New, "110", "13800000001")
    );
    let out = outbox(&t);
    assert_eq!(out.len(), 1, "one auto-reply: {out:?}");
    assert_eq!(out[0].0, "13800000001");
    assert!(out[0].1.contains("A20261203-0001"), "{}", out[0].1);
}

#[test]
fn a_crime_case_ranks_above_help_and_a_top_keyword_above_both() {
    let t = tree();
    mos(&t, 3);
    let mut top = alarm(3, "110", "13800000003", "有人持刀抢劫", T0 + 2);
    if let IntakeItem::Alarm { rank, .. } = &mut top {
        *rank = 0;
    }
    let items = vec![
        alarm(1, "1101", "13800000001", "门打不开", T0),
        alarm(2, "110", "13800000002", "钱包被偷", T0 + 1),
        top,
    ];
    intake(&t, 0, items, T0 + 3);
    let q: Vec<String> = view(&t)
        .queue(10)
        .unwrap()
        .into_iter()
        .map(|c| c.citizen)
        .collect();
    assert_eq!(q, vec!["13800000003", "13800000002", "13800000001"]);
}

#[test]
fn further_texts_join_the_open_case_and_a_flood_is_flagged_not_dropped() {
    let t = tree();
    mos(&t, 9);
    let mut items = vec![alarm(1, "110", "13800000001", "被跟踪", T0)];
    for i in 2..=9 {
        items.push(alarm(i, "110", "13800000001", &format!("补充{i}"), T0 + i));
    }
    let r = intake(&t, 0, items, T0 + 10);
    let AlarmResponse::Taken { created, joined } = r else {
        panic!()
    };
    assert_eq!((created.len(), joined.len()), (1, 8));
    let c = view(&t).case(&created[0]).unwrap().unwrap();
    assert_eq!(c.texts_total, 9);
    assert_eq!(c.texts.len(), 9, "every text is kept");
    assert!(c.flags.contains(&"flood".to_string()), "{:?}", c.flags);
    assert_eq!(outbox(&t).len(), 1, "one reply, not one per text");
}

#[test]
fn a_case_goes_round_robin_escalates_to_the_next_officer_then_the_leader() {
    let t = tree();
    roster(&t);
    mos(&t, 2);
    intake(
        &t,
        0,
        vec![
            alarm(1, "110", "13800000001", "抢包", T0),
            alarm(2, "110", "13800000002", "打架", T0),
        ],
        T0,
    );
    let a = view(&t).case("A20261203-0001").unwrap().unwrap();
    let b = view(&t).case("A20261203-0002").unwrap().unwrap();
    assert_eq!(a.status, CaseStatus::Dispatched);
    assert_eq!(
        (a.officer.as_deref(), b.officer.as_deref()),
        (Some("P1"), Some("P2"))
    );
    assert_eq!(view(&t).officer("P1").unwrap().unwrap().open_cases, 1);
    let deadline = a.ack_deadline_ms.unwrap();
    assert_eq!(deadline, T0 + POLICY.ack_timeout_ms);
    let due = view(&t).due_escalations(0, deadline, 10).unwrap();
    assert_eq!(due.len(), 2);

    let esc = |_at: u64| AlarmCommand::Escalate {
        case: a.id.clone(),
        deadline_ms: deadline,
        policy: POLICY,
    };
    run(&t, deadline, esc(deadline));
    let a2 = view(&t).case(&a.id).unwrap().unwrap();
    assert_eq!(a2.officer.as_deref(), Some("P2"), "next officer");
    assert_eq!(view(&t).officer("P1").unwrap().unwrap().open_cases, 0);
    assert_eq!(
        run(&t, deadline, esc(deadline)),
        AlarmResponse::Stale,
        "a stale timer changes nothing"
    );
    let d2 = a2.ack_deadline_ms.unwrap();
    run(
        &t,
        d2,
        AlarmCommand::Escalate {
            case: a.id.clone(),
            deadline_ms: d2,
            policy: POLICY,
        },
    );
    let a3 = view(&t).case(&a.id).unwrap().unwrap();
    assert_eq!(a3.officer.as_deref(), Some("P9"), "then the group leader");
    assert_eq!(a3.escalations, 2);
    let to_leader = outbox(&t)
        .into_iter()
        .filter(|(to, _)| to == "13900000009")
        .count();
    assert_eq!(to_leader, 1);
}

#[test]
fn officers_sms_commands_accept_and_close_and_answer_by_sms() {
    let t = tree();
    roster(&t);
    mos(&t, 4);
    intake(&t, 0, vec![alarm(1, "110", "13800000001", "抢包", T0)], T0);
    let cmd = |seq, badge: &str, text: &str| IntakeItem::Officer {
        mo_seq: seq,
        badge: badge.into(),
        command: parse_officer_sms(text),
    };
    intake(&t, 1, vec![cmd(2, "P2", "JS A20261203-0001")], T0 + 1000);
    let c = view(&t).case("A20261203-0001").unwrap().unwrap();
    assert_eq!(c.status, CaseStatus::Dispatched, "P2 was not given the case");
    intake(&t, 2, vec![cmd(3, "P1", "js a20261203-0001")], T0 + 2000);
    let c = view(&t).case("A20261203-0001").unwrap().unwrap();
    assert_eq!(
        (c.status, c.officer.as_deref()),
        (CaseStatus::Accepted, Some("P1"))
    );
    assert_eq!(c.accepted_ms, Some(T0 + 2000));
    intake(&t, 3, vec![cmd(4, "P1", "WC A20261203-0001 已处置")], T0 + 60_000);
    let c = view(&t).case("A20261203-0001").unwrap().unwrap();
    assert_eq!(c.status, CaseStatus::Closed);
    assert!(view(&t).queue(10).unwrap().is_empty());
    let answers: Vec<String> = outbox(&t)
        .into_iter()
        .filter(|(to, _)| to.starts_with("139"))
        .map(|(_, t)| t)
        .collect();
    assert!(answers.iter().any(|a| a.contains("指令失败")), "{answers:?}");
    assert!(answers.iter().any(|a| a.contains("已接警")), "{answers:?}");
    assert!(answers.iter().any(|a| a.contains("已结案")), "{answers:?}");
    let day = crate::stats::day(T0);
    let s = view(&t).stats(day, day).unwrap();
    let get = |dim: &str, name: &str, ev: &str| {
        s.get(&(day, dim.into(), name.into(), ev.into()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(get("line", "110", "created"), 1);
    assert_eq!(get("line", "110", "CLOSED"), 1);
    assert_eq!(get("line", "110", "DISPATCHED"), 0);
    assert_eq!(get("officer", "P1", "accepted"), 1);
    assert_eq!(
        get("accept_ms", "110", "1"),
        1,
        "2 s to accept is bucket 1 (≤2 s)"
    );
}

#[test]
fn duty_follows_shifts_in_beijing_time_unless_the_officer_says_otherwise() {
    let mut o = officer("P1", "1");
    let day_shift = DutyGroup {
        name: "白班".into(),
        leader: None,
        members: vec!["P1".into()],
        shifts: vec![Shift {
            start_min: 8 * 60,
            end_min: 20 * 60,
        }],
    };
    let g = [day_shift];
    assert!(on_duty_at(&o, &g, T0), "10:00 Beijing is in the day shift");
    assert!(!on_duty_at(&o, &g, T0 + 11 * 3_600_000), "21:00 is not");
    o.duty = Some(true);
    assert!(on_duty_at(&o, &g, T0 + 11 * 3_600_000), "ZB ON wins");
    o.duty = Some(false);
    assert!(!on_duty_at(&o, &g, T0));
}

#[test]
fn beijing_days_read_as_calendar_dates() {
    assert_eq!(crate::stats::ymd(crate::stats::day(T0)), 20261203);
    assert_eq!(crate::stats::ymd(0), 19700101);
    assert_eq!(
        crate::stats::ymd(crate::stats::day(T0 + 14 * 3_600_000)),
        20261204,
        "midnight Beijing"
    );
    assert_eq!(crate::stats::ymd(20_513), 20260301);
}

#[test]
fn sent_rows_leave_the_outbox_once() {
    let t = tree();
    mos(&t, 2);
    intake(
        &t,
        0,
        vec![
            alarm(1, "110", "13800000001", "a", T0),
            alarm(2, "1101", "13800000002", "b", T0),
        ],
        T0,
    );
    let rows = view(&t).outbox(10).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        run(&t, T0, AlarmCommand::Sent { seq: rows[1].seq }),
        AlarmResponse::Done(None)
    );
    assert_eq!(
        run(&t, T0, AlarmCommand::Sent { seq: rows[1].seq }),
        AlarmResponse::Stale
    );
    assert_eq!(view(&t).outbox(10).unwrap().len(), 1);
    run(&t, T0, AlarmCommand::Sent { seq: rows[0].seq });
    assert!(view(&t).outbox(10).unwrap().is_empty());
    assert_eq!(view(&t).counter(keys::counter::OUT_SENT).unwrap(), 2);
}
