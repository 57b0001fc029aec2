//! Jobs and books through apply on a temporary tree.

use smsgw_raft::{Tx, View};

use super::*;
use crate::apply::apply_command;
use crate::book::{BookCommand, BookResponse, ContactData, ContactRow, GroupData};
use crate::command::{Command, ReadySlot, Response};
use crate::test_support::tree;
use crate::StateView;

pub(crate) fn run(tree: &sled::Tree, index: u64, cmd: &Command) -> Response {
    let mut tx = Tx::new(tree);
    let r = apply_command(&mut tx, index, cmd).unwrap();
    tree.apply_batch(tx.into_batch()).unwrap();
    r
}

fn job(change: JobCommand) -> Command {
    Command::Job {
        request_id: None,
        account: "a".into(),
        change,
    }
}

fn head(id: u64) -> MtPart {
    MtPart {
        id: format!("{id}.0"),
        account: "a".into(),
        to: "13800000000".into(),
        parts: 1,
        payload: vec![],
        accepted_at_ms: 1,
        queue: Some(ReadySlot {
            route: "cmcc".into(),
            priority: 2,
        }),
    }
}

#[test]
fn a_chunk_proposed_twice_is_accepted_once_and_cancel_stops_the_rest() {
    let t = tree();
    let recipients: Vec<Recipient> = (0..1200)
        .map(|i| Recipient {
            to: format!("138{i:08}"),
            contact: None,
            text: "hi".into(),
            parts: 1,
        })
        .collect();
    let spec = JobSpec {
        priority: "normal".into(),
        sender: None,
        report: None,
        template: None,
        groups: vec![],
        client_ref: None,
        created_ms: 10,
        send_at_ms: Some(1_000),
        held: false,
    };
    let Response::Job(JobResponse::Created { id }) =
        run(&t, 1, &job(JobCommand::Create { spec, recipients }))
    else {
        panic!("created")
    };
    let jobs = StateView::new(View::new(t.clone())).jobs();
    assert!(jobs.due(999, 10).unwrap().is_empty(), "not due before its time");
    assert_eq!(jobs.due(1_000, 10).unwrap()[0].id, id);
    assert_eq!(jobs.chunk(id, 2).unwrap().unwrap().len(), 200);
    let mut rec = jobs.job("a", id).unwrap().unwrap();
    for n in 0..4 {
        rec.next_chunk = n;
        let stored = jobs.chunk(id, n).unwrap().map_or(0, |c| c.len() as u64);
        assert_eq!(
            rec.next_chunk_len(),
            stored,
            "chunk {n}: its size from the job's counts"
        );
    }
    let advance = |chunk, mid| {
        job(JobCommand::Advance {
            job: id,
            chunk,
            messages: vec![head(mid)],
            skipped_parts: 0,
            at_ms: 1_005,
        })
    };
    assert!(matches!(
        run(&t, 2, &advance(0, 100)),
        Response::Job(JobResponse::Advanced {
            messages: 1,
            done: false
        })
    ));
    // The same chunk again (a second leader, a retried proposal): no effect.
    assert_eq!(run(&t, 3, &advance(0, 101)), Response::Job(JobResponse::Stale));
    assert_eq!(run(&t, 4, &advance(2, 102)), Response::Job(JobResponse::Stale));
    let rec = jobs.job("a", id).unwrap().unwrap();
    assert_eq!(
        (rec.accepted, rec.next_chunk, rec.status),
        (1, 1, JobStatus::Running)
    );
    assert_eq!(rec.fired_at_ms, Some(1_005));
    assert_eq!(
        run(
            &t,
            5,
            &job(JobCommand::Cancel {
                job: id,
                at_ms: 1_010
            })
        ),
        Response::Job(JobResponse::Cancelled { left: 1199 })
    );
    assert_eq!(run(&t, 6, &advance(1, 103)), Response::Job(JobResponse::Stale));
    assert!(
        jobs.due(u64::MAX - 1, 10).unwrap().is_empty(),
        "a cancelled job has no timer"
    );
    // Another account cannot see or cancel it.
    assert!(jobs.job("b", id).unwrap().is_none());
}

fn book(change: BookCommand) -> Command {
    Command::Book {
        account: "a".into(),
        at_ms: 5,
        change,
    }
}

fn row(name: &str, phone: &str, tags: &[&str], tokens: &[&str]) -> ContactRow {
    ContactRow {
        data: ContactData {
            name: name.into(),
            phones: vec![phone.into()],
            unit: "应急办".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        },
        tokens: tokens.iter().map(|t| t.to_string()).collect(),
    }
}

#[test]
fn imports_match_by_number_and_groups_resolve_tags_and_nested_groups_once() {
    let t = tree();
    let rows = vec![
        row("张伟", "13800000001", &["值班"], &["张伟", "zw"]),
        row("李娜", "13800000002", &[], &["李娜", "ln"]),
    ];
    let imp = book(BookCommand::Import { rows: rows.clone() });
    assert!(matches!(
        run(&t, 1, &imp),
        Response::Book(BookResponse::Imported {
            created: 2,
            updated: 0,
            ..
        })
    ));
    assert!(matches!(
        run(&t, 2, &imp),
        Response::Book(BookResponse::Imported {
            created: 0,
            updated: 2,
            ..
        })
    ));
    let b = StateView::new(View::new(t.clone())).book();
    assert_eq!(b.contact_count("a").unwrap(), 2);
    assert_eq!(b.search("a", "zw", 10).unwrap()[0].data.name, "张伟");
    assert!(
        b.search("b", "zw", 10).unwrap().is_empty(),
        "another account's book is empty"
    );
    let g1 = GroupData {
        name: "值班组".into(),
        tags: vec!["值班".into()],
        ..Default::default()
    };
    let Response::Book(BookResponse::Group { id: g1 }) =
        run(&t, 3, &book(BookCommand::PutGroup { id: None, group: g1 }))
    else {
        panic!("group")
    };
    let g2 = GroupData {
        name: "全体".into(),
        contacts: vec![1, 2],
        groups: vec![g1],
        ..Default::default()
    };
    let Response::Book(BookResponse::Group { id: g2 }) =
        run(&t, 4, &book(BookCommand::PutGroup { id: None, group: g2 }))
    else {
        panic!("group")
    };
    let members = b.members("a", g2).unwrap().unwrap();
    assert_eq!(members.iter().map(|c| c.id).collect::<Vec<_>>(), vec![1, 2]);
    // g1 including g2 would make a cycle.
    let cyc = GroupData {
        name: "值班组".into(),
        groups: vec![g2],
        ..Default::default()
    };
    assert!(matches!(
        run(
            &t,
            5,
            &book(BookCommand::PutGroup {
                id: Some(g1),
                group: cyc
            })
        ),
        Response::Book(BookResponse::Refused(crate::book::BookError::Cycle(_)))
    ));
    run(&t, 6, &book(BookCommand::DeleteContact { id: 1 }));
    assert!(
        b.search("a", "zw", 10).unwrap().is_empty(),
        "a deleted contact leaves the index"
    );
    assert_eq!(b.members("a", g2).unwrap().unwrap().len(), 1);
}
