//! Reading the cluster document's `[[accounts]]` (names, API keys and
//! their hashes, priorities, balance, service codes, limits, and the
//! billing, callback and app-login tables each account may carry); errors
//! name the dotted key and the line. Split from [`super::parse`], which
//! reads the rest of the document.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::keys::{decode_hex, ApiKeyHash};
use super::parse::digits;
use super::{Account, Priority};
use crate::spans::Ctx;
use crate::ConfigError;

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccount {
    name: S<String>,
    api_keys: Option<S<Vec<S<String>>>>,
    api_key_hashes: Option<S<Vec<S<RawKeyHash>>>>,
    priorities: Option<S<Vec<S<String>>>>,
    balance: Option<S<i64>>,
    service_codes: Option<S<Vec<S<String>>>>,
    requests_per_sec: Option<S<i64>>,
    concurrent_requests: Option<S<i64>>,
    messages_per_day: Option<S<i64>>,
    billing: Option<S<super::parse_billing::RawAccountBilling>>,
    callbacks: Option<super::callbacks::RawCallbacks>,
    apps: Option<S<super::apps::RawAppLogins>>,
}

/// A key already hashed (as `config show` prints it).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyHash {
    prefix: String,
    sha256: String,
}

pub(super) fn accounts(ctx: &Ctx<'_>, raw: Vec<RawAccount>) -> Result<Vec<Account>, ConfigError> {
    let mut out = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut keys: BTreeMap<String, usize> = BTreeMap::new();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut app_ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut sp_ids: BTreeMap<String, usize> = BTreeMap::new();
    for (i, a) in raw.into_iter().enumerate() {
        let k = |f: &str| format!("accounts[{i}].{f}");
        let name = ctx.nonempty(&k("name"), &a.name)?;
        let name_ok = name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !name_ok {
            return Err(ctx.err(
                &k("name"),
                a.name.span(),
                "use at most 64 letters, digits, `-`, `_` or `.`",
            ));
        }
        if let Some(first) = names.insert(name.clone(), ctx.line_of(a.name.span())) {
            let m = format!("account `{name}` appears twice (first at line {first})");
            return Err(ctx.err(&k("name"), a.name.span(), m));
        }
        let mut api_key_hashes = Vec::new();
        if let Some(list) = a.api_keys {
            for (j, key) in list.into_inner().into_iter().enumerate() {
                let kk = format!("accounts[{i}].api_keys[{j}]");
                let v = key.get_ref();
                if v.len() < 16 || v.len() > 128 || !v.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(ctx.err(
                        &kk,
                        key.span(),
                        "a key is 16 to 128 printable ASCII characters, no spaces",
                    ));
                }
                api_key_hashes.push((kk, key.span(), ApiKeyHash::of(v)));
            }
        }
        if let Some(list) = a.api_key_hashes {
            for (j, h) in list.into_inner().into_iter().enumerate() {
                let kk = format!("accounts[{i}].api_key_hashes[{j}]");
                let span = h.span();
                let h = h.into_inner();
                let mut probe = [0u8; 32];
                if !decode_hex(&h.sha256, &mut probe) {
                    return Err(ctx.err(&kk, span, "`sha256` must be 64 hex digits"));
                }
                let hash = ApiKeyHash {
                    prefix: h.prefix,
                    sha256: h.sha256.to_ascii_lowercase(),
                };
                api_key_hashes.push((kk, span, hash));
            }
        }
        if api_key_hashes.is_empty() {
            return Err(ctx.err(
                &k("api_keys"),
                a.name.span(),
                "must list at least one key (`api_keys`, or `api_key_hashes` as `config show` prints them)",
            ));
        }
        let mut hashes = Vec::new();
        for (kk, span, h) in api_key_hashes {
            if let Some(first) = keys.insert(h.sha256.clone(), ctx.line_of(span.clone())) {
                let m = format!("this key is already used (line {first}); keys must be unique");
                return Err(ctx.err(&kk, span, m));
            }
            hashes.push(h);
        }
        let mut service_codes = Vec::new();
        if let Some(list) = a.service_codes {
            for (j, c) in list.into_inner().into_iter().enumerate() {
                let kk = format!("accounts[{i}].service_codes[{j}]");
                if !digits(c.get_ref()) || c.get_ref().len() > 21 {
                    return Err(ctx.err(&kk, c.span(), "a service code is 1 to 21 digits"));
                }
                if let Some(first) = codes.insert(c.get_ref().clone(), ctx.line_of(c.span())) {
                    let m = format!(
                        "service code `{}` is already an account's (line {first})",
                        c.get_ref()
                    );
                    return Err(ctx.err(&kk, c.span(), m));
                }
                service_codes.push(c.into_inner());
            }
        }
        let limit = |key: &str, v: Option<S<i64>>, hi: i64| -> Result<Option<i64>, ConfigError> {
            match v {
                None => Ok(None),
                Some(v) => ctx.int(&k(key), Some(v), 1, hi, 0).map(Some),
            }
        };
        let requests_per_sec = limit("requests_per_sec", a.requests_per_sec, 1_000_000)?.map(|v| v as u32);
        let concurrent_requests =
            limit("concurrent_requests", a.concurrent_requests, 1_000_000)?.map(|v| v as u32);
        let messages_per_day = limit("messages_per_day", a.messages_per_day, i64::MAX)?.map(|v| v as u64);
        let priorities = match a.priorities {
            None => Priority::ALL.to_vec(),
            Some(list) => {
                let mut ps = Vec::new();
                if list.get_ref().is_empty() {
                    return Err(ctx.err(&k("priorities"), list.span(), "must list at least one priority"));
                }
                for (j, p) in list.into_inner().into_iter().enumerate() {
                    let pr = Priority::from_name(p.get_ref()).ok_or_else(|| {
                        let m = format!(
                            "`{}` is not a priority: use alarm, high, normal or bulk",
                            p.get_ref()
                        );
                        ctx.err(&format!("accounts[{i}].priorities[{j}]"), p.span(), m)
                    })?;
                    if !ps.contains(&pr) {
                        ps.push(pr);
                    }
                }
                ps
            }
        };
        let balance = match a.balance {
            Some(b) if *b.get_ref() < 0 => {
                return Err(ctx.err(&k("balance"), b.span(), "must be 0 or more"));
            }
            b => b.map(|b| *b.get_ref() as u64),
        };
        let billing = super::parse_billing::account(ctx, i, a.billing, balance.is_some())?;
        let callbacks = match a.callbacks {
            Some(c) => Some(super::callbacks::parse(ctx, i, c)?),
            None => None,
        };
        let apps = match a.apps {
            Some(raw) => {
                let span = raw.span();
                let l = super::apps::parse(ctx, i, raw.into_inner())?;
                for (id, f, seen) in [
                    (&l.system_id, "system_id", &mut app_ids),
                    (&l.sp_id, "sp_id", &mut sp_ids),
                ] {
                    if let Some(id) = id {
                        if let Some(first) = seen.insert(id.clone(), i) {
                            let m = format!("`{id}` is already the {f} of accounts[{first}]");
                            return Err(ctx.err(&k(&format!("apps.{f}")), span.clone(), m));
                        }
                    }
                }
                Some(l)
            }
            None => None,
        };
        out.push(Account {
            apps,
            billing,
            name,
            api_key_hashes: hashes,
            priorities,
            balance,
            service_codes,
            requests_per_sec,
            concurrent_requests,
            messages_per_day,
            callbacks,
        });
    }
    Ok(out)
}
