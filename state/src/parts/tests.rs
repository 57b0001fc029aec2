use super::*;
use crate::command::{Command, MtPart, Response};
use crate::test_support::{message_parts, step, tree};

fn accept(t: &sled::Tree, mid: &str, parts: u16) -> Response {
    let messages = message_parts(mid, parts, "cmcc", 100);
    step(
        t,
        &Command::AcceptBatch {
            request_id: None,
            messages,
        },
    )
}

fn submit(t: &sled::Tree, pid: &str, id: &str) {
    step(
        t,
        &Command::RecordSubmit {
            part_id: pid.into(),
            carrier: "cmcc".into(),
            carrier_msg_id: id.into(),
            status: "0".into(),
            at_ms: 150,
        },
    );
}

fn report(t: &sled::Tree, id: &str) {
    step(
        t,
        &Command::RecordReport {
            carrier: "cmcc".into(),
            carrier_msg_id: id.into(),
            state: "DELIVRD".into(),
            at_ms: 200,
        },
    );
}

fn view(t: &sled::Tree) -> crate::StateView {
    crate::StateView::new(View::new(t.clone()))
}

/// Part `pid`, which must be stored.
fn rec(t: &sled::Tree, pid: &str) -> PartRecord {
    view(t).part(pid).unwrap().expect("stored")
}

fn raw(t: &sled::Tree, pid: &str) -> bool {
    t.contains_key(keys::part(pid)).unwrap()
}

#[test]
fn a_one_part_message_is_one_row_read_as_its_head_and_its_part() {
    let t = tree();
    accept(&t, "1", 1);
    assert!(raw(&t, "1.0") && !raw(&t, "1.1"), "one row, under the head's key");
    let v = view(&t);
    let head = v.part("1.0").unwrap().expect("head");
    let part = v.part("1.1").unwrap().expect("part");
    assert_eq!((head.part.id.as_str(), head.part.payload[0]), ("1.0", 0));
    assert_eq!((part.part.id.as_str(), part.part.payload[0]), ("1.1", 1));
    assert_eq!(v.part("1.2").unwrap(), None);

    submit(&t, "1.1", "c1");
    assert_eq!(rec(&t, "1.1").carrier_msg_id.as_deref(), Some("c1"));
    assert_eq!(rec(&t, "1.0").carrier_msg_id, None);
    report(&t, "c1");
    let v = view(&t);
    assert_eq!(rec(&t, "1.1").report_state.as_deref(), Some("DELIVRD"));
    assert_eq!(rec(&t, "1.0").report_state.as_deref(), Some("DELIVRD"));
    assert!(!raw(&t, "1.1"));
    assert_eq!(v.part_ids("1.", 10).unwrap(), ["1.0", "1.1"]);
    assert_eq!(v.part_ids("1.", 1).unwrap(), ["1.0"]);
}

#[test]
fn a_message_of_several_parts_keeps_a_row_per_part() {
    let t = tree();
    accept(&t, "2", 2);
    for pid in ["2.0", "2.1", "2.2"] {
        assert!(raw(&t, pid), "{pid}");
    }
    submit(&t, "2.1", "c21");
    submit(&t, "2.2", "c22");
    report(&t, "c21");
    assert_eq!(rec(&t, "2.0").report_state, None);
    report(&t, "c22");
    assert_eq!(rec(&t, "2.0").report_state.as_deref(), Some("DELIVRD"));
}

#[test]
fn a_one_part_message_stored_as_two_rows_by_an_older_build_is_updated_where_it_is() {
    let t = tree();
    accept(&t, "3", 2);
    // An older build's one-part message: a plain head and a `p/3.1` row.
    for pid in ["3.0", "3.1"] {
        let mut rec = view(&t).part(pid).unwrap().unwrap();
        rec.part.parts = 1;
        t.insert(keys::part(pid), codec::encode(&rec).unwrap()).unwrap();
    }
    t.remove(keys::part("3.2")).unwrap();
    submit(&t, "3.1", "c3");
    report(&t, "c3");
    assert!(raw(&t, "3.1"), "the part stays in its own row");
    assert_eq!(rec(&t, "3.1").carrier_msg_id.as_deref(), Some("c3"));
    assert_eq!(rec(&t, "3.0").report_state.as_deref(), Some("DELIVRD"));
}

#[test]
fn an_accept_with_an_empty_part_id_is_rejected_whole() {
    let t = tree();
    let part = MtPart {
        id: String::new(),
        account: "acme".into(),
        to: "1".into(),
        parts: 1,
        payload: vec![],
        accepted_at_ms: 0,
        queue: None,
    };
    let r = step(
        &t,
        &Command::AcceptBatch {
            request_id: None,
            messages: vec![part],
        },
    );
    assert!(matches!(r, Response::Rejected { .. }), "{r:?}");
    assert_eq!(t.scan_prefix(keys::PART).count(), 0);
}

#[test]
fn a_solo_row_cut_short_reads_as_an_error_not_a_panic() {
    let t = tree();
    accept(&t, "4", 1);
    let row = t.get(keys::part("4.0")).unwrap().unwrap();
    for cut in [1, 3, 5] {
        t.insert(keys::part("4.0"), &row[..cut]).unwrap();
        for pid in ["4.0", "4.1"] {
            assert!(view(&t).part(pid).is_err(), "{pid} cut at {cut}");
        }
    }
    // The head is read without the part behind it: only the part fails.
    t.insert(keys::part("4.0"), &row[..row.len() - 1]).unwrap();
    assert!(view(&t).part("4.0").is_ok());
    assert!(view(&t).part("4.1").is_err());
}

#[test]
fn a_message_read_whole_gives_the_same_parts_as_reading_each_by_id() {
    let t = tree();
    accept(&t, "1", 1);
    accept(&t, "2", 3);
    submit(&t, "1.1", "c1");
    submit(&t, "2.2", "c2");
    report(&t, "c1");
    let v = view(&t);
    for (mid, parts) in [("1", 1u16), ("2", 3)] {
        let (head, rows) = v.message(mid).unwrap().expect("stored");
        assert_eq!(head, rec(&t, &format!("{mid}.0")));
        for k in 1..=parts {
            assert_eq!(
                rows.get(k).unwrap(),
                v.part(&format!("{mid}.{k}")).unwrap(),
                "{mid}.{k}"
            );
        }
        assert_eq!(rows.get(parts + 1).unwrap(), None);
    }
    assert!(v.message("3").unwrap().is_none());
}
