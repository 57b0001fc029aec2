//! The desk's timers on the leader (a case not accepted in time escalates;
//! a case open too long is flagged), each proposal naming the deadline it
//! saw so a stale one changes nothing; the time-to-accept histogram (the
//! leader observes accepts through the change log, so a leader change may
//! miss or repeat a few observations); and, on every node, the desk's
//! counters as metrics.
//!
//! The timer indexes (`A/e/DEADLINE ID`, `A/l/DEADLINE ID`) are read only
//! from a cursor up to now, never from their start: their rows are deleted
//! as cases are accepted and closed, and sled walks the emptied leaves a
//! read from the start crosses, so over months each tick would cost more.
//! The cursor ([`TimerCursor`]) trails the earliest timer still due, or
//! now, by [`SLACK_MS`] (a timer filed with a deadline behind it, by a
//! node whose clock is that far behind, is still read), and a full read
//! from the start runs once per [`FULL_READ_EVERY`] reads (and on the
//! first read of a node or leadership) to catch anything older.

use smsgw_state::alarm::{keys::counter, AlarmCommand, Case, CaseStatus};
use smsgw_state::Command;

use crate::api::state::{now_ms, AppState, Loaded};

/// Timers handled per step.
const BATCH: usize = 100;
/// How far the cursor trails the earliest due timer (or now).
pub(super) const SLACK_MS: u64 = 5 * 60 * 1000;
/// One read in this many starts from the index's start.
pub(super) const FULL_READ_EVERY: u32 = 3600;

/// Where one timer index is read from next.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct TimerCursor {
    from: Option<u64>,
    reads: u32,
}

impl TimerCursor {
    /// Where the next read starts: the cursor, or 0 for a full read.
    pub(super) fn start(&mut self) -> u64 {
        self.reads = self.reads.wrapping_add(1);
        match self.from {
            Some(f) if !self.reads.is_multiple_of(FULL_READ_EVERY) => f,
            _ => 0,
        }
    }

    /// A read up to `now` found `due` (in deadline order): the next one
    /// starts [`SLACK_MS`] before the earliest still due, or before now.
    pub(super) fn advance(&mut self, now: u64, due: &[(String, u64)]) {
        let earliest = due.first().map_or(now, |(_, d)| (*d).min(now));
        self.from = Some(earliest.saturating_sub(SLACK_MS));
    }

    /// Starts over with a full read (a new leadership: another node's
    /// cursor moved the timers on meanwhile).
    pub(super) fn reset(&mut self) {
        self.from = None;
    }
}

/// The cursors of the escalation and open-too-long indexes.
#[derive(Debug, Default)]
pub(super) struct Cursors {
    pub(super) escalations: TimerCursor,
    pub(super) overdues: TimerCursor,
}

impl Cursors {
    pub(super) fn reset(&mut self) {
        self.escalations.reset();
        self.overdues.reset();
    }
}

pub(super) async fn step(state: &AppState, loaded: &Loaded, cursors: &mut Cursors) -> Result<(), String> {
    let view = smsgw_state::local_view(&state.cluster).alarm();
    let now = now_ms();
    let policy = super::policy(&loaded.doc.alarm);
    let mut cmds = Vec::new();
    let from = cursors.escalations.start();
    let escalations = view
        .due_escalations(from, now, BATCH)
        .map_err(|e| e.to_string())?;
    cursors.escalations.advance(now, &escalations);
    let from = cursors.overdues.start();
    let overdues = view.due_overdues(from, now, BATCH).map_err(|e| e.to_string())?;
    cursors.overdues.advance(now, &overdues);
    for (case, deadline_ms) in escalations {
        tracing::info!(%case, "alarm desk: not accepted in time, escalating");
        metrics::counter!("smsgw_alarm_escalations_total").increment(1);
        cmds.push(AlarmCommand::Escalate {
            case,
            deadline_ms,
            policy,
        });
    }
    for (case, deadline_ms) in overdues {
        cmds.push(AlarmCommand::Overdue { case, deadline_ms });
    }
    if cmds.is_empty() {
        return Ok(());
    }
    let batch = cmds
        .into_iter()
        .map(|change| Command::Alarm { at_ms: now, change })
        .collect();
    super::propose(state, Command::Batch(batch)).await.map(|_| ())
}

/// Follows the change log on the leader to observe time to accept.
#[derive(Default)]
pub(super) struct AcceptWatch {
    after: Option<u64>,
}

impl AcceptWatch {
    pub(super) fn observe(&mut self, state: &AppState) {
        let view = smsgw_state::local_view(&state.cluster).alarm();
        let Ok(last) = view.counter(counter::CHANGE_SEQ) else {
            return;
        };
        let after = *self.after.get_or_insert(last);
        let Ok(changes) = view.changes(after, 1000) else {
            return;
        };
        let samples = self.follow(changes, |id| {
            view.case(id).map(|c| c.as_ref().and_then(accept_sample))
        });
        for (line, secs) in samples {
            metrics::histogram!("smsgw_alarm_accept_seconds", "line" => line).record(secs);
        }
    }

    /// The samples of `changes`, read in order; the cursor moves past each
    /// change read and stops before the first whose case cannot be read,
    /// so the next round reads it again instead of losing its sample.
    fn follow<E>(
        &mut self,
        changes: Vec<(u64, String)>,
        mut read: impl FnMut(&str) -> Result<Option<(String, f64)>, E>,
    ) -> Vec<(String, f64)> {
        let mut samples = Vec::new();
        for (seq, id) in changes {
            let Ok(sample) = read(&id) else { break };
            self.after = Some(seq);
            samples.extend(sample);
        }
        samples
    }
}

/// The line and seconds to accept of a case whose last step was its
/// acceptance.
fn accept_sample(c: &Case) -> Option<(String, f64)> {
    let just_accepted =
        c.status == CaseStatus::Accepted && c.timeline.last().is_some_and(|s| s.step == "accepted");
    let at = c.accepted_ms.filter(|_| just_accepted)?;
    Some((c.line.clone(), at.saturating_sub(c.created_ms) as f64 / 1000.0))
}

/// The desk's replicated counters as metrics (on every node: they read
/// the same on each).
pub(super) fn export_metrics(state: &AppState, cursor: &mut TimerCursor) {
    let view = smsgw_state::local_view(&state.cluster).alarm();
    let Ok(lines) = view.lines() else { return };
    let now = now_ms();
    for line in lines {
        for status in CaseStatus::ALL {
            if let Ok(n) = view.counter(&counter::reached(&line, status.name())) {
                metrics::counter!("smsgw_alarm_cases_total", "line" => line.clone(), "status" => status.name())
                    .absolute(n);
            }
        }
        if let Ok(n) = view.counter(&counter::open(&line)) {
            metrics::gauge!("smsgw_alarm_open_cases", "line" => line.clone()).set(n as f64);
        }
    }
    // Cases past their accept deadline right now: what the alert watches.
    let from = cursor.start();
    if let Ok(due) = view.due_escalations(from, now, 1000) {
        cursor.advance(now, &due);
        metrics::gauge!("smsgw_alarm_unaccepted_overdue").set(due.len() as f64);
    }
    if let Ok(unknown) = view.counter(counter::UNKNOWN) {
        metrics::counter!("smsgw_alarm_unknown_senders_total").absolute(unknown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_start_from_the_cursor_behind_the_earliest_due_and_sometimes_from_the_start() {
        let mut c = TimerCursor::default();
        assert_eq!(c.start(), 0, "the first read of a node or leadership is full");
        let now = 10 * SLACK_MS;
        c.advance(now, &[]);
        assert_eq!(c.start(), now - SLACK_MS, "nothing due: just behind now");
        // A timer still due (its proposal not applied yet) holds the cursor.
        c.advance(now + 1_000, &[("A1".into(), now - 2_000), ("A2".into(), now)]);
        assert_eq!(c.start(), now - 2_000 - SLACK_MS);
        // The reads go on from the cursor; one in FULL_READ_EVERY is full.
        let mut full = 0;
        for _ in 0..(2 * FULL_READ_EVERY) {
            if c.start() == 0 {
                full += 1;
            }
        }
        assert_eq!(full, 2);
        c.reset();
        assert_eq!(c.start(), 0, "a new leadership reads everything once");
        // Early times never wrap below zero.
        c.advance(5, &[]);
        assert_eq!(c.start(), 0);
    }

    #[test]
    fn a_case_that_cannot_be_read_is_read_again_next_round_and_its_sample_kept() {
        let mut w = AcceptWatch { after: Some(0) };
        let changes = || {
            vec![
                (1, "A1".to_string()),
                (2, "A2".to_string()),
                (3, "A3".to_string()),
            ]
        };
        let sample = |id: &str| Some((id.to_string(), 1.5));
        let got = w.follow(changes(), |id| {
            if id == "A2" {
                Err("io error")
            } else {
                Ok(sample(id))
            }
        });
        assert_eq!(got, vec![("A1".to_string(), 1.5)]);
        assert_eq!(w.after, Some(1), "the cursor stays before the failed read");
        let got = w.follow(changes().split_off(1), |id| Ok::<_, ()>(sample(id)));
        assert_eq!(got.len(), 2, "A2's sample is taken on the next round");
        assert_eq!(w.after, Some(3));
        let got = w.follow(vec![(4, "gone".to_string())], |_| Ok::<_, ()>(None));
        assert!(got.is_empty());
        assert_eq!(
            w.after,
            Some(4),
            "a change without a sample still moves the cursor"
        );
    }
}
