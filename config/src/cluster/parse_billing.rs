//! Reading `[admin]`, `[billing]`, `[content]` and `[accounts.billing]`
//! (see [`super::billing`]); errors name the dotted key and the line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::billing::{AccountBilling, AccountKind, AdminAccess, BillingRules, ContentAction, ContentRules};
use super::keys::ApiKeyHash;
use crate::spans::Ctx;
use crate::ConfigError;

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    api_keys: Option<S<Vec<S<String>>>>,
    api_key_hashes: Option<Vec<RawHash>>,
}

/// An admin key already hashed (as `config show` prints it).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHash {
    prefix: String,
    sha256: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBillingRules {
    freeze_after_secs: Option<S<i64>>,
    close_after_secs: Option<S<i64>>,
    warn_before_freeze_secs: Option<S<i64>>,
    cdr_retention_days: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawContent {
    optout_keywords: Option<S<Vec<S<String>>>>,
    categories: Option<BTreeMap<String, S<Vec<S<String>>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccountBilling {
    price_fen: Option<S<i64>>,
    kind: Option<S<String>>,
    contact_phone: Option<S<String>>,
    low_balance_parts: Option<S<i64>>,
    content: Option<S<String>>,
    carriers: Option<S<Vec<S<String>>>>,
}

pub(super) fn admin(ctx: &Ctx<'_>, raw: Option<RawAdmin>) -> Result<AdminAccess, ConfigError> {
    let Some(raw) = raw else {
        return Ok(AdminAccess::default());
    };
    let mut api_key_hashes = Vec::new();
    for h in raw.api_key_hashes.unwrap_or_default() {
        let mut probe = [0u8; 32];
        if !super::keys::decode_hex(&h.sha256, &mut probe) {
            return Err(ctx.err("admin.api_key_hashes", 0..0, "`sha256` must be 64 hex digits"));
        }
        api_key_hashes.push(ApiKeyHash {
            prefix: h.prefix,
            sha256: h.sha256.to_ascii_lowercase(),
        });
    }
    let keys = raw.api_keys.map(|k| k.into_inner()).unwrap_or_default();
    for (j, key) in keys.into_iter().enumerate() {
        let v = key.get_ref();
        if v.len() < 16 || v.len() > 128 || !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ctx.err(
                &format!("admin.api_keys[{j}]"),
                key.span(),
                "a key is 16 to 128 printable ASCII characters, no spaces",
            ));
        }
        api_key_hashes.push(ApiKeyHash::of(v));
    }
    Ok(AdminAccess { api_key_hashes })
}

fn secs(ctx: &Ctx<'_>, key: &str, v: Option<S<i64>>, default: u64) -> Result<u64, ConfigError> {
    ctx.int(key, v, 1, 10 * 366 * 86_400, default as i64)
        .map(|v| v as u64)
}

pub(super) fn rules(ctx: &Ctx<'_>, raw: Option<RawBillingRules>) -> Result<BillingRules, ConfigError> {
    let d = BillingRules::default();
    let Some(raw) = raw else { return Ok(d) };
    let close_span = raw.close_after_secs.as_ref().map(|s| s.span());
    let r = BillingRules {
        freeze_after_secs: secs(
            ctx,
            "billing.freeze_after_secs",
            raw.freeze_after_secs,
            d.freeze_after_secs,
        )?,
        close_after_secs: secs(
            ctx,
            "billing.close_after_secs",
            raw.close_after_secs,
            d.close_after_secs,
        )?,
        warn_before_freeze_secs: secs(
            ctx,
            "billing.warn_before_freeze_secs",
            raw.warn_before_freeze_secs,
            d.warn_before_freeze_secs,
        )?,
        cdr_retention_days: ctx.int(
            "billing.cdr_retention_days",
            raw.cdr_retention_days,
            1,
            3660,
            d.cdr_retention_days as i64,
        )? as u64,
    };
    if r.close_after_secs < r.freeze_after_secs {
        return Err(ctx.err(
            "billing.close_after_secs",
            close_span.unwrap_or(0..0),
            "must not be shorter than billing.freeze_after_secs",
        ));
    }
    Ok(r)
}

pub(super) fn content(ctx: &Ctx<'_>, raw: Option<RawContent>) -> Result<ContentRules, ConfigError> {
    let mut out = ContentRules::default();
    let Some(raw) = raw else { return Ok(out) };
    if let Some(list) = raw.optout_keywords {
        out.optout_keywords.clear();
        for (j, w) in list.into_inner().into_iter().enumerate() {
            if w.get_ref().trim().is_empty() {
                return Err(ctx.err(
                    &format!("content.optout_keywords[{j}]"),
                    w.span(),
                    "must not be empty",
                ));
            }
            out.optout_keywords.push(w.get_ref().trim().to_string());
        }
    }
    for (cat, words) in raw.categories.unwrap_or_default() {
        let mut list = Vec::new();
        for (j, w) in words.into_inner().into_iter().enumerate() {
            if w.get_ref().trim().is_empty() {
                return Err(ctx.err(
                    &format!("content.categories.{cat}[{j}]"),
                    w.span(),
                    "must not be empty",
                ));
            }
            list.push(w.into_inner());
        }
        out.categories.insert(cat, list);
    }
    Ok(out)
}

pub(super) fn account(
    ctx: &Ctx<'_>,
    i: usize,
    raw: Option<S<RawAccountBilling>>,
    opening_balance: bool,
) -> Result<Option<AccountBilling>, ConfigError> {
    let Some(raw) = raw else {
        // An opening balance alone makes the account prepaid, charged at 0 fen.
        return Ok(opening_balance.then(AccountBilling::default));
    };
    let raw = raw.into_inner();
    let k = |f: &str| format!("accounts[{i}].billing.{f}");
    let kind = match &raw.kind {
        None => AccountKind::Notification,
        Some(v) => match v.get_ref().as_str() {
            "notification" => AccountKind::Notification,
            "marketing" => AccountKind::Marketing,
            other => {
                let m = format!("`{other}` is not a kind: use notification or marketing");
                return Err(ctx.err(&k("kind"), v.span(), m));
            }
        },
    };
    let content = match &raw.content {
        None => ContentAction::Reject,
        Some(v) => match v.get_ref().as_str() {
            "reject" => ContentAction::Reject,
            "review" => ContentAction::Review,
            other => {
                let m = format!("`{other}` is not a content action: use reject or review");
                return Err(ctx.err(&k("content"), v.span(), m));
            }
        },
    };
    let contact_phone = match raw.contact_phone {
        None => None,
        Some(p) => {
            let v = p.get_ref();
            let digits = v.strip_prefix('+').unwrap_or(v);
            if !(5..=21).contains(&v.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ctx.err(&k("contact_phone"), p.span(), "must be a phone number"));
            }
            Some(p.into_inner())
        }
    };
    let mut carriers = Vec::new();
    for (j, c) in raw
        .carriers
        .map(|c| c.into_inner())
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        if c.get_ref().trim().is_empty() {
            return Err(ctx.err(
                &format!("accounts[{i}].billing.carriers[{j}]"),
                c.span(),
                "must name a carrier",
            ));
        }
        carriers.push(c.into_inner());
    }
    Ok(Some(AccountBilling {
        carriers,
        price_fen: ctx.int(&k("price_fen"), raw.price_fen, 0, 100_000, 0)? as u32,
        kind,
        contact_phone,
        low_balance_parts: ctx.int(&k("low_balance_parts"), raw.low_balance_parts, 0, i64::MAX, 0)? as u64,
        content,
    }))
}
