//! CMPP result and status codes with short texts for logs.
//!
//! One set of numbers serves SUBMIT_RESP/DELIVER_RESP `Result` and, with
//! different meanings from 2 up, CONNECT_RESP `Status`; both lists are here so
//! nobody compares against bare numbers. This module only names numbers.

/// Success (every response).
pub const OK: u32 = 0;
/// Bad message structure (every response).
pub const BAD_STRUCTURE: u32 = 1;
/// Bad command id (SUBMIT_RESP, DELIVER_RESP).
pub const BAD_COMMAND: u32 = 2;
/// Repeated sequence id.
pub const DUPLICATE_SEQUENCE: u32 = 3;
/// Bad message length.
pub const BAD_LENGTH: u32 = 4;
/// Bad fee code.
pub const BAD_FEE_CODE: u32 = 5;
/// Content longer than the maximum.
pub const TOO_LONG: u32 = 6;
/// Bad service id.
pub const BAD_SERVICE_ID: u32 = 7;
/// Flow control: the sender is too fast. Back off and retry; not a failure
/// of the message.
pub const THROTTLED: u32 = 8;
/// Same as [`THROTTLED`], by the spec's own name.
pub const FLOW_CONTROL: u32 = THROTTLED;

/// CONNECT_RESP: bad Source_Addr.
pub const CONNECT_BAD_SOURCE_ADDR: u32 = 2;
/// CONNECT_RESP: authentication failed.
pub const CONNECT_AUTH_FAILED: u32 = 3;
/// CONNECT_RESP: version too high.
pub const CONNECT_VERSION_TOO_HIGH: u32 = 4;

/// Text for a SUBMIT_RESP / DELIVER_RESP result.
pub fn result_text(code: u32) -> &'static str {
    match code {
        OK => "ok",
        BAD_STRUCTURE => "bad message structure",
        BAD_COMMAND => "bad command id",
        DUPLICATE_SEQUENCE => "repeated sequence id",
        BAD_LENGTH => "bad message length",
        BAD_FEE_CODE => "bad fee code",
        TOO_LONG => "message content too long",
        BAD_SERVICE_ID => "bad service id",
        THROTTLED => "flow control: too fast (throttled)",
        _ => "other error",
    }
}

/// Text for a CONNECT_RESP status.
pub fn connect_status_text(code: u32) -> &'static str {
    match code {
        OK => "ok",
        BAD_STRUCTURE => "bad message structure",
        CONNECT_BAD_SOURCE_ADDR => "bad source address",
        CONNECT_AUTH_FAILED => "authentication failed",
        CONNECT_VERSION_TOO_HIGH => "version too high",
        _ => "other error",
    }
}

/// Whether a submit result means "slow down and send again" rather than a
/// rejection of the message.
pub fn is_retryable(code: u32) -> bool {
    code == THROTTLED
}
