//! Times as our users read them: Asia/Shanghai (UTC+8 all year; China has
//! no daylight saving time since 1991, so a fixed offset is exact). Only
//! presentation and parsing live here; state keeps milliseconds since the
//! epoch.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone};

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

/// Days from 0001-01-01 to 1970-01-01 (chrono counts from the former).
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// The date of a Beijing day number (as `smsgw_state::stats::day` counts).
pub fn date_of(day: u32) -> NaiveDate {
    i32::try_from(day)
        .ok()
        .and_then(|d| NaiveDate::from_num_days_from_ce_opt(d + EPOCH_DAYS_FROM_CE))
        .unwrap_or_default()
}

/// The Beijing day number of a date.
pub fn day_of(date: NaiveDate) -> u32 {
    u32::try_from(date.num_days_from_ce() - EPOCH_DAYS_FROM_CE).unwrap_or(0)
}

/// `YYYY-MM-DD` (a Beijing date) or an RFC 3339 time, as ms since the
/// epoch: a date means its first millisecond, or with `end` the first of
/// the next day (so `until=2026-12-03` includes that whole day).
pub fn parse_bound(s: &str, end: bool) -> Option<u64> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(smsgw_state::stats::day_start_ms(day_of(d) + u32::from(end)));
    }
    parse(s)
}

/// The period a date falls in: `day` (2026-12-03), `week` (2026-W49, ISO
/// weeks from Monday) or `month` (2026-12).
pub fn period_of(date: NaiveDate, period: &str) -> String {
    match period {
        "week" => {
            let w = date.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        "month" => format!("{}-{:02}", date.year(), date.month()),
        _ => date.format("%Y-%m-%d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_show_in_beijing_and_parse_back() {
        let ms = super::parse("2026-12-03T01:30:00Z").unwrap_or(0);
        assert_eq!(super::show(ms), "2026-12-03T09:30:00+08:00");
        assert_eq!(super::parse(&super::show(ms)), Some(ms));
        // 2026-12-03 in Beijing starts at 2026-12-02T16:00Z.
        let start = super::parse_bound("2026-12-03", false).unwrap_or(0);
        assert_eq!(super::show(start), "2026-12-03T00:00:00+08:00");
        let end = super::parse_bound("2026-12-03", true).unwrap_or(0);
        assert_eq!(end - start, 86_400_000);
        let day = super::day_of(super::date_of(20_000));
        assert_eq!(day, 20_000);
        assert_eq!(super::period_of(super::date_of(day), "week"), "2024-W40");
    }
}
