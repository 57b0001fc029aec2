//! Apply of prepaid accounts: charging a wrapped accept all or nothing,
//! settling a message's refund when it closes, top-ups, adjustments,
//! lifecycle, opt-outs. Every balance change writes its ledger line (with
//! the balance after it, so any day's opening balance is the last line
//! before it) and one statistics counter in the same transaction. It must
//! never read a clock.

use smsgw_raft::{ApplyError, Tx};

use super::{
    AccountCommand, AccountRecord, AccountResponse, AccountStatus, Charge, LedgerKind, LedgerLine, Refusal,
};
use crate::command::{Command, MtPart, PartRecord, Response};
use crate::jobs::JobResponse;
use crate::keys;

/// The statistics dimension of balance changes.
pub const BILLING: &str = "billing";

/// The statistics dimension of balance changes of one carrier.
pub fn billing_carrier(carrier: &str) -> String {
    format!("billing-carrier:{carrier}")
}

/// Writes a balance change: the record, its ledger line, the day's balance
/// and the counters.
#[allow(clippy::too_many_arguments)]
fn book(
    tx: &mut Tx<'_>,
    rec: &mut AccountRecord,
    at_ms: u64,
    kind: LedgerKind,
    parts: i64,
    reference: &str,
    carrier: &str,
) -> Result<(), ApplyError> {
    rec.balance = if parts >= 0 {
        rec.balance.saturating_add(parts as u64)
    } else {
        rec.balance.saturating_sub(parts.unsigned_abs())
    };
    let seq = rec.lines;
    rec.lines += 1;
    let line = LedgerLine {
        seq,
        at_ms,
        kind,
        parts,
        balance: rec.balance,
        reference: reference.to_string(),
        carrier: carrier.to_string(),
    };
    tx.put(keys::ledger_line(&rec.name, at_ms, seq), &line)?;
    // One counter per change: by carrier when it has one (a statement adds
    // the carriers up), else under `billing` (top-ups, adjustments).
    let dims = if carrier.is_empty() {
        [BILLING.to_string()]
    } else {
        [billing_carrier(carrier)]
    };
    crate::stats::count(tx, &rec.name, at_ms, &dims, kind.name(), 0, parts.unsigned_abs())?;
    tx.put(keys::account(&rec.name), rec)
}

/// Applies `inner` only if `account` can pay `parts`, and charges what it
/// accepted.
pub(crate) fn apply_charged(
    tx: &mut Tx<'_>,
    index: u64,
    account: &str,
    (parts, at_ms, remember): (u64, u64, bool),
    inner: &Command,
) -> Result<Response, ApplyError> {
    let Some(mut rec) = tx.get::<AccountRecord>(&keys::account(account))? else {
        return Ok(Response::Refused(Refusal::InsufficientBalance {
            needed: parts,
            left: 0,
        }));
    };
    match rec.status {
        AccountStatus::Frozen => return Ok(Response::Refused(Refusal::Frozen)),
        AccountStatus::Closed => return Ok(Response::Refused(Refusal::Closed)),
        AccountStatus::Active => {}
    }
    if rec.balance < parts {
        return Ok(Response::Refused(Refusal::InsufficientBalance {
            needed: parts,
            left: rec.balance,
        }));
    }
    let r = crate::apply::apply_command(tx, index, inner)?;
    match (&r, inner) {
        (Response::Accepted { ids, .. }, Command::AcceptBatch { messages, .. }) => {
            for head in new_heads(ids, messages) {
                let carrier = head.queue.as_ref().map_or("", |q| q.route.as_str());
                let mid = head.id.strip_suffix(".0").unwrap_or(&head.id);
                let n = u64::from(head.parts);
                book(tx, &mut rec, at_ms, LedgerKind::Charge, -(n as i64), mid, carrier)?;
                let charge = Charge {
                    account: account.to_string(),
                    parts: n,
                    carrier: carrier.to_string(),
                };
                tx.put(keys::charge(mid), &charge)?;
                if remember {
                    tx.put(keys::last_sender(&head.to), &account.to_string())?;
                }
            }
        }
        (Response::Job(JobResponse::Created { id }), _) => {
            let reference = format!("job {id}");
            book(
                tx,
                &mut rec,
                at_ms,
                LedgerKind::Charge,
                -(parts as i64),
                &reference,
                "",
            )?;
            let jk = keys::job(account, *id);
            if let Some(mut job) = tx.get::<crate::jobs::JobRecord>(&jk)? {
                job.charged = true;
                job.remember_recipients = remember;
                tx.put(jk, &job)?;
            }
        }
        _ => {}
    }
    Ok(r)
}

/// The heads among `messages` that `ids` says were newly accepted.
pub(crate) fn new_heads<'a>(ids: &[String], messages: &'a [MtPart]) -> Vec<&'a MtPart> {
    let new: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    messages
        .iter()
        .filter(|m| m.queue.is_some() && new.contains(m.id.as_str()))
        .collect()
}

/// Records that job messages were charged at the job's creation: each
/// accepted head gets its charge, so it is refunded like any message.
pub(crate) fn charge_job_messages(
    tx: &mut Tx<'_>,
    account: &str,
    heads: &[&MtPart],
    remember: bool,
) -> Result<(), ApplyError> {
    for head in heads {
        let carrier = head.queue.as_ref().map_or("", |q| q.route.as_str());
        let mid = head.id.strip_suffix(".0").unwrap_or(&head.id);
        let charge = Charge {
            account: account.to_string(),
            parts: u64::from(head.parts),
            carrier: carrier.to_string(),
        };
        tx.put(keys::charge(mid), &charge)?;
        if remember {
            tx.put(keys::last_sender(&head.to), &account.to_string())?;
        }
    }
    Ok(())
}

/// Gives `parts` back to `account` (a cancelled job's recipients).
pub(crate) fn refund_parts(
    tx: &mut Tx<'_>,
    account: &str,
    parts: u64,
    at_ms: u64,
    reference: &str,
) -> Result<(), ApplyError> {
    if parts == 0 {
        return Ok(());
    }
    if let Some(mut rec) = tx.get::<AccountRecord>(&keys::account(account))? {
        book(
            tx,
            &mut rec,
            at_ms,
            LedgerKind::Refund,
            parts as i64,
            reference,
            "",
        )?;
    }
    Ok(())
}

/// When message `mid` closes: its parts that no carrier took are refunded,
/// once, and its charge is forgotten.
pub(crate) fn settle(tx: &mut Tx<'_>, head: &PartRecord, mid: &str, at_ms: u64) -> Result<(), ApplyError> {
    let Some(charge) = tx.get::<Charge>(&keys::charge(mid))? else {
        return Ok(());
    };
    tx.remove(keys::charge(mid));
    let mut untaken = 0u64;
    for seq in 1..=head.part.parts {
        let part = crate::parts::get(tx, &format!("{mid}.{seq}"))?;
        if !part.as_ref().is_some_and(taken) {
            untaken += 1;
        }
    }
    let refund = untaken.min(charge.parts);
    if refund == 0 {
        return Ok(());
    }
    if let Some(mut rec) = tx.get::<AccountRecord>(&keys::account(&charge.account))? {
        book(
            tx,
            &mut rec,
            at_ms,
            LedgerKind::Refund,
            refund as i64,
            mid,
            &charge.carrier,
        )?;
    }
    Ok(())
}

/// Whether a carrier took the part: a successful submit answer.
fn taken(p: &PartRecord) -> bool {
    p.submit_status.as_deref() == Some("0") || p.report_state.as_deref() == Some("DELIVRD")
}

/// Applies one change to `account`.
pub(crate) fn apply_account(
    tx: &mut Tx<'_>,
    account: &str,
    cmd: &AccountCommand,
) -> Result<AccountResponse, ApplyError> {
    let k = keys::account(account);
    let existing = tx.get::<AccountRecord>(&k)?;
    if let AccountCommand::OptOut { number, add, at_ms } = cmd {
        if *add {
            tx.put(keys::opt_out(account, number), at_ms)?;
        } else {
            tx.remove(keys::opt_out(account, number));
        }
        return Ok(AccountResponse::OptOut);
    }
    if let AccountCommand::TopUp {
        parts,
        reference,
        at_ms,
    } = cmd
    {
        let mut rec = existing.unwrap_or(AccountRecord {
            name: account.to_string(),
            status: AccountStatus::Active,
            balance: 0,
            last_topup_ms: *at_ms,
            low_balance_told: false,
            freeze_told: false,
            lines: 0,
        });
        rec.last_topup_ms = *at_ms;
        rec.low_balance_told = false;
        rec.freeze_told = false;
        if rec.status == AccountStatus::Frozen {
            rec.status = AccountStatus::Active;
        }
        book(
            tx,
            &mut rec,
            *at_ms,
            LedgerKind::TopUp,
            *parts as i64,
            reference,
            "",
        )?;
        return Ok(AccountResponse::Account(rec));
    }
    let Some(mut rec) = existing else {
        return Ok(AccountResponse::Missing);
    };
    match cmd {
        AccountCommand::Adjust { parts, reason, at_ms } => {
            book(tx, &mut rec, *at_ms, LedgerKind::Adjustment, *parts, reason, "")?;
        }
        AccountCommand::Lifecycle {
            at_ms,
            freeze_after_ms,
            close_after_ms,
        } => {
            let idle = at_ms.saturating_sub(rec.last_topup_ms);
            let next = if idle >= *close_after_ms {
                AccountStatus::Closed
            } else if idle >= *freeze_after_ms && rec.status == AccountStatus::Active {
                AccountStatus::Frozen
            } else {
                rec.status
            };
            if next != rec.status && rec.status != AccountStatus::Closed {
                rec.status = next;
                tx.put(k, &rec)?;
            }
        }
        AccountCommand::Told { low_balance } => {
            if *low_balance {
                rec.low_balance_told = true;
            } else {
                rec.freeze_told = true;
            }
            tx.put(k, &rec)?;
        }
        AccountCommand::TopUp { .. } | AccountCommand::OptOut { .. } => {}
    }
    Ok(AccountResponse::Account(rec))
}
