//! The desk's timers on the leader (a case not accepted in time escalates;
//! a case open too long is flagged), each proposal naming the deadline it
//! saw so a stale one changes nothing; the time-to-accept histogram (the
//! leader observes accepts through the change log, so a leader change may
//! miss or repeat a few observations); and, on every node, the desk's
//! counters as metrics.

use smsgw_state::alarm::{keys::counter, AlarmCommand, CaseStatus};
use smsgw_state::Command;

use crate::api::state::{now_ms, AppState, Loaded};

/// Timers handled per step.
const BATCH: usize = 100;

pub(super) async fn step(state: &AppState, loaded: &Loaded) -> Result<(), String> {
    let view = smsgw_state::local_view(&state.cluster).alarm();
    let now = now_ms();
    let policy = super::policy(&loaded.doc.alarm);
    let mut cmds = Vec::new();
    for (case, deadline_ms) in view.due_escalations(0, now, BATCH).map_err(|e| e.to_string())? {
        tracing::info!(%case, "alarm desk: not accepted in time, escalating");
        metrics::counter!("smsgw_alarm_escalations_total").increment(1);
        cmds.push(AlarmCommand::Escalate {
            case,
            deadline_ms,
            policy,
        });
    }
    for (case, deadline_ms) in view.due_overdues(0, now, BATCH).map_err(|e| e.to_string())? {
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
        for (seq, id) in changes {
            self.after = Some(seq);
            let Ok(Some(c)) = view.case(&id) else { continue };
            let just_accepted =
                c.status == CaseStatus::Accepted && c.timeline.last().is_some_and(|s| s.step == "accepted");
            if let (true, Some(at)) = (just_accepted, c.accepted_ms) {
                let secs = at.saturating_sub(c.created_ms) as f64 / 1000.0;
                metrics::histogram!("smsgw_alarm_accept_seconds", "line" => c.line.clone()).record(secs);
            }
        }
    }
}

/// The desk's replicated counters as metrics (on every node: they read
/// the same on each).
pub(super) fn export_metrics(state: &AppState) {
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
    if let Ok(due) = view.due_escalations(0, now, 1000) {
        metrics::gauge!("smsgw_alarm_unaccepted_overdue").set(due.len() as f64);
    }
    if let Ok(unknown) = view.counter(counter::UNKNOWN) {
        metrics::counter!("smsgw_alarm_unknown_senders_total").absolute(unknown);
    }
}
