//! The duty roster in apply: officers, duty groups and their shifts, the
//! forwarding rules, who is on duty at a time, and whom a case goes to.
//! The roster is small (officers of one command centre), so reading all
//! officers or groups is fine here; cases are never scanned.

use smsgw_raft::{ApplyError, Tx};

use super::keys;
use super::{AlarmResponse, DutyGroup, Officer, Pick, Rule, Shift, Target};

/// Most officers or groups read at once.
pub const MAX_ROSTER: usize = 10_000;

/// Beijing minute of the day of `ms` (UTC+8 all year).
fn beijing_minute(ms: u64) -> u16 {
    (((ms / 60_000) + 8 * 60) % 1440) as u16
}

fn covers(s: &Shift, minute: u16) -> bool {
    if s.start_min <= s.end_min {
        s.start_min <= minute && minute < s.end_min
    } else {
        minute >= s.start_min || minute < s.end_min
    }
}

/// Whether `officer` is on duty at `at_ms`, given the groups he is in.
pub fn on_duty_at(officer: &Officer, groups: &[DutyGroup], at_ms: u64) -> bool {
    if let Some(on) = officer.duty {
        return on;
    }
    let minute = beijing_minute(at_ms);
    groups
        .iter()
        .filter(|g| g.members.contains(&officer.badge))
        .any(|g| g.shifts.is_empty() || g.shifts.iter().any(|s| covers(s, minute)))
}

pub(super) fn officer(tx: &Tx<'_>, badge: &str) -> Result<Option<Officer>, ApplyError> {
    tx.get(&keys::officer(badge))
}

pub(super) fn group(tx: &Tx<'_>, name: &str) -> Result<Option<DutyGroup>, ApplyError> {
    tx.get(&keys::group(name))
}

fn all<T: serde::de::DeserializeOwned>(tx: &Tx<'_>, prefix: &[u8]) -> Result<Vec<T>, ApplyError> {
    let end = crate::keys::prefix_end(prefix);
    let mut out = Vec::new();
    for k in tx.committed_keys(prefix, &end, MAX_ROSTER)? {
        if let Some(v) = tx.get(&k)? {
            out.push(v);
        }
    }
    Ok(out)
}

/// Every group.
pub(super) fn groups(tx: &Tx<'_>) -> Result<Vec<DutyGroup>, ApplyError> {
    all(tx, &keys::groups())
}

/// The on-duty officers among `badges` (everyone when `None`), in badge order.
pub(super) fn on_duty(
    tx: &Tx<'_>,
    badges: Option<&[String]>,
    at_ms: u64,
) -> Result<Vec<Officer>, ApplyError> {
    let groups = groups(tx)?;
    let candidates: Vec<Officer> = match badges {
        Some(b) => {
            let mut v = Vec::new();
            for badge in b {
                if let Some(o) = officer(tx, badge)? {
                    v.push(o);
                }
            }
            v
        }
        None => all(tx, &keys::officers())?,
    };
    let mut out: Vec<Officer> = candidates
        .into_iter()
        .filter(|o| on_duty_at(o, &groups, at_ms))
        .collect();
    out.sort_by(|a, b| a.badge.cmp(&b.badge));
    out.dedup_by(|a, b| a.badge == b.badge);
    Ok(out)
}

/// The rule for a case of `line` with `text`: a keyword rule of the line,
/// a keyword rule of every line, the line's rule, the default rule.
pub(super) fn rule_for(tx: &Tx<'_>, line: &str, text: &str) -> Result<Option<Rule>, ApplyError> {
    let rules: Vec<Rule> = all(tx, &keys::rules())?;
    let score = |r: &Rule| -> Option<u8> {
        let line_ok = r.line.as_deref().is_none_or(|l| l == line);
        let kw_ok = r.keyword.as_deref().is_none_or(|k| text.contains(k));
        if !line_ok || !kw_ok {
            return None;
        }
        Some(match (r.keyword.is_some(), r.line.is_some()) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        })
    };
    Ok(rules
        .into_iter()
        .filter_map(|r| score(&r).map(|s| (s, r)))
        .min_by_key(|(s, _)| *s)
        .map(|(_, r)| r))
}

/// Whom a case goes to under `rule` at `at_ms`, skipping `tried`: the
/// officers to forward to and the group it went to as a whole, if so.
/// Advances the rule's turn when it picks in turn.
pub(super) fn pick(
    tx: &mut Tx<'_>,
    rule: &Rule,
    tried: &[String],
    at_ms: u64,
) -> Result<(Vec<Officer>, Option<String>), ApplyError> {
    match &rule.target {
        Target::Officer(badge) => {
            let o = officer(tx, badge)?.filter(|o| !tried.contains(&o.badge));
            Ok((o.into_iter().collect(), None))
        }
        Target::WholeGroup(name) => {
            let Some(g) = group(tx, name)? else {
                return Ok((vec![], None));
            };
            let on = on_duty(tx, Some(&g.members), at_ms)?;
            let on: Vec<Officer> = on.into_iter().filter(|o| !tried.contains(&o.badge)).collect();
            let group = (!on.is_empty()).then(|| name.clone());
            Ok((on, group))
        }
        Target::OneOf { group: g, pick } => {
            let members = match g {
                Some(name) => match group(tx, name)? {
                    Some(g) => Some(g.members),
                    None => return Ok((vec![], None)),
                },
                None => None,
            };
            let on: Vec<Officer> = on_duty(tx, members.as_deref(), at_ms)?
                .into_iter()
                .filter(|o| !tried.contains(&o.badge))
                .collect();
            if on.is_empty() {
                return Ok((vec![], None));
            }
            let turn = rule.turn as usize;
            let chosen = match pick {
                Pick::RoundRobin => on[turn % on.len()].clone(),
                Pick::FewestOpen => {
                    let fewest = on.iter().map(|o| o.open_cases).min().unwrap_or(0);
                    let least: Vec<&Officer> = on.iter().filter(|o| o.open_cases == fewest).collect();
                    least[turn % least.len()].clone()
                }
            };
            let mut next = rule.clone();
            next.turn = rule.turn.wrapping_add(1);
            tx.put(keys::rule(&rule.key()), &next)?;
            Ok((vec![chosen], None))
        }
    }
}

/// The leader of the first group `badge` is in (or of `group`).
pub(super) fn leader_for(
    tx: &Tx<'_>,
    badge: Option<&str>,
    group_name: Option<&str>,
) -> Result<Option<Officer>, ApplyError> {
    let gs = groups(tx)?;
    let g = match group_name {
        Some(n) => gs.iter().find(|g| g.name == n),
        None => badge.and_then(|b| gs.iter().find(|g| g.members.iter().any(|m| m == b))),
    };
    match g.and_then(|g| g.leader.clone()) {
        Some(l) => officer(tx, &l),
        None => Ok(None),
    }
}

/// Changes an officer's open-case count.
pub(super) fn count_open(tx: &mut Tx<'_>, badge: &str, by: i32) -> Result<(), ApplyError> {
    if let Some(mut o) = officer(tx, badge)? {
        o.open_cases = o.open_cases.saturating_add_signed(by);
        tx.put(keys::officer(badge), &o)?;
    }
    Ok(())
}

/// Adds or replaces an officer, keeping his count and his API key when
/// the new record has none.
pub(super) fn put_officer(tx: &mut Tx<'_>, new: &Officer) -> Result<AlarmResponse, ApplyError> {
    if new.badge.is_empty() || new.phone.is_empty() {
        return Ok(AlarmResponse::refused(
            "invalid",
            "an officer needs a badge and a phone",
        ));
    }
    if let Some(other) = tx.get::<String>(&keys::officer_phone(&new.phone))? {
        if other != new.badge {
            return Ok(AlarmResponse::refused(
                "conflict",
                format!("phone {} belongs to officer {other}", new.phone),
            ));
        }
    }
    let mut o = new.clone();
    if let Some(old) = officer(tx, &new.badge)? {
        o.open_cases = old.open_cases;
        if o.key_sha256.is_none() {
            o.key_sha256 = old.key_sha256.clone();
        }
        tx.remove(keys::officer_phone(&old.phone));
        if let Some(k) = old.key_sha256.filter(|k| Some(k) != o.key_sha256.as_ref()) {
            tx.remove(keys::officer_key(&k));
        }
    }
    tx.put(keys::officer_phone(&o.phone), &o.badge)?;
    if let Some(k) = &o.key_sha256 {
        tx.put(keys::officer_key(k), &o.badge)?;
    }
    tx.put(keys::officer(&o.badge), &o)?;
    Ok(AlarmResponse::Done(None))
}

/// Removes an officer (his cases keep his badge).
pub(super) fn remove_officer(tx: &mut Tx<'_>, badge: &str) -> Result<AlarmResponse, ApplyError> {
    let Some(old) = officer(tx, badge)? else {
        return Ok(AlarmResponse::refused("not_found", format!("no officer {badge}")));
    };
    tx.remove(keys::officer_phone(&old.phone));
    if let Some(k) = &old.key_sha256 {
        tx.remove(keys::officer_key(k));
    }
    tx.remove(keys::officer(badge));
    Ok(AlarmResponse::Done(None))
}

/// Adds or replaces a duty group; every member and the leader must exist.
pub(super) fn put_group(tx: &mut Tx<'_>, g: &DutyGroup) -> Result<AlarmResponse, ApplyError> {
    if g.name.is_empty() {
        return Ok(AlarmResponse::refused("invalid", "a group needs a name"));
    }
    for b in g.members.iter().chain(g.leader.iter()) {
        if officer(tx, b)?.is_none() {
            return Ok(AlarmResponse::refused("invalid", format!("no officer {b}")));
        }
    }
    if let Some(s) = g.shifts.iter().find(|s| s.start_min >= 1440 || s.end_min > 1440) {
        return Ok(AlarmResponse::refused(
            "invalid",
            format!("shift {}-{} is outside a day", s.start_min, s.end_min),
        ));
    }
    tx.put(keys::group(&g.name), g)?;
    Ok(AlarmResponse::Done(None))
}

/// Adds or replaces a rule; its officer or group must exist.
pub(super) fn put_rule(tx: &mut Tx<'_>, rule: &Rule) -> Result<AlarmResponse, ApplyError> {
    let missing = match &rule.target {
        Target::Officer(b) => officer(tx, b)?.is_none().then(|| format!("no officer {b}")),
        Target::WholeGroup(g) | Target::OneOf { group: Some(g), .. } => {
            group(tx, g)?.is_none().then(|| format!("no group {g}"))
        }
        Target::OneOf { group: None, .. } => None,
    };
    if let Some(m) = missing {
        return Ok(AlarmResponse::refused("invalid", m));
    }
    let mut r = rule.clone();
    if let Some(old) = tx.get::<Rule>(&keys::rule(&rule.key()))? {
        r.turn = old.turn;
    }
    tx.put(keys::rule(&r.key()), &r)?;
    Ok(AlarmResponse::Done(None))
}
