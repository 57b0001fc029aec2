//! The HTTP API (axum): `/v1/messages`, `/v1/inbound`, `/openapi.json`,
//! `/healthz`, `/readyz`, `/metrics`. Handlers live by concept in the
//! submodules; this file builds the router and serves it with graceful
//! shutdown. Handlers never write to the replicated state except through
//! `Cluster::propose`, and never answer 2xx to a write before its commit.

mod error;
mod inbound;
pub(crate) mod internal;
mod messages;
mod ops;
mod state;
pub(crate) mod submit;

use std::future::Future;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use tokio::net::TcpListener;

pub use state::{now_ms, AppState, ReadyCheck};

/// The router over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/messages", post(messages::post_messages))
        .route("/v1/messages/{id}", get(messages::get_message))
        .route("/v1/inbound", get(inbound::get_inbound))
        .route("/internal/{*rest}", any(internal::internal))
        .route("/openapi.json", get(ops::openapi))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(ops::not_found)
        .layer(middleware::from_fn(track))
        .with_state(state)
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
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
        .await
}
