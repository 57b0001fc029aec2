//! Filling a template: `{name}` style variables from the contact a message
//! goes to (`name`, `unit`, `title`) and from the request's `vars`. A
//! variable with no value is an error naming it, never sent as `{name}`.
//! Text between braces that is not a variable name (JSON, `{ }`) is left
//! as it is.

use std::collections::BTreeMap;

use smsgw_state::book::ContactData;

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().count() <= 32 && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// The variables `text` uses, in order of first use.
pub fn variables(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let _ = walk(text, |v| {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
        Some(String::new())
    });
    out
}

/// `text` with every variable replaced; `Err(name)` for the first one
/// neither `vars` nor `contact` gives.
pub fn fill(
    text: &str,
    vars: &BTreeMap<String, String>,
    contact: Option<&ContactData>,
) -> Result<String, String> {
    walk(text, |v| {
        if let Some(x) = vars.get(v) {
            return Some(x.clone());
        }
        let c = contact?;
        match v {
            "name" => Some(c.name.clone()),
            "unit" => Some(c.unit.clone()),
            "title" => Some(c.title.clone()),
            _ => None,
        }
    })
}

fn walk(text: &str, mut value: impl FnMut(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                let name = &after[..close];
                out.push_str(&value(name).ok_or_else(|| name.to_string())?);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_come_from_the_request_then_the_contact_and_a_missing_one_is_named() {
        let c = ContactData {
            name: "张伟".into(),
            unit: "应急办".into(),
            ..Default::default()
        };
        let vars = BTreeMap::from([("place".to_string(), "三号楼".to_string())]);
        let t = "{name}同志：请于{place}集合。{json: 1}";
        assert_eq!(
            fill(t, &vars, Some(&c)).as_deref(),
            Ok("张伟同志：请于三号楼集合。{json: 1}")
        );
        assert_eq!(fill(t, &BTreeMap::new(), Some(&c)), Err("place".to_string()));
        assert_eq!(fill(t, &vars, None), Err("name".to_string()));
        assert_eq!(variables(t), vec!["name", "place"]);
    }
}
