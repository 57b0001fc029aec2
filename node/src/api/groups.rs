//! `/v1/groups` and `/v1/templates`: named groups of the caller's contacts
//! (picked contacts, nested groups by name, and every contact with a tag or
//! of a unit), their resolved members, and templates (common phrases) with
//! their variables and usage counts. Same rules as the contacts: committed
//! before answered, the caller's rows only.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use smsgw_state::book::{BookCommand, BookResponse, BookView, Group, GroupData, Template, TemplateData};

use super::book::{commit, json_body, limit, next_of, num_param, respond, show};
use super::error::ApiError;
use super::messages::authenticate;
use super::state::AppState;
use crate::service::{template, zone};

fn group_named(book: &BookView, account: &str, name: &str) -> Result<Group, ApiError> {
    let by_name = book.group_by_name(account, name)?;
    let by_id = match (&by_name, name.parse::<u64>()) {
        (None, Ok(id)) => book.group(account, id)?,
        _ => None,
    };
    by_name.or(by_id).ok_or_else(|| ApiError::Missing {
        what: "group",
        id: name.to_string(),
    })
}

fn show_group(book: &BookView, account: &str, g: &Group) -> Result<Value, ApiError> {
    let mut nested = Vec::new();
    for id in &g.data.groups {
        if let Some(n) = book.group(account, *id)? {
            nested.push(n.data.name);
        }
    }
    let d = &g.data;
    Ok(json!({
        "id": g.id, "name": d.name, "description": d.description, "contacts": d.contacts,
        "groups": nested, "tags": d.tags, "units": d.units, "updated_at": zone::show(g.updated_ms),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupInput {
    name: Option<String>,
    description: Option<String>,
    contacts: Option<Vec<u64>>,
    groups: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    units: Option<Vec<String>>,
}

impl GroupInput {
    fn apply(self, book: &BookView, account: &str, mut base: GroupData) -> Result<GroupData, ApiError> {
        if let Some(n) = self.name {
            base.name = n.trim().to_string();
        }
        if let Some(d) = self.description {
            base.description = d;
        }
        if let Some(cs) = self.contacts {
            for c in &cs {
                if book.contact(account, *c)?.is_none() {
                    return Err(ApiError::Missing {
                        what: "contact",
                        id: c.to_string(),
                    });
                }
            }
            base.contacts = cs;
        }
        if let Some(gs) = self.groups {
            base.groups = gs
                .iter()
                .map(|g| group_named(book, account, g).map(|g| g.id))
                .collect::<Result<_, _>>()?;
        }
        if let Some(t) = self.tags {
            base.tags = t;
        }
        if let Some(u) = self.units {
            base.units = u;
        }
        if base.name.is_empty() || base.name.chars().count() > 64 || base.name.contains('\0') {
            return Err(ApiError::Invalid {
                code: "invalid_group",
                message: "`name` must be 1 to 64 characters".into(),
            });
        }
        Ok(base)
    }
}

pub async fn create(State(s): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let input: GroupInput = json_body(&body)?;
            let book = s.fresh_view().await?.book();
            let group = input.apply(&book, &account.name, GroupData::default())?;
            let BookResponse::Group { id } =
                commit(&s, &account.name, BookCommand::PutGroup { id: None, group }).await?
            else {
                return Err(ApiError::Internal("group not stored".into()));
            };
            one(&s, &account.name, &id.to_string()).await
        }
        .await,
        StatusCode::CREATED,
    )
}

async fn one(s: &AppState, account: &str, name: &str) -> Result<Value, ApiError> {
    let book = s.fresh_view().await?.book();
    let g = group_named(&book, account, name)?;
    show_group(&book, account, &g)
}

pub async fn get(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            one(&s, &account.name, &id).await
        }
        .await,
        StatusCode::OK,
    )
}

pub async fn patch(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let input: GroupInput = json_body(&body)?;
            let book = s.fresh_view().await?.book();
            let old = group_named(&book, &account.name, &id)?;
            let group = input.apply(&book, &account.name, old.data)?;
            commit(
                &s,
                &account.name,
                BookCommand::PutGroup {
                    id: Some(old.id),
                    group,
                },
            )
            .await?;
            one(&s, &account.name, &old.id.to_string()).await
        }
        .await,
        StatusCode::OK,
    )
}

pub async fn delete(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let book = s.fresh_view().await?.book();
            let g = group_named(&book, &account.name, &id)?;
            commit(&s, &account.name, BookCommand::DeleteGroup { id: g.id }).await?;
            Ok(json!({ "deleted": g.id }))
        }
        .await,
        StatusCode::OK,
    )
}

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
            let page = book.groups(&account.name, num_param(&q, "after")?.unwrap_or(0), limit)?;
            let next = next_of(&page, limit, |g| g.id);
            let items = page
                .iter()
                .map(|g| show_group(&book, &account.name, g))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json!({ "items": items, "next": next }))
        }
        .await,
        StatusCode::OK,
    )
}

/// `GET /v1/groups/{id}/members`: the group resolved (nested groups, tags, units).
pub async fn members(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let book = s.fresh_view().await?.book();
            let g = group_named(&book, &account.name, &id)?;
            let members = book.members(&account.name, g.id)?.map_err(ApiError::internal)?;
            Ok(json!({
                "group": g.data.name,
                "count": members.len(),
                "items": members.iter().map(show).collect::<Vec<_>>(),
            }))
        }
        .await,
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateInput {
    name: String,
    text: String,
    #[serde(default)]
    category: String,
}

fn show_template(t: &Template) -> Value {
    json!({
        "name": t.name, "text": t.data.text, "category": t.data.category,
        "variables": template::variables(&t.data.text), "uses": t.uses,
        "updated_at": zone::show(t.updated_ms),
    })
}

/// `POST /v1/templates`: create or replace by name.
pub async fn put_template(State(s): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let t: TemplateInput = json_body(&body)?;
            let name = t.name.trim().to_string();
            if name.is_empty()
                || name.chars().count() > 64
                || t.text.is_empty()
                || t.text.chars().count() > 1000
            {
                return Err(ApiError::Invalid {
                    code: "invalid_template",
                    message: "`name` must be 1 to 64 characters and `text` 1 to 1000".into(),
                });
            }
            let template = TemplateData {
                text: t.text,
                category: t.category,
            };
            commit(
                &s,
                &account.name,
                BookCommand::PutTemplate {
                    name: name.clone(),
                    template,
                },
            )
            .await?;
            template_json(&s, &account.name, &name).await
        }
        .await,
        StatusCode::CREATED,
    )
}

async fn template_json(s: &AppState, account: &str, name: &str) -> Result<Value, ApiError> {
    let book = s.fresh_view().await?.book();
    let t = book.template(account, name)?.ok_or_else(|| ApiError::Missing {
        what: "template",
        id: name.to_string(),
    })?;
    Ok(show_template(&t))
}

pub async fn get_template(State(s): State<AppState>, h: HeaderMap, Path(name): Path<String>) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            template_json(&s, &account.name, &name).await
        }
        .await,
        StatusCode::OK,
    )
}

pub async fn delete_template(State(s): State<AppState>, h: HeaderMap, Path(name): Path<String>) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            commit(
                &s,
                &account.name,
                BookCommand::DeleteTemplate { name: name.clone() },
            )
            .await?;
            Ok(json!({ "deleted": name }))
        }
        .await,
        StatusCode::OK,
    )
}

pub async fn list_templates(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let limit = limit(&q)?;
            let after = q.get("after").map(String::as_str).unwrap_or("");
            let book = s.fresh_view().await?.book();
            let page = book.templates(&account.name, after, limit)?;
            let next = next_of(&page, limit, |t| t.name.clone());
            Ok(json!({ "items": page.iter().map(show_template).collect::<Vec<_>>(), "next": next }))
        }
        .await,
        StatusCode::OK,
    )
}
