//! Callbacks to application servers, the sending side. On the leader only
//! (`leads_with_lease`), one supervisor loop keeps the replicated state in
//! step with the cluster document and one worker per account delivers:
//!
//! - it proposes the set of accounts with `callbacks` (apply then queues
//!   their messages' final states as report events);
//! - it tails the MO sequence from the replicated cursor and proposes the
//!   MOs' accounts (decided as `/v1/inbound` does, by the document in
//!   force): see `smsgw_state::events` for why the proposer decides;
//! - each account's worker reads its queue from the acknowledged cursor
//!   (at most [`deliver::WINDOW`] events), POSTs them signed, and proposes
//!   the acknowledgement once every one of them got a 2xx.
//!
//! At least once: an event leaves the replicated queue only after a
//! receiver answered 2xx, so a leader killed at any point leaves it for the
//! next one, which sends it again (the event id lets receivers drop the
//! repeat). Workers are separate tasks: one account's dead receiver never
//! delays another's. This module must never write state except through a
//! proposed command, and never send anything off the leader.

mod deliver;
pub mod status;

use std::collections::HashMap;
use std::time::Duration;

use smsgw_state::events::{EventsCommand, MAX_TAKE};
use smsgw_state::keys::counter;
use smsgw_state::{Command, Response};

use crate::api::state::AppState;
pub use deliver::{event_id, kind};
pub use status::Status;

/// How often the supervisor looks at the document and the MO sequence.
const TICK: Duration = Duration::from_millis(100);

/// Runs until the task is dropped.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = deliver::client();
        let mut workers: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
        loop {
            if state.cluster.leads_with_lease() {
                if let Err(e) = step(&state, &client, &mut workers).await {
                    tracing::warn!(error = %e, "callbacks: a step failed; retrying");
                }
            } else if !workers.is_empty() {
                // Whatever they had in flight is still queued: the next
                // leader sends it again.
                for (_, w) in workers.drain() {
                    w.abort();
                }
                state.callbacks.clear();
            }
            publish_pending(&state);
            tokio::time::sleep(TICK).await;
        }
    })
}

async fn propose(state: &AppState, cmd: EventsCommand) -> Result<Response, String> {
    smsgw_state::propose(&state.cluster, &Command::Events(cmd))
        .await
        .map_err(|e| e.to_string())
}

/// One pass: subscriptions, MOs, workers.
async fn step(
    state: &AppState,
    client: &deliver::HttpClient,
    workers: &mut HashMap<String, tokio::task::JoinHandle<()>>,
) -> Result<(), String> {
    let loaded = match state.config() {
        Ok(l) => l,
        // No document yet: nothing to subscribe, nothing to send.
        Err(crate::api::error::ApiError::NotConfigured) => return Ok(()),
        Err(e) => return Err(e.message()),
    };
    // Accounts whose events are queued: those with callbacks, and those
    // whose application sessions take them (`apps::delivery`).
    let mut wanted: Vec<String> = loaded
        .doc
        .accounts
        .iter()
        .filter(|a| a.callbacks.is_some() || crate::apps::delivery::takes_events(a))
        .map(|a| a.name.clone())
        .collect();
    wanted.sort();
    let view = smsgw_state::local_view(&state.cluster);
    let events = view.events();
    let mut subscribed = events.subscriptions().map_err(|e| e.to_string())?;
    subscribed.sort();
    let cursor = events.mo_cursor().map_err(|e| e.to_string())?;
    if subscribed != wanted || (cursor.is_none() && !wanted.is_empty()) {
        propose(
            state,
            EventsCommand::Subscribe {
                accounts: wanted.clone(),
            },
        )
        .await?;
        tracing::info!(accounts = ?wanted, "callbacks: subscriptions changed");
    }
    if let Some(after) = events.mo_cursor().map_err(|e| e.to_string())? {
        let last = view.counter(counter::MOS).map_err(|e| e.to_string())?;
        if last > after {
            let through = last.min(after + MAX_TAKE);
            let mut mos = Vec::new();
            for seq in after + 1..=through {
                let Some(mo) = view.mo(seq).map_err(|e| e.to_string())? else {
                    continue;
                };
                if let Some(a) = loaded.doc.account_for_mo(&mo.message.to) {
                    if a.callbacks.is_some() || crate::apps::delivery::takes_events(a) {
                        mos.push((a.name.clone(), seq));
                    }
                }
            }
            propose(state, EventsCommand::TakeMos { after, through, mos }).await?;
        }
    }
    wanted.retain(|name| {
        loaded
            .doc
            .accounts
            .iter()
            .any(|a| &a.name == name && a.callbacks.is_some())
    });
    workers.retain(|account, w| {
        let keep = wanted.contains(account) && !w.is_finished();
        if !keep {
            w.abort();
            state.callbacks.forget(account);
        }
        keep
    });
    for account in &wanted {
        if !workers.contains_key(account) {
            let w = tokio::spawn(deliver::run(state.clone(), client.clone(), account.clone()));
            workers.insert(account.clone(), w);
        }
    }
    Ok(())
}

/// `smsgw_callback_pending`: undelivered events of the subscribed
/// accounts, from this node's replicated state (every node reports it).
fn publish_pending(state: &AppState) {
    let events = smsgw_state::local_view(&state.cluster).events();
    let Ok(accounts) = events.subscriptions() else {
        return;
    };
    let pending: u64 = accounts
        .iter()
        .filter_map(|a| events.account(a).ok())
        .map(|m| m.pending())
        .sum();
    metrics::gauge!("smsgw_callback_pending").set(pending as f64);
}
