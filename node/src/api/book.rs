//! `/v1/contacts`: the caller's address book. Create, read, change and
//! delete contacts; search by name, pinyin initials, number, unit or tag
//! (`?q=`); import CSV (UTF-8 or GBK, errors by line, the rest imported,
//! idempotent by number) and export it. Every write is committed before it
//! is answered; every read is of the caller's own book only.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use smsgw_state::book::{BookCommand, BookError, BookResponse, Contact, ContactData, ContactRow};
use smsgw_state::Command;

use super::error::ApiError;
use super::messages::authenticate;
use super::state::{now_ms, AppState};
use crate::service::{csvio, tokens, zone};

/// Default and largest page.
const PAGE: usize = 50;
const MAX_PAGE: usize = 500;
/// Rows per committed import command (one raft entry each).
const IMPORT_CHUNK: usize = 500;
/// Most contacts an export writes.
const MAX_EXPORT: usize = 200_000;

/// An answer: `ok` with the JSON value, or the error envelope.
pub(crate) fn respond(r: Result<Value, ApiError>, ok: StatusCode) -> Response {
    match r {
        Ok(v) => (ok, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A JSON body of type `T` (strict: unknown fields are named and refused).
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::InvalidJson(e.to_string()))
}

/// `?name=` as a number, if given.
pub(crate) fn num_param(q: &HashMap<String, String>, name: &str) -> Result<Option<u64>, ApiError> {
    q.get(name)
        .map(|s| {
            s.parse::<u64>().map_err(|_| {
                ApiError::InvalidParameter(format!("`{name}` must be a whole number, not `{s}`"))
            })
        })
        .transpose()
}

/// The page size asked for.
pub(crate) fn limit(q: &HashMap<String, String>) -> Result<usize, ApiError> {
    Ok(num_param(q, "limit")?.map_or(PAGE, |l| (l as usize).clamp(1, MAX_PAGE)))
}

/// The cursor of the page after `page`: the last row's key when the page
/// is full (there may be more), else none.
pub(crate) fn next_of<T, C>(page: &[T], limit: usize, key: impl Fn(&T) -> C) -> Option<C> {
    (page.len() == limit).then(|| page.last().map(key)).flatten()
}

/// Commits a change to `account`'s book.
pub(crate) async fn commit(
    state: &AppState,
    account: &str,
    change: BookCommand,
) -> Result<BookResponse, ApiError> {
    let cmd = Command::Book {
        account: account.to_string(),
        at_ms: now_ms(),
        change,
    };
    match smsgw_state::propose(&state.cluster, &cmd).await? {
        smsgw_state::Response::Book(BookResponse::Refused(e)) => Err(refused(e)),
        smsgw_state::Response::Book(r) => Ok(r),
        other => Err(ApiError::Internal(format!("unexpected commit answer {other:?}"))),
    }
}

fn refused(e: BookError) -> ApiError {
    match e {
        BookError::NotFound { what, id } => ApiError::Missing {
            what: match what.as_str() {
                "contact" => "contact",
                "group" => "group",
                _ => "template",
            },
            id,
        },
        BookError::Conflict { .. } => ApiError::Conflict(e.to_string()),
        BookError::Cycle(_) => ApiError::Invalid {
            code: "group_cycle",
            message: e.to_string(),
        },
    }
}

/// A contact as the API shows it.
pub(crate) fn show(c: &Contact) -> Value {
    let d = &c.data;
    json!({
        "id": c.id, "name": d.name, "phones": d.phones, "unit": d.unit, "title": d.title,
        "tags": d.tags, "notes": d.notes, "updated_at": zone::show(c.updated_ms),
    })
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ContactInput {
    name: Option<String>,
    phones: Option<Vec<String>>,
    unit: Option<String>,
    title: Option<String>,
    tags: Option<Vec<String>>,
    notes: Option<String>,
}

impl ContactInput {
    /// `base` changed by what the input gives, checked.
    fn apply(self, mut base: ContactData) -> Result<ContactRow, ApiError> {
        if let Some(n) = self.name {
            base.name = n.trim().to_string();
        }
        if let Some(ps) = self.phones {
            base.phones.clear();
            for p in ps {
                let n =
                    csvio::phone(&p).map_err(|_| ApiError::InvalidNumber(p.chars().take(40).collect()))?;
                if !base.phones.contains(&n) {
                    base.phones.push(n);
                }
            }
        }
        if let Some(u) = self.unit {
            base.unit = u.trim().to_string();
        }
        if let Some(t) = self.title {
            base.title = t;
        }
        if let Some(t) = self.tags {
            base.tags = t
                .into_iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect();
        }
        if let Some(n) = self.notes {
            base.notes = n;
        }
        let bad = |m: &str| ApiError::Invalid {
            code: "invalid_contact",
            message: m.to_string(),
        };
        if base.name.is_empty() || base.name.chars().count() > 64 {
            return Err(bad("`name` must be 1 to 64 characters"));
        }
        if base.phones.is_empty() || base.phones.len() > 8 {
            return Err(bad("`phones` must list 1 to 8 numbers"));
        }
        if base.tags.len() > 32 || [&base.unit, &base.title].iter().any(|s| s.chars().count() > 64) {
            return Err(bad("at most 32 tags; `unit` and `title` at most 64 characters"));
        }
        let tokens = tokens::contact_tokens(&base);
        Ok(ContactRow { data: base, tokens })
    }
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| ApiError::Missing {
        what: "contact",
        id: id.chars().take(40).collect(),
    })
}

pub async fn create(State(s): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let row = json_body::<ContactInput>(&body)?.apply(ContactData::default())?;
            let BookResponse::Contact { id } =
                commit(&s, &account.name, BookCommand::PutContact { id: None, row }).await?
            else {
                return Err(ApiError::Internal("contact not stored".into()));
            };
            get_one(&s, &account.name, id).await
        }
        .await,
        StatusCode::CREATED,
    )
}

async fn get_one(s: &AppState, account: &str, id: u64) -> Result<Value, ApiError> {
    let view = s.fresh_view().await?;
    let c = view.book().contact(account, id)?.ok_or(ApiError::Missing {
        what: "contact",
        id: id.to_string(),
    })?;
    Ok(show(&c))
}

pub async fn get(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            get_one(&s, &account.name, parse_id(&id)?).await
        }
        .await,
        StatusCode::OK,
    )
}

pub async fn patch(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let id = parse_id(&id)?;
            let input: ContactInput = json_body(&body)?;
            let view = s.fresh_view().await?;
            let old = view.book().contact(&account.name, id)?.ok_or(ApiError::Missing {
                what: "contact",
                id: id.to_string(),
            })?;
            let row = input.apply(old.data)?;
            commit(&s, &account.name, BookCommand::PutContact { id: Some(id), row }).await?;
            get_one(&s, &account.name, id).await
        }
        .await,
        StatusCode::OK,
    )
}

pub async fn delete(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let id = parse_id(&id)?;
            commit(&s, &account.name, BookCommand::DeleteContact { id }).await?;
            Ok(json!({ "deleted": id }))
        }
        .await,
        StatusCode::OK,
    )
}

/// `GET /v1/contacts`: a page by id (`?after=&limit=`), or a search (`?q=`).
pub async fn list(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let limit = limit(&q)?;
            let book = s.fresh_view().await?.book();
            if let Some(query) = q.get("q") {
                let norm = tokens::normalize(query);
                if norm.is_empty() {
                    return Err(ApiError::InvalidParameter("`q` must not be empty".into()));
                }
                let hits = book.search(&account.name, &norm, limit)?;
                return Ok(json!({ "items": hits.iter().map(show).collect::<Vec<_>>(), "next": null }));
            }
            let after = num_param(&q, "after")?.unwrap_or(0);
            let page = book.contacts(&account.name, after, limit)?;
            let next = next_of(&page, limit, |c| c.id);
            Ok(json!({
                "items": page.iter().map(show).collect::<Vec<_>>(),
                "next": next,
                "total": book.contact_count(&account.name)?,
            }))
        }
        .await,
        StatusCode::OK,
    )
}

/// `POST /v1/contacts/import`: a CSV body.
pub async fn import(State(s): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let parsed = csvio::parse(&body).map_err(|m| ApiError::Invalid {
                code: "invalid_csv",
                message: m,
            })?;
            let (mut created, mut updated, mut conflicts) = (0u64, 0u64, Vec::new());
            for chunk in parsed.rows.chunks(IMPORT_CHUNK) {
                let rows = chunk.iter().map(|(_, r)| r.clone()).collect();
                let BookResponse::Imported {
                    created: c,
                    updated: u,
                    ids,
                } = commit(&s, &account.name, BookCommand::Import { rows }).await?
                else {
                    return Err(ApiError::Internal("import not applied".into()));
                };
                created += c;
                updated += u;
                for ((line, _), id) in chunk.iter().zip(ids) {
                    if id == 0 {
                        conflicts.push(csvio::LineError {
                            line: *line,
                            message: "its numbers belong to two different contacts".into(),
                        });
                    }
                }
            }
            let mut errors = parsed.errors;
            errors.extend(conflicts);
            errors.sort_by_key(|e| e.line);
            metrics::counter!("smsgw_contacts_imported_total").increment(created + updated);
            Ok(json!({
                "encoding": parsed.encoding,
                "created": created,
                "updated": updated,
                "errors": errors,
            }))
        }
        .await,
        StatusCode::OK,
    )
}

/// `GET /v1/contacts/export`: every contact as CSV.
pub async fn export(State(s): State<AppState>, h: HeaderMap) -> Response {
    let r = async {
        let (_, account) = authenticate(&s, &h)?;
        let book = s.fresh_view().await?.book();
        let mut all = Vec::new();
        let mut after = 0;
        while all.len() < MAX_EXPORT {
            let page = book.contacts(&account.name, after, MAX_PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            all.extend(page);
        }
        csvio::export(&all).map_err(ApiError::internal)
    }
    .await;
    match r {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"contacts.csv\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
