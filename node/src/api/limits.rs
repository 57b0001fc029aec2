//! Limits in front of the handlers: a global cap on requests in progress
//! (503 `overloaded`), and each account's `requests_per_sec` (token bucket),
//! `concurrent_requests` and `messages_per_day` from the cluster document
//! (429 `rate_limited` with `Retry-After`). A console session (cookie)
//! counts against its account like the account's key.
//!
//! The limits are per node: a cluster of N nodes lets an account through up
//! to N times its limits when it spreads its requests (a cluster-wide count
//! would cost a raft round trip per request). It must never block: a request
//! over a limit is answered at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use smsgw_config::Account;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;
use super::state::{now_ms, AppState};

/// Most requests in progress on one node, all accounts together.
pub const MAX_IN_FLIGHT: usize = 1024;

/// Per-node limit state.
pub struct Limiter {
    global: Arc<Semaphore>,
    accounts: Mutex<HashMap<String, AccountState>>,
}

struct AccountState {
    tokens: f64,
    refilled: Instant,
    concurrency: Option<(u32, Arc<Semaphore>)>,
    day: u64,
    today: u64,
}

impl Default for Limiter {
    fn default() -> Self {
        Self {
            global: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            accounts: Mutex::new(HashMap::new()),
        }
    }
}

fn today() -> u64 {
    now_ms() / 86_400_000
}

fn secs_to_midnight() -> u64 {
    let ms = 86_400_000 - now_ms() % 86_400_000;
    ms.div_ceil(1000).max(1)
}

impl Limiter {
    fn with<R>(&self, name: &str, f: impl FnOnce(&mut AccountState) -> R) -> R {
        let mut map = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        let st = map.entry(name.to_string()).or_insert_with(|| AccountState {
            tokens: f64::MAX,
            refilled: Instant::now(),
            concurrency: None,
            day: today(),
            today: 0,
        });
        f(st)
    }

    /// Takes one request from the account's rate and concurrency limits;
    /// the permit (if any) must live as long as the request.
    fn admit(&self, a: &Account) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
        self.with(&a.name, |st| {
            if let Some(rps) = a.requests_per_sec {
                let rps = f64::from(rps);
                let now = Instant::now();
                let elapsed = now.duration_since(st.refilled).as_secs_f64();
                st.tokens = (st.tokens.min(rps) + elapsed * rps).min(rps);
                st.refilled = now;
                if st.tokens < 1.0 {
                    let wait = ((1.0 - st.tokens) / rps).ceil().max(1.0) as u64;
                    metrics::counter!("smsgw_api_rate_limited_total", "limit" => "requests_per_sec")
                        .increment(1);
                    return Err(ApiError::RateLimited {
                        message: format!("account `{}` is over its {rps} requests per second", a.name),
                        retry_after: wait,
                    });
                }
                st.tokens -= 1.0;
            }
            let Some(max) = a.concurrent_requests else {
                st.concurrency = None;
                return Ok(None);
            };
            let sem = match &st.concurrency {
                Some((n, s)) if *n == max => s.clone(),
                _ => {
                    let s = Arc::new(Semaphore::new(max as usize));
                    st.concurrency = Some((max, s.clone()));
                    s
                }
            };
            match sem.try_acquire_owned() {
                Ok(p) => Ok(Some(p)),
                Err(_) => {
                    metrics::counter!("smsgw_api_rate_limited_total", "limit" => "concurrent_requests")
                        .increment(1);
                    Err(ApiError::RateLimited {
                        message: format!("account `{}` already has {max} requests in progress", a.name),
                        retry_after: 1,
                    })
                }
            }
        })
    }

    /// Counts `n` messages against the account's daily limit (UTC days).
    pub fn take_daily(&self, a: &Account, n: u64) -> Result<(), ApiError> {
        let Some(limit) = a.messages_per_day else {
            return Ok(());
        };
        self.with(&a.name, |st| {
            if st.day != today() {
                st.day = today();
                st.today = 0;
            }
            if st.today + n > limit {
                metrics::counter!("smsgw_api_rate_limited_total", "limit" => "messages_per_day").increment(1);
                return Err(ApiError::RateLimited {
                    message: format!(
                        "account `{}` has {} of its {limit} messages per day left, this request has {n}",
                        a.name,
                        limit.saturating_sub(st.today)
                    ),
                    retry_after: secs_to_midnight(),
                });
            }
            st.today += n;
            Ok(())
        })
    }

    /// Gives back messages counted by [`Limiter::take_daily`] that were not accepted.
    pub fn give_back_daily(&self, a: &Account, n: u64) {
        if a.messages_per_day.is_some() {
            self.with(&a.name, |st| st.today = st.today.saturating_sub(n));
        }
    }
}

/// The middleware: global cap, then the caller's account limits (a request
/// without a known key goes on to be answered 401 by its handler).
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Ok(_global) = state.limiter.global.clone().try_acquire_owned() else {
        metrics::counter!("smsgw_api_rate_limited_total", "limit" => "node_in_flight").increment(1);
        return ApiError::Overloaded.into_response();
    };
    let mut _account_permit = None;
    let path = req.uri().path();
    if path.starts_with("/v1/") || path.starts_with("/console/api/") {
        let auth = req
            .headers()
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let key = auth.and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
        if let (Some(key), Ok(loaded)) = (key, state.config()) {
            if let Some(a) = loaded.doc.account_by_key(key) {
                match state.limiter.admit(a) {
                    Ok(p) => _account_permit = p,
                    Err(e) => return e.into_response(),
                }
            }
        }
        // A console session (the cookie, bridged into `Authorization:
        // Session …`) counts against its account exactly like its key.
        if let Some(a) = session_account(&state, req.headers()) {
            match state.limiter.admit(&a) {
                Ok(p) => _account_permit = p,
                Err(e) => return e.into_response(),
            }
        }
    }
    next.run(req).await
}

/// The account of the request's console session, if it carries a valid
/// one that works for an account of the document in force (a bad session
/// goes on to be answered 401 by its handler).
fn session_account(state: &AppState, headers: &axum::http::HeaderMap) -> Option<Account> {
    let p = crate::console::session::principal(state, headers).ok()??;
    let name = p.account?;
    let loaded = state.config().ok()?;
    loaded.doc.accounts.iter().find(|a| a.name == name).cloned()
}

/// Refuses `messages` more for `account` when its unfinished messages (a
/// counter kept by apply, read from this node's state) would pass its
/// `[backlog]` cap: 429 `backlog_full`. Concurrent requests may pass the
/// cap by what they carry together; what was accepted is never dropped.
pub fn check_backlog(
    view: &smsgw_state::StateView,
    doc: &smsgw_config::ClusterDoc,
    account: &str,
    messages: u64,
) -> Result<(), ApiError> {
    let cap = doc.backlog.cap(account);
    let have = unfinished(view, account)?;
    if passes_cap(have, messages, cap) {
        metrics::counter!("smsgw_api_backlog_refused_total").increment(1);
        return Err(ApiError::BacklogFull {
            message: format!(
                "account `{account}` has {have} unfinished messages and a backlog cap of {cap} ([backlog] in the cluster document)"
            ),
            retry_after: BACKLOG_RETRY_SECS,
        });
    }
    Ok(())
}

/// `account`'s accepted and unfinished messages: the counter apply keeps
/// for its `[backlog]` cap.
pub fn unfinished(view: &smsgw_state::StateView, account: &str) -> Result<u64, smsgw_raft::ApplyError> {
    view.counter(&smsgw_state::keys::counter::backlog(account))
}

/// Whether `adding` messages to an account with `unfinished` take it past
/// its cap: the one rule of the `[backlog]` cap, for a request and for a
/// job's chunk alike.
pub fn passes_cap(unfinished: u64, adding: u64, cap: u64) -> bool {
    unfinished.saturating_add(adding) > cap
}

/// `Retry-After` of a full backlog: it drains at the carriers' pace.
const BACKLOG_RETRY_SECS: u64 = 5;
