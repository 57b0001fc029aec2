//! Rate-limited logging for lines that a request or a PDU can trigger: at
//! most one line per distinct key per interval (10 s); the next line written
//! for that key says how many similar ones were suppressed meanwhile, and
//! `smsgw_log_suppressed_total` counts them all. Without it a client sending
//! refused requests, or a carrier sending garbage, writes one line each and
//! fills the log disk.
//!
//! Keys must be chosen from a small set (an error code, a carrier name and
//! a kind), never from request content: the table of keys is bounded and
//! keys beyond the bound share one slot. It must never block or allocate per
//! suppressed line.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// One line per key per this interval.
pub const INTERVAL: Duration = Duration::from_secs(10);
/// Most distinct keys tracked; more share the slot [`OVERFLOW_KEY`].
const MAX_KEYS: usize = 1024;
const OVERFLOW_KEY: &str = "(other keys)";

struct Slot {
    /// When the last line for this key was written.
    written: Instant,
    /// Lines suppressed since.
    suppressed: u64,
}

/// The limiter: one per process is enough ([`global`]); tests make their own.
pub struct RateLog {
    interval: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

impl RateLog {
    /// A limiter writing one line per key per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a line for `key` may be written at `now`: `Some(n)` with the
    /// number of lines suppressed since the last one written, or `None` when
    /// this one is suppressed (and counted).
    pub fn admit(&self, key: &str, now: Instant) -> Option<u64> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if !slots.contains_key(key) && slots.len() >= MAX_KEYS {
            let interval = self.interval;
            slots.retain(|_, s| now.saturating_duration_since(s.written) < interval);
        }
        let key = if slots.contains_key(key) || slots.len() < MAX_KEYS {
            key
        } else {
            OVERFLOW_KEY
        };
        match slots.get_mut(key) {
            Some(s) if now.saturating_duration_since(s.written) < self.interval => {
                s.suppressed += 1;
                metrics::counter!("smsgw_log_suppressed_total").increment(1);
                None
            }
            Some(s) => {
                let n = s.suppressed;
                s.written = now;
                s.suppressed = 0;
                Some(n)
            }
            None => {
                slots.insert(
                    key.to_string(),
                    Slot {
                        written: now,
                        suppressed: 0,
                    },
                );
                Some(0)
            }
        }
    }
}

/// The process-wide limiter.
pub fn global() -> &'static RateLog {
    static LOG: OnceLock<RateLog> = OnceLock::new();
    LOG.get_or_init(|| RateLog::new(INTERVAL))
}

/// `tracing::warn!` at most once per `key` per [`INTERVAL`], with the count
/// of similar lines suppressed since the last one:
/// `warn_limited!(key, fields..., "format", args...)`.
#[macro_export]
macro_rules! warn_limited {
    ($key:expr, $($arg:tt)+) => {
        if let Some(n) = $crate::ratelog::global().admit(&$key, ::std::time::Instant::now()) {
            if n > 0 {
                ::tracing::warn!(suppressed = n, $($arg)+);
            } else {
                ::tracing::warn!($($arg)+);
            }
        }
    };
}

/// `tracing::error!` at most once per `key` per [`INTERVAL`] (see [`warn_limited!`]).
#[macro_export]
macro_rules! error_limited {
    ($key:expr, $($arg:tt)+) => {
        if let Some(n) = $crate::ratelog::global().admit(&$key, ::std::time::Instant::now()) {
            if n > 0 {
                ::tracing::error!(suppressed = n, $($arg)+);
            } else {
                ::tracing::error!($($arg)+);
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_key_per_interval_then_the_count_of_suppressed() {
        let log = RateLog::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(log.admit("a", t0), Some(0));
        for i in 1..=5 {
            assert_eq!(log.admit("a", t0 + Duration::from_secs(i)), None);
        }
        // Another key is not held back by the first.
        assert_eq!(log.admit("b", t0 + Duration::from_secs(1)), Some(0));
        assert_eq!(log.admit("a", t0 + Duration::from_secs(10)), Some(5));
        assert_eq!(log.admit("a", t0 + Duration::from_secs(11)), None);
        assert_eq!(log.admit("a", t0 + Duration::from_secs(21)), Some(1));
    }

    #[test]
    fn keys_beyond_the_bound_share_one_slot() {
        let log = RateLog::new(Duration::from_secs(10));
        let t0 = Instant::now();
        for i in 0..MAX_KEYS {
            assert_eq!(log.admit(&format!("k{i}"), t0), Some(0));
        }
        assert_eq!(log.admit("new-1", t0), Some(0));
        assert_eq!(log.admit("new-2", t0), None, "shares the overflow slot");
        // Once the old keys are past their interval they make room again.
        let later = t0 + Duration::from_secs(11);
        assert_eq!(log.admit("new-3", later), Some(0));
        assert!(log.slots.lock().unwrap().len() <= 2);
    }
}
