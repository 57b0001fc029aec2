//! Reading and validating the cluster document's TOML. Every error names the
//! dotted key (`carriers[1].tps`) and the 1-based line it is on.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::profile::{parse_time_zone, CarrierProfile, IdFormat, ProfileOverrides, ReceiptStyle, UdhStyle};
use super::{Carrier, CarrierProtocol, ClusterDoc, MessageDefaults, Route};
use crate::node::valid_addr;
use crate::spans::{read_config, Ctx};
use crate::ConfigError;

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoc {
    #[serde(default)]
    demo: bool,
    defaults: Option<RawDefaults>,
    #[serde(default)]
    carriers: Vec<RawCarrier>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    #[serde(default)]
    accounts: Vec<super::parse_accounts::RawAccount>,
    admin: Option<super::parse_billing::RawAdmin>,
    billing: Option<super::parse_billing::RawBillingRules>,
    content: Option<super::parse_billing::RawContent>,
    alarm: Option<super::parse_alarm::RawAlarm>,
    retention: Option<super::retention::RawRetention>,
    backlog: Option<super::backlog::RawBacklog>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    validity_secs: Option<S<i64>>,
    report: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCarrier {
    name: S<String>,
    protocol: S<String>,
    address: S<String>,
    login: S<String>,
    password: S<String>,
    connections: Option<S<i64>>,
    window: Option<S<i64>>,
    tps: Option<S<i64>>,
    sp_number: Option<S<String>>,
    sgip_sp_listen: Option<S<String>>,
    profile: Option<S<String>>,
    overrides: Option<RawOverrides>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverrides {
    version: Option<S<String>>,
    login_time_zone: Option<S<String>>,
    fee_type: Option<S<String>>,
    fee_code: Option<S<String>>,
    fixed_fee: Option<S<String>>,
    fee_user_type: Option<S<i64>>,
    service_id: Option<S<String>>,
    corp_id: Option<S<String>>,
    submit_resp_id: Option<S<String>>,
    receipt_id: Option<S<String>>,
    receipts: Option<S<String>>,
    data_coding_ucs2: Option<S<i64>>,
    data_coding_gbk: Option<S<i64>>,
    max_parts: Option<S<i64>>,
    udh: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    prefixes: S<Vec<S<String>>>,
    carrier: S<String>,
    backup: Option<S<String>>,
}

impl Ctx<'_> {
    /// A number in `lo..=hi`, or `default` when absent.
    pub(super) fn int(
        &self,
        key: &str,
        v: Option<S<i64>>,
        lo: i64,
        hi: i64,
        default: i64,
    ) -> Result<i64, ConfigError> {
        match v {
            None => Ok(default),
            Some(v) if (lo..=hi).contains(v.get_ref()) => Ok(*v.get_ref()),
            Some(v) => Err(self.err(
                key,
                v.span(),
                format!("must be from {lo} to {hi}, got {}", v.get_ref()),
            )),
        }
    }

    pub(super) fn nonempty(&self, key: &str, v: &S<String>) -> Result<String, ConfigError> {
        if v.get_ref().trim().is_empty() {
            return Err(self.err(key, v.span(), "must not be empty"));
        }
        Ok(v.get_ref().clone())
    }
}

pub(super) fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks one route prefix: `*`, digits, `+digits`, or an equal-length digit range.
fn check_prefix(p: &str) -> Result<(), String> {
    if p == "*" || digits(p) || p.strip_prefix('+').is_some_and(digits) {
        return Ok(());
    }
    if p.contains('-') {
        return match super::route::expand(p) {
            Some(_) => Ok(()),
            None => Err(format!(
                "`{p}` is not a range: write LOW-HIGH with digits of equal length and LOW <= HIGH, e.g. 134-139"
            )),
        };
    }
    Err(format!(
        "`{p}` is not a number segment: use digits (139), a range (134-139), +country (+44) or *"
    ))
}

impl ClusterDoc {
    /// Reads and validates the cluster document at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let (text, file) = read_config(path)?;
        Self::from_toml_str(&text, &file)
    }

    /// Parses and validates cluster-document text; `file` names it in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self, ConfigError> {
        let ctx = Ctx { file, text };
        let raw: RawDoc = ctx.parse()?;
        let mut defaults = MessageDefaults::default();
        if let Some(d) = raw.defaults {
            let v = ctx.int(
                "defaults.validity_secs",
                d.validity_secs,
                60,
                7 * 86400,
                48 * 3600,
            )?;
            defaults.validity_secs = v as u64;
            defaults.report = d.report.unwrap_or(true);
        }
        let carriers = carriers(&ctx, raw.carriers)?;
        let routes = routes(&ctx, raw.routes, &carriers)?;
        let accounts = super::parse_accounts::accounts(&ctx, raw.accounts)?;
        let names: Vec<String> = accounts.iter().map(|a| a.name.clone()).collect();
        Ok(ClusterDoc {
            demo: raw.demo,
            defaults,
            carriers,
            routes,
            accounts,
            admin: super::parse_billing::admin(&ctx, raw.admin)?,
            billing: super::parse_billing::rules(&ctx, raw.billing)?,
            content: super::parse_billing::content(&ctx, raw.content)?,
            alarm: super::parse_alarm::alarm(&ctx, raw.alarm, &names)?,
            retention: super::retention::parse(&ctx, raw.retention)?,
            backlog: super::backlog::parse(&ctx, raw.backlog)?,
        })
    }
}

fn carriers(ctx: &Ctx<'_>, raw: Vec<RawCarrier>) -> Result<Vec<Carrier>, ConfigError> {
    let mut out: Vec<Carrier> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, c) in raw.into_iter().enumerate() {
        let k = |f: &str| format!("carriers[{i}].{f}");
        let name = ctx.nonempty(&k("name"), &c.name)?;
        if let Some(first) = seen.insert(name.clone(), ctx.line_of(c.name.span())) {
            let m = format!("carrier `{name}` appears twice (first at line {first})");
            return Err(ctx.err(&k("name"), c.name.span(), m));
        }
        let protocol = CarrierProtocol::from_name(c.protocol.get_ref()).ok_or_else(|| {
            let m = format!(
                "`{}` is not a protocol: use cmpp2, cmpp3, sgip, smgp or smpp",
                c.protocol.get_ref()
            );
            ctx.err(&k("protocol"), c.protocol.span(), m)
        })?;
        valid_addr(c.address.get_ref()).map_err(|m| ctx.err(&k("address"), c.address.span(), m))?;
        let login = ctx.nonempty(&k("login"), &c.login)?;
        let sp_number = match c.sp_number {
            Some(s) if !digits(s.get_ref()) || s.get_ref().len() > 21 => {
                return Err(ctx.err(&k("sp_number"), s.span(), "must be 1 to 21 digits"));
            }
            s => s.map(Spanned::into_inner),
        };
        let sgip_sp_listen = match c.sgip_sp_listen {
            Some(s) if protocol != CarrierProtocol::Sgip => {
                return Err(ctx.err(
                    &k("sgip_sp_listen"),
                    s.span(),
                    "only sgip carriers have an SP listener",
                ));
            }
            Some(s) => {
                valid_addr(s.get_ref()).map_err(|m| ctx.err(&k("sgip_sp_listen"), s.span(), m))?;
                Some(s.into_inner())
            }
            None => None,
        };
        let profile = match c.profile {
            None => None,
            Some(p) if CarrierProfile::shipped(p.get_ref()).is_none() => {
                let m = format!(
                    "`{}` is not a carrier profile: use {}",
                    p.get_ref(),
                    super::profile::SHIPPED_PROFILES.join(", ")
                );
                return Err(ctx.err(&k("profile"), p.span(), m));
            }
            Some(p) if !CarrierProfile::fits(p.get_ref(), protocol) => {
                let m = format!(
                    "profile `{}` is not for {} carriers",
                    p.get_ref(),
                    protocol.name()
                );
                return Err(ctx.err(&k("profile"), p.span(), m));
            }
            Some(p) => Some(p.into_inner()),
        };
        let overrides = match c.overrides {
            Some(o) => overrides(ctx, &k("overrides"), protocol, o)?,
            None => ProfileOverrides::default(),
        };
        out.push(Carrier {
            profile,
            overrides,
            name,
            protocol,
            address: c.address.into_inner(),
            login,
            password: c.password.into_inner(),
            connections: ctx.int(&k("connections"), c.connections, 1, 64, 1)? as u32,
            window: ctx.int(&k("window"), c.window, 1, 1024, 16)? as u32,
            tps: ctx.int(&k("tps"), c.tps, 1, 100_000, 100)? as u32,
            sp_number,
            sgip_sp_listen,
        });
    }
    Ok(out)
}

/// One of `names` (the file's spelling of an enum), or an error naming them.
fn one_of<T: Copy>(
    ctx: &Ctx<'_>,
    key: &str,
    v: Option<S<String>>,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<Option<T>, ConfigError> {
    let Some(v) = v else { return Ok(None) };
    match all.iter().find(|x| name(**x) == v.get_ref()) {
        Some(x) => Ok(Some(*x)),
        None => {
            let names: Vec<&str> = all.iter().map(|x| name(*x)).collect();
            let m = format!("`{}` is not one of {}", v.get_ref(), names.join(", "));
            Err(ctx.err(key, v.span(), m))
        }
    }
}

/// A fixed-width digit field (FeeType 2, FeeCode and FixedFee 6).
fn fee_digits(
    ctx: &Ctx<'_>,
    key: &str,
    v: Option<S<String>>,
    width: usize,
) -> Result<Option<String>, ConfigError> {
    match v {
        Some(s) if s.get_ref().len() != width || !digits(s.get_ref()) => {
            Err(ctx.err(key, s.span(), format!("must be exactly {width} digits")))
        }
        s => Ok(s.map(Spanned::into_inner)),
    }
}

fn overrides(
    ctx: &Ctx<'_>,
    prefix: &str,
    protocol: CarrierProtocol,
    o: RawOverrides,
) -> Result<ProfileOverrides, ConfigError> {
    let k = |f: &str| format!("{prefix}.{f}");
    let version = match o.version {
        Some(v) if !CarrierProfile::versions(protocol).contains(&v.get_ref().as_str()) => {
            let m = format!(
                "{} carriers speak version {}",
                protocol.name(),
                CarrierProfile::versions(protocol).join(" or ")
            );
            return Err(ctx.err(&k("version"), v.span(), m));
        }
        v => v.map(Spanned::into_inner),
    };
    let login_time_zone = match o.login_time_zone {
        Some(z) if parse_time_zone(z.get_ref()).is_none() => {
            let m = "use Asia/Shanghai, UTC or a fixed offset like +08:00 (zones with daylight saving are refused)";
            return Err(ctx.err(&k("login_time_zone"), z.span(), m));
        }
        z => z.map(Spanned::into_inner),
    };
    let service_id = match o.service_id {
        Some(s) if s.get_ref().len() > 10 || !s.get_ref().is_ascii() => {
            return Err(ctx.err(&k("service_id"), s.span(), "at most 10 ASCII characters"));
        }
        s => s.map(Spanned::into_inner),
    };
    let byte = |key: &str, v: Option<S<i64>>, lo: i64, hi: i64| -> Result<Option<u8>, ConfigError> {
        match v {
            None => Ok(None),
            v => ctx.int(&k(key), v, lo, hi, 0).map(|n| Some(n as u8)),
        }
    };
    Ok(ProfileOverrides {
        version,
        login_time_zone,
        fee_type: fee_digits(ctx, &k("fee_type"), o.fee_type, 2)?,
        fee_code: fee_digits(ctx, &k("fee_code"), o.fee_code, 6)?,
        fixed_fee: fee_digits(ctx, &k("fixed_fee"), o.fixed_fee, 6)?,
        fee_user_type: byte("fee_user_type", o.fee_user_type, 0, 3)?,
        service_id,
        corp_id: fee_digits(ctx, &k("corp_id"), o.corp_id, 5)?,
        submit_resp_id: one_of(
            ctx,
            &k("submit_resp_id"),
            o.submit_resp_id,
            &IdFormat::ALL,
            IdFormat::name,
        )?,
        receipt_id: one_of(
            ctx,
            &k("receipt_id"),
            o.receipt_id,
            &IdFormat::ALL,
            IdFormat::name,
        )?,
        receipts: one_of(
            ctx,
            &k("receipts"),
            o.receipts,
            &ReceiptStyle::ALL,
            ReceiptStyle::name,
        )?,
        data_coding_ucs2: byte("data_coding_ucs2", o.data_coding_ucs2, 0, 255)?,
        data_coding_gbk: byte("data_coding_gbk", o.data_coding_gbk, 0, 255)?,
        max_parts: byte("max_parts", o.max_parts, 1, 255)?,
        udh: one_of(ctx, &k("udh"), o.udh, &UdhStyle::ALL, UdhStyle::name)?,
    })
}

fn routes(ctx: &Ctx<'_>, raw: Vec<RawRoute>, carriers: &[Carrier]) -> Result<Vec<Route>, ConfigError> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in raw.into_iter().enumerate() {
        let k = |f: &str| format!("routes[{i}].{f}");
        let known = |key: String, v: &S<String>| -> Result<String, ConfigError> {
            if carriers.iter().any(|c| &c.name == v.get_ref()) {
                Ok(v.get_ref().clone())
            } else {
                let names: Vec<&str> = carriers.iter().map(|c| c.name.as_str()).collect();
                let m = format!(
                    "no carrier is named `{}` (carriers: {})",
                    v.get_ref(),
                    names.join(", ")
                );
                Err(ctx.err(&key, v.span(), m))
            }
        };
        let carrier = known(k("carrier"), &r.carrier)?;
        let backup = match &r.backup {
            Some(b) if b.get_ref() == &carrier => {
                return Err(ctx.err(&k("backup"), b.span(), "the backup must differ from the carrier"));
            }
            Some(b) => Some(known(k("backup"), b)?),
            None => None,
        };
        if r.prefixes.get_ref().is_empty() {
            return Err(ctx.err(
                &k("prefixes"),
                r.prefixes.span(),
                "must list at least one number segment",
            ));
        }
        let mut prefixes = Vec::new();
        for (j, p) in r.prefixes.into_inner().into_iter().enumerate() {
            let key = format!("routes[{i}].prefixes[{j}]");
            check_prefix(p.get_ref()).map_err(|m| ctx.err(&key, p.span(), m))?;
            for e in super::route::expand(p.get_ref()).unwrap_or_default() {
                if let Some(first) = seen.insert(e.clone(), ctx.line_of(p.span())) {
                    let m = format!("segment `{e}` is already routed (line {first})");
                    return Err(ctx.err(&key, p.span(), m));
                }
            }
            prefixes.push(p.into_inner());
        }
        out.push(Route {
            prefixes,
            carrier,
            backup,
        });
    }
    Ok(out)
}
