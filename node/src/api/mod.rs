//! The HTTP API (axum): `/v1/messages`, `/v1/inbound`, `/openapi.json`,
//! `/healthz`, `/readyz`, `/metrics`. Handlers live by concept in the
//! submodules; this file builds the router and serves it (HTTP, or HTTPS
//! with [`tls`]) with graceful shutdown. Handlers never write to the replicated state except through
//! `Cluster::propose`, and never answer 2xx to a write before its commit.

mod accounts;
pub(crate) mod alarm;
mod alarm_roster;
pub(crate) mod billing;
mod book;
mod callbacks;
pub(crate) mod error;
mod groups;
mod inbound;
pub(crate) mod internal;
mod jobs;
pub(crate) mod limits;
pub(crate) mod messages;
mod ops;
mod records;
mod server;
mod sessions;
pub(crate) mod state;
mod stats;
pub(crate) mod submit;
pub mod tls;

use std::future::Future;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::{any, get, post};

/// Largest CSV import (about 100,000 contacts).
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;
use axum::Router;
use tokio::net::TcpListener;

pub use error::ApiError;
pub(crate) use messages::authenticate;
pub use server::OverTls;
pub use state::{now_ms, AppState, ReadyCheck};

/// Largest request body (a full request of 1000 recipients and 1000
/// characters is about 30 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The router over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/messages", post(messages::post_messages))
        .route("/v1/messages/{id}", get(messages::get_message))
        .route("/v1/inbound", get(inbound::get_inbound))
        .route("/v1/contacts", post(book::create).get(book::list))
        .route(
            "/v1/contacts/import",
            post(book::import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/v1/contacts/export", get(book::export))
        .route(
            "/v1/contacts/{id}",
            get(book::get).patch(book::patch).delete(book::delete),
        )
        .route("/v1/groups", post(groups::create).get(groups::list))
        .route(
            "/v1/groups/{id}",
            get(groups::get).patch(groups::patch).delete(groups::delete),
        )
        .route("/v1/groups/{id}/members", get(groups::members))
        .route(
            "/v1/templates",
            post(groups::put_template).get(groups::list_templates),
        )
        .route(
            "/v1/templates/{name}",
            get(groups::get_template).delete(groups::delete_template),
        )
        .route("/v1/alarm/cases", get(alarm::list))
        .route("/v1/alarm/cases/{id}", get(alarm::get))
        .route("/v1/alarm/cases/{id}/{action}", post(alarm::act))
        .route("/v1/alarm/events", get(alarm::events))
        .route("/v1/alarm/stats", get(alarm_roster::stats))
        .route(
            "/v1/alarm/officers",
            get(alarm_roster::officers).post(alarm_roster::put_officer),
        )
        .route(
            "/v1/alarm/officers/{badge}",
            axum::routing::delete(alarm_roster::remove_officer),
        )
        .route("/v1/alarm/officers/{badge}/duty", post(alarm_roster::duty))
        .route(
            "/v1/alarm/groups",
            get(alarm_roster::groups).post(alarm_roster::put_group),
        )
        .route(
            "/v1/alarm/groups/{name}",
            axum::routing::delete(alarm_roster::remove_group),
        )
        .route(
            "/v1/alarm/rules",
            get(alarm_roster::rules)
                .post(alarm_roster::put_rule)
                .delete(alarm_roster::remove_rule),
        )
        .route("/v1/account", get(accounts::me))
        .route("/v1/accounts/{name}/ledger", get(accounts::ledger))
        .route("/v1/accounts/{name}/statement", get(accounts::statement))
        .route("/v1/optouts", get(accounts::optouts).post(accounts::add_optout))
        .route(
            "/v1/optouts/{number}",
            axum::routing::delete(accounts::remove_optout),
        )
        .route("/v1/admin/accounts/{name}", get(accounts::get))
        .route("/v1/admin/accounts/{name}/topups", post(accounts::topup))
        .route("/v1/admin/accounts/{name}/adjustments", post(accounts::adjust))
        .route("/v1/admin/sessions", get(sessions::list))
        .route("/v1/admin/review", get(accounts::review_list))
        .route("/v1/admin/review/{job}", post(accounts::review))
        .route("/v1/records", get(records::list))
        .route("/v1/stats", get(stats::get))
        .route("/v1/callbacks/deliveries", get(callbacks::deliveries))
        .route("/v1/jobs", get(jobs::list))
        .route("/v1/jobs/{id}", get(jobs::get).delete(jobs::cancel))
        .route("/internal/{*rest}", any(internal::internal))
        .route("/openapi.json", get(ops::openapi))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(crate::console::router())
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), limits::limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::console::session::bridge,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), storage_mark))
        .layer(middleware::from_fn(envelope))
        .layer(middleware::from_fn(track))
        .with_state(state)
}

/// Every error the HTTP layer makes by itself (405, 413, a rejected
/// extractor...) leaves as the `{"error": {"code", "message"}}` envelope.
async fn envelope(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return resp;
    }
    use axum::http::StatusCode as S;
    let e = match status {
        S::NOT_FOUND => error::ApiError::NoSuchEndpoint,
        S::METHOD_NOT_ALLOWED => error::ApiError::MethodNotAllowed,
        S::PAYLOAD_TOO_LARGE => error::ApiError::PayloadTooLarge,
        S::UNSUPPORTED_MEDIA_TYPE => error::ApiError::UnsupportedMediaType,
        s if s.is_server_error() => error::ApiError::Internal(format!("HTTP layer answered {s}")),
        s => error::ApiError::BadRequest(s),
    };
    e.into_response()
}

/// New messages, and new rows of the address book (contacts, imports,
/// groups, templates), are refused (507 `storage_full`) while the data
/// dir's disk is under the node's high-water mark; everything else (reads,
/// cancels, top-ups, reports forwarded by standbys, operations) goes on, so
/// what was accepted is still sent and reconciled.
async fn storage_mark(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let growing = ["/v1/messages", "/v1/contacts", "/v1/groups", "/v1/templates"]
        .iter()
        .any(|p| {
            path.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        });
    let writes_more = matches!(
        *req.method(),
        axum::http::Method::POST | axum::http::Method::PATCH
    ) && growing;
    if writes_more {
        if let Some(e) = state.storage.as_ref().and_then(|d| d.refusal()) {
            return e.into_response();
        }
    }
    next.run(req).await
}

/// Counts requests and their durations by route and status.
async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    let labels = [
        ("route", route),
        ("method", method),
        ("status", resp.status().as_u16().to_string()),
    ];
    metrics::counter!("smsgw_http_requests_total", &labels).increment(1);
    metrics::histogram!("smsgw_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    resp
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight
/// requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::serve(listener, router(state), tls, shutdown).await
}
