//! The sled log store and state machine on a temp dir, driven with the
//! domain's commands (raft's entries carry them encoded).

use openraft::storage::{RaftLogStorage, RaftLogStorageExt, RaftStateMachine};
use openraft::{CommittedLeaderId, EntryPayload, RaftLogReader, RaftSnapshotBuilder};
use smsgw_raft::types::{Entry, LogId, Vote};
use smsgw_raft::{codec, Applied, Proposal, SledLogStore, SledStateMachine};
use smsgw_state::{Command, Domain, MoMessage, MtPart, Query, QueryResult, Response, StateView};

fn log_id(term: u64, index: u64) -> LogId {
    LogId::new(CommittedLeaderId::new(term, 1), index)
}

fn entry(term: u64, index: u64, cmd: Command) -> Entry {
    Entry {
        log_id: log_id(term, index),
        payload: EntryPayload::Normal(Proposal(vec![codec::encode(&cmd).unwrap()])),
    }
}

/// The one response of each applied entry.
fn responses(out: Vec<Applied>) -> Vec<Response> {
    out.into_iter().map(|a| codec::decode(&a.0[0]).unwrap()).collect()
}

fn open_sm(db: &sled::Db, dir: &std::path::Path) -> SledStateMachine {
    SledStateMachine::open(db, Domain::app(), &dir.join("raft-snapshots")).unwrap()
}

fn part(id: &str) -> MtPart {
    MtPart {
        id: id.into(),
        account: "acme".into(),
        to: "13800000000".into(),
        parts: 1,
        payload: vec![7; 20],
        accepted_at_ms: 1000,
        queue: None,
    }
}

fn accept(rid: Option<&str>, ids: &[&str]) -> Command {
    Command::AcceptBatch {
        request_id: rid.map(String::from),
        messages: ids.iter().map(|i| part(i)).collect(),
    }
}

#[tokio::test]
async fn log_store_append_truncate_purge_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        let mut store = SledLogStore::open(&db).unwrap();
        let entries: Vec<Entry> = (1..=10)
            .map(|i| entry(1, i, accept(None, &[&format!("p{i}")])))
            .collect();
        store.blocking_append(entries).await.unwrap();
        store.save_vote(&Vote::new(3, 2)).await.unwrap();
        store.save_committed(Some(log_id(1, 8))).await.unwrap();
        store.truncate(log_id(1, 9)).await.unwrap();
        store.purge(log_id(1, 3)).await.unwrap();
        let got = store.try_get_log_entries(0..100).await.unwrap();
        assert_eq!(
            got.iter().map(|e| e.log_id.index).collect::<Vec<_>>(),
            vec![4, 5, 6, 7, 8]
        );
        db.flush().unwrap();
    }
    // Let the store's flusher task see its channel close and release the db.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let db = sled::open(dir.path()).unwrap();
    let mut store = SledLogStore::open(&db).unwrap();
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(log_id(1, 3)));
    assert_eq!(state.last_log_id, Some(log_id(1, 8)));
    assert_eq!(store.read_vote().await.unwrap(), Some(Vote::new(3, 2)));
    assert_eq!(store.read_committed().await.unwrap(), Some(log_id(1, 8)));
    let got = store.try_get_log_entries(5..=6).await.unwrap();
    assert_eq!(got.len(), 2);
    // Purging everything keeps the purge point as the last log id.
    store.purge(log_id(1, 8)).await.unwrap();
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_log_id, Some(log_id(1, 8)));
}

#[tokio::test]
async fn state_machine_is_idempotent_by_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path()).unwrap();
    let mut sm = open_sm(&db, dir.path());
    let out = responses(
        sm.apply(vec![
            entry(1, 1, accept(Some("req-1"), &["a", "b"])),
            entry(1, 2, accept(Some("req-1"), &["a", "b", "c"])),
            entry(1, 3, accept(None, &["b", "d"])),
        ])
        .await
        .unwrap(),
    );
    let first = Response::Accepted {
        ids: vec!["a".into(), "b".into()],
        already_known: vec![],
        index: 1,
    };
    assert_eq!(out[0], first);
    assert_eq!(out[1], Response::Replayed(Box::new(first)));
    assert_eq!(
        out[2],
        Response::Accepted {
            ids: vec!["d".into()],
            already_known: vec!["b".into()],
            index: 3
        }
    );
    let view = StateView::new(sm.view());
    assert!(view.part("c").unwrap().is_none());
    match view.query(&Query::Counts).unwrap() {
        QueryResult::Counts {
            parts, applied_index, ..
        } => {
            assert_eq!(parts, 3);
            assert_eq!(applied_index, 3);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn report_before_submit_waits_then_applies() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path()).unwrap();
    let mut sm = open_sm(&db, dir.path());
    let report = Command::RecordReport {
        carrier: "c".into(),
        carrier_msg_id: "cm-1".into(),
        state: "DELIVRD".into(),
        at_ms: 5,
    };
    let submit = Command::RecordSubmit {
        part_id: "a".into(),
        carrier: "c".into(),
        carrier_msg_id: "cm-1".into(),
        status: "0".into(),
        at_ms: 4,
    };
    let mo = Command::RecordMo {
        request_id: Some("mo-1".into()),
        message: MoMessage {
            carrier: "c".into(),
            from: "139".into(),
            to: "110".into(),
            payload: b"help".to_vec(),
            received_at_ms: 9,
        },
    };
    let out = responses(
        sm.apply(vec![
            entry(1, 1, accept(None, &["a"])),
            entry(1, 2, report),
            entry(1, 3, submit),
            entry(1, 4, mo.clone()),
            entry(1, 5, mo),
            entry(
                1,
                6,
                Command::put_config_json("routes/x", &serde_json::json!({"tps": 50})),
            ),
        ])
        .await
        .unwrap(),
    );
    assert_eq!(out[1], Response::ReportRecorded { part_id: None });
    assert_eq!(
        out[2],
        Response::SubmitRecorded {
            part_id: "a".into(),
            report_applied: Some("DELIVRD".into())
        }
    );
    assert_eq!(out[3], Response::MoRecorded { seq: 1 });
    assert_eq!(
        out[4],
        Response::Replayed(Box::new(Response::MoRecorded { seq: 1 }))
    );
    let view = StateView::new(sm.view());
    let rec = view.part_by_carrier_id("c", "cm-1").unwrap().unwrap();
    // Another carrier's equal id is another message.
    assert!(view.part_by_carrier_id("d", "cm-1").unwrap().is_none());
    assert_eq!(rec.report_state.as_deref(), Some("DELIVRD"));
    assert_eq!(
        view.config("routes/x").unwrap().unwrap(),
        br#"{"tps":50}"#.to_vec()
    );
}

#[tokio::test]
async fn snapshot_round_trip_replaces_state() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path()).unwrap();
    let mut sm = open_sm(&db, dir.path());
    sm.apply((1..=100).map(|i| entry(1, i, accept(None, &[&format!("p{i:03}")]))))
        .await
        .unwrap();
    let snap = sm.get_snapshot_builder().await.build_snapshot().await.unwrap();
    assert_eq!(snap.meta.last_log_id, Some(log_id(1, 100)));

    let dir2 = tempfile::tempdir().unwrap();
    let db2 = sled::open(dir2.path()).unwrap();
    let mut other = open_sm(&db2, dir2.path());
    other
        .apply(vec![entry(1, 1, accept(None, &["stale"]))])
        .await
        .unwrap();
    other.install_snapshot(&snap.meta, snap.snapshot).await.unwrap();
    let view = StateView::new(other.view());
    assert!(view.part("stale").unwrap().is_none());
    assert_eq!(view.part_ids("p", 1000).unwrap().len(), 100);
    let (applied, _) = other.applied_state().await.unwrap();
    assert_eq!(applied, Some(log_id(1, 100)));
    let current = other.get_current_snapshot().await.unwrap().unwrap();
    assert_eq!(current.meta.last_log_id, Some(log_id(1, 100)));
}
