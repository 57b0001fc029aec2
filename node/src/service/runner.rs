//! The leader's job runner: it reads the jobs whose time has come (the
//! timer table, up to now) and proposes their next chunk as accepted
//! messages, built exactly as `POST /v1/messages` builds them. Apply takes
//! a chunk only once, so a runner that lost its lease mid-proposal, or two
//! runners in a switchover, never send anything twice; a job due while the
//! cluster was down fires on the first leader after it, and the job says
//! how late. It holds a job back while [`JOB_WINDOW`] of its messages are
//! accepted and unfinished, and every job while the ready queues hold
//! [`MAX_BACKLOG`], and a job whose account's unfinished messages and its
//! next chunk would pass the account's `[backlog]` cap (as a POST would be
//! refused): a big group send then moves at the carriers' pace
//! instead of piling up ahead of later sends, and cancelling it stops all
//! but the window. It must never expand a chunk off the leader, nor hold a
//! lock across a proposal.

use std::time::Duration;

use smsgw_config::Priority;
use smsgw_state::jobs::{JobCommand, JobRecord, JobResponse, Recipient};
use smsgw_state::{Command, MtPart, Response};

use crate::api::state::{now_ms, AppState, Loaded};
use crate::api::submit::{self, Validated};

/// Unfinished messages over which the runner waits.
pub const MAX_BACKLOG: u64 = 200_000;
/// Accepted and unfinished messages of one job over which it waits.
pub const JOB_WINDOW: u64 = 5_000;
/// Whether a chunk of `chunk` recipients waits for its account's backlog
/// (`unfinished` of `cap`, the account's `[backlog]` cap that a POST
/// answers 429 over). A chunk larger than the cap goes once nothing of the
/// account is unfinished, or it would never go.
fn over_cap(unfinished: u64, chunk: u64, cap: u64) -> bool {
    unfinished > 0 && crate::api::limits::passes_cap(unfinished, chunk, cap)
}

/// How often due jobs are looked for without a nudge.
const TICK: Duration = Duration::from_millis(200);

/// Runs until the task is dropped.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let worked = if state.cluster.leads_with_lease() {
                match step(&state).await {
                    Ok(w) => w,
                    Err(e) => {
                        tracing::warn!(error = %e, "job runner: a step failed; retrying");
                        false
                    }
                }
            } else {
                false
            };
            if !worked {
                tokio::select! {
                    _ = state.jobs_nudge.notified() => {}
                    _ = tokio::time::sleep(TICK) => {}
                }
            }
        }
    })
}

/// Advances every due job by one chunk; whether anything was done.
async fn step(state: &AppState) -> Result<bool, String> {
    let view = smsgw_state::local_view(&state.cluster);
    let now = now_ms();
    let due = view.jobs().due(now, 16).map_err(|e| e.to_string())?;
    let mut worked = false;
    for d in due {
        let backlog: u64 = view.ready_counts().map_err(|e| e.to_string())?.iter().sum();
        if backlog > MAX_BACKLOG {
            metrics::counter!("smsgw_job_backpressure_waits_total", "reason" => "backlog").increment(1);
            return Ok(worked);
        }
        let jobs = view.jobs();
        let Some(job) = jobs.job(&d.account, d.id).map_err(|e| e.to_string())? else {
            continue;
        };
        let finished: u64 = jobs
            .outcomes(d.id)
            .map_err(|e| e.to_string())?
            .iter()
            .map(|(_, n)| n)
            .sum();
        if job.accepted.saturating_sub(finished) >= JOB_WINDOW {
            continue;
        }
        let loaded = state.config().map_err(|e| e.message())?;
        let unfinished = crate::api::limits::unfinished(&view, &d.account).map_err(|e| e.to_string())?;
        // Sized from the job's counts: a job held here is not read whole
        // every tick.
        if over_cap(
            unfinished,
            job.next_chunk_len(),
            loaded.doc.backlog.cap(&d.account),
        ) {
            metrics::counter!("smsgw_job_backpressure_waits_total", "reason" => "account_cap").increment(1);
            continue;
        }
        let Some(chunk) = jobs.chunk(d.id, job.next_chunk).map_err(|e| e.to_string())? else {
            continue;
        };
        let (messages, skipped_parts) = build(state, &loaded, &job, &chunk, now);
        let cmd = Command::Job {
            request_id: None,
            account: d.account.clone(),
            change: JobCommand::Advance {
                job: d.id,
                chunk: job.next_chunk,
                messages,
                skipped_parts,
                at_ms: now,
            },
        };
        // 500 recipients of long texts pass the entry bound: staged then.
        match smsgw_state::staging::propose_bounded(&state.cluster, cmd, now)
            .await
            .map_err(|e| e.to_string())?
        {
            Response::Job(JobResponse::Advanced { messages, done }) => {
                worked = true;
                if job.fired_at_ms.is_none() {
                    let late_ms = now.saturating_sub(job.due_ms());
                    tracing::info!(job = d.id, account = %d.account, late_ms, "job fired");
                }
                if done {
                    tracing::info!(job = d.id, recipients = job.recipients, "job accepted in full");
                }
                metrics::counter!("smsgw_job_messages_accepted_total").increment(messages);
                if let Some(rt) = &state.runtime {
                    rt.nudge();
                }
            }
            Response::Job(JobResponse::Stale) => {}
            other => return Err(format!("job {}: unexpected answer {other:?}", d.id)),
        }
    }
    Ok(worked)
}

/// The chunk's messages. A recipient the current configuration cannot take
/// any more (its route was removed since the job was created) is left out
/// and counted: the rest of the job must not wait for an operator.
fn build(
    state: &AppState,
    loaded: &Loaded,
    job: &JobRecord,
    chunk: &[Recipient],
    now: u64,
) -> (Vec<MtPart>, u64) {
    let v = Validated {
        priority: Priority::from_name(&job.spec.priority).unwrap_or(Priority::Normal),
        report: job.spec.report.unwrap_or(loaded.doc.defaults.report),
        request_id: None,
    };
    let ids = state.next_ids(chunk.len());
    let mut out = Vec::with_capacity(chunk.len() * 2);
    let mut skipped_parts = 0;
    for (r, id) in chunk.iter().zip(ids) {
        let sender = job.spec.sender.as_deref();
        let (doc, router) = (&loaded.doc, &loaded.router);
        match submit::build_one(&r.to, &r.text, sender, &v, &job.account, doc, router, id, now) {
            Ok((mut parts, _)) => {
                // A job held for an application: its reports carry the id it was told.
                crate::apps::held::stamp_released(job.spec.client_ref.as_deref(), &mut parts);
                out.extend(parts)
            }
            Err(e) => {
                skipped_parts += u64::from(r.parts);
                metrics::counter!("smsgw_job_recipients_skipped_total").increment(1);
                tracing::warn!(job = job.id, to = %r.to, error = %e.message(), "job recipient left out");
            }
        }
    }
    (out, skipped_parts)
}

#[cfg(test)]
mod tests {
    use super::over_cap;

    #[test]
    fn a_chunk_waits_when_it_would_pass_the_cap_and_a_chunk_larger_than_the_cap_goes_alone() {
        assert!(!over_cap(0, 5, 10));
        assert!(!over_cap(5, 5, 10), "up to the cap exactly");
        assert!(over_cap(6, 5, 10));
        assert!(over_cap(1, 500, 100), "waits for the account to drain");
        assert!(!over_cap(0, 500, 100), "then goes, or it never would");
    }
}
