//! Carrier clocks. Chinese ISMGs and SMGs check login timestamps (and SGIP
//! sequence numbers carry a time) against Beijing time, UTC+8 without
//! daylight saving, whatever zone the gateway's host runs in; a host on UTC
//! that used its local clock would be eight hours off and refused.
//!
//! Only the wall-clock read lives here; it never formats a protocol field.

use chrono::{Duration, NaiveDateTime, Utc};

/// Beijing time's offset from UTC (China has no daylight saving).
pub const BEIJING_UTC_OFFSET_SECS: i32 = 8 * 3600;

/// The wall-clock time now in the zone `offset_secs` east of UTC.
pub fn now_at_offset(offset_secs: i32) -> NaiveDateTime {
    Utc::now().naive_utc() + Duration::seconds(i64::from(offset_secs))
}

/// Beijing time now, independent of the host's TZ.
pub fn beijing_now() -> NaiveDateTime {
    now_at_offset(BEIJING_UTC_OFFSET_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_is_utc_plus_eight_hours() {
        let utc = Utc::now().naive_utc();
        let diff = beijing_now() - utc;
        assert!((diff - Duration::hours(8)).num_seconds().abs() <= 1, "{diff}");
    }
}
