//! Times as our users read them: Asia/Shanghai (UTC+8 all year; China has
//! no daylight saving time since 1991, so a fixed offset is exact). Only
//! presentation and parsing live here; state keeps milliseconds since the
//! epoch.

use chrono::{DateTime, FixedOffset, TimeZone};

/// UTC+8.
pub fn shanghai() -> FixedOffset {
    // 8 hours is always a valid offset.
    FixedOffset::east_opt(8 * 3600).expect("8 hours is a valid offset")
}

/// `ms` since the epoch as RFC 3339 in Asia/Shanghai.
pub fn show(ms: u64) -> String {
    match shanghai().timestamp_millis_opt(ms as i64).single() {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        None => ms.to_string(),
    }
}

/// An RFC 3339 time (any offset) as ms since the epoch.
pub fn parse(s: &str) -> Option<u64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .and_then(|t| u64::try_from(t.timestamp_millis()).ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_show_in_beijing_and_parse_back() {
        let ms = super::parse("2026-12-03T01:30:00Z").unwrap_or(0);
        assert_eq!(super::show(ms), "2026-12-03T09:30:00+08:00");
        assert_eq!(super::parse(&super::show(ms)), Some(ms));
    }
}
