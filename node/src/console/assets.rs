//! The console's static files, embedded at build time (`include_str!`):
//! the page, its script and style, and the vendored uPlot chart library
//! (MIT, `assets/vendor/uPlot.LICENSE`). Served with a strict
//! Content-Security-Policy: scripts and styles from this node only.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;

const INDEX: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const I18N_JS: &str = include_str!("assets/i18n.js");
const PAGES_JS: &str = include_str!("assets/pages.js");
const ALARM_JS: &str = include_str!("assets/alarm.js");
const ROSTER_JS: &str = include_str!("assets/roster.js");
const BOOK_JS: &str = include_str!("assets/book.js");
const APP_CSS: &str = include_str!("assets/app.css");
const UPLOT_JS: &str = include_str!("assets/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/vendor/uPlot.min.css");

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// The file called `name`, with its content type.
pub fn lookup(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "i18n.js" => (I18N_JS, "text/javascript; charset=utf-8"),
        "pages.js" => (PAGES_JS, "text/javascript; charset=utf-8"),
        "alarm.js" => (ALARM_JS, "text/javascript; charset=utf-8"),
        "roster.js" => (ROSTER_JS, "text/javascript; charset=utf-8"),
        "book.js" => (BOOK_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "uPlot.iife.min.js" => (UPLOT_JS, "text/javascript; charset=utf-8"),
        "uPlot.min.css" => (UPLOT_CSS, "text/css; charset=utf-8"),
        _ => return None,
    })
}

/// `GET /`.
pub async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX,
    )
        .into_response()
}

/// `GET /console/assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    match lookup(&name) {
        Some((body, ty)) => (
            [
                (header::CONTENT_TYPE, ty),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        None => ApiError::NoSuchEndpoint.into_response(),
    }
}
