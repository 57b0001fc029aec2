//! The leader's retention worker: every `[retention] purge_every_secs` it
//! proposes `Command::Purge` with cut-offs from its own clock (records
//! window, client_ref window), repeating while apply says more remains, a
//! bounded number of rows per command so that no entry grows with the
//! backlog of expired records. What is deleted, and how cheaply, is
//! `smsgw_state::retention`'s. It must never act off the leader, and never
//! delete anything itself: every deletion is a replicated command, so all
//! nodes drop the same rows.

use std::time::{Duration, Instant};

use smsgw_state::retention::PurgeReport;
use smsgw_state::staging::{StageCommand, StageResponse};
use smsgw_state::{Command, Response};

use crate::api::state::{now_ms, AppState};

/// How often the worker looks whether a purge is due.
const TICK: Duration = Duration::from_millis(100);
/// Index rows one purge command reads at most.
const ROWS_PER_PURGE: u32 = 1_000;
/// Purge commands in one round at most (the rest waits for the next).
const COMMANDS_PER_ROUND: usize = 100;

/// Runs until the task is dropped.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last: Option<Instant> = None;
        loop {
            tokio::time::sleep(TICK).await;
            if !state.cluster.leads_with_lease() {
                continue;
            }
            let Ok(loaded) = state.config() else { continue };
            let r = &loaded.doc.retention;
            let every = Duration::from_millis(r.purge_every_ms());
            if last.is_some_and(|l| l.elapsed() < every) {
                continue;
            }
            last = Some(Instant::now());
            let now = now_ms();
            let cmd = Command::Purge {
                before_ms: now.saturating_sub(r.records_window_ms()),
                keys_before_ms: now.saturating_sub(r.client_ref_window_ms()),
                limit: ROWS_PER_PURGE,
            };
            if let Err(e) = round(&state, &cmd).await {
                tracing::warn!(error = %e, "retention: a purge failed; retrying next round");
            }
            if let Err(e) = stages(&state, now).await {
                tracing::warn!(error = %e, "retention: purging abandoned stages failed; retrying next round");
            }
        }
    })
}

async fn round(state: &AppState, cmd: &Command) -> Result<(), String> {
    for _ in 0..COMMANDS_PER_ROUND {
        let started = Instant::now();
        let answer = smsgw_state::propose(&state.cluster, cmd)
            .await
            .map_err(|e| e.to_string())?;
        metrics::histogram!("smsgw_retention_purge_seconds").record(started.elapsed().as_secs_f64());
        let Response::Purged(report) = answer else {
            return Err(format!("unexpected answer to a purge: {answer:?}"));
        };
        count(&report);
        if !report.more {
            break;
        }
    }
    Ok(())
}

/// Drops staged accepts whose commit never came (see
/// `smsgw_state::staging`), older than `STAGE_TTL_MS`.
async fn stages(state: &AppState, now: u64) -> Result<(), String> {
    let cmd = Command::Stage(StageCommand::Purge {
        before_ms: now.saturating_sub(smsgw_state::staging::STAGE_TTL_MS),
        limit: ROWS_PER_PURGE,
    });
    for _ in 0..COMMANDS_PER_ROUND {
        let answer = smsgw_state::propose(&state.cluster, &cmd)
            .await
            .map_err(|e| e.to_string())?;
        let Response::Staged(StageResponse::Purged { stages, more }) = answer else {
            return Err(format!("unexpected answer to a stage purge: {answer:?}"));
        };
        if stages > 0 {
            metrics::counter!("smsgw_retention_purged_total", "kind" => "stages").increment(stages);
        }
        if !more {
            break;
        }
    }
    Ok(())
}

fn count(r: &PurgeReport) {
    for (kind, n) in [
        ("messages", r.messages),
        ("parts", r.parts),
        ("mos", r.mos),
        ("client_refs", r.requests),
        ("parked_reports", r.parked_reports),
    ] {
        if n > 0 {
            metrics::counter!("smsgw_retention_purged_total", "kind" => kind).increment(n);
        }
    }
}
