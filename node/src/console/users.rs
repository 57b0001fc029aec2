//! The admin API for console users: `GET /v1/admin/users`,
//! `POST /v1/admin/users` (create or replace), `DELETE /v1/admin/users/{name}`.
//! Admins only (an admin key, or an admin's session). Passwords are hashed
//! here, before the command is proposed: the replicated state and its log
//! never see one in clear, and answers never carry the hash.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use smsgw_state::users::{Role, UserCommand, UserRecord, UserResponse, MAX_USERNAME};
use smsgw_state::{Command, Response as Committed};

use crate::api::{now_ms, ApiError, AppState};

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 8;

/// Whether the caller is an admin: an admin key or an admin's session.
pub fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match super::session::is_admin(state, headers)? {
        Some(true) => return Ok(()),
        Some(false) => return Err(ApiError::Forbidden("this needs an admin".into())),
        None => {}
    }
    let loaded = state.config()?;
    let key = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match key {
        Some(k) if loaded.doc.admin.admits(k) => Ok(()),
        Some(k) if loaded.doc.account_by_key(k).is_some() => Err(ApiError::Forbidden(
            "this needs an admin key (`[admin] api_keys`)".into(),
        )),
        _ => Err(ApiError::Unauthorized),
    }
}

/// Checks a new user's fields; the record to store (password hashed).
pub fn new_user(
    username: &str,
    password: &str,
    role: &str,
    account: Option<String>,
    known_account: impl Fn(&str) -> bool,
) -> Result<UserRecord, ApiError> {
    let bad = |m: String| ApiError::InvalidParameter(m);
    if username.is_empty()
        || username.chars().count() > MAX_USERNAME
        || username.starts_with("key:")
        || username
            .chars()
            .any(|c| c == '|' || c.is_control() || c.is_whitespace())
    {
        return Err(bad(format!(
            "`username` must be 1 to {MAX_USERNAME} characters without spaces or `|`, not starting with `key:`"
        )));
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(bad(format!(
            "`password` must be at least {MIN_PASSWORD} characters"
        )));
    }
    let role = Role::parse(role).ok_or_else(|| {
        bad(format!(
            "`role` `{role}` is not admin, operator, dispatcher or officer"
        ))
    })?;
    match &account {
        Some(a) if !known_account(a) => {
            return Err(bad(format!("`account` `{a}` is not in the cluster document")))
        }
        None if role != Role::Admin => {
            return Err(bad("`account` is required for every role but admin".into()))
        }
        _ => {}
    }
    Ok(UserRecord {
        username: username.to_string(),
        password_hash: super::login::hash_password(password)?,
        role,
        account,
        changed_ms: now_ms(),
    })
}

fn show(u: &UserRecord) -> serde_json::Value {
    json!({
        "username": u.username,
        "role": u.role.name(),
        "account": u.account,
        "changed_at": crate::service::zone::show(u.changed_ms),
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/admin/users`.
pub async fn list(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    if let Err(e) = require_admin(&state, &headers) {
        return e.into_response();
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let view = smsgw_state::local_view(&state.cluster);
    match view.users().list(q.after.as_deref(), limit) {
        Ok(users) => Json(json!({"users": users.iter().map(show).collect::<Vec<_>>()})).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutBody {
    username: String,
    password: String,
    role: String,
    account: Option<String>,
}

/// `POST /v1/admin/users`.
pub async fn put(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = require_admin(&state, &headers) {
        return e.into_response();
    }
    let b: PutBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return ApiError::InvalidJson(e.to_string()).into_response(),
    };
    let loaded = match state.config() {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let names: Vec<String> = loaded.doc.accounts.iter().map(|a| a.name.clone()).collect();
    // argon2 takes tens of milliseconds: off the async workers.
    let made = tokio::task::spawn_blocking(move || {
        new_user(&b.username, &b.password, &b.role, b.account, |a| {
            names.iter().any(|n| n == a)
        })
    })
    .await;
    let user = match made {
        Ok(Ok(u)) => u,
        Ok(Err(e)) => return e.into_response(),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let shown = show(&user);
    match smsgw_state::propose(&state.cluster, &Command::Users(UserCommand::Put(user))).await {
        Ok(Committed::Users(UserResponse::Put { created })) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(shown)).into_response()
        }
        Ok(other) => ApiError::internal(format!("unexpected answer {other:?}")).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `DELETE /v1/admin/users/{name}`.
pub async fn remove(State(state): State<AppState>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    if let Err(e) = require_admin(&state, &headers) {
        return e.into_response();
    }
    let cmd = Command::Users(UserCommand::Remove {
        username: name.clone(),
    });
    match smsgw_state::propose(&state.cluster, &cmd).await {
        Ok(Committed::Users(UserResponse::Removed { existed: true })) => {
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Committed::Users(UserResponse::Removed { existed: false })) => ApiError::Missing {
            what: "user",
            id: name,
        }
        .into_response(),
        Ok(other) => ApiError::internal(format!("unexpected answer {other:?}")).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
