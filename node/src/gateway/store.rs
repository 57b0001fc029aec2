//! `RaftStore`: the actors' [`Store`] over the raft [`Cluster`]. Facts from
//! the reconciler become raft commands, proposed as ONE `Command::Batch`
//! per `propose_batch`; what is still to be sent is rebuilt from the
//! message heads (`M.0` envelopes) of the replicated state.
//!
//! Sending from the envelope: the actors split the text themselves with the
//! same rules the API used to count the parts (`api::submit::split_for` and
//! `actors::model::split_message` agree on encoding, segment sizes and the
//! concatenation reference `id & 0xff`), so part `M.k` the actors submit is
//! part `M.k` the API stored. Stored parts `M.1..n` are for status only.
//!
//! Feeding: the replicated state keeps a ready queue per (route, priority)
//! in acceptance order (`smsgw_state::keys`). A leader reads each queue
//! through a cursor, only as far as the dispatcher has room for
//! ([`FEED_TARGET`] messages per queue), so the cost of finding work never
//! grows with the backlog, an alarm accepted last is read at once, and the
//! dispatcher's memory stays bounded. The cursors live for one leadership:
//! one leader never queues a message twice.
//!
//! This store never calls back into the actors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use smsgw_actors::model::{KnownPart, MessageId, OutboundMessage, PartId, Priority};
use smsgw_actors::store::{Event, MessageState, PartOutcome, Store, StoreError};
use smsgw_config::{normalize_number, Priority as CfgPriority};
use smsgw_protocols::report::ReportState;
use smsgw_raft::{Cluster, ProposeError};
use smsgw_state::{keys, Command, Query, StateView};

use crate::api::now_ms;
use crate::api::submit::Envelope;

/// How many messages of one ready queue (route, priority) the dispatcher
/// may hold before the feeder stops reading that queue.
pub const FEED_TARGET: usize = 4096;

/// Where this leadership's feeding stands.
#[derive(Default)]
struct Feed {
    /// Last sequence handed to the dispatcher, per (route, priority).
    cursors: HashMap<(String, u8), u64>,
    /// Messages accepted up to this sequence were there when leadership
    /// was gained: they are resumed (known parts checked), the later ones
    /// are new.
    resume_upto: u64,
}

/// What one feeding step found.
#[derive(Default)]
pub struct Fed {
    /// Accepted before this leadership: taken over.
    pub resumed: Vec<OutboundMessage>,
    /// Accepted during it.
    pub fresh: Vec<OutboundMessage>,
}

/// The actors' store over raft.
#[derive(Clone)]
pub struct RaftStore {
    cluster: Cluster,
    /// Carrier name → SP number (source prefix), from the document in force.
    sp_numbers: Arc<RwLock<HashMap<String, String>>>,
    /// This leadership's cursors over the ready queues.
    feed: Arc<Mutex<Feed>>,
}

fn message_word(s: MessageState) -> &'static str {
    match s {
        MessageState::Delivered => "DELIVRD",
        MessageState::Sent => "ACCEPTED",
        MessageState::Undeliverable => "UNDELIV",
        MessageState::Rejected => "REJECTD",
        MessageState::Expired => "EXPIRED",
        MessageState::Failed => "FAILED",
    }
}

/// The raft command for one event (`None`: nothing to replicate).
pub fn command_for(e: Event, at_ms: u64) -> Option<Command> {
    Some(match e {
        Event::CarrierId {
            part,
            carrier,
            carrier_msg_id,
        } => Command::RecordSubmit {
            part_id: part.to_string(),
            carrier,
            carrier_msg_id,
            status: "0".into(),
            at_ms,
        },
        Event::PartDone { part, outcome } => {
            let (state, detail) = match outcome {
                PartOutcome::Reported { state, stat } => (state.stat(), stat),
                PartOutcome::Accepted => ("ACCEPTED", String::new()),
                PartOutcome::SubmitFailed(why) => ("FAILED", why),
                PartOutcome::Expired => ("EXPIRED", "no report by the validity deadline".into()),
            };
            Command::RecordOutcome {
                part_id: part.to_string(),
                state: state.into(),
                detail,
                at_ms,
            }
        }
        Event::MessageDone { message, state } => Command::RecordOutcome {
            part_id: format!("{message}.0"),
            state: message_word(state).into(),
            detail: String::new(),
            at_ms,
        },
        // A long MO is recorded under every segment's id: a segment the
        // carrier delivers again alone is then a repeat too.
        Event::MoReceived(mo) if mo.segments.len() > 1 => Command::RecordMoSegments {
            request_ids: mo
                .segments
                .iter()
                .map(|k| smsgw_state::mo_keys::request_id(&mo.carrier, k))
                .collect(),
            message: smsgw_state::MoMessage {
                carrier: mo.carrier,
                from: mo.source,
                to: mo.destination,
                payload: mo.text.into_bytes(),
                received_at_ms: at_ms,
            },
        },
        Event::MoReceived(mo) => Command::RecordMo {
            // Recorded once per (carrier, carrier's id): a re-delivery is
            // answered "already recorded" (`smsgw_state::mo_keys`).
            request_id: mo
                .key
                .as_deref()
                .map(|k| smsgw_state::mo_keys::request_id(&mo.carrier, k)),
            message: smsgw_state::MoMessage {
                carrier: mo.carrier,
                from: mo.source,
                to: mo.destination,
                payload: mo.text.into_bytes(),
                received_at_ms: at_ms,
            },
        },
        // Parked by apply until the carrier id commits (a leader cut off
        // by a partition forwards its RecordSubmit late), or applied at once
        // if it committed meanwhile; dropped by the retention purge if it
        // never does (`smsgw_state` `parked`). Before, it was only logged,
        // its ack fired, and the message stayed SUBMITTED.
        Event::UnmatchedReport {
            carrier,
            carrier_msg_id,
            state,
        } => {
            tracing::info!(
                carrier,
                carrier_msg_id,
                "unmatched report: kept for its submit result"
            );
            Command::RecordReport {
                carrier,
                carrier_msg_id,
                state: state.stat().into(),
                at_ms,
            }
        }
    })
}

/// The part outcome a recorded state word stands for (the inverse of
/// [`command_for`]'s words); `None` for a word that is not final.
pub fn outcome_for(word: &str) -> Option<PartOutcome> {
    let reported = |state: ReportState| PartOutcome::Reported {
        state,
        stat: word.to_string(),
    };
    Some(match word {
        "DELIVRD" => reported(ReportState::Delivered),
        "EXPIRED" => reported(ReportState::Expired),
        "UNDELIV" => reported(ReportState::Undeliverable),
        "REJECTD" => reported(ReportState::Rejected),
        "UNKNOWN" => reported(ReportState::Unknown),
        "DELETED" => reported(ReportState::Deleted),
        "ACCEPTED" => PartOutcome::Accepted,
        "FAILED" => PartOutcome::SubmitFailed("recorded as failed".into()),
        _ => return None,
    })
}

/// What is committed for parts `M.1..=M.parts`: carrier ids (under the
/// envelope's carrier, `route`: raft records no carrier per submit, and a
/// report that came through another carrier is matched by the reconciler's
/// store look-up) and outcomes. A read that fails is an error, not "not
/// known": a part taken for unsent would be sent twice.
fn known_parts(
    rows: &smsgw_state::MessageParts<'_>,
    parts: u16,
    route: &str,
) -> Result<Vec<KnownPart>, smsgw_raft::ApplyError> {
    let mut out = Vec::new();
    for seq in 1..=parts.min(u16::from(u8::MAX)) {
        let Some(rec) = rows.get(seq)? else {
            continue;
        };
        let outcome = rec.report_state.as_deref().and_then(outcome_for);
        let submitted = rec.carrier_msg_id.map(|id| (route.to_string(), id));
        if outcome.is_some() || submitted.is_some() {
            out.push(KnownPart {
                seq: seq as u8,
                submitted,
                outcome,
            });
        }
    }
    Ok(out)
}

/// One ready queue read in order, up to the first read that failed.
struct InOrder<T, E> {
    /// What is to be sent, with its sequence.
    found: Vec<(u64, T)>,
    /// The last sequence read, finished messages included: the queue's
    /// cursor moves there, and never past a failed read.
    upto: Option<u64>,
    /// The failure that stopped the read (sled after an I/O error, the store
    /// being reopened): the next step reads that message again, so none is
    /// skipped.
    failed: Option<E>,
}

fn read_in_order<T, E>(
    entries: Vec<smsgw_state::ReadyEntry>,
    mut read: impl FnMut(&str) -> Result<Option<T>, E>,
) -> InOrder<T, E> {
    let mut out = InOrder {
        found: Vec::new(),
        upto: None,
        failed: None,
    };
    for e in entries {
        match read(&e.message) {
            Ok(m) => {
                out.upto = Some(e.seq);
                out.found.extend(m.map(|m| (e.seq, m)));
            }
            Err(err) => {
                out.failed = Some(err);
                break;
            }
        }
    }
    out
}

fn priority(p: CfgPriority) -> Priority {
    match p {
        CfgPriority::Alarm => Priority::Alarm,
        CfgPriority::High => Priority::High,
        CfgPriority::Normal => Priority::Normal,
        CfgPriority::Bulk => Priority::Bulk,
    }
}

impl RaftStore {
    pub fn new(cluster: Cluster) -> Self {
        Self {
            cluster,
            sp_numbers: Arc::default(),
            feed: Arc::default(),
        }
    }

    /// Updates the SP numbers (source prefixes) by carrier.
    pub fn set_sp_numbers(&self, m: HashMap<String, String>) {
        *self.sp_numbers.write().unwrap_or_else(|p| p.into_inner()) = m;
    }

    /// The message to send for head `mid` of `view`; `Ok(None)` if there is
    /// none to send (finished, gone, or not a message), `Err` if the state
    /// could not be read (the caller must come back to it).
    fn outbound(
        &self,
        view: &StateView,
        mid: &str,
    ) -> Result<Option<OutboundMessage>, smsgw_raft::ApplyError> {
        let Ok(id) = mid.parse::<MessageId>() else {
            return Ok(None);
        };
        let Some((head, rows)) = view.message(mid)? else {
            return Ok(None);
        };
        if head.report_state.is_some() {
            return Ok(None);
        }
        let env: Envelope = match serde_json::from_slice(&head.part.payload) {
            Ok(e) => e,
            Err(e) => {
                smsgw_actors::error_limited!("bad-envelope", message = mid, "bad envelope: {e}");
                return Ok(None);
            }
        };
        let sp = self
            .sp_numbers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&env.route)
            .cloned()
            .unwrap_or_default();
        let left = Duration::from_millis(env.valid_until_ms.saturating_sub(now_ms()));
        let known = known_parts(&rows, env.parts, &env.route)?;
        Ok(Some(OutboundMessage {
            id,
            account: head.part.account,
            priority: priority(env.priority),
            source: format!("{sp}{}", env.sender.unwrap_or_default()),
            destination: normalize_number(&env.to),
            text: env.text,
            report: env.report,
            valid_until: Instant::now() + left,
            accepted: Instant::now()
                .checked_sub(Duration::from_millis(
                    now_ms().saturating_sub(head.part.accepted_at_ms),
                ))
                .unwrap_or_else(Instant::now),
            known,
        }))
    }

    /// The next messages of every ready queue that the dispatcher has room
    /// for (`held`: what it holds now, by route and priority class), in
    /// acceptance order; advances this leadership's cursors past them, and
    /// never past a message whose read failed.
    pub fn take_new(&self, held: &HashMap<String, [usize; 4]>) -> Result<Fed, StoreError> {
        let unavailable = |e: smsgw_raft::ApplyError| StoreError::Unavailable(e.to_string());
        let view = smsgw_state::local_view(&self.cluster);
        let mut feed = self.feed.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Fed::default();
        for route in view.ready_routes().map_err(unavailable)? {
            for class in 0..4u8 {
                let holds = held.get(&route).map_or(0, |h| h[class as usize]);
                if holds >= FEED_TARGET / 2 {
                    continue;
                }
                let cursor = (route.clone(), class);
                let after = feed.cursors.get(&cursor).copied();
                // A point read first: a range read of a queue with nothing
                // new would walk the emptied head of the queue (sled keeps
                // emptied nodes).
                if view.ready_last(&route, class).map_err(unavailable)? <= after.unwrap_or(0) {
                    continue;
                }
                let entries = view
                    .ready(&route, class, after, FEED_TARGET - holds)
                    .map_err(unavailable)?;
                let read = read_in_order(entries, |mid| self.outbound(&view, mid));
                if let Some(seq) = read.upto {
                    feed.cursors.insert(cursor, seq);
                }
                for (seq, m) in read.found {
                    if seq <= feed.resume_upto {
                        out.resumed.push(m);
                    } else {
                        out.fresh.push(m);
                    }
                }
                if let Some(err) = read.failed {
                    // What was read before the failure is handed out (its
                    // cursor moved); the rest waits for the next step, which
                    // starts at the failed read and, failing with nothing
                    // read, reports it to the caller.
                    if out.resumed.is_empty() && out.fresh.is_empty() {
                        return Err(unavailable(err));
                    }
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// Forgets this leadership's cursors (leadership lost: the dispatcher's
    /// queues are no longer this node's to send).
    pub fn forget_queued(&self) {
        *self.feed.lock().unwrap_or_else(|p| p.into_inner()) = Feed::default();
    }
}

fn map_err(e: ProposeError) -> StoreError {
    match e {
        // Raft stopped on this node: the batch can never commit from here.
        ProposeError::Fatal { .. } => StoreError::NotLeader,
        // A storage failure included: the node rebuilds raft once the disk
        // has room, so the facts are retried, not dropped.
        other => StoreError::Unavailable(other.to_string()),
    }
}

impl Store for RaftStore {
    /// Followers forward to the leader, so a deposed leader's facts (carrier
    /// ids of its last submits) still reach the log; only a stopped raft
    /// answers `NotLeader`, everything else is `Unavailable` (retry).
    fn propose_batch(&self, events: Vec<Event>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let at = now_ms();
            let cmds: Vec<Command> = events.into_iter().filter_map(|e| command_for(e, at)).collect();
            if cmds.is_empty() {
                return Ok(());
            }
            smsgw_state::propose(&self.cluster, &Command::Batch(cmds))
                .await
                .map(|_| ())
                .map_err(map_err)
        })
    }

    /// One `Command::Batch` like `propose_batch`; per MO, whether apply
    /// recorded it now or answered it as a repeat of a recorded key.
    fn record_mos(&self, events: Vec<Event>) -> BoxFuture<'_, Result<Vec<bool>, StoreError>> {
        Box::pin(async move {
            let at = now_ms();
            let n = events.len();
            let cmds: Vec<Command> = events.into_iter().filter_map(|e| command_for(e, at)).collect();
            if cmds.len() != n {
                return Err(StoreError::Unavailable("only MOs are recorded this way".into()));
            }
            if cmds.is_empty() {
                return Ok(Vec::new());
            }
            let answer = smsgw_state::propose(&self.cluster, &Command::Batch(cmds))
                .await
                .map_err(map_err)?;
            Ok(match answer {
                smsgw_state::Response::Batch(rs) => rs
                    .iter()
                    .map(|r| !matches!(r, smsgw_state::Response::Replayed(_)))
                    .collect(),
                _ => vec![true; n],
            })
        })
    }

    /// The first unfinished messages of every ready queue, for a new
    /// leader, with the carrier ids and outcomes committed for their parts;
    /// the feeder goes on from there (`take_new`), so taking over costs the
    /// same with ten or a million messages waiting. A linearizable read
    /// first makes the local state hold every committed fact (a carrier id
    /// applied late would be resent).
    fn pending_messages(&self) -> BoxFuture<'_, Result<Vec<OutboundMessage>, StoreError>> {
        Box::pin(async move {
            let q = Query::GetConfig {
                key: smsgw_config::CLUSTER_DOC_KEY.to_string(),
            };
            smsgw_state::read_linearizable(&self.cluster, &q)
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let upto = smsgw_state::local_view(&self.cluster)
                .counter(keys::counter::READY_SEQ)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            *self.feed.lock().unwrap_or_else(|p| p.into_inner()) = Feed {
                cursors: HashMap::new(),
                resume_upto: upto,
            };
            let fed = self.take_new(&HashMap::new())?;
            let mut all = fed.resumed;
            all.extend(fed.fresh);
            Ok(all)
        })
    }

    /// Read from this node's applied state: the inbound actor runs on the
    /// leader, which has applied every MO it recorded.
    fn mo_recorded<'a>(
        &'a self,
        carrier: &'a str,
        carrier_msg_id: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            smsgw_state::local_view(&self.cluster)
                .mo_by_key(carrier, carrier_msg_id)
                .map(|seq| seq.is_some())
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        })
    }

    fn find_part<'a>(
        &'a self,
        carrier: &'a str,
        carrier_msg_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PartId>, StoreError>> {
        Box::pin(async move {
            let view = smsgw_state::local_view(&self.cluster);
            let rec = view
                .part_by_carrier_id(carrier, carrier_msg_id)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            Ok(rec.and_then(|r| {
                let (m, s) = r.part.id.rsplit_once('.')?;
                Some(PartId {
                    message: m.parse().ok()?,
                    seq: s.parse().ok()?,
                })
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(n: u64) -> Vec<smsgw_state::ReadyEntry> {
        (1..=n)
            .map(|seq| smsgw_state::ReadyEntry {
                seq,
                message: format!("m{seq}"),
            })
            .collect()
    }

    #[test]
    fn a_queue_read_stops_at_a_failed_read_and_its_cursor_stays_before_it() {
        let read = read_in_order(queue(5), |mid| {
            if mid == "m3" {
                Err("io error")
            } else {
                Ok(Some(mid.to_string()))
            }
        });
        assert_eq!(read.found, vec![(1, "m1".to_string()), (2, "m2".to_string())]);
        assert_eq!(read.upto, Some(2));
        assert_eq!(read.failed, Some("io error"));
        let first = read_in_order(queue(2), |_| Err::<Option<String>, _>("io error"));
        assert_eq!((first.found.len(), first.upto), (0, None));
    }

    #[test]
    fn finished_messages_move_the_cursor_without_being_sent() {
        let read = read_in_order(queue(4), |mid| {
            Ok::<_, ()>((mid != "m2" && mid != "m4").then(|| mid.to_string()))
        });
        assert_eq!(read.found, vec![(1, "m1".to_string()), (3, "m3".to_string())]);
        assert_eq!(read.upto, Some(4));
        assert!(read.failed.is_none());
    }
}
