//! MO dedupe keys through apply on a temporary tree: one record per
//! (carrier, id), repeats answered "already recorded", keys per carrier,
//! and their expiry through the retention purge's cursor.

use super::{recorded_now, recorded_seq, request_id};
use crate::command::{Command, MoMessage, MoRecord, Response};
use crate::keys::{self, counter};
use crate::test_support::{step, tree};

fn mo(carrier: &str, id: &str, text: &str, at: u64) -> Command {
    Command::RecordMo {
        request_id: Some(request_id(carrier, id)),
        message: MoMessage {
            carrier: carrier.into(),
            from: "13800138000".into(),
            to: "1069000110".into(),
            payload: text.as_bytes().to_vec(),
            received_at_ms: at,
        },
    }
}

fn get_counter(tree: &sled::Tree, name: &str) -> u64 {
    tree.get(keys::counter(name))
        .unwrap()
        .map(|v| smsgw_raft::codec::decode::<u64>(&v).unwrap())
        .unwrap_or(0)
}

fn mos(tree: &sled::Tree) -> Vec<MoRecord> {
    (1..=get_counter(tree, counter::MOS))
        .filter_map(|s| tree.get(keys::mo(s)).unwrap())
        .map(|v| smsgw_raft::codec::decode(&v).unwrap())
        .collect()
}

#[test]
fn a_redelivered_mo_is_recorded_once_and_answered_already_recorded() {
    let t = tree();
    let first = step(&t, &mo("cm", "1203101010123400001", "救命", 1_000));
    assert_eq!(first, Response::MoRecorded { seq: 1 });
    assert!(recorded_now(&first));

    // Again alone, then twice in one batch (the recorder's shape): no record.
    let again = step(&t, &mo("cm", "1203101010123400001", "救命", 1_500));
    assert!(!recorded_now(&again), "{again:?}");
    assert_eq!(recorded_seq(&again), Some(1));
    let batch = Command::Batch(vec![
        mo("cm", "1203101010123400001", "救命", 1_600),
        mo("cm", "1203101010123400002", "地址是三号楼", 1_600),
        mo("cm", "1203101010123400002", "地址是三号楼", 1_600),
    ]);
    let Response::Batch(rs) = step(&t, &batch) else {
        panic!("a batch answers with Response::Batch")
    };
    let now: Vec<bool> = rs.iter().map(recorded_now).collect();
    assert_eq!(now, [false, true, false]);
    let seqs: Vec<Option<u64>> = rs.iter().map(recorded_seq).collect();
    assert_eq!(seqs, [Some(1), Some(2), Some(2)]);

    let kept = mos(&t);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(get_counter(&t, counter::MOS), 2);
    assert_eq!(kept[0].message.payload, "救命".as_bytes());
    assert_eq!(kept[0].message.received_at_ms, 1_000, "the first copy stands");
}

#[test]
fn two_carriers_equal_ids_are_two_mos() {
    let t = tree();
    assert!(recorded_now(&step(&t, &mo("cm", "42", "a", 1))));
    assert!(recorded_now(&step(&t, &mo("cu", "42", "b", 1))));
    assert!(!recorded_now(&step(&t, &mo("cu", "42", "b", 2))));
    assert_eq!(mos(&t).len(), 2);
}

#[test]
fn keys_expire_with_the_request_ids_and_only_the_expired_ones() {
    let t = tree();
    step(&t, &mo("cm", "old", "x", 1_000));
    step(&t, &mo("cm", "new", "y", 90_000));
    // Keys received before 50 s expire; the MOs themselves stay (records window).
    let r = step(
        &t,
        &Command::Purge {
            before_ms: 0,
            keys_before_ms: 50_000,
            limit: 100,
        },
    );
    let Response::Purged(p) = r else { panic!("{r:?}") };
    assert_eq!(p.requests, 1, "{p:?}");
    assert_eq!(p.mos, 0);
    assert!(t.get(keys::request(&request_id("cm", "old"))).unwrap().is_none());
    // Past its window a re-delivery is a new MO; within it, still a repeat.
    assert!(recorded_now(&step(&t, &mo("cm", "old", "x", 95_000))));
    assert!(!recorded_now(&step(&t, &mo("cm", "new", "y", 95_000))));
    assert_eq!(mos(&t).len(), 3);
}
