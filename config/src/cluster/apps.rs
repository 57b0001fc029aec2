//! An account's application logins: how its business systems and SP
//! customers connect over SMPP 3.4 and CMPP 2.0/3.0 instead of HTTP.
//! Written in the cluster document as
//!
//! ```toml
//! [accounts.apps]
//! system_id = "billing"          # SMPP bind system_id (1 to 15 characters)
//! password = "s3cret12"          # SMPP password (1 to 8 characters, the protocol's limit)
//! sp_id = "900123"               # CMPP Source_Addr of CONNECT (6 digits)
//! secret = "shared secret"       # CMPP shared secret (1 to 64 characters)
//! tps = 200                      # optional: submits per second, all app sessions of a node
//! ```
//!
//! Either pair may be left out (no SMPP, or no CMPP). The CMPP secret must
//! be kept as it is (CONNECT authenticates with an MD5 over it), and the
//! SMPP password is compared as given, so both are stored as written,
//! masked wherever the document is shown and never printed by `Debug`.
//! Both are compared in constant time by the node; this module never
//! compares a credential itself.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::REDACTED;
use crate::spans::Ctx;
use crate::ConfigError;

/// An account's SMPP and CMPP logins.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppLogins {
    /// SMPP `system_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<String>,
    /// SMPP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// CMPP SP id (`Source_Addr` of CONNECT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_id: Option<String>,
    /// CMPP shared secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Most submits per second over all the account's app sessions on one node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tps: Option<u32>,
}

impl std::fmt::Debug for AppLogins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppLogins")
            .field("system_id", &self.system_id)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .field("sp_id", &self.sp_id)
            .field("secret", &self.secret.as_ref().map(|_| REDACTED))
            .field("tps", &self.tps)
            .finish()
    }
}

impl AppLogins {
    /// The same logins with both secrets masked.
    pub fn redacted(&self) -> AppLogins {
        AppLogins {
            password: self.password.as_ref().map(|_| REDACTED.to_string()),
            secret: self.secret.as_ref().map(|_| REDACTED.to_string()),
            ..self.clone()
        }
    }
}

/// The TOML shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAppLogins {
    system_id: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    sp_id: Option<Spanned<String>>,
    secret: Option<Spanned<String>>,
    tps: Option<Spanned<i64>>,
}

fn printable(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_graphic())
}

/// Validates `accounts[i].apps` (uniqueness across accounts is checked by the caller).
pub(super) fn parse(ctx: &Ctx<'_>, i: usize, raw: RawAppLogins) -> Result<AppLogins, ConfigError> {
    let k = |f: &str| format!("accounts[{i}].apps.{f}");
    let secret_field = |v: &Spanned<String>, f: &str, max: usize| -> Result<String, ConfigError> {
        let s = v.get_ref();
        if s == REDACTED {
            return Err(ctx.err(
                &k(f),
                v.span(),
                "this is the masked form `config show` prints: give the real value",
            ));
        }
        if s.is_empty() || s.len() > max || !printable(s) {
            return Err(ctx.err(
                &k(f),
                v.span(),
                format!("1 to {max} printable ASCII characters, no spaces"),
            ));
        }
        Ok(s.clone())
    };
    let pair = |a: &Option<Spanned<String>>, b: &Option<Spanned<String>>, fa: &str, fb: &str| match (a, b) {
        (Some(_), None) => Err(ctx.err(
            &k(fb),
            a.as_ref().map(Spanned::span).unwrap_or_default(),
            format!("`{fa}` needs `{fb}` too"),
        )),
        (None, Some(_)) => Err(ctx.err(
            &k(fa),
            b.as_ref().map(Spanned::span).unwrap_or_default(),
            format!("`{fb}` needs `{fa}` too"),
        )),
        _ => Ok(()),
    };
    pair(&raw.system_id, &raw.password, "system_id", "password")?;
    pair(&raw.sp_id, &raw.secret, "sp_id", "secret")?;
    let system_id = match &raw.system_id {
        Some(v) if v.get_ref().is_empty() || v.get_ref().len() > 15 || !printable(v.get_ref()) => {
            return Err(ctx.err(
                &k("system_id"),
                v.span(),
                "1 to 15 printable ASCII characters, no spaces",
            ))
        }
        v => v.as_ref().map(|v| v.get_ref().clone()),
    };
    let password = raw
        .password
        .as_ref()
        .map(|v| secret_field(v, "password", 8))
        .transpose()?;
    let sp_id = match &raw.sp_id {
        Some(v) if v.get_ref().len() != 6 || !v.get_ref().bytes().all(|b| b.is_ascii_digit()) => {
            return Err(ctx.err(&k("sp_id"), v.span(), "an SP id is 6 digits"))
        }
        v => v.as_ref().map(|v| v.get_ref().clone()),
    };
    let secret = raw
        .secret
        .as_ref()
        .map(|v| secret_field(v, "secret", 64))
        .transpose()?;
    let tps = match raw.tps {
        Some(v) if !(1..=1_000_000).contains(v.get_ref()) => {
            return Err(ctx.err(&k("tps"), v.span(), "must be from 1 to 1000000"))
        }
        v => v.map(|v| *v.get_ref() as u32),
    };
    if system_id.is_none() && sp_id.is_none() {
        return Err(ctx.err(
            &format!("accounts[{i}].apps"),
            0..0,
            "give `system_id`/`password` (SMPP), `sp_id`/`secret` (CMPP), or both",
        ));
    }
    Ok(AppLogins {
        system_id,
        password,
        sp_id,
        secret,
        tps,
    })
}

#[cfg(test)]
mod tests {
    use crate::ClusterDoc;

    fn doc(name: &str, apps: &str) -> String {
        format!("[[accounts]]\nname = \"{name}\"\napi_keys = [\"sk_0123456789abcdef{name}\"]\n[accounts.apps]\n{apps}\n")
    }

    #[test]
    fn logins_parse_and_are_masked_when_shown() {
        let text = doc(
            "a",
            "system_id = \"sysa\"\npassword = \"pw123456\"\nsp_id = \"900001\"\nsecret = \"cmpp-secret\"\ntps = 50",
        );
        let d = ClusterDoc::from_toml_str(&text, "c.toml").unwrap();
        let a = d.accounts[0].apps.as_ref().unwrap();
        assert_eq!(a.system_id.as_deref(), Some("sysa"));
        assert_eq!(a.secret.as_deref(), Some("cmpp-secret"));
        assert_eq!(a.tps, Some(50));
        let shown = format!("{d:?} {}", d.redacted().to_toml());
        assert!(
            !shown.contains("pw123456") && !shown.contains("cmpp-secret"),
            "{shown}"
        );
        assert_eq!(ClusterDoc::from_json(&d.to_json()).unwrap(), d);
        let found = d.account_by_system_id("sysa").map(|a| a.name.as_str());
        assert_eq!(found, Some("a"));
        assert_eq!(d.account_by_sp_id("900001").map(|a| a.name.as_str()), Some("a"));
        assert!(d.account_by_system_id("other").is_none());
    }

    #[test]
    fn bad_logins_name_the_key() {
        let cases = [
            ("system_id = \"s\"", "accounts[0].apps.password"),
            (
                "system_id = \"s\"\npassword = \"123456789\"",
                "accounts[0].apps.password",
            ),
            ("sp_id = \"12345\"\nsecret = \"x\"", "accounts[0].apps.sp_id"),
            (
                "sp_id = \"123456\"\nsecret = \"********\"",
                "accounts[0].apps.secret",
            ),
            ("tps = 5", "accounts[0].apps"),
        ];
        for (body, key) in cases {
            let e = ClusterDoc::from_toml_str(&doc("a", body), "c.toml").unwrap_err();
            assert_eq!(e.key, key, "{body}: {e}");
        }
        let two = format!(
            "{}{}",
            doc("a", "system_id = \"s\"\npassword = \"p\""),
            doc("b", "system_id = \"s\"\npassword = \"q\"")
        );
        let e = ClusterDoc::from_toml_str(&two, "c.toml").unwrap_err();
        assert_eq!(e.key, "accounts[1].apps.system_id", "{e}");
    }
}
