//! Search tokens of a contact and the normal form of a query. A query
//! matches a contact when it is a prefix of one of its tokens, so the tokens
//! are every suffix of the name and unit (张伟 is found by 伟 too), the
//! pinyin initials and their suffixes (`zw`, `w`), the full pinyin
//! (`zhangwei`), each number and its suffixes of four digits or more (the
//! last four digits are how people remember numbers), the title and the
//! tags. It must stay a pure function of the contact: apply stores what it
//! returns and unindexes exactly that later.

use std::collections::BTreeSet;

use pinyin::ToPinyin;
use smsgw_state::book::ContactData;

/// Longest suffix indexed for a name or unit.
const MAX_SUFFIX_CHARS: usize = 16;
/// Shortest number suffix indexed.
const MIN_NUMBER_SUFFIX: usize = 4;

/// A query (or text) in the form tokens are kept in: lower case, without
/// whitespace.
pub fn normalize(q: &str) -> String {
    q.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn suffixes(text: &str, out: &mut BTreeSet<String>) {
    let chars: Vec<char> = text.chars().collect();
    let from = chars.len().saturating_sub(MAX_SUFFIX_CHARS);
    for i in from..chars.len() {
        out.insert(chars[i..].iter().collect());
    }
}

/// Pinyin initials and full pinyin of `text` (characters without pinyin
/// are kept as they are).
pub fn pinyin(text: &str) -> (String, String) {
    let mut initials = String::new();
    let mut full = String::new();
    for (c, p) in text.chars().zip(text.to_pinyin()) {
        match p {
            Some(p) => {
                initials.push_str(p.first_letter());
                full.push_str(p.plain());
            }
            None => {
                initials.extend(c.to_lowercase());
                full.extend(c.to_lowercase());
            }
        }
    }
    (initials, full)
}

/// Every token `data` is found by.
pub fn contact_tokens(data: &ContactData) -> Vec<String> {
    let mut out = BTreeSet::new();
    let name = normalize(&data.name);
    if !name.is_empty() {
        suffixes(&name, &mut out);
        let (initials, full) = pinyin(&name);
        suffixes(&initials, &mut out);
        out.insert(full);
    }
    for p in &data.phones {
        for i in 0..=p.len().saturating_sub(MIN_NUMBER_SUFFIX) {
            if let Some(s) = p.get(i..) {
                out.insert(s.to_string());
            }
        }
    }
    let unit = normalize(&data.unit);
    if !unit.is_empty() {
        suffixes(&unit, &mut out);
        out.insert(pinyin(&unit).0);
    }
    for t in std::iter::once(&data.title).chain(&data.tags) {
        let t = normalize(t);
        if !t.is_empty() {
            out.insert(t);
        }
    }
    out.into_iter().filter(|t| !t.contains('\0')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_found_by_its_pinyin_initials_its_tail_and_its_last_four_digits() {
        let data = ContactData {
            name: "张伟".into(),
            phones: vec!["13800138000".into()],
            unit: "市应急管理局".into(),
            ..Default::default()
        };
        let t = contact_tokens(&data);
        for want in [
            "zw",
            "伟",
            "zhangwei",
            "8000",
            "13800138000",
            "应急管理局",
            "syjglj",
        ] {
            assert!(t.iter().any(|x| x.starts_with(want)), "{want} in {t:?}");
        }
        assert!(
            !t.iter().any(|x| x == "138"),
            "number suffixes are 4 digits or more"
        );
    }

    #[test]
    fn queries_lose_case_and_spaces() {
        assert_eq!(normalize(" Z W "), "zw");
    }
}
