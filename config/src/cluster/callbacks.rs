//! An account's callbacks: the application servers its MOs and delivery
//! reports are POSTed to, and the secret their HMAC-SHA256 signature is made
//! with. Written in the cluster document as
//!
//! ```toml
//! [accounts.callbacks]
//! urls = ["http://10.0.0.5:8080/sms/events", "http://10.0.0.6:8080/sms/events"]
//! secret = "at least 16 printable characters"
//! ```
//!
//! Only plain `http://` URLs: the node's client speaks no TLS (put a local
//! TLS proxy in front of a remote receiver). The secret is stored as it must
//! be used (it signs), so it is masked wherever the document is shown and
//! never printed by `Debug`.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::REDACTED;
use crate::spans::Ctx;
use crate::ConfigError;

/// Most URLs per account.
pub const MAX_URLS: usize = 16;

/// Where and how an account's events are delivered.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callbacks {
    /// Receivers, used round robin (each event fails over to the next).
    pub urls: Vec<String>,
    /// The HMAC-SHA256 key of `X-Smsgw-Signature`.
    pub secret: String,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("urls", &self.urls)
            .field("secret", &REDACTED)
            .finish()
    }
}

/// The TOML shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCallbacks {
    urls: Spanned<Vec<Spanned<String>>>,
    secret: Spanned<String>,
}

/// Whether `url` is an `http://host[:port][/path]` URL this node can call.
fn url_problem(url: &str) -> Option<&'static str> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Some("only http:// URLs are supported (put a TLS proxy in front of an https receiver)");
    };
    if url.len() > 2048 || !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Some("a URL is at most 2048 printable ASCII characters, no spaces");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Some("the URL needs a host (`http://HOST[:PORT]/PATH`), without user info");
    }
    if let Some((_, port)) = authority.rsplit_once(':') {
        if !authority.ends_with(']') && port.parse::<u16>().map_or(true, |p| p == 0) {
            return Some("the port must be a number from 1 to 65535");
        }
    }
    None
}

/// Validates `accounts[i].callbacks`.
pub(super) fn parse(ctx: &Ctx<'_>, i: usize, raw: RawCallbacks) -> Result<Callbacks, ConfigError> {
    let k = |f: &str| format!("accounts[{i}].callbacks.{f}");
    let list = raw.urls;
    if list.get_ref().is_empty() || list.get_ref().len() > MAX_URLS {
        return Err(ctx.err(&k("urls"), list.span(), format!("list 1 to {MAX_URLS} URLs")));
    }
    let mut urls: Vec<String> = Vec::new();
    for (j, u) in list.into_inner().into_iter().enumerate() {
        if let Some(m) = url_problem(u.get_ref()) {
            return Err(ctx.err(&format!("accounts[{i}].callbacks.urls[{j}]"), u.span(), m));
        }
        if urls.contains(u.get_ref()) {
            return Err(ctx.err(
                &format!("accounts[{i}].callbacks.urls[{j}]"),
                u.span(),
                "this URL is listed twice",
            ));
        }
        urls.push(u.into_inner());
    }
    let secret = raw.secret;
    let s = secret.get_ref();
    if s == REDACTED {
        return Err(ctx.err(
            &k("secret"),
            secret.span(),
            "this is the masked form `config show` prints: give the real secret",
        ));
    }
    if s.len() < 16 || s.len() > 256 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ctx.err(
            &k("secret"),
            secret.span(),
            "a secret is 16 to 256 printable ASCII characters, no spaces",
        ));
    }
    Ok(Callbacks {
        urls,
        secret: secret.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use crate::ClusterDoc;

    fn doc(callbacks: &str) -> String {
        format!("[[accounts]]\nname = \"a\"\napi_keys = [\"sk_0123456789abcdef\"]\n{callbacks}")
    }

    #[test]
    fn callbacks_parse_and_are_masked_when_shown() {
        let text = doc("[accounts.callbacks]\nurls = [\"http://127.0.0.1:9/x\", \"http://h/y\"]\nsecret = \"0123456789abcdefXYZ\"\n");
        let d = ClusterDoc::from_toml_str(&text, "c.toml").unwrap();
        let cb = d.accounts[0].callbacks.as_ref().unwrap();
        assert_eq!(cb.urls.len(), 2);
        assert_eq!(cb.secret, "0123456789abcdefXYZ");
        assert!(!format!("{d:?}").contains("0123456789abcdefXYZ"));
        let shown = d.redacted();
        assert_eq!(
            shown.accounts[0].callbacks.as_ref().unwrap().secret,
            crate::REDACTED
        );
        assert!(!shown.to_toml().contains("0123456789abcdefXYZ"));
        // The replicated form round-trips.
        assert_eq!(ClusterDoc::from_json(&d.to_json()).unwrap(), d);
    }

    #[test]
    fn bad_callbacks_name_the_key_and_line() {
        let cases = [
            (
                "urls = []\nsecret = \"0123456789abcdef\"",
                "accounts[0].callbacks.urls",
                5,
            ),
            (
                "urls = [\"https://x/\"]\nsecret = \"0123456789abcdef\"",
                "accounts[0].callbacks.urls[0]",
                5,
            ),
            (
                "urls = [\"http://x:0/\"]\nsecret = \"0123456789abcdef\"",
                "accounts[0].callbacks.urls[0]",
                5,
            ),
            (
                "urls = [\"http://x/\", \"http://x/\"]\nsecret = \"0123456789abcdef\"",
                "accounts[0].callbacks.urls[1]",
                5,
            ),
            (
                "urls = [\"http://x/\"]\nsecret = \"short\"",
                "accounts[0].callbacks.secret",
                6,
            ),
            (
                "urls = [\"http://x/\"]\nsecret = \"********\"",
                "accounts[0].callbacks.secret",
                6,
            ),
        ];
        for (body, key, line) in cases {
            let text = doc(&format!("[accounts.callbacks]\n{body}\n"));
            let e = ClusterDoc::from_toml_str(&text, "c.toml").unwrap_err();
            assert_eq!((e.key.as_str(), e.line), (key, line), "{body}: {e}");
        }
    }
}
