//! The web console, served by every node at `/`: a small hand-written
//! JavaScript app (no toolchain, no CDN: every asset is embedded in the
//! binary) that calls the node's JSON API, plus the few endpoints the API
//! did not have — sign-in and sessions ([`login`], [`session`]), console
//! users ([`users`]), the live overview ([`live`]) and the cluster page
//! ([`cluster`]).
//!
//! It must never serve a page that needs the network beyond this node,
//! never give the browser a secret (passwords, keys, the session token in
//! script-readable form), and never widen what an account sees: the console
//! reads through the same account-scoped API as any key.

pub mod assets;
pub mod cluster;
pub mod desk;
pub mod error;
pub mod figures;
pub mod live;
pub mod login;
pub mod session;
pub mod users;

use axum::routing::{delete, get, post};
use axum::Router;

use crate::api::AppState;

/// The console's routes (merged into the API's router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(assets::index))
        .route("/console/assets/{name}", get(assets::asset))
        .route("/console/api/login", post(login::login))
        .route("/console/api/logout", post(login::logout))
        .route("/console/api/session", get(login::current))
        .route("/console/api/overview", get(live::overview))
        .route("/console/api/overview/events", get(live::events))
        .route(
            "/console/api/cluster/document",
            get(cluster::document).post(cluster::apply),
        )
        .route("/console/api/cluster/transfer", post(cluster::transfer))
        .route("/v1/admin/users", get(users::list).post(users::put))
        .route("/v1/admin/users/{name}", delete(users::remove))
}
