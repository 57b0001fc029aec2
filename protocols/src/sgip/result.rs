//! SGIP 1.2 result / error codes: the `Result` byte of every response and
//! the `ErrorCode` of a REPORT share this one table (SGIP 1.2 appendix).
//!
//! Only names and texts for logs live here; what a session does about a
//! code (retry, back off, give up) is decided elsewhere.

/// Command received and accepted.
pub const OK: u32 = 0;
/// Illegal login: wrong name or password, or they do not match.
pub const ILLEGAL_LOGIN: u32 = 1;
/// A second BIND on a connection already bound.
pub const REPEATED_LOGIN: u32 = 2;
/// Too many connections from one node.
pub const TOO_MANY_CONNECTIONS: u32 = 3;
/// Login_Type of a BIND is wrong.
pub const BAD_LOGIN_TYPE: u32 = 4;
/// A parameter does not match its type or allowed range.
pub const BAD_PARAM_FORMAT: u32 = 5;
/// Illegal handset number (e.g. without the 86 prefix).
pub const ILLEGAL_NUMBER: u32 = 6;
/// Bad message id.
pub const BAD_MESSAGE_ID: u32 = 7;
/// Bad message length.
pub const BAD_LENGTH: u32 = 8;
/// Illegal sequence number: repeated or malformed.
pub const BAD_SEQUENCE: u32 = 9;
/// Illegal GNS operation.
pub const ILLEGAL_GNS_OPERATION: u32 = 10;
/// Node busy: its queue is full or it cannot serve for now. The SMG's
/// throttling answer: slow down and resend later.
pub const NODE_BUSY: u32 = 11;
/// Alias of [`NODE_BUSY`] under the name the other protocols use.
pub const THROTTLED: u32 = NODE_BUSY;
/// Destination unreachable: routed correctly but the next node cannot serve.
pub const UNREACHABLE: u32 = 21;
/// Routing error (e.g. sent to the wrong SMG).
pub const ROUTE_ERROR: u32 = 22;
/// No route to the destination node.
pub const NO_ROUTE: u32 = 23;
/// Invalid charge number (authentication failed).
pub const INVALID_CHARGE_NUMBER: u32 = 24;
/// The user cannot be reached (out of coverage, switched off).
pub const USER_UNAVAILABLE: u32 = 25;
/// Handset memory full.
pub const HANDSET_MEMORY_FULL: u32 = 26;
/// Handset does not support SMS.
pub const HANDSET_NO_SMS: u32 = 27;
/// Handset failed to receive the message.
pub const HANDSET_ERROR: u32 = 28;
/// Unknown user.
pub const UNKNOWN_USER: u32 = 29;
/// Function not provided.
pub const NOT_SUPPORTED: u32 = 30;
/// Illegal device.
pub const ILLEGAL_DEVICE: u32 = 31;
/// System failure.
pub const SYSTEM_FAILURE: u32 = 32;
/// SMSC queue full.
pub const SMSC_QUEUE_FULL: u32 = 33;

/// A short English description of a result code, for logs.
pub fn result_text(code: u32) -> &'static str {
    match code {
        OK => "ok",
        ILLEGAL_LOGIN => "illegal login",
        REPEATED_LOGIN => "repeated login",
        TOO_MANY_CONNECTIONS => "too many connections",
        BAD_LOGIN_TYPE => "bad login type",
        BAD_PARAM_FORMAT => "bad parameter format",
        ILLEGAL_NUMBER => "illegal handset number",
        BAD_MESSAGE_ID => "bad message id",
        BAD_LENGTH => "bad message length",
        BAD_SEQUENCE => "illegal sequence number",
        ILLEGAL_GNS_OPERATION => "illegal GNS operation",
        NODE_BUSY => "node busy",
        UNREACHABLE => "destination unreachable",
        ROUTE_ERROR => "routing error",
        NO_ROUTE => "no route",
        INVALID_CHARGE_NUMBER => "invalid charge number",
        USER_UNAVAILABLE => "user cannot be reached",
        HANDSET_MEMORY_FULL => "handset memory full",
        HANDSET_NO_SMS => "handset does not support SMS",
        HANDSET_ERROR => "handset receive error",
        UNKNOWN_USER => "unknown user",
        NOT_SUPPORTED => "function not provided",
        ILLEGAL_DEVICE => "illegal device",
        SYSTEM_FAILURE => "system failure",
        SMSC_QUEUE_FULL => "SMSC queue full",
        _ => "other error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(result_text(NODE_BUSY), "node busy");
        assert_eq!(result_text(THROTTLED), "node busy");
        assert_eq!(result_text(200), "other error");
    }
}
