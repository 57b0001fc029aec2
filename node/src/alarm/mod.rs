//! The 110 alarm desk's moving parts on the node: the leader's intake
//! (new MOs → cases and officers' commands), its outbox drain (the SMS the
//! desk owes → alarm-priority messages), its timers (escalation, open too
//! long) and, on every node, the desk's metrics. Cases, roster and rules
//! live in `smsgw_state::alarm`; this module decides nothing that apply
//! decides, and never acts off the leader: every change is a proposal that
//! carries the cursor, deadline or outbox row it read, so a repeated or
//! overtaken one changes nothing.

mod intake;
mod outbox;
mod timers;

use std::time::Duration;

use smsgw_config::AlarmDesk;
use smsgw_state::alarm::Policy;

use crate::api::state::AppState;

/// How often the leader looks for new MOs and owed SMS: an alarm's
/// forward leaves within about this much of its MO's commit.
const TICK: Duration = Duration::from_millis(100);
/// Timers and metrics are looked at once a second.
const SLOW_TICKS: u32 = 10;

/// The desk's timing and limits, as commands carry them.
pub fn policy(desk: &AlarmDesk) -> Policy {
    Policy {
        ack_timeout_ms: desk.ack_timeout_secs * 1000,
        open_limit_ms: desk.open_limit_secs * 1000,
        join_window_ms: desk.join_window_secs * 1000,
        flood_per_minute: desk.flood_per_minute,
    }
}

/// Runs until the task is dropped.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // The first pass exports the metrics at once.
        let mut tick = SLOW_TICKS - 1;
        let mut accepts = timers::AcceptWatch::default();
        let mut cursors = timers::Cursors::default();
        let mut metrics_cursor = timers::TimerCursor::default();
        let mut leading = false;
        let mut busy = false;
        loop {
            // A full batch means more is waiting: go on at once.
            if !busy {
                tokio::time::sleep(TICK).await;
            }
            busy = false;
            tick = tick.wrapping_add(1);
            let slow = tick.is_multiple_of(SLOW_TICKS);
            if slow {
                timers::export_metrics(&state, &mut metrics_cursor);
            }
            let Ok(loaded) = state.config() else { continue };
            if !loaded.doc.alarm.enabled() || !state.cluster.leads_with_lease() {
                leading = false;
                continue;
            }
            if !leading {
                // Another leader moved the timers on meanwhile.
                cursors.reset();
                leading = true;
            }
            let step = async {
                let mos_left = intake::step(&state, &loaded).await?;
                let rows_left = outbox::step(&state, &loaded).await?;
                if slow {
                    timers::step(&state, &loaded, &mut cursors).await?;
                    accepts.observe(&state);
                }
                Ok::<bool, String>(mos_left || rows_left)
            };
            match step.await {
                Ok(more) => busy = more,
                Err(e) => tracing::warn!(error = %e, "alarm desk: a step failed; retrying"),
            }
        }
    })
}

async fn propose(state: &AppState, cmd: smsgw_state::Command) -> Result<smsgw_state::Response, String> {
    smsgw_state::propose(&state.cluster, &cmd)
        .await
        .map_err(|e| e.to_string())
}
