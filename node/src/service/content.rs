//! Content rules of the service agreement: the banned-word list of the
//! cluster document matched with Aho-Corasick over a normal form of the
//! text that undoes the usual evasions (full-width letters and digits,
//! spaces and punctuation between characters, traditional characters for
//! simplified ones), and the marketing rules (a 【signature】 and an
//! opt-out hint). A hit names the category, never the word list. Built
//! once per cluster document; matching never allocates per word.

use aho_corasick::AhoCorasick;
use smsgw_config::ContentRules;

/// Traditional characters common in evasive spam, with their simplified
/// forms (the list is matched after this folding, so either spelling hits).
const TRADITIONAL: &[(char, char)] = &[
    ('發', '发'),
    ('貸', '贷'),
    ('賭', '赌'),
    ('幣', '币'),
    ('錢', '钱'),
    ('購', '购'),
    ('銷', '销'),
    ('廣', '广'),
    ('傳', '传'),
    ('價', '价'),
    ('優', '优'),
    ('證', '证'),
    ('辦', '办'),
    ('號', '号'),
    ('網', '网'),
    ('碼', '码'),
    ('點', '点'),
    ('擊', '击'),
    ('紅', '红'),
    ('獎', '奖'),
    ('開', '开'),
    ('票', '票'),
    ('場', '场'),
    ('彩', '彩'),
    ('費', '费'),
    ('貨', '货'),
    ('賺', '赚'),
    ('領', '领'),
    ('專', '专'),
    ('賣', '卖'),
    ('買', '买'),
    ('級', '级'),
    ('會', '会'),
    ('員', '员'),
    ('禮', '礼'),
    ('現', '现'),
    ('單', '单'),
    ('帳', '账'),
    ('賬', '账'),
    ('戶', '户'),
    ('撥', '拨'),
    ('詐', '诈'),
    ('騙', '骗'),
    ('槍', '枪'),
    ('藥', '药'),
    ('黃', '黄'),
    ('色', '色'),
    ('情', '情'),
    ('約', '约'),
];

/// Opt-out hints a marketing message must carry one of.
const OPT_OUT_HINTS: &[&str] = &["退订", "拒收", "回T", "回TD", "STOP"];

/// The text as matched: full-width ASCII to half-width, traditional to
/// simplified, lower case, and without whitespace or punctuation.
pub fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => TRADITIONAL.iter().find(|(t, _)| *t == c).map_or(c, |(_, s)| *s),
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Why a text may not be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It may.
    Clean,
    /// It contains a banned word of this category.
    Banned(String),
    /// A marketing message without its 【signature】 or opt-out hint; says which.
    Unsigned(&'static str),
}

/// The compiled rules of one cluster document.
pub struct ContentFilter {
    matcher: Option<AhoCorasick>,
    /// Category of each pattern, by pattern index.
    categories: Vec<String>,
}

impl ContentFilter {
    /// Compiles `rules` (an empty list matches nothing).
    pub fn new(rules: &ContentRules) -> Self {
        let mut patterns = Vec::new();
        let mut categories = Vec::new();
        for (cat, words) in &rules.categories {
            for w in words {
                let n = normalize(w);
                if !n.is_empty() {
                    patterns.push(n);
                    categories.push(cat.clone());
                }
            }
        }
        let matcher = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::new(&patterns).ok()
        };
        ContentFilter { matcher, categories }
    }

    /// The verdict on `text` for an account (`marketing` adds the signature rules).
    pub fn check(&self, text: &str, marketing: bool) -> Verdict {
        if let Some(m) = &self.matcher {
            if let Some(hit) = m.find(&normalize(text)) {
                let cat = self
                    .categories
                    .get(hit.pattern().as_usize())
                    .cloned()
                    .unwrap_or_default();
                return Verdict::Banned(cat);
            }
        }
        if marketing {
            let signed = text.find('【').is_some_and(|open| {
                text[open..]
                    .find('】')
                    .is_some_and(|close| close > '【'.len_utf8())
            });
            if !signed {
                return Verdict::Unsigned("a marketing message must carry the sender's signature in 【】");
            }
            let upper = text.to_uppercase();
            if !OPT_OUT_HINTS.iter().any(|h| upper.contains(h)) {
                return Verdict::Unsigned("a marketing message must say how to opt out (e.g. 拒收请回复R)");
            }
        }
        Verdict::Clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn filter() -> ContentFilter {
        let mut categories = BTreeMap::new();
        categories.insert("fraud".to_string(), vec!["发票".to_string(), "代开".to_string()]);
        categories.insert("advertising".to_string(), vec!["VIP".to_string()]);
        ContentFilter::new(&ContentRules {
            categories,
            optout_keywords: vec![],
        })
    }

    #[test]
    fn evasive_spellings_are_caught_and_named_by_category() {
        let f = filter();
        for t in ["代开发票", "发 票", "發票", "发*票", "ｖｉｐ会员", "V I P"] {
            assert!(matches!(f.check(t, false), Verdict::Banned(_)), "{t}");
        }
        assert_eq!(f.check("發 票", false), Verdict::Banned("fraud".into()));
        assert_eq!(f.check("明天上午九点开会", false), Verdict::Clean);
    }

    #[test]
    fn marketing_needs_a_signature_and_an_opt_out_hint() {
        let f = filter();
        assert!(matches!(f.check("新品上市", true), Verdict::Unsigned(_)));
        assert!(matches!(
            f.check("【某影楼】新品上市", true),
            Verdict::Unsigned(_)
        ));
        assert_eq!(f.check("【某影楼】新品上市，拒收请回复R", true), Verdict::Clean);
        assert_eq!(f.check("新品上市", false), Verdict::Clean);
    }
}
