//! Staged accepts through apply on a temporary tree: invisible until the
//! commit, the same state as one small batch, once, all or nothing, and
//! purged when the commit never comes.

use smsgw_raft::View;

use super::keys as sk;
use super::*;
use crate::accounts::{AccountCommand, Refusal};
use crate::command::{Command, MtPart, ReadySlot, Response};
use crate::jobs::tests::run;
use crate::keys::{self, counter};
use crate::test_support::tree;
use crate::StateView;

/// `n` messages from `first` of two parts each (a head and two segments),
/// with `text` bytes in every payload.
fn parts(first: u64, n: u64, text: usize) -> Vec<MtPart> {
    let mut out = Vec::new();
    for mid in first..first + n {
        for k in 0..=2u16 {
            out.push(MtPart {
                id: format!("{mid}.{k}"),
                account: "a".into(),
                to: format!("1380000{mid:04}"),
                parts: 2,
                payload: vec![b'x'; text],
                accepted_at_ms: 1_000,
                queue: (k == 0).then(|| ReadySlot {
                    route: "cmcc".into(),
                    priority: 2,
                }),
            });
        }
    }
    out
}

fn put(stage: &str, chunk: u32, messages: Vec<MtPart>) -> Command {
    Command::Stage(StageCommand::Put {
        stage: stage.into(),
        chunk,
        at_ms: 1_000,
        rows: StagedRows::Parts(messages),
    })
}

fn commit(stage: &str, chunks: u32, command: Command) -> Command {
    Command::Stage(StageCommand::Commit {
        stage: stage.into(),
        chunks,
        command: Box::new(command),
    })
}

fn accept(request_id: Option<&str>) -> Command {
    Command::AcceptBatch {
        request_id: request_id.map(str::to_string),
        messages: Vec::new(),
    }
}

/// Stages `messages` in chunks of `per` parts at log indexes from `index`;
/// the number of chunks.
fn stage_all(t: &sled::Tree, index: u64, stage: &str, messages: Vec<MtPart>, per: usize) -> u32 {
    let runs: Vec<Vec<MtPart>> = messages.chunks(per).map(<[MtPart]>::to_vec).collect();
    for (i, run_) in runs.iter().enumerate() {
        let r = run(t, index + i as u64, &put(stage, i as u32, run_.clone()));
        assert_eq!(r, Response::Staged(StageResponse::Put { chunk: i as u32 }));
    }
    runs.len() as u32
}

fn view(t: &sled::Tree) -> StateView {
    StateView::new(View::new(t.clone()))
}

fn rows_under(t: &sled::Tree, prefix: &[u8]) -> usize {
    t.scan_prefix(prefix).count()
}

#[test]
fn staged_parts_are_invisible_until_the_commit_and_a_double_commit_accepts_once() {
    let t = tree();
    let messages = parts(100, 40, 100);
    let chunks = stage_all(&t, 1, "100.0", messages.clone(), 25);
    assert_eq!(chunks, 5);
    let v = view(&t);
    assert_eq!(v.part("100.0").unwrap(), None, "staged is not accepted");
    assert_eq!(v.counter(counter::PARTS).unwrap(), 0);
    assert_eq!(v.ready_counts().unwrap(), [0; 4]);
    assert_eq!(v.ready_routes().unwrap(), Vec::<String>::new());
    assert!(v.records("a", None, 0, u64::MAX, 10).unwrap().is_empty());

    let first = run(&t, 10, &commit("100.0", chunks, accept(None)));
    let Response::Accepted {
        ids,
        already_known,
        index,
    } = &first
    else {
        panic!("commit answered {first:?}")
    };
    assert_eq!((ids.len(), already_known.len(), *index), (120, 0, 10));
    let v = view(&t);
    assert_eq!(v.counter(counter::PARTS).unwrap(), 120);
    assert_eq!(v.ready_counts().unwrap(), [0, 0, 40, 0]);
    assert!(v.part("139.2").unwrap().is_some());
    assert_eq!(rows_under(&t, sk::PREFIX), 0, "the stage went with its commit");

    // The same commit again (a re-proposal): once.
    let again = run(&t, 11, &commit("100.0", chunks, accept(None)));
    assert_eq!(again, Response::Replayed(Box::new(first)));
    assert_eq!(view(&t).counter(counter::PARTS).unwrap(), 120);
    assert_eq!(view(&t).ready_counts().unwrap(), [0, 0, 40, 0]);
}

#[test]
fn a_retried_client_ref_answers_the_first_commit_and_drops_the_new_stage() {
    let t = tree();
    let chunks = stage_all(&t, 1, "1.0", parts(1, 10, 10), 8);
    let first = run(&t, 5, &commit("1.0", chunks, accept(Some("mt/a/x"))));
    assert!(matches!(first, Response::Accepted { ref ids, .. } if ids.len() == 30));
    // The client retries: new ids, a new stage, the same key.
    let chunks = stage_all(&t, 6, "50.0", parts(50, 10, 10), 8);
    let again = run(&t, 9, &commit("50.0", chunks, accept(Some("mt/a/x"))));
    assert_eq!(again, Response::Replayed(Box::new(first.clone())));
    assert_eq!(view(&t).part("50.0").unwrap(), None);
    // What a proposer that knows the key sends: a commit of nothing.
    let known = run(&t, 10, &commit("60.0", 0, accept(Some("mt/a/x"))));
    assert_eq!(known, Response::Replayed(Box::new(first)));
    assert_eq!(view(&t).counter(counter::PARTS).unwrap(), 30);
    assert_eq!(rows_under(&t, sk::PREFIX), 0);
}

#[test]
fn a_staged_commit_leaves_exactly_the_state_of_one_small_batch() {
    let (small, staged) = (tree(), tree());
    let messages = parts(7, 12, 30);
    run(
        &small,
        1,
        &Command::AcceptBatch {
            request_id: Some("mt/a/r".into()),
            messages: messages.clone(),
        },
    );
    let chunks = stage_all(&staged, 1, "7.0", messages, 7);
    run(&staged, 1, &commit("7.0", chunks, accept(Some("mt/a/r"))));
    let dump = |t: &sled::Tree| -> Vec<(Vec<u8>, Vec<u8>)> {
        t.iter()
            .map(|kv| kv.unwrap())
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .filter(|(k, _)| !k.starts_with(&keys::counter(sk::CURSOR)))
            .collect()
    };
    let (a, b) = (dump(&small), dump(&staged));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "{:?}", String::from_utf8_lossy(&x.0));
    }
}

#[test]
fn a_balance_too_low_for_the_whole_request_refuses_it_all_and_drops_the_stage() {
    let t = tree();
    run(
        &t,
        1,
        &Command::Account {
            request_id: Some("topup/a/r1".into()),
            account: "a".into(),
            change: AccountCommand::TopUp {
                parts: 50,
                reference: "r1".into(),
                at_ms: 1,
            },
        },
    );
    // 30 messages of 2 parts: 60 parts for a balance of 50.
    let chunks = stage_all(&t, 2, "1.0", parts(1, 30, 10), 20);
    let charged = |parts| Command::Charged {
        account: "a".into(),
        parts,
        at_ms: 1_000,
        remember_recipients: false,
        command: Box::new(accept(Some("mt/a/big"))),
    };
    let r = run(&t, 9, &commit("1.0", chunks, charged(60)));
    assert_eq!(
        r,
        Response::Refused(Refusal::InsufficientBalance { needed: 60, left: 50 })
    );
    let v = view(&t);
    assert_eq!(v.counter(counter::PARTS).unwrap(), 0);
    assert_eq!(v.accounts().account("a").unwrap().map(|a| a.balance), Some(50));
    assert_eq!(rows_under(&t, sk::PREFIX), 0);
    // After a top-up the same client_ref goes through, charged once.
    run(
        &t,
        10,
        &Command::Account {
            request_id: Some("topup/a/r2".into()),
            account: "a".into(),
            change: AccountCommand::TopUp {
                parts: 50,
                reference: "r2".into(),
                at_ms: 2,
            },
        },
    );
    let chunks = stage_all(&t, 11, "100.0", parts(100, 30, 10), 20);
    assert!(matches!(
        run(&t, 20, &commit("100.0", chunks, charged(60))),
        Response::Accepted { .. }
    ));
    let chunks = stage_all(&t, 21, "200.0", parts(200, 30, 10), 20);
    assert!(matches!(
        run(&t, 30, &commit("200.0", chunks, charged(60))),
        Response::Replayed(_)
    ));
    assert_eq!(
        view(&t).accounts().account("a").unwrap().map(|a| a.balance),
        Some(40)
    );
}

#[test]
fn a_stage_whose_commit_never_comes_is_purged_from_its_cursor_and_a_late_commit_accepts_nothing() {
    let t = tree();
    let chunks = stage_all(&t, 1, "1.0", parts(1, 10, 10), 8);
    let purge = |before_ms| {
        Command::Stage(StageCommand::Purge {
            before_ms,
            limit: 100,
        })
    };
    // Not yet due: the stage was filed at 1,000.
    assert_eq!(
        run(&t, 5, &purge(1_000)),
        Response::Staged(StageResponse::Purged {
            stages: 0,
            more: false
        })
    );
    assert!(rows_under(&t, sk::PREFIX) > 0);
    assert_eq!(
        run(&t, 6, &purge(1_000 + STAGE_TTL_MS)),
        Response::Staged(StageResponse::Purged {
            stages: 1,
            more: false
        })
    );
    assert_eq!(rows_under(&t, sk::PREFIX), 0);
    assert_eq!(view(&t).counter(sk::CURSOR).unwrap(), 1_000 + STAGE_TTL_MS);
    let late = run(&t, 7, &commit("1.0", chunks, accept(None)));
    assert!(matches!(late, Response::Rejected { .. }), "{late:?}");
    assert_eq!(view(&t).counter(counter::PARTS).unwrap(), 0);
    // A chunk staged after the cursor passed its time is filed at the
    // cursor, so a later purge still finds it.
    stage_all(&t, 8, "9.0", parts(9, 1, 10), 8);
    assert_eq!(
        run(&t, 9, &purge(1_000 + STAGE_TTL_MS + 1)),
        Response::Staged(StageResponse::Purged {
            stages: 1,
            more: false
        })
    );
    assert_eq!(rows_under(&t, sk::PREFIX), 0);
}

#[test]
fn a_purge_reads_at_most_its_limit_and_says_more_remain() {
    let t = tree();
    for s in 0..5u64 {
        let mut p = parts(s * 10, 1, 10);
        for x in &mut p {
            x.accepted_at_ms = s;
        }
        run(
            &t,
            s + 1,
            &Command::Stage(StageCommand::Put {
                stage: format!("{}.0", s * 10),
                chunk: 0,
                at_ms: 100 + s,
                rows: StagedRows::Parts(p),
            }),
        );
    }
    let purge = Command::Stage(StageCommand::Purge {
        before_ms: 1_000,
        limit: 2,
    });
    let mut dropped = 0;
    for i in 0..3 {
        let Response::Staged(StageResponse::Purged { stages, more }) = run(&t, 10 + i, &purge) else {
            panic!("a purge answers Purged")
        };
        dropped += stages;
        assert_eq!(more, i < 2, "round {i}");
    }
    assert_eq!(dropped, 5);
    assert_eq!(rows_under(&t, sk::PREFIX), 0);
}

#[test]
fn a_commit_missing_a_chunk_accepts_nothing() {
    let t = tree();
    let chunks = stage_all(&t, 1, "1.0", parts(1, 10, 10), 8);
    // One chunk too few or too many named: refused whole.
    for n in [chunks - 1, chunks + 1, 0] {
        let chunks = stage_all(&t, 10, "1.0", parts(1, 10, 10), 8);
        assert_eq!(chunks, 4);
        let r = run(&t, 20, &commit("1.0", n, accept(None)));
        assert!(matches!(r, Response::Rejected { .. }), "{n}: {r:?}");
        assert_eq!(view(&t).counter(counter::PARTS).unwrap(), 0);
        assert_eq!(rows_under(&t, sk::PREFIX), 0);
    }
}

#[test]
fn the_size_bound_is_above_the_encoding_and_chunks_keep_every_part_in_order() {
    let messages = parts(1, 50, 3_000);
    for p in &messages {
        let encoded = smsgw_raft::codec::encode(p).unwrap().len();
        assert!(part_bytes(p) >= encoded, "{} < {encoded}", part_bytes(p));
    }
    let cmd = Command::Charged {
        account: "a".into(),
        parts: 100,
        at_ms: 1,
        remember_recipients: true,
        command: Box::new(Command::AcceptBatch {
            request_id: Some(format!("mt/a/{}", "r".repeat(64))),
            messages: messages.clone(),
        }),
    };
    let encoded = smsgw_raft::codec::encode(&cmd).unwrap().len();
    let bound: usize = messages.iter().map(part_bytes).sum();
    assert!(bound + 4 * 1024 >= encoded);
    let runs = chunks(messages.clone(), 20_000);
    assert!(runs
        .iter()
        .all(|r| r.iter().map(part_bytes).sum::<usize>() <= 20_000));
    assert_eq!(runs.concat(), messages);
    assert!(fits(&messages));
    assert!(!fits(&parts(1, 400, 1_000)), "1,200 parts of 1 KB do not fit");
}

#[test]
fn a_top_up_is_not_stageable_and_a_bad_stage_id_is_refused() {
    let t = tree();
    let topup = Command::Account {
        request_id: None,
        account: "a".into(),
        change: AccountCommand::TopUp {
            parts: 1,
            reference: "x".into(),
            at_ms: 1,
        },
    };
    stage_all(&t, 1, "1.0", parts(1, 1, 10), 8);
    assert!(matches!(
        run(&t, 2, &commit("1.0", 1, topup)),
        Response::Rejected { .. }
    ));
    assert!(matches!(
        run(&t, 3, &put("a\0b", 0, parts(1, 1, 1))),
        Response::Rejected { .. }
    ));
    assert_eq!(rows_under(&t, sk::PREFIX), 0);
}

fn recipients(n: usize) -> Vec<crate::jobs::Recipient> {
    (0..n)
        .map(|i| crate::jobs::Recipient {
            to: format!("1390000{i:04}"),
            contact: None,
            text: "t".repeat(500),
            parts: 4,
        })
        .collect()
}

fn create(recipients: Vec<crate::jobs::Recipient>) -> Command {
    Command::Job {
        request_id: None,
        account: "a".into(),
        change: crate::jobs::JobCommand::Create {
            spec: crate::jobs::JobSpec {
                priority: "normal".into(),
                sender: None,
                report: None,
                template: None,
                groups: Vec::new(),
                client_ref: None,
                created_ms: 1_000,
                send_at_ms: None,
                held: false,
            },
            recipients,
        },
    }
}

#[test]
fn a_job_created_from_staged_recipients_holds_them_all_once_and_a_stage_of_the_wrong_kind_is_refused() {
    let t = tree();
    let all = recipients(1_200);
    for r in &all[..3] {
        assert!(recipient_bytes(r) >= smsgw_raft::codec::encode(r).unwrap().len());
    }
    for (i, run_) in all.chunks(500).enumerate() {
        let put = Command::Stage(StageCommand::Put {
            stage: "j1".into(),
            chunk: i as u32,
            at_ms: 1_000,
            rows: StagedRows::Recipients(run_.to_vec()),
        });
        run(&t, 1 + i as u64, &put);
    }
    let first = run(&t, 5, &commit("j1", 3, create(Vec::new())));
    let Response::Job(crate::jobs::JobResponse::Created { id }) = first else {
        panic!("{first:?}")
    };
    let job = view(&t).jobs().job("a", id).unwrap().expect("the job");
    assert_eq!((job.recipients, job.chunks), (1_200, 3));
    let chunk = view(&t).jobs().chunk(id, 2).unwrap().expect("its last chunk");
    assert_eq!(chunk, all[1_000..].to_vec());
    // Again: the same job, not a second one.
    let again = run(&t, 6, &commit("j1", 3, create(Vec::new())));
    assert_eq!(again, Response::Replayed(Box::new(first)));
    assert_eq!(view(&t).counter(counter::JOB_SEQ).unwrap(), 1);
    assert_eq!(rows_under(&t, sk::PREFIX), 0);

    // Recipients committed as an accept's parts (or the reverse): refused.
    run(
        &t,
        7,
        &Command::Stage(StageCommand::Put {
            stage: "j2".into(),
            chunk: 0,
            at_ms: 1_000,
            rows: StagedRows::Recipients(recipients(3)),
        }),
    );
    assert!(matches!(
        run(&t, 8, &commit("j2", 1, accept(None))),
        Response::Rejected { .. }
    ));
    stage_all(&t, 9, "1.0", parts(1, 2, 10), 8);
    assert!(matches!(
        run(&t, 10, &commit("1.0", 1, create(Vec::new()))),
        Response::Rejected { .. }
    ));
    assert_eq!(view(&t).counter(counter::PARTS).unwrap(), 0);
    assert_eq!(view(&t).counter(counter::JOB_SEQ).unwrap(), 1);
    assert_eq!(rows_under(&t, sk::PREFIX), 0);
}
