//! Apply of [`JobCommand`]s. A job's timer row lives exactly as long as the
//! job has chunks left; `Advance` accepts a chunk only when it is the
//! job's next, through the same accept as `AcceptBatch`, and links every
//! message to its job so that apply can count outcomes per job. It must
//! never read a clock: the firing time comes in the command.

use smsgw_raft::{ApplyError, Tx};

use super::{JobCommand, JobRecord, JobResponse, JobStatus, Recipient, CHUNK};
use crate::book::Template;
use crate::command::{MtPart, Response};
use crate::keys::{self, counter};

/// Applies one job command for `account`.
pub(crate) fn apply_job(
    tx: &mut Tx<'_>,
    index: u64,
    account: &str,
    cmd: &JobCommand,
) -> Result<JobResponse, ApplyError> {
    match cmd {
        JobCommand::Create { spec, recipients } => {
            let id = tx.add(&keys::counter(counter::JOB_SEQ), 1)?;
            let chunks: Vec<&[Recipient]> = recipients.chunks(CHUNK).collect();
            for (n, chunk) in chunks.iter().enumerate() {
                tx.put(keys::job_chunk(id, n as u32), &chunk.to_vec())?;
            }
            let record = JobRecord {
                id,
                account: account.to_string(),
                spec: spec.clone(),
                status: JobStatus::Scheduled,
                recipients: recipients.len() as u64,
                chunks: chunks.len() as u32,
                next_chunk: 0,
                accepted: 0,
                parts: 0,
                fired_at_ms: None,
                cancelled_at_ms: None,
                review: None,
                charged: false,
                remember_recipients: false,
            };
            let mut record = record;
            if record.chunks == 0 {
                record.status = JobStatus::Done;
            } else if spec.held {
                record.status = JobStatus::Held;
                tx.put(keys::held(id), &account.to_string())?;
            } else {
                tx.put(keys::timer(record.due_ms(), id), &account.to_string())?;
            }
            tx.put(keys::job(account, id), &record)?;
            if let Some(name) = &spec.template {
                let k = keys::book::template(account, name);
                if let Some(mut t) = tx.get::<Template>(&k)? {
                    t.uses += recipients.len() as u64;
                    tx.put(k, &t)?;
                }
            }
            Ok(JobResponse::Created { id })
        }
        JobCommand::Advance {
            job,
            chunk,
            messages,
            skipped_parts,
            at_ms,
        } => {
            let r = advance(tx, index, account, *job, *chunk, messages, *at_ms)?;
            if matches!(r, JobResponse::Advanced { .. }) && *skipped_parts > 0 {
                let charged = tx
                    .get::<JobRecord>(&keys::job(account, *job))?
                    .is_some_and(|j| j.charged);
                if charged {
                    let reference = format!("job {job} skipped");
                    crate::accounts::refund_parts(tx, account, *skipped_parts, *at_ms, &reference)?;
                }
            }
            Ok(r)
        }
        JobCommand::Review {
            job,
            approve,
            note,
            at_ms,
        } => {
            let k = keys::job(account, *job);
            let Some(mut record) = tx.get::<JobRecord>(&k)? else {
                return Ok(refused(*job, true, "does not exist"));
            };
            if record.status != JobStatus::Held {
                let why = format!("is not held for review ({})", record.status.name());
                return Ok(refused(*job, false, &why));
            }
            tx.remove(keys::held(*job));
            record.review = Some(note.clone());
            if *approve {
                record.status = JobStatus::Scheduled;
                tx.put(keys::timer(record.due_ms(), record.id), &account.to_string())?;
                tx.put(k, &record)?;
                return Ok(JobResponse::Approved);
            }
            tx.put(k, &record)?;
            cancel(tx, account, *job, *at_ms)
        }
        JobCommand::Cancel { job, at_ms } => cancel(tx, account, *job, *at_ms),
    }
}

/// Ends a job that has not ended: its timer, hold and unaccepted chunks go,
/// and a charged job gets the parts of the unaccepted recipients back.
fn cancel(tx: &mut Tx<'_>, account: &str, job: u64, at_ms: u64) -> Result<JobResponse, ApplyError> {
    let k = keys::job(account, job);
    let Some(mut record) = tx.get::<JobRecord>(&k)? else {
        return Ok(refused(job, true, "does not exist"));
    };
    if matches!(record.status, JobStatus::Done | JobStatus::Cancelled) {
        let why = format!("has already ended ({})", record.status.name());
        return Ok(refused(job, false, &why));
    }
    tx.remove(keys::timer(record.due_ms(), record.id));
    tx.remove(keys::held(record.id));
    let mut unsent_parts = 0u64;
    for n in record.next_chunk..record.chunks {
        if let Some(rs) = tx.get::<Vec<Recipient>>(&keys::job_chunk(record.id, n))? {
            unsent_parts += rs.iter().map(|r| u64::from(r.parts)).sum::<u64>();
        }
        tx.remove(keys::job_chunk(record.id, n));
    }
    if record.charged {
        let reference = format!("job {} cancelled", record.id);
        crate::accounts::refund_parts(tx, account, unsent_parts, at_ms, &reference)?;
    }
    record.status = JobStatus::Cancelled;
    record.cancelled_at_ms = Some(at_ms);
    let left = record.recipients.saturating_sub(record.accepted);
    tx.put(k, &record)?;
    Ok(JobResponse::Cancelled { left })
}

fn refused(job: u64, missing: bool, why: &str) -> JobResponse {
    JobResponse::Refused {
        reason: format!("job {job} {why}"),
        missing,
    }
}

fn advance(
    tx: &mut Tx<'_>,
    index: u64,
    account: &str,
    job: u64,
    chunk: u32,
    messages: &[MtPart],
    at_ms: u64,
) -> Result<JobResponse, ApplyError> {
    let k = keys::job(account, job);
    let Some(mut record) = tx.get::<JobRecord>(&k)? else {
        return Ok(refused(job, true, "does not exist"));
    };
    let open = matches!(record.status, JobStatus::Scheduled | JobStatus::Running);
    if !open || record.next_chunk != chunk {
        return Ok(JobResponse::Stale);
    }
    let Response::Accepted { ids, .. } = crate::apply::accept_batch(tx, index, messages)? else {
        return Ok(JobResponse::Stale);
    };
    let new_heads = crate::accounts::new_heads(&ids, messages);
    if record.charged {
        crate::accounts::charge_job_messages(tx, account, &new_heads, record.remember_recipients)?;
    }
    let mut heads = 0;
    for id in &ids {
        if let Some(mid) = id.strip_suffix(".0") {
            tx.put(keys::message_job(mid), &job)?;
            heads += 1;
        } else {
            record.parts += 1;
        }
    }
    tx.remove(keys::job_chunk(job, chunk));
    let job_dims = dims(&record);
    if !job_dims.is_empty() {
        let parts: u64 = new_heads.iter().map(|m| u64::from(m.parts)).sum();
        crate::stats::count(
            tx,
            account,
            at_ms,
            &job_dims,
            crate::apply::ACCEPTED,
            heads,
            parts,
        )?;
    }
    record.accepted += heads;
    record.next_chunk += 1;
    record.fired_at_ms.get_or_insert(at_ms);
    let done = record.next_chunk >= record.chunks;
    if done {
        record.status = JobStatus::Done;
        tx.remove(keys::timer(record.due_ms(), record.id));
    } else {
        record.status = JobStatus::Running;
    }
    tx.put(k, &record)?;
    Ok(JobResponse::Advanced {
        messages: heads,
        done,
    })
}

/// Counts message `mid`'s final `state` for its job, if it has one; the
/// statistics dimensions of that job (its groups and template).
pub(crate) fn job_progress(
    tx: &mut Tx<'_>,
    account: &str,
    mid: &str,
    state: &str,
) -> Result<Vec<String>, ApplyError> {
    let Some(job) = tx.get::<u64>(&keys::message_job(mid))? else {
        return Ok(Vec::new());
    };
    tx.add(&keys::counter(&counter::job_state(job, state)), 1)?;
    Ok(match tx.get::<JobRecord>(&keys::job(account, job))? {
        Some(j) => dims(&j),
        None => Vec::new(),
    })
}

/// The statistics dimensions of a job's messages.
fn dims(job: &JobRecord) -> Vec<String> {
    let mut d: Vec<String> = job.spec.groups.iter().map(|g| format!("group:{g}")).collect();
    d.extend(job.spec.template.iter().map(|t| format!("template:{t}")));
    d
}
