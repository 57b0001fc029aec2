//! TPS control for one carrier account: a token bucket shared by all the
//! account's sessions and its dispatcher, with AIMD on the rate.
//!
//! The dispatcher takes a token per submit it hands out; a session reports
//! each verdict: a throttle answer halves the rate (at most once per
//! `decrease_gap`, since the answers to one window of submits arrive
//! together and mean one overload), success adds `increase_per_sec`
//! spread over a second of traffic, never above the configured ceiling.
//!
//! The bucket owns no clock: every call takes `now`, so it is tested
//! without sleeping. It never blocks and never sends anything.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// AIMD settings of one bucket.
#[derive(Debug, Clone, Copy)]
pub struct Aimd {
    /// Submits per second the account allows; 0 means no ceiling (the
    /// bucket then always has tokens and AIMD is off).
    pub ceiling: f64,
    /// The rate never goes below this.
    pub floor: f64,
    /// Rate added per second of successful sending.
    pub increase_per_sec: f64,
    /// Smallest time between two halvings.
    pub decrease_gap: Duration,
    /// Tokens that may accumulate, in seconds of the current rate
    /// (at least one token).
    pub burst_secs: f64,
}

impl Aimd {
    /// Defaults for a ceiling: recover 5 % of the ceiling per second, halve
    /// at most every 500 ms, 50 ms of burst.
    pub fn with_ceiling(ceiling: u32) -> Aimd {
        let c = f64::from(ceiling);
        Aimd {
            ceiling: c,
            floor: (c / 100.0).max(1.0),
            increase_per_sec: (c * 0.05).max(1.0),
            decrease_gap: Duration::from_millis(500),
            burst_secs: 0.05,
        }
    }
}

struct Inner {
    rate: f64,
    tokens: f64,
    last: Instant,
    last_decrease: Option<Instant>,
}

/// The shared bucket. Cheap to lock: every operation is a few arithmetic
/// steps.
pub struct TokenBucket {
    carrier: String,
    aimd: Mutex<Aimd>,
    inner: Mutex<Inner>,
}

impl TokenBucket {
    pub fn new(carrier: &str, aimd: Aimd, now: Instant) -> TokenBucket {
        let b = TokenBucket {
            carrier: carrier.to_string(),
            aimd: Mutex::new(aimd),
            inner: Mutex::new(Inner {
                rate: aimd.ceiling,
                tokens: (aimd.ceiling * aimd.burst_secs).max(1.0),
                last: now,
                last_decrease: None,
            }),
        };
        crate::metrics::tps_limit(carrier, aimd.ceiling);
        b
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere must not stop sending.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn settings(&self) -> Aimd {
        *self.aimd.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the ceiling live (config apply); the rate is clamped to it.
    pub fn set_ceiling(&self, ceiling: u32) {
        let a = Aimd::with_ceiling(ceiling);
        *self.aimd.lock().unwrap_or_else(|p| p.into_inner()) = a;
        let mut g = self.lock();
        g.rate = if ceiling == 0 {
            0.0
        } else {
            g.rate.min(a.ceiling).max(a.floor)
        };
        crate::metrics::tps_limit(&self.carrier, g.rate);
    }

    fn refill(a: &Aimd, g: &mut Inner, now: Instant) {
        let dt = now.saturating_duration_since(g.last).as_secs_f64();
        g.last = now;
        let cap = (g.rate * a.burst_secs).max(1.0);
        g.tokens = (g.tokens + dt * g.rate).min(cap);
    }

    /// Takes up to `want` tokens; returns how many it got.
    pub fn take(&self, want: usize, now: Instant) -> usize {
        let a = self.settings();
        if a.ceiling <= 0.0 {
            return want;
        }
        let mut g = self.lock();
        Self::refill(&a, &mut g, now);
        let got = (g.tokens.floor() as usize).min(want);
        g.tokens -= got as f64;
        got
    }

    /// How long until the next token.
    pub fn wait(&self, now: Instant) -> Duration {
        let a = self.settings();
        if a.ceiling <= 0.0 {
            return Duration::ZERO;
        }
        let mut g = self.lock();
        Self::refill(&a, &mut g, now);
        if g.tokens >= 1.0 || g.rate <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((1.0 - g.tokens) / g.rate)
    }

    /// A throttle answer: halve the rate (once per `decrease_gap`).
    pub fn on_throttle(&self, now: Instant) {
        let a = self.settings();
        if a.ceiling <= 0.0 {
            return;
        }
        let mut g = self.lock();
        if g.last_decrease
            .is_some_and(|t| now.saturating_duration_since(t) < a.decrease_gap)
        {
            return;
        }
        g.last_decrease = Some(now);
        g.rate = (g.rate / 2.0).max(a.floor);
        g.tokens = g.tokens.min(1.0);
        crate::metrics::tps_limit(&self.carrier, g.rate);
    }

    /// A success: grow the rate additively toward the ceiling.
    pub fn on_success(&self) {
        let a = self.settings();
        if a.ceiling <= 0.0 {
            return;
        }
        let mut g = self.lock();
        if g.rate < a.ceiling {
            // increase_per_sec spread over the submits of one second.
            g.rate = (g.rate + a.increase_per_sec / g.rate.max(1.0)).min(a.ceiling);
            crate::metrics::tps_limit(&self.carrier, g.rate);
        }
    }

    /// The current rate (submits per second); 0 when unlimited.
    pub fn rate(&self) -> f64 {
        self.lock().rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_ceiling() {
        let t0 = Instant::now();
        let b = TokenBucket::new("c", Aimd::with_ceiling(100), t0);
        let mut sent = 0;
        for ms in 0..=2000u64 {
            sent += b.take(1000, t0 + Duration::from_millis(ms));
        }
        // 2 s at 100/s plus the initial 5-token burst.
        assert!((200..=206).contains(&sent), "{sent}");
    }

    #[test]
    fn halves_once_per_gap_and_recovers() {
        let t0 = Instant::now();
        let b = TokenBucket::new("c", Aimd::with_ceiling(100), t0);
        b.on_throttle(t0);
        b.on_throttle(t0 + Duration::from_millis(10));
        assert_eq!(b.rate(), 50.0);
        b.on_throttle(t0 + Duration::from_millis(600));
        assert_eq!(b.rate(), 25.0);
        for _ in 0..10_000 {
            b.on_success();
        }
        assert_eq!(b.rate(), 100.0);
    }

    #[test]
    fn unlimited_always_gives() {
        let b = TokenBucket::new("c", Aimd::with_ceiling(0), Instant::now());
        assert_eq!(b.take(500, Instant::now()), 500);
        assert_eq!(b.wait(Instant::now()), Duration::ZERO);
    }
}
