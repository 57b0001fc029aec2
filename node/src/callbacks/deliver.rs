//! One account's worker: reads a window of its queue from the replicated
//! acknowledged cursor, POSTs each event (round robin over the account's
//! URLs by event sequence, failing over to the next URL, backing off after
//! a whole round failed), and proposes the acknowledgement once the whole
//! window got 2xx answers. It never acknowledges an event no receiver
//! answered 2xx, and never runs off the leader.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use sha2::Sha256;
use smsgw_config::Callbacks;
use smsgw_state::events::{Event, EventKind, EventsCommand};
use smsgw_state::{Command, Response};

use crate::api::state::{now_ms, AppState};

/// Most events of one account in flight at once.
pub const WINDOW: usize = 16;
/// How long one POST may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// First backoff after every URL failed once; doubles per round.
const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// Longest backoff between rounds.
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// How often an idle worker looks for new events.
const IDLE: Duration = Duration::from_millis(100);

/// The signature header: `sha256=HEX` of HMAC-SHA256(secret, raw body).
pub const SIGNATURE_HEADER: &str = "x-smsgw-signature";
/// When the attempt was made (ms since the Unix epoch).
pub const TIMESTAMP_HEADER: &str = "x-smsgw-timestamp";
/// The event id (also in the body).
pub const EVENT_ID_HEADER: &str = "x-smsgw-event-id";

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_secs(3)));
    Client::builder(TokioExecutor::new()).build(connector)
}

/// The id receivers deduplicate by: unique per account and sequence, the
/// same on every attempt and every leader.
pub fn event_id(account: &str, seq: u64) -> String {
    format!("{account}-{seq}")
}

pub fn kind(e: &Event) -> &'static str {
    match e.kind {
        EventKind::Mo { .. } => "mo",
        EventKind::Report { .. } => "report",
    }
}

/// The JSON body of an event (the same bytes on every attempt).
pub fn body(account: &str, e: &Event) -> Vec<u8> {
    let data = match &e.kind {
        EventKind::Mo { mo_seq, message } => json!({
            "seq": mo_seq,
            "carrier": message.carrier,
            "from": message.from,
            "to": message.to,
            "text": String::from_utf8_lossy(&message.payload),
            "received_at_ms": message.received_at_ms,
        }),
        EventKind::Report {
            message,
            to,
            state,
            parts,
            accepted_at_ms,
            final_at_ms,
        } => json!({
            "message_id": message,
            "to": to,
            "status": state,
            "parts": parts,
            "accepted_at_ms": accepted_at_ms,
            "final_at_ms": final_at_ms,
        }),
    };
    let v = json!({
        "id": event_id(account, e.seq),
        "account": account,
        "type": kind(e),
        "data": data,
    });
    v.to_string().into_bytes()
}

/// `sha256=HEX` over `body` with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn callbacks_of(state: &AppState, account: &str) -> Option<Callbacks> {
    let loaded = state.config().ok()?;
    let a = loaded.doc.accounts.iter().find(|a| a.name == account)?;
    a.callbacks.clone()
}

/// Runs until aborted (the supervisor does on losing leadership or when
/// the account's callbacks are removed).
pub async fn run(state: AppState, client: HttpClient, account: String) {
    loop {
        match window(&state, &client, &account).await {
            Ok(true) => {}
            Ok(false) => tokio::time::sleep(IDLE).await,
            Err(e) => {
                tracing::warn!(account = %account, error = %e, "callbacks: worker step failed; retrying");
                tokio::time::sleep(IDLE).await;
            }
        }
    }
}

/// Delivers one window; whether there was anything to deliver.
async fn window(state: &AppState, client: &HttpClient, account: &str) -> Result<bool, String> {
    if !state.cluster.leads_with_lease() || callbacks_of(state, account).is_none() {
        return Ok(false);
    }
    let events = smsgw_state::local_view(&state.cluster).events();
    let meta = events.account(account).map_err(|e| e.to_string())?;
    state.callbacks.set_queue(account, &meta);
    let batch = events
        .events(account, meta.acked, WINDOW)
        .map_err(|e| e.to_string())?;
    let Some(last) = batch.last().map(|e| e.seq) else {
        return Ok(false);
    };
    let sent = futures::future::join_all(batch.iter().map(|e| deliver(state, client, account, e))).await;
    if !sent.iter().all(|ok| *ok) {
        // Leadership or the account's callbacks went: nothing to retry here.
        return Ok(false);
    }
    let cmd = Command::Events(EventsCommand::Ack {
        account: account.to_string(),
        through: last,
    });
    match smsgw_state::propose(&state.cluster, &cmd).await {
        Ok(Response::Events(_)) => {
            for e in &batch {
                state.callbacks.done(account, e.seq);
            }
            Ok(true)
        }
        Ok(other) => Err(format!("unexpected answer to an ack: {other:?}")),
        Err(e) => Err(format!("proposing an ack: {e}")),
    }
}

/// Sends `e` until a receiver answers 2xx; `false` when this node stopped
/// leading or the account lost its callbacks first.
async fn deliver(state: &AppState, client: &HttpClient, account: &str, e: &Event) -> bool {
    let body = Bytes::from(body(account, e));
    let id = event_id(account, e.seq);
    state.callbacks.queued(account, e.seq, &id, kind(e));
    let mut attempt: u64 = 0;
    loop {
        if !state.cluster.leads_with_lease() {
            return false;
        }
        let Some(cb) = callbacks_of(state, account) else {
            return false;
        };
        let n = cb.urls.len().max(1) as u64;
        let Some(url) = cb.urls.get(url_index(e.seq, attempt, n)) else {
            return false;
        };
        let started = Instant::now();
        let result = post(client, url, &id, &cb.secret, body.clone()).await;
        metrics::histogram!("smsgw_callback_delivery_seconds").record(started.elapsed().as_secs_f64());
        attempt += 1;
        let word = match &result {
            Ok(s) if s.is_success() => "delivered",
            Ok(_) => "http_error",
            Err(_) => "transport_error",
        };
        metrics::counter!("smsgw_callback_deliveries_total", "result" => word).increment(1);
        let error = match result {
            Ok(s) if s.is_success() => None,
            Ok(s) => Some(format!("{url} answered {s}")),
            Err(m) => Some(format!("{url}: {m}")),
        };
        let wait = backoff_after(attempt, n);
        state.callbacks.attempted(
            account,
            e.seq,
            url,
            error.clone(),
            now_ms() + wait.as_millis() as u64,
        );
        let Some(error) = error else {
            return true;
        };
        tracing::debug!(account, event = %id, %error, "callback attempt failed");
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The URL of attempt `attempt` (0-based) of event `seq` among `n`: events
/// start round robin by sequence, and each failure moves to the next URL.
fn url_index(seq: u64, attempt: u64, n: u64) -> usize {
    (seq.wrapping_add(attempt) % n.max(1)) as usize
}

/// The wait after `attempts` failed attempts over `n` URLs: none while some
/// URL of this round is untried, then 100 ms doubling per round up to the cap.
fn backoff_after(attempts: u64, n: u64) -> Duration {
    let n = n.max(1);
    if attempts == 0 || !attempts.is_multiple_of(n) {
        return Duration::ZERO;
    }
    let round = (attempts / n - 1).min(20) as u32;
    BACKOFF_BASE.saturating_mul(1 << round).min(BACKOFF_CAP)
}

/// One POST; the status, or why there was none.
async fn post(
    client: &HttpClient,
    url: &str,
    id: &str,
    secret: &str,
    body: Bytes,
) -> Result<hyper::StatusCode, String> {
    let req = hyper::Request::post(url)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(EVENT_ID_HEADER, id)
        .header(TIMESTAMP_HEADER, now_ms().to_string())
        .header(SIGNATURE_HEADER, signature(secret, &body))
        .body(Full::new(body))
        .map_err(|e| format!("bad request: {e}"))?;
    let call = async {
        let r = client.request(req).await.map_err(|e| e.to_string())?;
        let status = r.status();
        // Read (and drop) the answer so the connection can be reused.
        let _ = r.into_body().collect().await;
        Ok::<_, String>(status)
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, call).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_spread_round_robin_and_fail_over_before_backing_off() {
        // Consecutive events start on consecutive URLs.
        assert_eq!((url_index(1, 0, 2), url_index(2, 0, 2)), (1, 0));
        // A failure moves to the next URL at once...
        assert_eq!(url_index(1, 1, 2), 0);
        assert_eq!(backoff_after(1, 2), Duration::ZERO);
        // ...and only a whole failed round waits, doubling, capped.
        assert_eq!(backoff_after(2, 2), Duration::from_millis(100));
        assert_eq!(backoff_after(4, 2), Duration::from_millis(200));
        assert_eq!(backoff_after(3, 1), Duration::from_millis(400));
        assert_eq!(backoff_after(1_000, 1), BACKOFF_CAP);
        assert_eq!(url_index(7, 3, 0), 0, "no URLs never divides by zero");
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body_in_hex() {
        // RFC 4231 test case 2.
        let s = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            s,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
