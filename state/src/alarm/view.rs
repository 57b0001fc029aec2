//! Reads of the alarm desk: point reads, and bounded ranges over the
//! indexes (triage queue, an officer's cases, a day's cases, due timers,
//! the outbox from its cursor, the change log). Never a scan of all cases.

use std::ops::Bound;

use smsgw_raft::{ApplyError, View};

use super::{keys, Case, DutyGroup, Officer, Outgoing, Rule};

/// Typed reads of the desk.
#[derive(Clone)]
pub struct AlarmView {
    view: View,
}

fn decode<T: serde::de::DeserializeOwned>(v: &[u8]) -> Result<T, ApplyError> {
    Ok(smsgw_raft::codec::decode(v)?)
}

impl AlarmView {
    pub(crate) fn new(view: View) -> Self {
        Self { view }
    }

    fn all<T: serde::de::DeserializeOwned>(&self, prefix: &[u8], limit: usize) -> Result<Vec<T>, ApplyError> {
        let end = crate::keys::prefix_end(prefix);
        self.view
            .range(Bound::Included(prefix), &end, limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    fn cases_of(&self, keys_: Vec<Vec<u8>>, fixed: usize) -> Result<Vec<Case>, ApplyError> {
        let mut out = Vec::new();
        for k in keys_ {
            if let Some(id) = keys::trailing_case(&k, fixed) {
                if let Some(c) = self.case(&id)? {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// One case.
    pub fn case(&self, id: &str) -> Result<Option<Case>, ApplyError> {
        self.view.get(&keys::case(id))
    }

    /// Up to `limit` open cases in triage order (rank, then age).
    pub fn queue(&self, limit: usize) -> Result<Vec<Case>, ApplyError> {
        let start = keys::queue();
        let end = crate::keys::prefix_end(&start);
        let rows = self.view.range(Bound::Included(&start), &end, limit)?;
        self.cases_of(rows.into_iter().map(|(k, _)| k).collect(), keys::QUEUED_FIXED)
    }

    /// Up to `limit` open cases with officer `badge`.
    pub fn officer_cases(&self, badge: &str, limit: usize) -> Result<Vec<Case>, ApplyError> {
        let start = keys::with_officer(badge);
        let end = crate::keys::prefix_end(&start);
        let mut out = Vec::new();
        for (k, _) in self.view.range(Bound::Included(&start), &end, limit)? {
            let id = String::from_utf8_lossy(&k[start.len()..]).into_owned();
            if let Some(c) = self.case(&id)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Up to `limit` cases of Beijing day `day` (`20261203`), in number order.
    pub fn day_cases(&self, day: u32, limit: usize) -> Result<Vec<Case>, ApplyError> {
        self.all(&keys::case(&format!("A{day}-")), limit)
    }

    /// Up to `limit` escalation timers due at `now_ms`: `(case, deadline)`.
    pub fn due_escalations(
        &self,
        from_ms: u64,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<(String, u64)>, ApplyError> {
        self.due(
            &keys::escalation(from_ms, ""),
            &keys::escalation(now_ms.saturating_add(1), ""),
            limit,
        )
    }

    /// Up to `limit` open-too-long timers due at `now_ms`.
    pub fn due_overdues(
        &self,
        from_ms: u64,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<(String, u64)>, ApplyError> {
        self.due(
            &keys::overdue(from_ms, ""),
            &keys::overdue(now_ms.saturating_add(1), ""),
            limit,
        )
    }

    fn due(&self, from: &[u8], until: &[u8], limit: usize) -> Result<Vec<(String, u64)>, ApplyError> {
        let mut out = Vec::new();
        for (k, _) in self.view.range(Bound::Included(from), until, limit)? {
            if let (Some(id), Some(d)) = (
                keys::trailing_case(&k, keys::TIMER_FIXED),
                keys::timer_deadline(&k),
            ) {
                out.push((id, d));
            }
        }
        Ok(out)
    }

    /// Up to `limit` outbox rows not yet sent, in order.
    pub fn outbox(&self, limit: usize) -> Result<Vec<Outgoing>, ApplyError> {
        let done = self.counter(keys::counter::OUT_SENT)?;
        let from = keys::outgoing(done + 1);
        let end = crate::keys::prefix_end(&keys::outbox());
        self.view
            .range(Bound::Included(&from), &end, limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    /// Change-log rows after `after`: `(seq, case id)`.
    pub fn changes(&self, after: u64, limit: usize) -> Result<Vec<(u64, String)>, ApplyError> {
        let from = keys::change(after + 1);
        let end = crate::keys::prefix_end(&keys::changes());
        let mut out = Vec::new();
        for (k, v) in self.view.range(Bound::Included(&from), &end, limit)? {
            let seq_at = k.len().saturating_sub(8);
            let seq = k
                .get(seq_at..)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes);
            if let Some(seq) = seq {
                out.push((seq, decode(&v)?));
            }
        }
        Ok(out)
    }

    /// A desk counter (0 when never set).
    pub fn counter(&self, name: &str) -> Result<u64, ApplyError> {
        Ok(self.view.get(&keys::counter(name))?.unwrap_or(0))
    }

    /// The lines that ever had a case.
    pub fn lines(&self) -> Result<Vec<String>, ApplyError> {
        Ok(self
            .view
            .get(&keys::counter(&keys::counter::lines()))?
            .unwrap_or_default())
    }

    /// Every officer, by badge.
    pub fn officers(&self) -> Result<Vec<Officer>, ApplyError> {
        self.all(&keys::officers(), super::roster::MAX_ROSTER)
    }

    /// One officer.
    pub fn officer(&self, badge: &str) -> Result<Option<Officer>, ApplyError> {
        self.view.get(&keys::officer(badge))
    }

    /// The officer whose phone is `phone` (normalised).
    pub fn officer_by_phone(&self, phone: &str) -> Result<Option<Officer>, ApplyError> {
        match self.view.get::<String>(&keys::officer_phone(phone))? {
            Some(b) => self.officer(&b),
            None => Ok(None),
        }
    }

    /// The officer whose API key hashes to `sha256_hex`.
    pub fn officer_by_key(&self, sha256_hex: &str) -> Result<Option<Officer>, ApplyError> {
        match self.view.get::<String>(&keys::officer_key(sha256_hex))? {
            Some(b) => self.officer(&b),
            None => Ok(None),
        }
    }

    /// Every duty group.
    pub fn groups(&self) -> Result<Vec<DutyGroup>, ApplyError> {
        self.all(&keys::groups(), super::roster::MAX_ROSTER)
    }

    /// Every forwarding rule.
    pub fn rules(&self) -> Result<Vec<Rule>, ApplyError> {
        self.all(&keys::rules(), super::roster::MAX_ROSTER)
    }

    /// Statistics counters of days `from..=until`.
    pub fn stats(&self, from: u32, until: u32) -> Result<super::stats::Counters, ApplyError> {
        super::stats::read(&self.view, from, until)
    }
}
