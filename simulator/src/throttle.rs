//! The carrier's TPS ceiling per account: a token bucket shared by all of
//! the account's connections.
//!
//! It holds one second's worth of tokens at most, so a client that was idle
//! cannot burst above the ceiling for long. It never sleeps: a submit with no
//! token is refused with the protocol's flow-control answer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

struct Bucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

/// Token buckets keyed by account.
#[derive(Default)]
pub struct Throttle {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Throttle {
    /// Takes one token for `account` at `tps` per second (0 = unlimited);
    /// `false` means the submit must be refused.
    pub fn admit(&self, account: &str, tps: u32, now: Instant) -> bool {
        if tps == 0 {
            return true;
        }
        let rate = f64::from(tps);
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = map.entry(account.to_string()).or_insert(Bucket {
            rate,
            tokens: rate,
            last: now,
        });
        if b.rate != rate {
            b.rate = rate;
            b.tokens = b.tokens.min(rate);
        }
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.last = now;
        b.tokens = (b.tokens + elapsed * rate).min(rate);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ceiling_holds_over_a_simulated_second() {
        let t = Throttle::default();
        let start = Instant::now();
        let mut admitted = 0;
        // 1000 attempts spread over 2 s at 50 TPS: the burst of 50, then 50/s.
        for i in 0..1000u64 {
            if t.admit("a", 50, start + Duration::from_millis(i * 2)) {
                admitted += 1;
            }
        }
        assert!((145..=152).contains(&admitted), "{admitted}");
        assert!(t.admit("b", 0, start));
    }
}
