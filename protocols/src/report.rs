//! The one normalised delivery report every protocol's status report maps
//! into, so the reconciler above never looks at protocol details.
//!
//! The carrier message id is kept in its canonical display form (the same
//! string the protocol's submit-response id displays as), which is the key the
//! reconciler matches on. This module must never depend on a protocol module:
//! they depend on it.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// What finally became of a message, in the carrier-neutral words the API
/// and the metrics use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportState {
    Delivered,
    Expired,
    Undeliverable,
    Rejected,
    Unknown,
    Deleted,
}

impl ReportState {
    /// Maps the 7-character `stat` word the Chinese carriers and SMPP
    /// receipts use. Carrier-specific codes (anything else) count as
    /// undeliverable: the carrier did not deliver and told us why in its own
    /// words, which the report keeps in `stat`.
    pub fn from_stat(stat: &str) -> ReportState {
        match stat.trim_end_matches(['\0', ' ']) {
            "DELIVRD" => ReportState::Delivered,
            "EXPIRED" => ReportState::Expired,
            "DELETED" => ReportState::Deleted,
            "UNDELIV" => ReportState::Undeliverable,
            "REJECTD" => ReportState::Rejected,
            "UNKNOWN" | "ACCEPTD" | "ENROUTE" => ReportState::Unknown,
            _ => ReportState::Undeliverable,
        }
    }

    /// The 7-character `stat` word for this state (what a simulator writes).
    pub fn stat(self) -> &'static str {
        match self {
            ReportState::Delivered => "DELIVRD",
            ReportState::Expired => "EXPIRED",
            ReportState::Undeliverable => "UNDELIV",
            ReportState::Rejected => "REJECTD",
            ReportState::Unknown => "UNKNOWN",
            ReportState::Deleted => "DELETED",
        }
    }

    pub fn is_success(self) -> bool {
        self == ReportState::Delivered
    }
}

/// A delivery report from any carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    /// The id the carrier gave in its submit response, in canonical form.
    pub carrier_msg_id: String,
    pub state: ReportState,
    /// The carrier's own status word or code, as received (e.g. `DELIVRD`,
    /// `MK:0001`), for records and troubleshooting.
    pub stat: String,
    /// The carrier's error code (0 when none was given).
    pub error_code: u32,
    /// The handset the report is about, when the report says.
    pub destination: Option<String>,
    pub submit_time: Option<NaiveDateTime>,
    pub done_time: Option<NaiveDateTime>,
}

/// Parses the `YYMMDDHHMM` (10 digits) or `YYMMDDHHMMSS` (12 digits) times of
/// status reports; years are 20YY. `None` for anything else.
pub fn parse_report_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim_end_matches(['\0', ' ']);
    let padded;
    let s = match s.len() {
        10 => {
            padded = format!("20{s}00");
            padded.as_str()
        }
        12 => {
            padded = format!("20{s}");
            padded.as_str()
        }
        14 => s,
        _ => return None,
    };
    NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").ok()
}

/// Formats a time as the 10-digit `YYMMDDHHMM` status reports carry.
pub fn format_report_time(t: &NaiveDateTime) -> String {
    t.format("%y%m%d%H%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_words_map_both_ways() {
        for s in [
            ReportState::Delivered,
            ReportState::Expired,
            ReportState::Undeliverable,
            ReportState::Rejected,
            ReportState::Unknown,
            ReportState::Deleted,
        ] {
            assert_eq!(ReportState::from_stat(s.stat()), s);
        }
        assert_eq!(ReportState::from_stat("MK:0001"), ReportState::Undeliverable);
    }

    #[test]
    fn report_times_parse() {
        let t = parse_report_time("2611241200").unwrap();
        assert_eq!(format_report_time(&t), "2611241200");
        assert!(parse_report_time("26112412").is_none());
        assert!(parse_report_time("2613241200").is_none());
    }
}
