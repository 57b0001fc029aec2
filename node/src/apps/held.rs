//! An application's submit that the account's content rules hold for
//! review: kept exactly as an HTTP send would be, as a held job in the
//! review queue (`/v1/admin/review`), and answered with success and an id
//! of ours at once. Once an admin releases it, the job runner sends it and
//! its reports reach the application under that same id (the id is in the
//! job's `client_ref`, [`APP_REF`], and the runner writes it into every
//! message's envelope as the `submit_id` that [`super::submit::submit_id_of`]
//! reads). A rejected job sends nothing and no report.
//!
//! It never sends a held message itself, and never holds anything the
//! account's content rule does not.

use smsgw_config::Account;
use smsgw_state::jobs::{JobCommand, JobResponse, JobSpec, Recipient};
use smsgw_state::{Command, MtPart, Response as Committed};

use super::submit::{stamp, AppSubmit};
use crate::api::state::{now_ms, AppState, Loaded};
use crate::api::submit::{self as api_submit, SendRequest};
use crate::api::ApiError;

/// The `client_ref` prefix of a job held for an application; the id the
/// application was answered with follows it.
pub const APP_REF: &str = "app-submit/";

/// Holds `s` as a job for review; the id the application is answered with.
pub async fn hold(
    state: &AppState,
    loaded: &Loaded,
    account: &Account,
    s: &AppSubmit,
) -> Result<String, ApiError> {
    let req = SendRequest {
        to: s.to.clone(),
        text: s.text.clone(),
        priority: Some(s.priority.name().to_string()),
        sender: s.sender.clone(),
        client_ref: None,
        report: Some(s.report),
    };
    let v = api_submit::validate(&req, account, &loaded.doc)?;
    let now = now_ms();
    let mut recipients = Vec::with_capacity(s.to.len());
    let mut parts = 0u64;
    for to in &s.to {
        // The same checks as a plain send, before the job is stored.
        let sender = s.sender.as_deref();
        let (doc, router) = (&loaded.doc, &loaded.router);
        let (_, a) = api_submit::build_one(to, &s.text, sender, &v, &account.name, doc, router, 0, now)?;
        parts += u64::from(a.parts);
        recipients.push(Recipient {
            to: to.clone(),
            contact: None,
            text: s.text.clone(),
            parts: a.parts,
        });
    }
    let view = smsgw_state::local_view(&state.cluster);
    let (recipients, _) = crate::api::billing::without_opt_outs(&view, &account.name, recipients, |r| &r.to)?;
    if recipients.is_empty() {
        return Err(ApiError::Invalid {
            code: "no_recipients",
            message: "every recipient opted out".into(),
        });
    }
    let id = state.next_ids(1).first().copied().unwrap_or_default().to_string();
    let client_ref = format!("{APP_REF}{id}");
    let spec = JobSpec {
        priority: v.priority.name().to_string(),
        sender: s.sender.clone(),
        report: Some(s.report),
        template: None,
        groups: Vec::new(),
        client_ref: Some(client_ref.clone()),
        created_ms: now,
        send_at_ms: None,
        held: true,
    };
    let n = recipients.len() as u64;
    state.limiter.take_daily(account, n)?;
    let cmd = hold_job(&account.name, spec, recipients);
    let cmd = crate::api::billing::charged(account, parts, now, cmd);
    match smsgw_state::propose(&state.cluster, &cmd).await {
        Ok(Committed::Job(JobResponse::Created { .. })) => {
            state.jobs_nudge.notify_one();
            metrics::counter!("smsgw_app_held_total", "account" => account.name.clone()).increment(1);
            Ok(id)
        }
        Ok(Committed::Refused(r)) => {
            state.limiter.give_back_daily(account, n);
            Err(crate::api::billing::refusal(r))
        }
        Ok(other) => {
            state.limiter.give_back_daily(account, n);
            Err(ApiError::Internal(format!("unexpected commit answer {other:?}")))
        }
        Err(e) => {
            state.limiter.give_back_daily(account, n);
            Err(e.into())
        }
    }
}

/// The job creation that holds an application's submit, before any charge;
/// its request id is the job's `client_ref`. It is proposed whole, never
/// staged: at most [`smsgw_protocols::cmpp::MAX_DESTINATIONS`] recipients
/// of at most [`api_submit::MAX_TEXT_CHARS`] characters always fit one log
/// entry (see the test below).
fn hold_job(account: &str, spec: JobSpec, recipients: Vec<Recipient>) -> Command {
    let client_ref = spec.client_ref.clone().unwrap_or_default();
    Command::Job {
        request_id: Some(format!("job/{account}/{client_ref}")),
        account: account.to_string(),
        change: JobCommand::Create { spec, recipients },
    }
}

/// Writes the application's id into the envelopes of a released job's
/// messages (called by the job runner for every chunk).
pub fn stamp_released(client_ref: Option<&str>, parts: &mut [MtPart]) {
    if let Some(id) = client_ref.and_then(|r| r.strip_prefix(APP_REF)) {
        stamp(parts, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most an application can hold at once: every destination a
    /// CMPP SUBMIT may carry, each with the longest text, all of it in
    /// 4-byte characters, charged, with every field at its widest.
    #[test]
    fn the_largest_held_submit_fits_one_log_entry() {
        let text: String = "\u{1D11E}".repeat(api_submit::MAX_TEXT_CHARS);
        let recipients = (0..smsgw_protocols::cmpp::MAX_DESTINATIONS)
            .map(|i| Recipient {
                to: format!("+86138{i:015}"),
                contact: None,
                text: text.clone(),
                parts: u16::MAX,
            })
            .collect();
        let account = "a".repeat(64);
        let spec = JobSpec {
            priority: "normal".into(),
            sender: Some("9".repeat(21)),
            report: Some(true),
            template: None,
            groups: Vec::new(),
            client_ref: Some(format!("{APP_REF}{}", u64::MAX)),
            created_ms: u64::MAX,
            send_at_ms: None,
            held: true,
        };
        let cmd = Command::Charged {
            account: account.clone(),
            parts: u64::MAX,
            at_ms: u64::MAX,
            remember_recipients: true,
            command: Box::new(hold_job(&account, spec, recipients)),
        };
        let bytes = smsgw_raft::codec::encode(&cmd).expect("encodes").len();
        let bound = smsgw_state::staging::MAX_COMMAND_BYTES;
        assert!(
            bytes <= bound,
            "{bytes} bytes: over the {bound} a command may take"
        );
        assert!(bytes > 100 * 4000, "the texts are in it: {bytes}");
    }
}
