//! The API's errors: one enum, each variant with its HTTP status and stable
//! `code`, rendered as `{"error": {"code": "...", "message": "..."}}`. The
//! codes are the contract documented in `openapi.json`; never rename one.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use smsgw_raft::ProposeError;

/// An API error with its status and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The body is not JSON of the documented shape (400 `invalid_json`).
    InvalidJson(String),
    /// No, or an unknown, bearer key (401 `unauthorized`).
    Unauthorized,
    /// The account may not use this priority (403 `priority_not_allowed`).
    PriorityNotAllowed(String),
    /// No such message for this account (404 `not_found`).
    NotFound(String),
    /// No such endpoint (404 `not_found`).
    NoSuchEndpoint,
    /// A recipient is not a phone number (422 `invalid_number`).
    InvalidNumber(String),
    /// `to` is empty (422 `no_recipients`).
    NoRecipients,
    /// More recipients than one request may carry (422 `too_many_recipients`).
    TooManyRecipients(usize),
    /// `text` is empty (422 `empty_text`).
    EmptyText,
    /// `text` is longer than allowed (422 `text_too_long`).
    TextTooLong(String),
    /// `priority` is not alarm, high, normal or bulk (422 `unknown_priority`).
    UnknownPriority(String),
    /// `sender` is not an extension code (422 `invalid_sender`).
    InvalidSender(String),
    /// `client_ref` is malformed (422 `invalid_client_ref`).
    InvalidClientRef(String),
    /// A query parameter is malformed (422 `invalid_parameter`).
    InvalidParameter(String),
    /// No route takes a recipient (422 `no_route`).
    NoRoute(String),
    /// No cluster document applied yet (503 `not_configured`).
    NotConfigured,
    /// The cluster cannot commit now (503 `no_quorum`).
    NoQuorum(String),
    /// The write may or may not have committed: it was proposed and not
    /// confirmed in time (503 `outcome_unknown`; retry with the same
    /// `client_ref`, which has one effect either way).
    OutcomeUnknown(String),
    /// Something failed inside the node (500 `internal`).
    Internal(String),
    /// `sender` with the carrier's SP number does not fit the protocol's
    /// source field (400 `sender_too_long`).
    SenderTooLong(String),
    /// The text needs more parts than the route's carrier takes (its
    /// profile's `max_parts`; 400 `too_many_parts`).
    TooManyParts(String),
    /// The path exists, the method does not (405 `method_not_allowed`).
    MethodNotAllowed,
    /// The body is larger than the API takes (413 `payload_too_large`).
    PayloadTooLarge,
    /// The body is not `application/json` (415 `unsupported_media_type`).
    UnsupportedMediaType,
    /// Over one of the account's limits (429 `rate_limited`, with `Retry-After`).
    RateLimited {
        /// Which limit, for people.
        message: String,
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// The node takes no more requests now (503 `overloaded`, with `Retry-After`).
    Overloaded,
    /// No such contact, group, template or job for this account (404 `not_found`).
    Missing {
        /// `contact`, `group`, `template`, `job`.
        what: &'static str,
        /// Its id or name as given.
        id: String,
    },
    /// The request is well-formed JSON but cannot be done as asked (400,
    /// with a specific code such as `unfilled_variable`, `invalid_send_at`,
    /// `empty_group`).
    Invalid {
        /// The stable code.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// The change conflicts with what is stored (409 `conflict`).
    Conflict(String),
    /// The prepaid balance cannot pay for the request (402 `insufficient_balance`).
    InsufficientBalance {
        /// Parts the request needs.
        needed: u64,
        /// Parts left.
        left: u64,
    },
    /// The account is frozen: no top-up for too long (403 `account_frozen`).
    AccountFrozen,
    /// The account is closed (403 `account_closed`).
    AccountClosed,
    /// The text breaks the content rules (422 `content_rejected`); says the
    /// category or the rule, never the word list.
    ContentRejected(String),
    /// The key is valid but may not do this (403 `forbidden`).
    Forbidden(String),
    /// Any other 4xx the HTTP layer produced (`bad_request`).
    BadRequest(StatusCode),
    /// The node's disk is (nearly) full: under its high-water mark, or a
    /// write failed for lack of space (507 `storage_full`). Nothing was
    /// accepted; messages already accepted are still sent.
    StorageFull(String),
    /// The node's storage failed with another I/O error (503 `storage_failed`);
    /// nothing was accepted.
    StorageFailed(String),
    /// A queue on the accept path, or the account's backlog of unfinished
    /// messages, is at its bound (429 `backlog_full`, with `Retry-After`):
    /// nothing of the request was accepted.
    BacklogFull {
        /// Which bound, for people.
        message: String,
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
}

impl ApiError {
    /// A failure inside the node (500 `internal`), from anything that says
    /// what went wrong.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            InvalidJson(_) => StatusCode::BAD_REQUEST,
            Unauthorized => StatusCode::UNAUTHORIZED,
            PriorityNotAllowed(_) => StatusCode::FORBIDDEN,
            NotFound(_) | NoSuchEndpoint | Missing { .. } => StatusCode::NOT_FOUND,
            Invalid { .. } => StatusCode::BAD_REQUEST,
            Conflict(_) => StatusCode::CONFLICT,
            InsufficientBalance { .. } => StatusCode::PAYMENT_REQUIRED,
            AccountFrozen | AccountClosed | Forbidden(_) => StatusCode::FORBIDDEN,
            ContentRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            InvalidNumber(_) | NoRecipients | TooManyRecipients(_) | EmptyText | TextTooLong(_)
            | UnknownPriority(_) | InvalidSender(_) | InvalidClientRef(_) | InvalidParameter(_)
            | NoRoute(_) => StatusCode::UNPROCESSABLE_ENTITY,
            NotConfigured | NoQuorum(_) | OutcomeUnknown(_) | Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            SenderTooLong(_) | TooManyParts(_) => StatusCode::BAD_REQUEST,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RateLimited { .. } | BacklogFull { .. } => StatusCode::TOO_MANY_REQUESTS,
            BadRequest(s) => *s,
            StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            StorageFailed(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            InvalidJson(_) => "invalid_json",
            Unauthorized => "unauthorized",
            PriorityNotAllowed(_) => "priority_not_allowed",
            NotFound(_) | NoSuchEndpoint | Missing { .. } => "not_found",
            Invalid { code, .. } => code,
            Conflict(_) => "conflict",
            InsufficientBalance { .. } => "insufficient_balance",
            AccountFrozen => "account_frozen",
            AccountClosed => "account_closed",
            ContentRejected(_) => "content_rejected",
            Forbidden(_) => "forbidden",
            InvalidNumber(_) => "invalid_number",
            NoRecipients => "no_recipients",
            TooManyRecipients(_) => "too_many_recipients",
            EmptyText => "empty_text",
            TextTooLong(_) => "text_too_long",
            UnknownPriority(_) => "unknown_priority",
            InvalidSender(_) => "invalid_sender",
            InvalidClientRef(_) => "invalid_client_ref",
            InvalidParameter(_) => "invalid_parameter",
            NoRoute(_) => "no_route",
            NotConfigured => "not_configured",
            NoQuorum(_) => "no_quorum",
            OutcomeUnknown(_) => "outcome_unknown",
            Internal(_) => "internal",
            SenderTooLong(_) => "sender_too_long",
            TooManyParts(_) => "too_many_parts",
            MethodNotAllowed => "method_not_allowed",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            RateLimited { .. } => "rate_limited",
            Overloaded => "overloaded",
            BadRequest(_) => "bad_request",
            StorageFull(_) => "storage_full",
            StorageFailed(_) => "storage_failed",
            BacklogFull { .. } => "backlog_full",
        }
    }

    /// The message for people.
    pub fn message(&self) -> String {
        use ApiError::*;
        match self {
            InvalidJson(m) => format!("the body is not valid JSON for this request: {m}"),
            Unauthorized => "missing or unknown API key: send `Authorization: Bearer <key>`".into(),
            PriorityNotAllowed(p) => format!("this account may not send with priority `{p}`"),
            NotFound(id) => format!("no message `{id}` for this account"),
            NoSuchEndpoint => "no such endpoint; see /openapi.json".into(),
            Missing { what, id } => format!("no {what} `{id}` for this account"),
            Invalid { message, .. } => message.clone(),
            Conflict(m) => m.clone(),
            InsufficientBalance { needed, left } => format!(
                "the request needs {needed} parts and the account has {left} left: nothing of it was accepted; top up and retry"
            ),
            AccountFrozen => "the account is frozen (no top-up for too long): a top-up unfreezes it; receiving goes on".into(),
            AccountClosed => "the account is closed (no top-up for too long): ask the operator".into(),
            ContentRejected(m) => m.clone(),
            Forbidden(m) => m.clone(),
            InvalidNumber(n) => {
                format!("`{n}` is not a phone number: 5 to 21 characters, digits with an optional leading +")
            }
            NoRecipients => "`to` must list at least one number".into(),
            TooManyRecipients(n) => {
                format!(
                    "{n} recipients: at most {} per request",
                    super::submit::MAX_RECIPIENTS
                )
            }
            EmptyText => "`text` must not be empty".into(),
            TextTooLong(m) => m.clone(),
            UnknownPriority(p) => format!("`{p}` is not a priority: use alarm, high, normal or bulk"),
            InvalidSender(s) => format!("`sender` `{s}` is not an extension code: 1 to 12 digits"),
            InvalidClientRef(m) => m.clone(),
            InvalidParameter(m) => m.clone(),
            NoRoute(n) => format!("no route takes `{n}`: add a route (or `*`) to the cluster document"),
            NotConfigured => "no cluster document applied yet: `smsgw config apply FILE`".into(),
            NoQuorum(m) => format!("the cluster cannot accept messages now: {m}"),
            OutcomeUnknown(m) => format!(
                "the outcome is unknown ({m}); retry with the same client_ref: it takes effect once either way"
            ),
            Internal(m) => format!("internal error: {m}"),
            SenderTooLong(m) | TooManyParts(m) => m.clone(),
            MethodNotAllowed => "this path does not take this method; see /openapi.json".into(),
            PayloadTooLarge => format!("the body is larger than {} bytes", super::MAX_BODY_BYTES),
            UnsupportedMediaType => "send the body as `Content-Type: application/json`".into(),
            RateLimited { message, retry_after } => format!("{message}; retry after {retry_after} s"),
            Overloaded => "the node is at its limit of requests in progress; retry shortly".into(),
            BadRequest(s) => format!("the request was refused by the HTTP layer ({s})"),
            StorageFull(m) => format!(
                "this node's disk is full, it accepts no new messages until space is freed: {m}; \
                 messages already accepted are still sent; retry later or through another node"
            ),
            StorageFailed(m) => format!(
                "this node's storage failed, it accepts no new messages until it recovers: {m}; retry later"
            ),
            BacklogFull { message, retry_after } => {
                format!("{message}: nothing of this request was accepted; retry after {retry_after} s")
            }
        }
    }
}

impl From<ProposeError> for ApiError {
    fn from(e: ProposeError) -> Self {
        match e {
            // Proposed and not confirmed in time: it may still commit.
            ProposeError::Timeout { waited_ms } => {
                ApiError::OutcomeUnknown(format!("not confirmed committed within {waited_ms} ms"))
            }
            // Raft stopped while the write was in flight: it may have
            // committed before the failure.
            ProposeError::Storage {
                may_have_committed: true,
                ref reason,
                node,
                ..
            } => ApiError::OutcomeUnknown(format!(
                "the storage of node {node} failed during the write: {reason}"
            )),
            ProposeError::Storage { full: true, .. } => ApiError::StorageFull(e.to_string()),
            ProposeError::Storage { .. } => ApiError::StorageFailed(e.to_string()),
            ProposeError::Backlog { .. } => ApiError::BacklogFull {
                message: e.to_string(),
                retry_after: 1,
            },
            other => ApiError::NoQuorum(other.to_string()),
        }
    }
}

impl From<smsgw_raft::ApplyError> for ApiError {
    /// A read of the applied state. The disk's faults are said as such:
    /// sled fails every read after its first I/O error (a full disk, until
    /// raft is rebuilt), and the store is closed while it is reopened; the
    /// caller may retry later or through another node. Anything else is ours.
    fn from(e: smsgw_raft::ApplyError) -> Self {
        let text = e.to_string();
        match e.is_disk_fault() {
            true if smsgw_raft::error::is_disk_full(&text) => ApiError::StorageFull(text),
            true => ApiError::StorageFailed(text),
            false => ApiError::Internal(text),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // One line per error code per interval: a client retrying into a
        // full disk must not fill the log disk next.
        if self.status().is_server_error() {
            smsgw_actors::warn_limited!(
                format!("api/{}", self.code()),
                code = self.code(),
                "{}",
                self.message()
            );
        }
        let body = json!({"error": {"code": self.code(), "message": self.message()}});
        let retry = match &self {
            ApiError::RateLimited { retry_after, .. } | ApiError::BacklogFull { retry_after, .. } => {
                Some(*retry_after)
            }
            ApiError::Overloaded => Some(1),
            _ => None,
        };
        let mut resp = (self.status(), axum::Json(body)).into_response();
        if let Some(secs) = retry {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_timeout_is_outcome_unknown_and_a_missing_majority_is_no_quorum() {
        let timeout = ApiError::from(ProposeError::Timeout { waited_ms: 5000 });
        assert_eq!(timeout.code(), "outcome_unknown");
        assert_eq!(timeout.status(), StatusCode::SERVICE_UNAVAILABLE);
        let no_leader = ApiError::from(ProposeError::NoLeader { waited_ms: 5000 });
        assert_eq!(no_leader.code(), "no_quorum");
        let no_quorum = ApiError::from(ProposeError::NoQuorum {
            leader: 1,
            since_ack_ms: 3000,
        });
        assert_eq!(no_quorum.code(), "no_quorum");
    }

    #[test]
    fn a_storage_failure_is_never_no_quorum() {
        let storage = |full, may_have_committed| {
            ApiError::from(ProposeError::Storage {
                node: 1,
                reason: "when Write StateMachine: No space left on device".into(),
                full,
                may_have_committed,
            })
        };
        let full = storage(true, false);
        assert_eq!((full.code(), full.status().as_u16()), ("storage_full", 507));
        assert!(full.message().contains("No space left"), "{}", full.message());
        let failed = storage(false, false);
        assert_eq!((failed.code(), failed.status().as_u16()), ("storage_failed", 503));
        let in_flight = storage(true, true);
        assert_eq!(in_flight.code(), "outcome_unknown");
    }

    #[test]
    fn a_read_while_the_store_is_reopened_is_503_storage_failed_not_internal() {
        let reopening = ApiError::from(smsgw_raft::ApplyError::Reopening);
        assert_eq!(
            (reopening.code(), reopening.status().as_u16()),
            ("storage_failed", 503)
        );
        assert!(reopening.message().contains("retry"), "{}", reopening.message());
        let codec = smsgw_raft::ApplyError::Codec(smsgw_raft::codec::CodecError::Framing("cut short"));
        assert_eq!(ApiError::from(codec).code(), "internal");
    }

    #[test]
    fn a_read_that_sled_fails_after_an_io_error_names_the_disk() {
        let io =
            |kind, text: &str| ApiError::from(smsgw_raft::ApplyError::io(std::io::Error::new(kind, text)));
        let full = io(
            std::io::ErrorKind::StorageFull,
            "No space left on device (os error 28)",
        );
        assert_eq!((full.code(), full.status().as_u16()), ("storage_full", 507));
        let failed = io(std::io::ErrorKind::Other, "Input/output error (os error 5)");
        assert_eq!((failed.code(), failed.status().as_u16()), ("storage_failed", 503));
    }

    #[test]
    fn a_full_proposal_queue_is_429_backlog_full_with_retry_after() {
        let e = ApiError::from(ProposeError::Backlog { node: 2, queued: 16 });
        assert_eq!((e.code(), e.status().as_u16()), ("backlog_full", 429));
        let r = e.into_response();
        assert_eq!(r.headers()[axum::http::header::RETRY_AFTER], "1");
    }
}
