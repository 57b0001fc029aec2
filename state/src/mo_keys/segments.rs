//! Apply of [`Command::RecordMoSegments`]: a multi-segment MO is keyed by
//! every one of its segments, so that a carrier re-delivering only some of
//! them (a DELIVER_RESP lost for one segment) finds the MO recorded.
//!
//! Why per segment: the whole MO's key used to be its lowest numbered
//! segment's id, so a lone re-delivered second segment got another key and
//! was recorded again (as an incomplete MO). The keys are the same
//! `r/mo/CARRIER\0ID` request ids a single-segment MO has (no new stored
//! format: a key written before this, the lowest segment's, is read the
//! same way), each filed in the retention index `E/r` and expiring with the
//! `client_ref` keys. Called only by apply; reads and writes nothing but
//! the request-id rows, the MO row and its counter.

use smsgw_raft::{ApplyError, Tx};

use crate::command::{Command, MoMessage, MoRecord, Response};
use crate::keys::{self, counter};

/// Records `message` unless one of `request_ids` is remembered; either way
/// every segment's key ends up pointing at the one record.
pub(crate) fn apply_segments(
    tx: &mut Tx<'_>,
    cmd: &Command,
    request_ids: &[String],
    message: &MoMessage,
) -> Result<Response, ApplyError> {
    let mut first = None;
    for rid in request_ids {
        if let Some(r) = tx.get::<Response>(&keys::request(rid))? {
            first = Some(r);
            break;
        }
    }
    let (stored, answer) = match first {
        // A repeat: segments seen for the first time (the rest of an MO
        // whose first copy was recorded incomplete) join the first record,
        // so that they too are recognised when they come again alone.
        Some(r) => (r.clone(), Response::Replayed(Box::new(r))),
        None => {
            let seq = tx.add(&keys::counter(counter::MOS), 1)?;
            tx.put(
                keys::mo(seq),
                &MoRecord {
                    seq,
                    message: message.clone(),
                },
            )?;
            let r = Response::MoRecorded { seq };
            (r.clone(), r)
        }
    };
    for rid in request_ids {
        let k = keys::request(rid);
        if !tx.contains(&k)? {
            tx.put(k, &stored)?;
            crate::retention::request_remembered(tx, cmd, rid)?;
        }
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use crate::command::{Command, MoMessage, Response};
    use crate::keys;
    use crate::mo_keys::{recorded_now, recorded_seq, request_id};
    use crate::test_support::{step, tree};

    fn msg(text: &str, at: u64) -> MoMessage {
        MoMessage {
            carrier: "cm".into(),
            from: "13800138000".into(),
            to: "1069000110".into(),
            payload: text.as_bytes().to_vec(),
            received_at_ms: at,
        }
    }

    fn whole(ids: &[&str], text: &str, at: u64) -> Command {
        Command::RecordMoSegments {
            request_ids: ids.iter().map(|i| request_id("cm", i)).collect(),
            message: msg(text, at),
        }
    }

    /// What the gateway proposes for one segment alone (a single-segment MO
    /// or a lone re-delivered segment): today's `RecordMo`.
    fn lone(id: &str, text: &str, at: u64) -> Command {
        Command::RecordMo {
            request_id: Some(request_id("cm", id)),
            message: msg(text, at),
        }
    }

    fn mo_count(t: &sled::Tree) -> u64 {
        t.get(keys::counter(keys::counter::MOS))
            .unwrap()
            .map(|v| smsgw_raft::codec::decode::<u64>(&v).unwrap())
            .unwrap_or(0)
    }

    #[test]
    fn a_segment_of_a_recorded_mo_is_a_repeat_alone_or_in_a_partial_copy() {
        let t = tree();
        let first = step(&t, &whole(&["s1", "s2", "s3"], "一二三", 1_000));
        assert_eq!(first, Response::MoRecorded { seq: 1 });
        // The second segment alone (its reassembly timed out: incomplete).
        let again = step(&t, &lone("s2", "二", 2_000));
        assert!(!recorded_now(&again), "{again:?}");
        assert_eq!(recorded_seq(&again), Some(1));
        // Two of the three again, as a partial MO.
        let partial = step(&t, &whole(&["s2", "s3"], "二三", 2_100));
        assert_eq!(recorded_seq(&partial), Some(1));
        assert!(!recorded_now(&partial));
        // The whole MO again.
        assert!(!recorded_now(&step(
            &t,
            &whole(&["s1", "s2", "s3"], "一二三", 2_200)
        )));
        assert_eq!(mo_count(&t), 1);
        // Another MO's segments are new.
        assert!(recorded_now(&step(&t, &whole(&["t1", "t2"], "四五", 3_000))));
        assert_eq!(mo_count(&t), 2);
    }

    #[test]
    fn keys_written_by_a_whole_mo_key_are_read_by_segments_and_new_segments_join() {
        let t = tree();
        // Stored before segment keys: the MO keyed by its first segment only.
        assert!(recorded_now(&step(&t, &lone("s1", "一二", 1_000))));
        // Re-delivered whole: a repeat, and its second segment joins it.
        let r = step(&t, &whole(&["s1", "s2"], "一二", 2_000));
        assert_eq!(recorded_seq(&r), Some(1));
        assert!(!recorded_now(&r));
        assert!(!recorded_now(&step(&t, &lone("s2", "二", 3_000))));
        assert_eq!(mo_count(&t), 1);
    }

    #[test]
    fn segment_keys_expire_with_the_request_ids() {
        let t = tree();
        step(&t, &whole(&["s1", "s2"], "一二", 1_000));
        let r = step(
            &t,
            &Command::Purge {
                before_ms: 0,
                keys_before_ms: 50_000,
                limit: 100,
            },
        );
        let Response::Purged(p) = r else { panic!("{r:?}") };
        assert_eq!(p.requests, 2, "{p:?}");
        assert!(recorded_now(&step(&t, &lone("s2", "二", 60_000))));
    }
}
