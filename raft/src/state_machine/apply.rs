//! Deterministic application of commands to the state-machine tree through a
//! write overlay, so that a whole `apply` call lands in sled as one atomic
//! batch. It must never read a clock, draw randomness or touch anything but
//! the overlay: every node must compute the same bytes from the same log.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{self, CodecError};
use crate::command::{Command, MoRecord, MtPart, PartRecord, PendingReport, Response};

/// Key prefixes of the state-machine tree.
pub(crate) mod keys {
    pub const APPLIED: &[u8] = b"m/applied";
    pub const MEMBERSHIP: &[u8] = b"m/membership";
    pub const MO_SEQ: &[u8] = b"m/mo_seq";
    pub const PART_COUNT: &[u8] = b"m/parts";
    pub const CONFIG_COUNT: &[u8] = b"m/configs";
    pub const CONFIG: &str = "c/";
    pub const PART: &str = "p/";
    pub const CARRIER_ID: &str = "k/";
    pub const PENDING_REPORT: &str = "w/";
    pub const MO: &str = "o/";
    pub const REQUEST: &str = "r/";
    /// `u/M`: message `M` (head part `M.0` accepted) has no final state yet.
    pub const UNFINISHED: &str = "u/";

    pub fn with(prefix: &str, id: &str) -> Vec<u8> {
        let mut k = Vec::with_capacity(prefix.len() + id.len());
        k.extend_from_slice(prefix.as_bytes());
        k.extend_from_slice(id.as_bytes());
        k
    }

    pub fn mo(seq: u64) -> Vec<u8> {
        let mut k = MO.as_bytes().to_vec();
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }
}

/// Failure while applying: storage or decoding, never a property of the command.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// sled failed.
    #[error("state machine storage: {0}")]
    Sled(#[from] sled::Error),
    /// Stored bytes did not decode.
    #[error("state machine data: {0}")]
    Codec(#[from] CodecError),
}

/// Pending writes over the tree; reads see them first.
pub(crate) struct Overlay<'a> {
    tree: &'a sled::Tree,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(tree: &'a sled::Tree) -> Self {
        Self {
            tree,
            writes: BTreeMap::new(),
        }
    }

    fn raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ApplyError> {
        if let Some(v) = self.writes.get(key) {
            return Ok(v.clone());
        }
        Ok(self.tree.get(key)?.map(|v| v.to_vec()))
    }

    pub(crate) fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ApplyError> {
        match self.raw(key)? {
            None => Ok(None),
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
        }
    }

    pub(crate) fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), ApplyError> {
        self.writes.insert(key, Some(codec::encode(value)?));
        Ok(())
    }

    fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    fn remove(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    fn bump(&mut self, key: &[u8]) -> Result<u64, ApplyError> {
        let next = self.get::<u64>(key)?.unwrap_or(0) + 1;
        self.put(key.to_vec(), &next)?;
        Ok(next)
    }

    /// Turns the overlay into one atomic sled batch.
    pub(crate) fn into_batch(self) -> sled::Batch {
        let mut batch = sled::Batch::default();
        for (k, v) in self.writes {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        batch
    }
}

/// Applies one command written at log `index`.
pub(crate) fn apply_command(ov: &mut Overlay<'_>, index: u64, cmd: &Command) -> Result<Response, ApplyError> {
    if let Some(rid) = cmd.request_id() {
        if let Some(first) = ov.get::<Response>(&keys::with(keys::REQUEST, rid))? {
            return Ok(Response::Replayed(Box::new(first)));
        }
    }
    let response = match cmd {
        Command::PutConfig { key, value } => {
            let k = keys::with(keys::CONFIG, key);
            if ov.raw(&k)?.is_none() {
                ov.bump(keys::CONFIG_COUNT)?;
            }
            ov.put_raw(k, value.clone());
            Response::ConfigStored {
                key: key.clone(),
                version: index,
            }
        }
        Command::AcceptBatch { messages, .. } => accept_batch(ov, index, messages)?,
        Command::RecordSubmit {
            part_id,
            carrier_msg_id,
            status,
            at_ms,
        } => record_submit(ov, part_id, carrier_msg_id, status, *at_ms)?,
        Command::RecordReport {
            carrier_msg_id,
            state,
            at_ms,
        } => {
            let part_id: Option<String> = ov.get(&keys::with(keys::CARRIER_ID, carrier_msg_id))?;
            match part_id {
                Some(pid) => {
                    set_report(ov, &pid, state, *at_ms)?;
                    Response::ReportRecorded { part_id: Some(pid) }
                }
                None => {
                    let pending = PendingReport {
                        state: state.clone(),
                        at_ms: *at_ms,
                    };
                    ov.put(keys::with(keys::PENDING_REPORT, carrier_msg_id), &pending)?;
                    Response::ReportRecorded { part_id: None }
                }
            }
        }
        Command::Batch(cmds) => {
            let mut out = Vec::with_capacity(cmds.len());
            for c in cmds {
                out.push(apply_command(ov, index, c)?);
            }
            Response::Batch(out)
        }
        Command::RecordOutcome {
            part_id,
            state,
            detail: _,
            at_ms,
        } => {
            let k = keys::with(keys::PART, part_id);
            match ov.get::<PartRecord>(&k)? {
                None => Response::Rejected {
                    reason: format!("unknown part id {part_id}"),
                },
                Some(r) if r.report_state.is_some() => Response::ReportRecorded { part_id: None },
                Some(_) => {
                    set_report(ov, part_id, state, *at_ms)?;
                    Response::ReportRecorded {
                        part_id: Some(part_id.clone()),
                    }
                }
            }
        }
        Command::RecordMo { message, .. } => {
            let seq = ov.bump(keys::MO_SEQ)?;
            ov.put(
                keys::mo(seq),
                &MoRecord {
                    seq,
                    message: message.clone(),
                },
            )?;
            Response::MoRecorded { seq }
        }
    };
    if let Some(rid) = cmd.request_id() {
        ov.put(keys::with(keys::REQUEST, rid), &response)?;
    }
    Ok(response)
}

fn accept_batch(ov: &mut Overlay<'_>, index: u64, messages: &[MtPart]) -> Result<Response, ApplyError> {
    let mut ids = Vec::with_capacity(messages.len());
    let mut already_known = Vec::new();
    for part in messages {
        let k = keys::with(keys::PART, &part.id);
        if ov.raw(&k)?.is_some() {
            already_known.push(part.id.clone());
            continue;
        }
        let record = PartRecord {
            part: part.clone(),
            accepted_index: index,
            carrier_msg_id: None,
            submit_status: None,
            submitted_at_ms: None,
            report_state: None,
            reported_at_ms: None,
        };
        ov.put(k, &record)?;
        ov.bump(keys::PART_COUNT)?;
        if let Some(mid) = part.id.strip_suffix(".0") {
            ov.put_raw(keys::with(keys::UNFINISHED, mid), Vec::new());
        }
        ids.push(part.id.clone());
    }
    Ok(Response::Accepted {
        ids,
        already_known,
        index,
    })
}

fn record_submit(
    ov: &mut Overlay<'_>,
    part_id: &str,
    carrier_msg_id: &str,
    status: &str,
    at_ms: u64,
) -> Result<Response, ApplyError> {
    let k = keys::with(keys::PART, part_id);
    let Some(mut record) = ov.get::<PartRecord>(&k)? else {
        return Ok(Response::Rejected {
            reason: format!("unknown part id {part_id}"),
        });
    };
    record.carrier_msg_id = Some(carrier_msg_id.to_string());
    record.submit_status = Some(status.to_string());
    record.submitted_at_ms = Some(at_ms);
    ov.put(k, &record)?;
    ov.put(keys::with(keys::CARRIER_ID, carrier_msg_id), &part_id.to_string())?;
    let pending_key = keys::with(keys::PENDING_REPORT, carrier_msg_id);
    let mut report_applied = None;
    if let Some(pending) = ov.get::<PendingReport>(&pending_key)? {
        ov.remove(pending_key);
        set_report(ov, part_id, &pending.state, pending.at_ms)?;
        report_applied = Some(pending.state);
    }
    Ok(Response::SubmitRecorded {
        part_id: part_id.to_string(),
        report_applied,
    })
}

fn set_report(ov: &mut Overlay<'_>, part_id: &str, state: &str, at_ms: u64) -> Result<(), ApplyError> {
    let k = keys::with(keys::PART, part_id);
    let Some(mut record) = ov.get::<PartRecord>(&k)? else {
        return Ok(());
    };
    record.report_state = Some(state.to_string());
    record.reported_at_ms = Some(at_ms);
    let parts = record.part.parts;
    ov.put(k, &record)?;
    let Some((mid, seq)) = part_id.rsplit_once('.') else {
        return Ok(());
    };
    if seq == "0" {
        ov.remove(keys::with(keys::UNFINISHED, mid));
        return Ok(());
    }
    close_if_complete(ov, mid, parts, at_ms)
}

/// Rank of a final state when deriving a message's from its parts: the
/// worst part decides.
fn severity(state: &str) -> u8 {
    match state {
        "DELIVRD" => 0,
        "ACCEPTED" => 1,
        "EXPIRED" => 3,
        "UNDELIV" => 4,
        "REJECTD" => 5,
        "FAILED" => 6,
        _ => 2,
    }
}

/// Gives head `mid.0` the message's final state once every part has one.
fn close_if_complete(ov: &mut Overlay<'_>, mid: &str, parts: u16, at_ms: u64) -> Result<(), ApplyError> {
    let head_key = keys::with(keys::PART, &format!("{mid}.0"));
    let Some(mut head) = ov.get::<PartRecord>(&head_key)? else {
        return Ok(());
    };
    if head.report_state.is_some() {
        return Ok(());
    }
    let mut worst: Option<String> = None;
    for seq in 1..=parts {
        let rec = ov.get::<PartRecord>(&keys::with(keys::PART, &format!("{mid}.{seq}")))?;
        match rec.and_then(|r| r.report_state) {
            None => return Ok(()),
            Some(s) => {
                let worse = match worst.as_deref() {
                    None => true,
                    Some(w) => severity(&s) > severity(w),
                };
                if worse {
                    worst = Some(s);
                }
            }
        }
    }
    head.report_state = worst;
    head.reported_at_ms = Some(at_ms);
    ov.put(head_key, &head)?;
    ov.remove(keys::with(keys::UNFINISHED, mid));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(rid: &str, ids: &[&str]) -> Command {
        Command::AcceptBatch {
            request_id: Some(rid.into()),
            messages: ids
                .iter()
                .map(|id| MtPart {
                    id: (*id).into(),
                    account: "a".into(),
                    to: "1".into(),
                    parts: 1,
                    payload: vec![7; 20],
                    accepted_at_ms: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn batch_applies_in_order_with_a_response_and_idempotency_per_command() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("sm").unwrap();
        let mut ov = Overlay::new(&tree);
        assert!(matches!(
            apply_command(&mut ov, 1, &accept("r0", &["p0"])).unwrap(),
            Response::Accepted { .. }
        ));
        let batch = Command::Batch(vec![
            accept("r1", &["p1", "p2"]),
            accept("r1", &["p1", "p2"]),
            accept("r0", &["p0"]),
            accept("r2", &["p2", "p3"]),
            Command::RecordSubmit {
                part_id: "p3".into(),
                carrier_msg_id: "c3".into(),
                status: "0".into(),
                at_ms: 5,
            },
        ]);
        let Response::Batch(rs) = apply_command(&mut ov, 2, &batch).unwrap() else {
            panic!("a batch answers with Response::Batch")
        };
        let first = Response::Accepted {
            ids: vec!["p1".into(), "p2".into()],
            already_known: vec![],
            index: 2,
        };
        assert_eq!(rs.len(), 5);
        assert_eq!(rs[0], first);
        // The same request id later in the same batch replays the first response.
        assert_eq!(rs[1], Response::Replayed(Box::new(first)));
        // A request id applied by an earlier entry replays too.
        assert!(
            matches!(&rs[2], Response::Replayed(r) if matches!(**r, Response::Accepted { index: 1, .. }))
        );
        // Later commands see the effects of earlier ones in the batch.
        assert_eq!(
            rs[3],
            Response::Accepted {
                ids: vec!["p3".into()],
                already_known: vec!["p2".into()],
                index: 2,
            }
        );
        assert_eq!(
            rs[4],
            Response::SubmitRecorded {
                part_id: "p3".into(),
                report_applied: None,
            }
        );
        assert_eq!(ov.get::<u64>(keys::PART_COUNT).unwrap(), Some(4));
        // Applying the same batch again (a retried proposal) changes nothing.
        let Response::Batch(again) = apply_command(&mut ov, 3, &batch).unwrap() else {
            panic!("a batch answers with Response::Batch")
        };
        assert!(matches!(again[0], Response::Replayed(_)));
        assert_eq!(ov.get::<u64>(keys::PART_COUNT).unwrap(), Some(4));
    }

    fn outcome(part: &str, state: &str) -> Command {
        Command::RecordOutcome {
            part_id: part.into(),
            state: state.into(),
            detail: String::new(),
            at_ms: 9,
        }
    }

    #[test]
    fn outcomes_close_the_message_with_its_worst_part() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("sm").unwrap();
        let mut ov = Overlay::new(&tree);
        let mut cmd = accept("r", &["7.0", "7.1", "7.2"]);
        if let Command::AcceptBatch { messages, .. } = &mut cmd {
            for m in messages.iter_mut() {
                m.parts = 2;
            }
        }
        apply_command(&mut ov, 1, &cmd).unwrap();
        assert!(ov.raw(&keys::with(keys::UNFINISHED, "7")).unwrap().is_some());
        apply_command(&mut ov, 2, &outcome("7.1", "DELIVRD")).unwrap();
        let head = |ov: &Overlay<'_>| {
            ov.get::<PartRecord>(&keys::with(keys::PART, "7.0"))
                .unwrap()
                .unwrap()
        };
        assert_eq!(head(&ov).report_state, None);
        apply_command(&mut ov, 3, &outcome("7.2", "UNDELIV")).unwrap();
        // The first outcome of a part stands.
        apply_command(&mut ov, 4, &outcome("7.2", "DELIVRD")).unwrap();
        assert_eq!(head(&ov).report_state.as_deref(), Some("UNDELIV"));
        assert!(ov.raw(&keys::with(keys::UNFINISHED, "7")).unwrap().is_none());
        assert!(matches!(
            apply_command(&mut ov, 5, &outcome("8.1", "DELIVRD")).unwrap(),
            Response::Rejected { .. }
        ));
    }
}
