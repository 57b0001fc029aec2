//! What the send paths need from the service agreement: charging (a
//! prepaid account's accept is wrapped in `Command::Charged`, paid all or
//! nothing in apply), refusals as API errors, the content verdict over
//! every text of a request, opt-outs, and the closed-account check at
//! authentication. One place for these rules, used by plain sends and jobs
//! alike.

use smsgw_config::{Account, ContentAction};
use smsgw_state::accounts::{AccountStatus, Refusal};
use smsgw_state::{Command, StateView};

use super::error::ApiError;
use super::state::Loaded;
use crate::service::content::Verdict;

/// `cmd` charged to `account` when it is prepaid; as it is otherwise.
pub fn charged(account: &Account, parts: u64, at_ms: u64, cmd: Command) -> Command {
    if account.billing.is_some() {
        Command::Charged {
            account: account.name.clone(),
            parts,
            at_ms,
            remember_recipients: marketing(account),
            command: Box::new(cmd),
        }
    } else {
        cmd
    }
}

/// Whether `account` sends marketing (signature rules, last-sender memory).
fn marketing(account: &Account) -> bool {
    account
        .billing
        .as_ref()
        .is_some_and(|b| b.kind == smsgw_config::AccountKind::Marketing)
}

/// A refused charge as the API says it.
pub fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::InsufficientBalance { needed, left } => ApiError::InsufficientBalance { needed, left },
        Refusal::Frozen => ApiError::AccountFrozen,
        Refusal::Closed => ApiError::AccountClosed,
    }
}

/// A prepaid account that is closed may not use its keys.
pub fn check_open(view: &StateView, account: &Account) -> Result<(), ApiError> {
    if account.billing.is_none() {
        return Ok(());
    }
    let rec = view.accounts().account(&account.name)?;
    match rec.map(|r| r.status) {
        Some(AccountStatus::Closed) => Err(ApiError::AccountClosed),
        _ => Ok(()),
    }
}

/// Whether the texts may be sent: `Ok(false)` yes, `Ok(true)` only after
/// review (the account's rule is review and a text hit the list), `Err`
/// when rejected.
pub fn content<'a>(
    loaded: &Loaded,
    account: &Account,
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<bool, ApiError> {
    let marketing = marketing(account);
    let review = account
        .billing
        .as_ref()
        .is_some_and(|b| b.content == ContentAction::Review);
    let mut held = false;
    let mut seen = std::collections::HashSet::new();
    for t in texts {
        if !seen.insert(t) {
            continue;
        }
        match loaded.content.check(t, marketing) {
            Verdict::Clean => {}
            Verdict::Unsigned(rule) => return Err(ApiError::ContentRejected(rule.to_string())),
            Verdict::Banned(category) if review => {
                metrics::counter!("smsgw_content_held_total", "category" => category).increment(1);
                held = true;
            }
            Verdict::Banned(category) => {
                metrics::counter!("smsgw_content_rejected_total", "category" => category.clone())
                    .increment(1);
                return Err(ApiError::ContentRejected(format!(
                    "the text breaks the content rules (category: {category})"
                )));
            }
        }
    }
    Ok(held)
}

/// Splits `items` into those that may be sent to and the numbers (as
/// given) that opted out of `account`'s messages; `number` says whose
/// number an item is.
pub fn without_opt_outs<T>(
    view: &StateView,
    account: &str,
    items: Vec<T>,
    number: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, Vec<String>), ApiError> {
    let accounts = view.accounts();
    let mut keep = Vec::with_capacity(items.len());
    let mut out = Vec::new();
    for item in items {
        let n = number(&item);
        if accounts.opted_out(account, &smsgw_config::normalize_number(n))? {
            out.push(n.to_string());
        } else {
            keep.push(item);
        }
    }
    Ok((keep, out))
}
