//! Route lookup: the longest matching number segment wins; `*` takes what no
//! other route does. Numbers are normalised first so that `+8613800138000`,
//! `008613800138000`, `8613800138000` and `13800138000` route the same way,
//! while other international numbers (`+44...`, `0044...`) keep their `+`
//! and match only `+` prefixes or `*`.

use super::Route;

/// The carrier chosen for a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteChoice<'a> {
    /// The primary carrier.
    pub carrier: &'a str,
    /// The backup carrier, if any.
    pub backup: Option<&'a str>,
    /// The segment that matched (`*` for the default route).
    pub prefix: &'a str,
}

/// A compiled route table.
#[derive(Debug, Clone, Default)]
pub struct Router {
    /// (prefix, carrier, backup), longest prefix first.
    entries: Vec<(String, String, Option<String>)>,
    default: Option<(String, Option<String>)>,
}

/// Expands `134-139` into `134`..`139`; a plain prefix into itself.
/// Returns `None` for malformed ranges (validation reports them).
pub fn expand(prefix: &str) -> Option<Vec<String>> {
    let Some((lo, hi)) = prefix.split_once('-') else {
        return Some(vec![prefix.to_string()]);
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if lo.len() != hi.len() || !digits(lo) || !digits(hi) || lo.len() > 18 {
        return None;
    }
    let (a, b) = (lo.parse::<u64>().ok()?, hi.parse::<u64>().ok()?);
    if a > b || b - a > 10_000 {
        return None;
    }
    Some(
        (a..=b)
            .map(|n| format!("{n:0width$}", width = lo.len()))
            .collect(),
    )
}

/// The form routes match on: Chinese numbers without their country code,
/// other international numbers as `+CC...`, anything else as given.
pub fn normalize_number(number: &str) -> String {
    let intl = if let Some(rest) = number.strip_prefix('+') {
        Some(rest)
    } else {
        number.strip_prefix("00")
    };
    match intl {
        Some(rest) => match rest.strip_prefix("86") {
            Some(national) if !national.is_empty() => national.to_string(),
            _ => format!("+{rest}"),
        },
        None => match number.strip_prefix("86") {
            Some(national) if national.len() == 11 && national.starts_with('1') => national.to_string(),
            _ => number.to_string(),
        },
    }
}

impl Router {
    /// Compiles `routes` (already validated).
    pub fn new(routes: &[Route]) -> Self {
        let mut r = Router::default();
        for route in routes {
            for p in &route.prefixes {
                if p == "*" {
                    r.default = Some((route.carrier.clone(), route.backup.clone()));
                    continue;
                }
                for e in expand(p).unwrap_or_default() {
                    r.entries.push((e, route.carrier.clone(), route.backup.clone()));
                }
            }
        }
        r.entries
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        r
    }

    /// The route for `number`, or `None` when no route (and no `*`) takes it.
    pub fn route(&self, number: &str) -> Option<RouteChoice<'_>> {
        let n = normalize_number(number);
        if let Some((p, c, b)) = self.entries.iter().find(|(p, _, _)| n.starts_with(p.as_str())) {
            return Some(RouteChoice {
                carrier: c,
                backup: b.as_deref(),
                prefix: p,
            });
        }
        self.default.as_ref().map(|(c, b)| RouteChoice {
            carrier: c,
            backup: b.as_deref(),
            prefix: "*",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_expands() {
        assert_eq!(normalize_number("+8613800138000"), "13800138000");
        assert_eq!(normalize_number("008613800138000"), "13800138000");
        assert_eq!(normalize_number("8613800138000"), "13800138000");
        assert_eq!(normalize_number("+447700900123"), "+447700900123");
        assert_eq!(normalize_number("00447700900123"), "+447700900123");
        assert_eq!(expand("150-152").unwrap(), ["150", "151", "152"]);
        assert_eq!(expand("09-11").unwrap(), ["09", "10", "11"]);
        assert!(expand("139-134").is_none());
        assert!(expand("13-139").is_none());
    }

    #[test]
    fn longest_prefix_wins() {
        let routes = vec![
            Route {
                prefixes: vec!["13".into()],
                carrier: "a".into(),
                backup: None,
            },
            Route {
                prefixes: vec!["1380-1381".into()],
                carrier: "b".into(),
                backup: Some("a".into()),
            },
            Route {
                prefixes: vec!["*".into()],
                carrier: "c".into(),
                backup: None,
            },
        ];
        let r = Router::new(&routes);
        assert_eq!(r.route("13800138000").map(|c| c.carrier), Some("b"));
        assert_eq!(r.route("13900138000").map(|c| c.carrier), Some("a"));
        assert_eq!(r.route("+447700900123").map(|c| c.carrier), Some("c"));
        assert_eq!(
            r.route("+8613812345678").map(|c| (c.carrier, c.backup)),
            Some(("b", Some("a")))
        );
    }
}
