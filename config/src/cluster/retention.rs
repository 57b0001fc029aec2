//! How long the replicated state keeps what is finished (`[retention]`):
//!
//! ```toml
//! [retention]
//! records_days = 180        # closed messages (parts, carrier ids), counted from their close, and MOs
//! client_ref_hours = 24     # a client_ref (and an MO dedupe key) is remembered this long
//! purge_every_secs = 60     # how often the leader proposes a purge
//! # records_ms = 5000      # tests only: a window in ms instead (wins over the above)
//! # client_ref_ms = 2000
//! ```
//!
//! Statistics (per day) are never purged. Nothing here deletes anything:
//! the leader's retention worker does, with these values.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::spans::Ctx;
use crate::ConfigError;

type S<T> = Spanned<T>;

/// The retention windows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Days closed messages (from their close) and MOs (from their arrival) are kept.
    pub records_days: u64,
    /// Hours a `client_ref` is remembered.
    pub client_ref_hours: u64,
    /// Seconds between the leader's purges.
    pub purge_every_secs: u64,
    /// Tests: the records window in ms (wins over `records_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records_ms: Option<u64>,
    /// Tests: the client_ref window in ms (wins over `client_ref_hours`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ref_ms: Option<u64>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            records_days: 180,
            client_ref_hours: 24,
            purge_every_secs: 60,
            records_ms: None,
            client_ref_ms: None,
        }
    }
}

impl Retention {
    /// The records window in ms.
    pub fn records_window_ms(&self) -> u64 {
        self.records_ms
            .unwrap_or(self.records_days.saturating_mul(86_400_000))
    }

    /// The client_ref window in ms. Never longer than the records window:
    /// a remembered request must still find the messages it answers with.
    pub fn client_ref_window_ms(&self) -> u64 {
        self.client_ref_ms
            .unwrap_or(self.client_ref_hours.saturating_mul(3_600_000))
            .min(self.records_window_ms())
    }

    /// Time between purges in ms (a quarter of the shortest window when
    /// that is shorter, so a test window is honoured promptly).
    pub fn purge_every_ms(&self) -> u64 {
        let shortest = self.client_ref_window_ms().min(self.records_window_ms());
        (self.purge_every_secs * 1000).min(shortest / 4).max(100)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    records_days: Option<S<i64>>,
    client_ref_hours: Option<S<i64>>,
    purge_every_secs: Option<S<i64>>,
    records_ms: Option<S<i64>>,
    client_ref_ms: Option<S<i64>>,
}

pub(super) fn parse(ctx: &Ctx<'_>, raw: Option<RawRetention>) -> Result<Retention, ConfigError> {
    let d = Retention::default();
    let Some(raw) = raw else { return Ok(d) };
    let ms = |key: &str, v: Option<S<i64>>| -> Result<Option<u64>, ConfigError> {
        match v {
            None => Ok(None),
            v => Ok(Some(ctx.int(key, v, 100, 10 * 366 * 86_400_000, 0)? as u64)),
        }
    };
    Ok(Retention {
        records_days: ctx.int(
            "retention.records_days",
            raw.records_days,
            1,
            3660,
            d.records_days as i64,
        )? as u64,
        client_ref_hours: ctx.int(
            "retention.client_ref_hours",
            raw.client_ref_hours,
            1,
            24 * 366,
            d.client_ref_hours as i64,
        )? as u64,
        purge_every_secs: ctx.int(
            "retention.purge_every_secs",
            raw.purge_every_secs,
            1,
            86_400,
            d.purge_every_secs as i64,
        )? as u64,
        records_ms: ms("retention.records_ms", raw.records_ms)?,
        client_ref_ms: ms("retention.client_ref_ms", raw.client_ref_ms)?,
    })
}

#[cfg(test)]
mod tests {
    use crate::ClusterDoc;

    #[test]
    fn defaults_and_test_windows_and_errors_that_name_the_key() {
        let d = ClusterDoc::from_toml_str("", "c.toml").unwrap().retention;
        assert_eq!(d.records_window_ms(), 180 * 86_400_000);
        assert_eq!(d.client_ref_window_ms(), 24 * 3_600_000);
        assert_eq!(d.purge_every_ms(), 60_000);
        let t = "[retention]\nrecords_ms = 4000\nclient_ref_ms = 9000\n";
        let r = ClusterDoc::from_toml_str(t, "c.toml").unwrap().retention;
        assert_eq!(r.records_window_ms(), 4000);
        // A key never outlives the records it answers with.
        assert_eq!(r.client_ref_window_ms(), 4000);
        assert_eq!(r.purge_every_ms(), 1000);
        let e = ClusterDoc::from_toml_str("[retention]\nrecords_days = 0\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("retention.records_days"), "{e}");
        assert!(ClusterDoc::from_toml_str("[retention]\nkeep = 1\n", "c.toml").is_err());
    }
}
