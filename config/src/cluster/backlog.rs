//! How many unfinished messages an account may have (`[backlog]`): past
//! it the API answers 429 `backlog_full` with `Retry-After`, so a carrier
//! outage fills neither the disk nor the dispatcher without bound.
//!
//! ```toml
//! [backlog]
//! per_account = 1000000     # unfinished messages per account
//! [backlog.accounts]        # optional: per-account caps instead
//! studio = 50000
//! ```
//!
//! Nothing here refuses anything: the API does, with these values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::spans::Ctx;
use crate::ConfigError;

type S<T> = Spanned<T>;

/// The backlog caps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    /// Unfinished messages one account may have.
    pub per_account: u64,
    /// Caps of named accounts instead of `per_account`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub accounts: BTreeMap<String, u64>,
}

impl Default for Backlog {
    fn default() -> Self {
        Backlog {
            per_account: 1_000_000,
            accounts: BTreeMap::new(),
        }
    }
}

impl Backlog {
    /// The cap of `account`.
    pub fn cap(&self, account: &str) -> u64 {
        self.accounts.get(account).copied().unwrap_or(self.per_account)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBacklog {
    per_account: Option<S<i64>>,
    accounts: Option<BTreeMap<String, S<i64>>>,
}

const MAX: i64 = 1_000_000_000;

pub(super) fn parse(ctx: &Ctx<'_>, raw: Option<RawBacklog>) -> Result<Backlog, ConfigError> {
    let d = Backlog::default();
    let Some(raw) = raw else { return Ok(d) };
    let per_account = ctx.int(
        "backlog.per_account",
        raw.per_account,
        1,
        MAX,
        d.per_account as i64,
    )? as u64;
    let mut accounts = BTreeMap::new();
    for (name, v) in raw.accounts.unwrap_or_default() {
        let key = format!("backlog.accounts.{name}");
        accounts.insert(name, ctx.int(&key, Some(v), 1, MAX, 0)? as u64);
    }
    Ok(Backlog {
        per_account,
        accounts,
    })
}

#[cfg(test)]
mod tests {
    use crate::ClusterDoc;

    #[test]
    fn caps_per_account_with_a_default_and_errors_that_name_the_key() {
        let d = ClusterDoc::from_toml_str("", "c.toml").unwrap().backlog;
        assert_eq!(d.cap("any"), 1_000_000);
        let t = "[backlog]\nper_account = 50\n[backlog.accounts]\nbig = 900\n";
        let b = ClusterDoc::from_toml_str(t, "c.toml").unwrap().backlog;
        assert_eq!((b.cap("any"), b.cap("big")), (50, 900));
        let e = ClusterDoc::from_toml_str("[backlog.accounts]\nx = 0\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("backlog.accounts.x"), "{e}");
    }
}
