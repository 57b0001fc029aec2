//! Who a job sends to, and what each one gets: explicit numbers, picked
//! contacts and whole groups, minus excluded contacts, merged by number
//! (first seen wins), each with the text filled for that recipient. Reads
//! only the caller's book. Errors name what is wrong: the unknown group or
//! template, the variable left unfilled.

use std::collections::{BTreeMap, BTreeSet};

use smsgw_state::book::{BookView, Contact};
use smsgw_state::jobs::Recipient;

use super::template;
use crate::api::error::ApiError;

/// Most recipients one job may have.
pub const MAX_JOB_RECIPIENTS: usize = 100_000;

/// What the request asks for, as far as recipients and text go.
#[derive(Debug)]
pub struct Ask<'a> {
    /// Numbers.
    pub to: &'a [String],
    /// Group names.
    pub to_groups: &'a [String],
    /// Contact ids.
    pub to_contacts: &'a [u64],
    /// Contact ids left out.
    pub exclude_contacts: &'a [u64],
    /// Text, when no template.
    pub text: Option<&'a str>,
    /// Template name.
    pub template: Option<&'a str>,
    /// Variables.
    pub vars: &'a BTreeMap<String, String>,
}

/// The text to fill: the template's or the request's.
pub fn source_text(book: &BookView, account: &str, ask: &Ask<'_>) -> Result<String, ApiError> {
    match (ask.text, ask.template) {
        (Some(_), Some(_)) => Err(ApiError::Invalid {
            code: "text_and_template",
            message: "give `text` or `template`, not both".into(),
        }),
        (Some(t), None) => Ok(t.to_string()),
        (None, Some(name)) => Ok(book
            .template(account, name)?
            .ok_or_else(|| ApiError::Missing {
                what: "template",
                id: name.to_string(),
            })?
            .data
            .text),
        (None, None) => Err(ApiError::EmptyText),
    }
}

/// The recipients of `ask`, in order, each number once.
pub fn resolve(book: &BookView, account: &str, ask: &Ask<'_>) -> Result<Vec<Recipient>, ApiError> {
    let text = source_text(book, account, ask)?;
    if text.is_empty() {
        return Err(ApiError::EmptyText);
    }
    let excluded: BTreeSet<u64> = ask.exclude_contacts.iter().copied().collect();
    // (number, contact) in the order the request names them.
    let mut wanted: Vec<(String, Option<Contact>)> = Vec::new();
    for n in ask.to {
        let n = super::csvio::phone(n).map_err(|_| ApiError::InvalidNumber(n.chars().take(40).collect()))?;
        let c = book.contact_by_phone(account, &n)?;
        if c.as_ref().is_some_and(|c| excluded.contains(&c.id)) {
            continue;
        }
        wanted.push((n, c));
    }
    for id in ask.to_contacts {
        let c = book.contact(account, *id)?.ok_or(ApiError::Missing {
            what: "contact",
            id: id.to_string(),
        })?;
        if !excluded.contains(id) {
            if let Some(n) = c.data.phones.first() {
                wanted.push((n.clone(), Some(c)));
            }
        }
    }
    for name in ask.to_groups {
        let g = book
            .group_by_name(account, name)?
            .ok_or_else(|| ApiError::Missing {
                what: "group",
                id: name.clone(),
            })?;
        let members = book.members(account, g.id)?.map_err(ApiError::internal)?;
        for c in members {
            if !excluded.contains(&c.id) {
                if let Some(n) = c.data.phones.first().cloned() {
                    wanted.push((n, Some(c)));
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (to, contact) in wanted {
        if !seen.insert(to.clone()) {
            continue;
        }
        if out.len() >= MAX_JOB_RECIPIENTS {
            return Err(ApiError::Invalid {
                code: "too_many_recipients",
                message: format!("more than {MAX_JOB_RECIPIENTS} recipients in one job"),
            });
        }
        let text = template::fill(&text, ask.vars, contact.as_ref().map(|c| &c.data)).map_err(|var| {
            let whom = contact
                .as_ref()
                .map_or(to.clone(), |c| format!("{} ({to})", c.data.name));
            ApiError::Invalid {
                code: "unfilled_variable",
                message: format!("template variable `{{{var}}}` has no value for {whom}: give it in `vars`"),
            }
        })?;
        out.push(Recipient {
            to,
            contact: contact.map(|c| c.id),
            text,
            parts: 0,
        });
    }
    if out.is_empty() {
        return Err(if ask.to_groups.is_empty() {
            ApiError::NoRecipients
        } else {
            ApiError::Invalid {
                code: "empty_group",
                message: format!("the groups {:?} have no members left to send to", ask.to_groups),
            }
        });
    }
    Ok(out)
}
