//! Sign-in, sign-out and "who am I" for the console:
//! `POST /console/api/login` (`{"username","password"}` or `{"key"}`),
//! `POST /console/api/logout`, `GET /console/api/session`.
//!
//! Passwords are checked against the replicated argon2 hash on a blocking
//! thread (never on the async workers); an unknown username costs the same
//! hash check, so timing does not tell which names exist. Failed sign-ins
//! are limited per name ([`Failures`]). It must never log a password or a
//! key, and never tell whether the name or the password was wrong.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use smsgw_state::users::Role;

use super::error::ConsoleError;
use super::session::{self, Principal};
use crate::api::{now_ms, ApiError, AppState, OverTls};

/// Failed sign-ins allowed per name within [`WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(300);
/// Most names tracked at once; past it the limiter refuses everyone until
/// entries age out (fail closed rather than grow).
const MAX_TRACKED: usize = 10_000;

/// Failed sign-ins per name on this node.
#[derive(Default)]
pub struct Failures {
    by_name: HashMap<String, (u32, Instant)>,
}

impl Failures {
    /// Seconds to wait before `name` may try again, if it must wait.
    pub fn blocked(&mut self, name: &str, now: Instant) -> Option<u64> {
        if self.by_name.len() >= MAX_TRACKED {
            self.by_name
                .retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
            if self.by_name.len() >= MAX_TRACKED {
                return Some(WINDOW.as_secs());
            }
        }
        match self.by_name.get(name) {
            Some((n, since)) if *n >= MAX_FAILURES && now.duration_since(*since) < WINDOW => {
                Some((WINDOW - now.duration_since(*since)).as_secs().max(1))
            }
            _ => None,
        }
    }

    /// Counts a failure of `name`.
    pub fn failed(&mut self, name: &str, now: Instant) {
        let e = self.by_name.entry(name.to_string()).or_insert((0, now));
        if now.duration_since(e.1) >= WINDOW {
            *e = (0, now);
        }
        e.0 += 1;
    }

    /// A success clears the name's failures.
    pub fn succeeded(&mut self, name: &str) {
        self.by_name.remove(name);
    }
}

fn failures() -> &'static Mutex<Failures> {
    static F: OnceLock<Mutex<Failures>> = OnceLock::new();
    F.get_or_init(Mutex::default)
}

/// The argon2id hash (PHC string) of `password`, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches `hash` (a malformed hash matches nothing).
pub fn check_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A hash no password matches, checked for unknown names (same cost).
fn decoy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("decoy: never a password").unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: Option<String>,
    password: Option<String>,
    key: Option<String>,
}

fn answer(state: &AppState, p: &Principal, secure: bool) -> Response {
    let token = session::sign(&state.cluster.secret(), p);
    let body = who(state, p, &token);
    let mut resp = (StatusCode::OK, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session::set_cookie(Some(&token), secure));
    resp
}

fn who(state: &AppState, p: &Principal, token: &str) -> serde_json::Value {
    json!({
        "user": p.user,
        "role": p.role.name(),
        "account": p.account,
        "expires_at": crate::service::zone::show(p.expires_ms),
        "csrf": session::csrf(&state.cluster.secret(), token),
    })
}

/// `POST /console/api/login`.
pub async fn login(State(state): State<AppState>, tls: Option<Extension<OverTls>>, body: Bytes) -> Response {
    let body: LoginBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return ApiError::InvalidJson(e.to_string()).into_response(),
    };
    let name = match (&body.key, &body.username) {
        (Some(_), _) => "#key".to_string(),
        (None, Some(u)) => u.clone(),
        (None, None) => {
            return ApiError::InvalidJson("give `username` and `password`, or `key`".into()).into_response()
        }
    };
    let blocked = failures()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .blocked(&name, Instant::now());
    if let Some(secs) = blocked {
        metrics::counter!("smsgw_console_sign_ins_total", "result" => "limited").increment(1);
        return ConsoleError::TooManySignIns(secs).into_response();
    }
    let expires_ms = now_ms() + session::TTL_MS;
    let found = match (body.key, body.username) {
        (Some(key), _) => by_key(&state, key.trim(), expires_ms),
        (None, Some(user)) => by_password(&state, user, body.password.unwrap_or_default(), expires_ms).await,
        (None, None) => Ok(None),
    };
    let mut f = failures().lock().unwrap_or_else(|p| p.into_inner());
    match found {
        Ok(Some(p)) => {
            f.succeeded(&name);
            drop(f);
            metrics::counter!("smsgw_console_sign_ins_total", "result" => "ok").increment(1);
            answer(&state, &p, tls.is_some())
        }
        Ok(None) => {
            f.failed(&name, Instant::now());
            metrics::counter!("smsgw_console_sign_ins_total", "result" => "refused").increment(1);
            ConsoleError::BadCredentials.into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn by_key(state: &AppState, key: &str, expires_ms: u64) -> Result<Option<Principal>, ApiError> {
    let loaded = state.config()?;
    if loaded.doc.admin.admits(key) {
        return Ok(Some(Principal {
            user: "key:admin".into(),
            role: Role::Admin,
            account: None,
            expires_ms,
        }));
    }
    Ok(loaded.doc.account_by_key(key).map(|a| Principal {
        user: format!("key:{}", a.name),
        role: Role::Operator,
        account: Some(a.name.clone()),
        expires_ms,
    }))
}

async fn by_password(
    state: &AppState,
    user: String,
    password: String,
    expires_ms: u64,
) -> Result<Option<Principal>, ApiError> {
    // As new as the leader: a user made a moment ago on another node signs in here.
    let view = state.fresh_view().await?;
    let record = view.users().user(&user)?;
    let hash = record
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_string());
    let ok = tokio::task::spawn_blocking(move || check_password(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    Ok(record.filter(|_| ok).map(|r| Principal {
        user: r.username,
        role: r.role,
        account: r.account,
        expires_ms,
    }))
}

/// `POST /console/api/logout`: the cookie is cleared (the token itself
/// expires at its time; it is never logged or shown).
pub async fn logout(tls: Option<Extension<OverTls>>) -> Response {
    let mut resp = (StatusCode::OK, Json(json!({"signed_out": true}))).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session::set_cookie(None, tls.is_some()));
    resp
}

/// `GET /console/api/session`: who the cookie is, with its CSRF token
/// (`{"user": null}` without a session, or with an expired or unknown one).
pub async fn current(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match session::principal(&state, &headers) {
        Ok(Some(p)) => {
            let token = session::cookie(&headers).unwrap_or_default();
            Json(who(&state, &p, &token)).into_response()
        }
        // Not signed in is an answer, not an error: the page asks on every load.
        Ok(None) | Err(ApiError::Unauthorized) => Json(json!({"user": null})).into_response(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_block_a_name_for_the_window_only() {
        let mut f = Failures::default();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(f.blocked("wang", t0), None);
            f.failed("wang", t0);
        }
        assert!(f
            .blocked("wang", t0)
            .is_some_and(|s| s > 0 && s <= WINDOW.as_secs()));
        assert_eq!(f.blocked("li", t0), None, "another name is not blocked");
        assert_eq!(f.blocked("wang", t0 + WINDOW), None, "the window passed");
        f.failed("li", t0);
        f.succeeded("li");
        assert_eq!(f.by_name.get("li"), None);
    }

    #[test]
    fn a_password_checks_against_its_hash_only() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(check_password("correct horse", &h));
        assert!(!check_password("wrong horse", &h));
        assert!(!check_password("correct horse", "not a hash"));
    }
}
