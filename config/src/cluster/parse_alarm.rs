//! Reading `[alarm]` (see [`super::alarm`]); errors name the dotted key and
//! the line.

use serde::Deserialize;
use toml::Spanned;

use super::alarm::{AlarmDesk, AlarmLine, KeywordRank};
use crate::spans::Ctx;
use crate::ConfigError;

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlarm {
    account: Option<S<String>>,
    desk_number: Option<S<String>>,
    ack_timeout_secs: Option<S<i64>>,
    open_limit_secs: Option<S<i64>>,
    join_window_secs: Option<S<i64>>,
    flood_per_minute: Option<S<i64>>,
    #[serde(default)]
    lines: Vec<RawLine>,
    #[serde(default)]
    keywords: Vec<RawKeywords>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    number: S<String>,
    kind: Option<S<String>>,
    priority: Option<S<i64>>,
    reply: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeywords {
    words: S<Vec<S<String>>>,
    rank: Option<S<i64>>,
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 21 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `[alarm]`; `accounts` are the document's account names.
pub(super) fn alarm(
    ctx: &Ctx<'_>,
    raw: Option<RawAlarm>,
    accounts: &[String],
) -> Result<AlarmDesk, ConfigError> {
    let d = AlarmDesk::default();
    let Some(raw) = raw else { return Ok(d) };
    let account = match raw.account {
        None => None,
        Some(a) if accounts.contains(a.get_ref()) => Some(a.into_inner()),
        Some(a) => {
            let m = format!("`{}` is not an account of this document", a.get_ref());
            return Err(ctx.err("alarm.account", a.span(), m));
        }
    };
    let desk_number = match raw.desk_number {
        None => None,
        Some(n) if digits(n.get_ref()) => Some(n.into_inner()),
        Some(n) => return Err(ctx.err("alarm.desk_number", n.span(), "must be digits")),
    };
    let mut lines: Vec<AlarmLine> = Vec::new();
    for (i, l) in raw.lines.into_iter().enumerate() {
        let k = |f: &str| format!("alarm.lines[{i}].{f}");
        if !digits(l.number.get_ref()) {
            return Err(ctx.err(&k("number"), l.number.span(), "must be digits"));
        }
        if lines.iter().any(|o| &o.number == l.number.get_ref()) {
            let m = format!("line {} appears twice", l.number.get_ref());
            return Err(ctx.err(&k("number"), l.number.span(), m));
        }
        let reply = match l.reply {
            Some(r) if r.get_ref().trim().is_empty() => {
                return Err(ctx.err(
                    &k("reply"),
                    r.span(),
                    "must not be empty (leave it out for no reply)",
                ))
            }
            Some(r) if r.get_ref().chars().count() > 500 => {
                return Err(ctx.err(&k("reply"), r.span(), "must be at most 500 characters"))
            }
            r => r.map(|r| r.into_inner()),
        };
        lines.push(AlarmLine {
            number: l.number.into_inner(),
            kind: l.kind.map(|k| k.into_inner()).unwrap_or_else(|| "crime".into()),
            priority: ctx.int(&k("priority"), l.priority, 1, 9, 1)? as u8,
            reply,
        });
    }
    if !lines.is_empty() && account.is_none() {
        return Err(ctx.err(
            "alarm.account",
            0..0,
            "a desk with lines needs `account` (whose messages its SMS are)",
        ));
    }
    let mut keywords = Vec::new();
    for (i, kw) in raw.keywords.into_iter().enumerate() {
        let span = kw.words.span();
        let words: Vec<String> = kw
            .words
            .into_inner()
            .into_iter()
            .map(|w| w.into_inner())
            .collect();
        if words.is_empty() || words.iter().any(|w| w.trim().is_empty()) {
            return Err(ctx.err(
                &format!("alarm.keywords[{i}].words"),
                span,
                "must be non-empty words",
            ));
        }
        keywords.push(KeywordRank {
            words,
            rank: ctx.int(&format!("alarm.keywords[{i}].rank"), kw.rank, 0, 99, 0)? as u16,
        });
    }
    let secs = |key: &str, v: Option<S<i64>>, default: u64| {
        ctx.int(&format!("alarm.{key}"), v, 1, 7 * 86_400, default as i64)
            .map(|v| v as u64)
    };
    Ok(AlarmDesk {
        account,
        desk_number,
        ack_timeout_secs: secs("ack_timeout_secs", raw.ack_timeout_secs, d.ack_timeout_secs)?,
        open_limit_secs: secs("open_limit_secs", raw.open_limit_secs, d.open_limit_secs)?,
        join_window_secs: secs("join_window_secs", raw.join_window_secs, d.join_window_secs)?,
        flood_per_minute: ctx.int(
            "alarm.flood_per_minute",
            raw.flood_per_minute,
            1,
            10_000,
            d.flood_per_minute as i64,
        )? as u32,
        lines,
        keywords,
    })
}

#[cfg(test)]
mod tests {
    use crate::ClusterDoc;

    const BASE: &str = "[[accounts]]\nname = \"desk\"\napi_keys = [\"sk_desk_0123456789abcdef\"]\n\n";

    #[test]
    fn a_desk_is_read_with_its_lines_keywords_and_timing() {
        let text = format!(
            "{BASE}[alarm]\naccount = \"desk\"\nack_timeout_secs = 5\n\n[[alarm.lines]]\nnumber = \"110\"\n\
             priority = 1\nreply = \"收到 {{case}}\"\n\n[[alarm.lines]]\nnumber = \"1101\"\nkind = \"help\"\npriority = 2\n\n\
             [[alarm.keywords]]\nwords = [\"持刀\"]\nrank = 0\n"
        );
        let doc = ClusterDoc::from_toml_str(&text, "c.toml").expect("valid");
        assert_eq!(doc.alarm.ack_timeout_secs, 5);
        assert_eq!(doc.alarm.lines.len(), 2);
        assert_eq!(doc.alarm.lines[1].kind, "help");
        assert_eq!(doc.alarm.rank(&doc.alarm.lines[1], "他持刀"), 0);
    }

    #[test]
    fn a_bad_desk_names_the_key_and_the_line() {
        let cases = [
            ("[alarm]\naccount = \"nobody\"\n", "alarm.account", 6),
            (
                "[alarm]\naccount = \"desk\"\n[[alarm.lines]]\nnumber = \"11x\"\n",
                "alarm.lines[0].number",
                8,
            ),
            ("[[alarm.lines]]\nnumber = \"110\"\n", "alarm.account", 0),
            (
                "[alarm]\naccount = \"desk\"\nack_timeout_secs = 0\n",
                "alarm.ack_timeout_secs",
                7,
            ),
        ];
        for (tail, key, line) in cases {
            let e = ClusterDoc::from_toml_str(&format!("{BASE}{tail}"), "c.toml").expect_err(tail);
            assert_eq!(e.key, key, "{tail}: {e}");
            if line > 0 {
                assert_eq!(e.line, line, "{tail}: {e}");
            }
        }
    }
}
