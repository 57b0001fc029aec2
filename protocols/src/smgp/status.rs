//! SMGP 3.0 status codes (the `Status` field of every response) and their
//! text for logs.
//!
//! The README lists no codes; these are the SMGP 3.0 spec's table
//! (错误代码表), as also used by the public implementations. This module must
//! never decide policy (what to retry): it only names codes.

/// Success.
pub const OK: u32 = 0;
/// System busy (系统忙).
pub const SYSTEM_BUSY: u32 = 1;
/// Exceeds the maximum number of connections (超过最大连接数).
pub const TOO_MANY_CONNECTIONS: u32 = 2;
/// Bad message structure (消息结构错).
pub const BAD_MESSAGE_STRUCTURE: u32 = 10;
/// Bad command word (命令字错).
pub const BAD_COMMAND: u32 = 11;
/// Repeated sequence number (序列号重复).
pub const REPEATED_SEQUENCE: u32 = 12;
/// Bad IP address (IP地址错).
pub const BAD_IP: u32 = 20;
/// Authentication failed (认证错).
pub const AUTH_FAILED: u32 = 21;
/// Version too high (版本太高).
pub const VERSION_TOO_HIGH: u32 = 22;
/// Illegal MsgType.
pub const ILLEGAL_MSG_TYPE: u32 = 30;
/// Illegal Priority.
pub const ILLEGAL_PRIORITY: u32 = 31;
/// Illegal FeeType.
pub const ILLEGAL_FEE_TYPE: u32 = 32;
/// Illegal FeeCode.
pub const ILLEGAL_FEE_CODE: u32 = 33;
/// Illegal MsgFormat.
pub const ILLEGAL_MSG_FORMAT: u32 = 34;
/// Illegal time format.
pub const ILLEGAL_TIME_FORMAT: u32 = 35;
/// Illegal MsgLength.
pub const ILLEGAL_MSG_LENGTH: u32 = 36;
/// Validity period already passed.
pub const EXPIRED: u32 = 37;
/// Illegal QueryType.
pub const ILLEGAL_QUERY_TYPE: u32 = 38;
/// Routing error.
pub const ROUTING_ERROR: u32 = 39;
/// Illegal FixedFee.
pub const ILLEGAL_FIXED_FEE: u32 = 40;
/// Illegal UpdateType.
pub const ILLEGAL_UPDATE_TYPE: u32 = 41;
/// Illegal RouteId.
pub const ILLEGAL_ROUTE_ID: u32 = 42;
/// Illegal ServiceID.
pub const ILLEGAL_SERVICE_ID: u32 = 43;
/// Illegal ValidTime.
pub const ILLEGAL_VALID_TIME: u32 = 44;
/// Illegal AtTime.
pub const ILLEGAL_AT_TIME: u32 = 45;
/// Illegal SrcTermID.
pub const ILLEGAL_SRC_TERM_ID: u32 = 46;
/// Illegal DestTermID.
pub const ILLEGAL_DEST_TERM_ID: u32 = 47;
/// Illegal ChargeTermID.
pub const ILLEGAL_CHARGE_TERM_ID: u32 = 48;
/// Illegal SPCode.
pub const ILLEGAL_SP_CODE: u32 = 49;
/// Illegal SrcGatewayID.
pub const ILLEGAL_SRC_GATEWAY_ID: u32 = 56;
/// Illegal QueryTermID.
pub const ILLEGAL_QUERY_TERM_ID: u32 = 57;
/// No matching route.
pub const NO_ROUTE: u32 = 58;
/// Illegal SPType.
pub const ILLEGAL_SP_TYPE: u32 = 59;
/// Illegal LastRouteID.
pub const ILLEGAL_LAST_ROUTE_ID: u32 = 60;
/// Illegal RouteType.
pub const ILLEGAL_ROUTE_TYPE: u32 = 61;
/// Illegal DestGatewayID.
pub const ILLEGAL_DEST_GATEWAY_ID: u32 = 62;
/// Illegal DestGatewayIP.
pub const ILLEGAL_DEST_GATEWAY_IP: u32 = 63;
/// Illegal DestGatewayPort.
pub const ILLEGAL_DEST_GATEWAY_PORT: u32 = 64;
/// Illegal TermRangeID.
pub const ILLEGAL_TERM_RANGE_ID: u32 = 65;
/// Illegal ProvinceCode.
pub const ILLEGAL_PROVINCE_CODE: u32 = 66;
/// Illegal UserType.
pub const ILLEGAL_USER_TYPE: u32 = 67;
/// This node does not support route updates.
pub const ROUTE_UPDATE_UNSUPPORTED: u32 = 68;
/// Illegal SPID.
pub const ILLEGAL_SP_ID: u32 = 69;
/// Illegal SPAccessType.
pub const ILLEGAL_SP_ACCESS_TYPE: u32 = 70;
/// Route update failed.
pub const ROUTE_UPDATE_FAILED: u32 = 71;
/// Illegal Time (timestamp).
pub const ILLEGAL_TIMESTAMP: u32 = 72;
/// Illegal MServiceID.
pub const ILLEGAL_MSERVICE_ID: u32 = 73;
/// The SP may not send at this time of day (SP禁止下发时段).
pub const SP_FORBIDDEN_PERIOD: u32 = 74;
/// The SP exceeded its daily volume (SP发送超过日流量).
pub const DAILY_QUOTA_EXCEEDED: u32 = 75;
/// The SP account has expired.
pub const ACCOUNT_EXPIRED: u32 = 76;

/// The code for "sending too fast".
///
/// SMGP 3.0 has no per-second flow-control code (75 is the *daily* volume
/// limit), so ISMGs answer a too-fast sender with "system busy", and so do we
/// (simulator) and so we treat it (retry later, slow down).
pub const THROTTLED: u32 = SYSTEM_BUSY;

/// A short English text for a status code, for logs.
pub fn status_text(code: u32) -> &'static str {
    match code {
        OK => "ok",
        SYSTEM_BUSY => "system busy",
        TOO_MANY_CONNECTIONS => "exceeds maximum connections",
        BAD_MESSAGE_STRUCTURE => "bad message structure",
        BAD_COMMAND => "bad command word",
        REPEATED_SEQUENCE => "repeated sequence id",
        BAD_IP => "bad IP address",
        AUTH_FAILED => "authentication failed",
        VERSION_TOO_HIGH => "version too high",
        ILLEGAL_MSG_TYPE => "illegal MsgType",
        ILLEGAL_PRIORITY => "illegal Priority",
        ILLEGAL_FEE_TYPE => "illegal FeeType",
        ILLEGAL_FEE_CODE => "illegal FeeCode",
        ILLEGAL_MSG_FORMAT => "illegal MsgFormat",
        ILLEGAL_TIME_FORMAT => "illegal time format",
        ILLEGAL_MSG_LENGTH => "illegal MsgLength",
        EXPIRED => "validity period expired",
        ILLEGAL_QUERY_TYPE => "illegal QueryType",
        ROUTING_ERROR => "routing error",
        ILLEGAL_FIXED_FEE => "illegal FixedFee",
        ILLEGAL_UPDATE_TYPE => "illegal UpdateType",
        ILLEGAL_ROUTE_ID => "illegal RouteId",
        ILLEGAL_SERVICE_ID => "illegal ServiceID",
        ILLEGAL_VALID_TIME => "illegal ValidTime",
        ILLEGAL_AT_TIME => "illegal AtTime",
        ILLEGAL_SRC_TERM_ID => "illegal SrcTermID",
        ILLEGAL_DEST_TERM_ID => "illegal DestTermID",
        ILLEGAL_CHARGE_TERM_ID => "illegal ChargeTermID",
        ILLEGAL_SP_CODE => "illegal SPCode",
        ILLEGAL_SRC_GATEWAY_ID => "illegal SrcGatewayID",
        ILLEGAL_QUERY_TERM_ID => "illegal QueryTermID",
        NO_ROUTE => "no matching route",
        ILLEGAL_SP_TYPE => "illegal SPType",
        ILLEGAL_LAST_ROUTE_ID => "illegal LastRouteID",
        ILLEGAL_ROUTE_TYPE => "illegal RouteType",
        ILLEGAL_DEST_GATEWAY_ID => "illegal DestGatewayID",
        ILLEGAL_DEST_GATEWAY_IP => "illegal DestGatewayIP",
        ILLEGAL_DEST_GATEWAY_PORT => "illegal DestGatewayPort",
        ILLEGAL_TERM_RANGE_ID => "illegal TermRangeID",
        ILLEGAL_PROVINCE_CODE => "illegal ProvinceCode",
        ILLEGAL_USER_TYPE => "illegal UserType",
        ROUTE_UPDATE_UNSUPPORTED => "route update not supported",
        ILLEGAL_SP_ID => "illegal SPID",
        ILLEGAL_SP_ACCESS_TYPE => "illegal SPAccessType",
        ROUTE_UPDATE_FAILED => "route update failed",
        ILLEGAL_TIMESTAMP => "illegal timestamp",
        ILLEGAL_MSERVICE_ID => "illegal MServiceID",
        SP_FORBIDDEN_PERIOD => "SP forbidden sending period",
        DAILY_QUOTA_EXCEEDED => "SP daily quota exceeded",
        ACCOUNT_EXPIRED => "SP account expired",
        3..=9 | 13..=19 | 23..=29 | 50..=55 | 77..=99 => "reserved",
        _ => "unknown status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(status_text(OK), "ok");
        assert_eq!(status_text(21), "authentication failed");
        assert_eq!(status_text(THROTTLED), "system busy");
        assert_eq!(status_text(75), "SP daily quota exceeded");
        assert_eq!(status_text(5), "reserved");
        assert_eq!(status_text(1000), "unknown status");
    }
}
