//! Apply of [`BookCommand`]s: every row is written together with its index
//! rows (phone, search tokens, tag and unit members) in the same
//! transaction, and unindexed from what the stored row says it was indexed
//! under. Deterministic: ids come from per-account counters, times from the
//! command. It must never read a clock or scan a table.

use smsgw_raft::{ApplyError, Tx};

use super::{BookCommand, BookError, BookResponse, Contact, ContactRow, Group, GroupData, Template};
use crate::keys::{self, book};

/// Applies one change to `account`'s book.
pub(crate) fn apply_book(
    tx: &mut Tx<'_>,
    account: &str,
    at_ms: u64,
    cmd: &BookCommand,
) -> Result<BookResponse, ApplyError> {
    Ok(match cmd {
        BookCommand::PutContact { id, row } => match put_contact(tx, account, *id, row, at_ms)? {
            Ok(id) => BookResponse::Contact { id },
            Err(e) => BookResponse::Refused(e),
        },
        BookCommand::Import { rows } => import(tx, account, rows, at_ms)?,
        BookCommand::DeleteContact { id } => match tx.get::<Contact>(&book::contact(account, *id))? {
            None => BookResponse::Refused(not_found("contact", id)),
            Some(old) => {
                unindex(tx, account, &old);
                tx.remove(book::contact(account, *id));
                tx.add(&keys::counter(&book::counter::contacts(account)), -1)?;
                BookResponse::Deleted
            }
        },
        BookCommand::PutGroup { id, group } => match put_group(tx, account, *id, group, at_ms)? {
            Ok(id) => BookResponse::Group { id },
            Err(e) => BookResponse::Refused(e),
        },
        BookCommand::DeleteGroup { id } => match tx.get::<Group>(&book::group(account, *id))? {
            None => BookResponse::Refused(not_found("group", id)),
            Some(old) => {
                tx.remove(book::group(account, *id));
                tx.remove(book::group_name(account, &old.data.name));
                BookResponse::Deleted
            }
        },
        BookCommand::PutTemplate { name, template } => {
            let k = book::template(account, name);
            let uses = tx.get::<Template>(&k)?.map_or(0, |t| t.uses);
            tx.put(
                k,
                &Template {
                    name: name.clone(),
                    data: template.clone(),
                    uses,
                    updated_ms: at_ms,
                },
            )?;
            BookResponse::Template
        }
        BookCommand::DeleteTemplate { name } => {
            let k = book::template(account, name);
            if tx.contains(&k)? {
                tx.remove(k);
                BookResponse::Deleted
            } else {
                BookResponse::Refused(not_found("template", name))
            }
        }
    })
}

fn not_found(what: &str, id: &impl ToString) -> BookError {
    BookError::NotFound {
        what: what.into(),
        id: id.to_string(),
    }
}

/// The contact owning one of `phones` other than `me`, if any.
fn phone_owner(
    tx: &Tx<'_>,
    account: &str,
    phones: &[String],
    me: Option<u64>,
) -> Result<Option<(String, u64)>, ApplyError> {
    for p in phones {
        if let Some(owner) = tx.get::<u64>(&book::phone(account, p))? {
            if Some(owner) != me {
                return Ok(Some((p.clone(), owner)));
            }
        }
    }
    Ok(None)
}

fn put_contact(
    tx: &mut Tx<'_>,
    account: &str,
    id: Option<u64>,
    row: &ContactRow,
    at_ms: u64,
) -> Result<Result<u64, BookError>, ApplyError> {
    let old = match id {
        Some(id) => match tx.get::<Contact>(&book::contact(account, id))? {
            Some(c) => Some(c),
            None => return Ok(Err(not_found("contact", &id))),
        },
        None => None,
    };
    if let Some((phone, owner)) = phone_owner(tx, account, &row.data.phones, id)? {
        return Ok(Err(BookError::Conflict {
            what: "phone".into(),
            value: phone,
            owner: format!("contact {owner}"),
        }));
    }
    let id = match (&old, id) {
        (Some(old), Some(id)) => {
            unindex(tx, account, old);
            id
        }
        _ => {
            tx.add(&keys::counter(&book::counter::contacts(account)), 1)?;
            tx.add(&keys::counter(&book::counter::contact_seq(account)), 1)?
        }
    };
    store(tx, account, id, row, at_ms)?;
    Ok(Ok(id))
}

fn import(
    tx: &mut Tx<'_>,
    account: &str,
    rows: &[ContactRow],
    at_ms: u64,
) -> Result<BookResponse, ApplyError> {
    let (mut created, mut updated) = (0, 0);
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        let mut owners = Vec::new();
        for p in &row.data.phones {
            if let Some(o) = tx.get::<u64>(&book::phone(account, p))? {
                if !owners.contains(&o) {
                    owners.push(o);
                }
            }
        }
        let id = match owners.as_slice() {
            [] => None,
            [one] => Some(*one),
            // Numbers of two existing contacts on one line: which one is
            // meant is a person's call, so the line is left out (id 0).
            _ => {
                ids.push(0);
                continue;
            }
        };
        let mut row = row.clone();
        if let Some(id) = id {
            if let Some(old) = tx.get::<Contact>(&book::contact(account, id))? {
                // Numbers the file does not list are kept: an import adds.
                for p in old.data.phones {
                    if !row.data.phones.contains(&p) {
                        row.data.phones.push(p);
                    }
                }
            }
        }
        match put_contact(tx, account, id, &row, at_ms)? {
            Ok(got) => {
                if id.is_some() {
                    updated += 1;
                } else {
                    created += 1;
                }
                ids.push(got);
            }
            Err(_) => ids.push(0),
        }
    }
    Ok(BookResponse::Imported {
        created,
        updated,
        ids,
    })
}

fn store(tx: &mut Tx<'_>, account: &str, id: u64, row: &ContactRow, at_ms: u64) -> Result<(), ApplyError> {
    for p in &row.data.phones {
        tx.put(book::phone(account, p), &id)?;
    }
    for t in &row.tokens {
        tx.put_raw(book::token(account, t, id), Vec::new());
    }
    for t in &row.data.tags {
        tx.put_raw(book::tag_member(account, t, id), Vec::new());
    }
    if !row.data.unit.is_empty() {
        tx.put_raw(book::unit_member(account, &row.data.unit, id), Vec::new());
    }
    tx.put(
        book::contact(account, id),
        &Contact {
            id,
            data: row.data.clone(),
            tokens: row.tokens.clone(),
            updated_ms: at_ms,
        },
    )
}

fn unindex(tx: &mut Tx<'_>, account: &str, old: &Contact) {
    for p in &old.data.phones {
        tx.remove(book::phone(account, p));
    }
    for t in &old.tokens {
        tx.remove(book::token(account, t, old.id));
    }
    for t in &old.data.tags {
        tx.remove(book::tag_member(account, t, old.id));
    }
    if !old.data.unit.is_empty() {
        tx.remove(book::unit_member(account, &old.data.unit, old.id));
    }
}

fn put_group(
    tx: &mut Tx<'_>,
    account: &str,
    id: Option<u64>,
    group: &GroupData,
    at_ms: u64,
) -> Result<Result<u64, BookError>, ApplyError> {
    let old = match id {
        Some(id) => match tx.get::<Group>(&book::group(account, id))? {
            Some(g) => Some(g),
            None => return Ok(Err(not_found("group", &id))),
        },
        None => None,
    };
    if let Some(owner) = tx.get::<u64>(&book::group_name(account, &group.name))? {
        if Some(owner) != id {
            return Ok(Err(BookError::Conflict {
                what: "group name".into(),
                value: group.name.clone(),
                owner: format!("group {owner}"),
            }));
        }
    }
    for g in &group.groups {
        if !tx.contains(&book::group(account, *g))? {
            return Ok(Err(not_found("group", g)));
        }
    }
    let id = match id {
        Some(id) => id,
        None => tx.add(&keys::counter(&book::counter::group_seq(account)), 1)?,
    };
    if includes(tx, account, &group.groups, id)? {
        return Ok(Err(BookError::Cycle(group.name.clone())));
    }
    if let Some(old) = old {
        tx.remove(book::group_name(account, &old.data.name));
    }
    tx.put(book::group_name(account, &group.name), &id)?;
    tx.put(
        book::group(account, id),
        &Group {
            id,
            data: group.clone(),
            updated_ms: at_ms,
        },
    )?;
    Ok(Ok(id))
}

/// Whether `target` is reachable through the nested groups `from`.
fn includes(tx: &Tx<'_>, account: &str, from: &[u64], target: u64) -> Result<bool, ApplyError> {
    let mut seen = Vec::new();
    let mut todo: Vec<u64> = from.to_vec();
    while let Some(g) = todo.pop() {
        if g == target {
            return Ok(true);
        }
        if seen.contains(&g) {
            continue;
        }
        seen.push(g);
        if let Some(group) = tx.get::<Group>(&book::group(account, g))? {
            todo.extend(group.data.groups);
        }
    }
    Ok(false)
}
