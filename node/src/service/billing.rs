//! The leader's billing worker, once a second: opens prepaid accounts with
//! their opening balance (a top-up with the reference `opening`), freezes
//! and closes idle ones (the leader's clock, carried in the command), tells
//! the contact phone once of a low balance and once before freezing, and
//! takes in new MOs (from a replicated cursor): each is counted in its
//! account's statistics, and opt-out keywords are answered: the
//! number is added to the opt-out list of the account it answers (by
//! service code, else the last marketing account that sent to it) and told
//! so by SMS. Notices are sent as ordinary messages of that account and
//! are not charged. It must never act off the leader: every decision is a
//! proposal, and a repeated one has one effect.

use std::time::Duration;

use smsgw_config::{Account, Priority};
use smsgw_state::accounts::{AccountCommand, AccountStatus};
use smsgw_state::{Command, MoRecord, StateView};

use crate::api::state::{now_ms, AppState, Loaded};
use crate::api::submit::{self, Validated};

/// How often the worker looks.
const TICK: Duration = Duration::from_secs(1);
/// MOs read per tick.
const MO_BATCH: u64 = 500;

/// Runs until the task is dropped.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(TICK).await;
            if !state.cluster.leads_with_lease() {
                continue;
            }
            if let Err(e) = step(&state).await {
                tracing::warn!(error = %e, "billing worker: a step failed; retrying");
            }
        }
    })
}

async fn propose(state: &AppState, cmd: Command) -> Result<smsgw_state::Response, String> {
    smsgw_state::propose(&state.cluster, &cmd)
        .await
        .map_err(|e| e.to_string())
}

fn change(account: &str, request_id: Option<String>, change: AccountCommand) -> Command {
    Command::Account {
        request_id,
        account: account.to_string(),
        change,
    }
}

async fn step(state: &AppState) -> Result<(), String> {
    let Ok(loaded) = state.config() else { return Ok(()) };
    let view = smsgw_state::local_view(&state.cluster);
    let now = now_ms();
    let rules = &loaded.doc.billing;
    for a in loaded.doc.accounts.iter().filter(|a| a.billing.is_some()) {
        let rec = view.accounts().account(&a.name).map_err(|e| e.to_string())?;
        let Some(rec) = rec else {
            if let Some(opening) = a.balance {
                let rid = format!("topup/{}/opening", a.name);
                let topup = AccountCommand::TopUp {
                    parts: opening,
                    reference: "opening".into(),
                    at_ms: now,
                };
                propose(state, change(&a.name, Some(rid), topup)).await?;
            }
            continue;
        };
        let idle_ms = now.saturating_sub(rec.last_topup_ms);
        let (freeze_ms, close_ms) = (rules.freeze_after_secs * 1000, rules.close_after_secs * 1000);
        let due = match rec.status {
            AccountStatus::Active => idle_ms >= freeze_ms,
            AccountStatus::Frozen => idle_ms >= close_ms,
            AccountStatus::Closed => false,
        };
        if due {
            let life = AccountCommand::Lifecycle {
                at_ms: now,
                freeze_after_ms: freeze_ms,
                close_after_ms: close_ms,
            };
            propose(state, change(&a.name, None, life)).await?;
            tracing::info!(account = %a.name, idle_ms, "account lifecycle moved on");
        }
        let Some(billing) = &a.billing else { continue };
        let Some(phone) = &billing.contact_phone else {
            continue;
        };
        if rec.status == AccountStatus::Active
            && !rec.low_balance_told
            && rec.balance < billing.low_balance_parts
        {
            let text = format!(
                "【短信平台】账户{}余额不足：剩余{}条，请及时充值。",
                a.name, rec.balance
            );
            notify(state, &loaded, a, phone, &text, now).await?;
            propose(
                state,
                change(&a.name, None, AccountCommand::Told { low_balance: true }),
            )
            .await?;
        }
        let warn_ms = freeze_ms.saturating_sub(rules.warn_before_freeze_secs * 1000);
        if rec.status == AccountStatus::Active && !rec.freeze_told && idle_ms >= warn_ms {
            let at = crate::service::zone::show(rec.last_topup_ms + freeze_ms);
            let text = format!("【短信平台】账户{}长期未充值，将于{at}冻结，请及时充值。", a.name);
            notify(state, &loaded, a, phone, &text, now).await?;
            propose(
                state,
                change(&a.name, None, AccountCommand::Told { low_balance: false }),
            )
            .await?;
        }
    }
    mo_intake(state, &loaded, &view, now).await
}

/// The MO intake: reads the MOs after the intake cursor, answers opt-out
/// keywords, and has each MO counted in its account's statistics.
async fn mo_intake(state: &AppState, loaded: &Loaded, view: &StateView, now: u64) -> Result<(), String> {
    let cursor = view
        .counter(smsgw_state::keys::counter::MO_INTAKE)
        .map_err(|e| e.to_string())?;
    let mut upto = cursor;
    let mut mos = Vec::new();
    for seq in cursor + 1..=cursor + MO_BATCH {
        let Some(mo) = view.mo(seq).map_err(|e| e.to_string())? else {
            break;
        };
        upto = seq;
        if let Some(a) = loaded.doc.account_for_mo(&mo.message.to) {
            mos.push((a.name.clone(), seq));
        }
        if let Some((account, number)) = opt_out_of(loaded, view, &mo)? {
            let add = AccountCommand::OptOut {
                number: number.clone(),
                add: true,
                at_ms: now,
            };
            propose(state, change(&account.name, None, add)).await?;
            let text = format!("【{}】您已成功退订，将不再收到本号码的短信。", account.name);
            notify(state, loaded, account, &number, &text, now).await?;
            metrics::counter!("smsgw_optouts_total").increment(1);
        }
    }
    if upto > cursor {
        let intake = Command::MoIntake {
            after: cursor,
            through: upto,
            mos,
        };
        propose(state, intake).await?;
    }
    Ok(())
}

/// The account an opt-out MO is for, and the number to opt out.
fn opt_out_of<'a>(
    loaded: &'a Loaded,
    view: &StateView,
    mo: &MoRecord,
) -> Result<Option<(&'a Account, String)>, String> {
    let text = String::from_utf8_lossy(&mo.message.payload).trim().to_uppercase();
    if !loaded
        .doc
        .content
        .optout_keywords
        .iter()
        .any(|k| k.to_uppercase() == text)
    {
        return Ok(None);
    }
    let from = smsgw_config::normalize_number(&mo.message.from);
    let account = match loaded.doc.account_for_mo(&mo.message.to) {
        Some(a) => Some(a),
        None => {
            let last = view.accounts().last_sender(&from).map_err(|e| e.to_string())?;
            last.and_then(|name| loaded.doc.accounts.iter().find(|a| a.name == name))
        }
    };
    Ok(account.map(|a| (a, from)))
}

/// Sends `text` to `to` as an uncharged message of `account`.
async fn notify(
    state: &AppState,
    loaded: &Loaded,
    account: &Account,
    to: &str,
    text: &str,
    now: u64,
) -> Result<(), String> {
    let v = Validated {
        priority: Priority::High,
        report: loaded.doc.defaults.report,
        request_id: None,
    };
    let id = state.next_id();
    let (messages, _) = submit::build_one(
        to,
        text,
        None,
        &v,
        &account.name,
        &loaded.doc,
        &loaded.router,
        id,
        now,
    )
    .map_err(|e| e.message())?;
    propose(
        state,
        Command::AcceptBatch {
            request_id: None,
            messages,
        },
    )
    .await?;
    if let Some(rt) = &state.runtime {
        rt.nudge();
    }
    Ok(())
}
