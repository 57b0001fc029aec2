//! The console's own error codes, in the API's envelope
//! `{"error": {"code", "message"}}` (plus `line` for a document error).
//! Every code here is listed in `openapi.json`; never rename one.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error of the console's sign-in and cluster endpoints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    /// Wrong username, password or key (401 `bad_credentials`).
    #[error("wrong username or password, or unknown key")]
    BadCredentials,
    /// A state-changing request with the session cookie but without its
    /// CSRF token (403 `csrf_failed`).
    #[error("missing or wrong x-csrf-token for this session: reload the page")]
    Csrf,
    /// Too many failed sign-ins for this name (429 `too_many_sign_ins`).
    #[error("too many failed sign-ins: wait {0} s")]
    TooManySignIns(u64),
    /// A cluster document that does not validate (422 `invalid_document`).
    #[error("{message}")]
    InvalidDocument {
        /// 1-based line, 0 when unknown.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl ConsoleError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ConsoleError::BadCredentials => "bad_credentials",
            ConsoleError::Csrf => "csrf_failed",
            ConsoleError::TooManySignIns(_) => "too_many_sign_ins",
            ConsoleError::InvalidDocument { .. } => "invalid_document",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::BadCredentials => StatusCode::UNAUTHORIZED,
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::TooManySignIns(_) => StatusCode::TOO_MANY_REQUESTS,
            ConsoleError::InvalidDocument { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"code": self.code(), "message": self.to_string()}});
        if let ConsoleError::InvalidDocument { line, .. } = &self {
            body["error"]["line"] = json!(line);
        }
        let mut resp = (self.status(), axum::Json(body)).into_response();
        if let ConsoleError::TooManySignIns(secs) = &self {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        resp
    }
}
