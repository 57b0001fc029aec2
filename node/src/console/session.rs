//! Console sessions: a signed, expiring token in an HttpOnly, SameSite=Strict
//! cookie, accepted by every node of the cluster without shared session
//! state (the signature is an HMAC under a label of the cluster secret, so
//! any member verifies it, and a secret rotation keeps sessions made with
//! the previous secret while it is still accepted). A CSRF token derived
//! from the session token must come back in `x-csrf-token` on every request
//! that changes something.
//!
//! The bridge ([`bridge`]) turns a session cookie into the
//! `Authorization: Session TOKEN` header that the API's authentication
//! ([`principal`]) reads, so the JSON API serves the console with its own
//! account scoping. It must never accept a session without checking its
//! signature and expiry, never let a cookie-borne write through without its
//! CSRF token, and never put the token or a password in a log line.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use smsgw_raft::{ClusterSecret, SecretSet};
use smsgw_state::users::Role;

use super::error::ConsoleError;
use crate::api::{now_ms, ApiError, AppState};

/// The session cookie's name.
pub const COOKIE: &str = "smsgw_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts (a working shift and a half).
pub const TTL_MS: u64 = 12 * 3600 * 1000;

const LABEL: &[u8] = b"smsgw console session v1";
const CSRF_LABEL: &[u8] = b"smsgw console csrf v1";
const AUTH_PREFIX: &str = "Session ";

/// Who a session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The username, or `key:ACCOUNT` / `key:admin` when signed in with an API key.
    pub user: String,
    /// Its role.
    pub role: Role,
    /// The account it works for (`None`: an admin without one).
    pub account: Option<String>,
    /// When the session ends (ms since the epoch).
    pub expires_ms: u64,
}

impl Principal {
    /// Whether it signed in with an API key rather than as a user.
    pub fn via_key(&self) -> bool {
        self.user.starts_with("key:")
    }

    fn payload(&self) -> String {
        format!(
            "v1|{}|{}|{}|{}",
            self.user,
            self.role.name(),
            self.account.as_deref().unwrap_or(""),
            self.expires_ms
        )
    }

    fn parse(payload: &str) -> Option<Principal> {
        let mut f = payload.split('|');
        if f.next()? != "v1" {
            return None;
        }
        let user = f.next()?.to_string();
        let role = Role::parse(f.next()?)?;
        let account = Some(f.next()?.to_string()).filter(|a| !a.is_empty());
        let expires_ms = f.next()?.parse().ok()?;
        f.next().is_none().then_some(Principal {
            user,
            role,
            account,
            expires_ms,
        })
    }
}

/// The token for `p`, signed with the secret the cluster dials with now.
pub fn sign(secret: &ClusterSecret, p: &Principal) -> String {
    let payload = p.payload();
    let tag = secret.mac(LABEL, &[payload.as_bytes()]);
    format!("{}.{}", hex::encode(payload), hex::encode(tag))
}

/// The principal of `token` if any accepted secret signed it and it has not expired.
pub fn verify(accepted: &SecretSet, token: &str, now_ms: u64) -> Option<Principal> {
    let (payload, tag) = token.split_once('.')?;
    let payload = hex::decode(payload).ok()?;
    let tag = hex::decode(tag).ok()?;
    if !accepted
        .accepted()
        .any(|s| s.verify_mac(LABEL, &[&payload], &tag))
    {
        return None;
    }
    let p = Principal::parse(std::str::from_utf8(&payload).ok()?)?;
    (p.expires_ms > now_ms).then_some(p)
}

/// The CSRF token that goes with session `token` under `secret`.
pub fn csrf(secret: &ClusterSecret, token: &str) -> String {
    hex::encode(&secret.mac(CSRF_LABEL, &[token.as_bytes()])[..16])
}

fn csrf_ok(accepted: &SecretSet, token: &str, presented: &str) -> bool {
    // Compared as MACs (constant time), under every accepted secret.
    let Ok(presented) = hex::decode(presented) else {
        return false;
    };
    presented.len() == 16
        && accepted.accepted().any(|s| {
            let want = s.mac(CSRF_LABEL, &[token.as_bytes()]);
            want[..16]
                .iter()
                .zip(&presented)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        })
}

/// The session cookie's value in `headers`, if any.
pub fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// `Set-Cookie` for a new session (or, with `None`, one that ends it);
/// `secure` when the request came over HTTPS (the browser then never
/// sends the cookie over plain HTTP).
pub fn set_cookie(token: Option<&str>, secure: bool) -> HeaderValue {
    let flag = if secure { "; Secure" } else { "" };
    let v = match token {
        Some(t) => format!(
            "{COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict{flag}; Max-Age={}",
            TTL_MS / 1000
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict{flag}; Max-Age=0"),
    };
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("smsgw_session=; Max-Age=0"))
}

/// The session a request carries in `Authorization: Session TOKEN` (put
/// there by [`bridge`] or by a client), checked against the users table:
/// a removed user's session ends at once, and a changed role or account
/// applies at once. `Ok(None)` when the request carries no session.
pub fn principal(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    let Some(token) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(AUTH_PREFIX))
    else {
        return Ok(None);
    };
    let accepted = state.cluster.keyring().current();
    let Some(mut p) = verify(&accepted, token.trim(), now_ms()) else {
        return Err(ApiError::Unauthorized);
    };
    if !p.via_key() {
        let view = smsgw_state::local_view(&state.cluster);
        let Some(u) = view.users().user(&p.user)? else {
            return Err(ApiError::Unauthorized);
        };
        p.role = u.role;
        p.account = u.account;
    } else if let Some(a) = &p.account {
        // A key session lasts only while its account is in the document.
        let loaded = state.config()?;
        if !loaded.doc.accounts.iter().any(|x| &x.name == a) {
            return Err(ApiError::Unauthorized);
        }
    }
    Ok(Some(p))
}

/// The account a session works for, from the document in force (the
/// API's authentication then checks it is open, as for a key).
pub fn account_of(
    state: &AppState,
    p: &Principal,
) -> Result<(std::sync::Arc<crate::api::state::Loaded>, smsgw_config::Account), ApiError> {
    if p.role == Role::Officer {
        // An officer works cases (the desk's own check), never the account.
        return Err(ApiError::Forbidden(
            "an officer's session reaches only the alarm desk".into(),
        ));
    }
    let loaded = state.config()?;
    let Some(account) = p
        .account
        .as_ref()
        .and_then(|a| loaded.doc.accounts.iter().find(|x| &x.name == a))
        .cloned()
    else {
        return Err(ApiError::Forbidden(
            "this user works for no account: an admin without one sees only the admin pages".into(),
        ));
    };
    Ok((loaded, account))
}

/// Whether the request's session (if any) is an admin's; `Err` for a bad session.
pub fn is_admin(state: &AppState, headers: &HeaderMap) -> Result<Option<bool>, ApiError> {
    Ok(principal(state, headers)?.map(|p| p.role == Role::Admin))
}

/// The middleware: a request to the API with the session cookie and no
/// `Authorization` gets `Authorization: Session TOKEN`, after its CSRF
/// token is checked when it changes something.
pub async fn bridge(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // Sign-in and sign-out use no session: a stale cookie must never stop
    // someone signing in again, or clearing it.
    let own = matches!(path, "/console/api/login" | "/console/api/logout");
    let api = (path.starts_with("/v1/") || path.starts_with("/console/api/")) && !own;
    let has_auth = req.headers().contains_key(axum::http::header::AUTHORIZATION);
    if api && !has_auth {
        if let Some(token) = cookie(req.headers()) {
            let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe {
                let presented = req
                    .headers()
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !csrf_ok(&state.cluster.keyring().current(), &token, presented) {
                    return ConsoleError::Csrf.into_response();
                }
            }
            if let Ok(v) = HeaderValue::from_str(&format!("{AUTH_PREFIX}{token}")) {
                req.headers_mut().insert(axum::http::header::AUTHORIZATION, v);
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(b: u8) -> ClusterSecret {
        ClusterSecret::from_hex(&hex::encode([b; 32]), "test").expect("secret")
    }

    fn alice() -> Principal {
        Principal {
            user: "alice".into(),
            role: Role::Dispatcher,
            account: Some("demo".into()),
            expires_ms: 2_000,
        }
    }

    #[test]
    fn a_token_verifies_until_it_expires_and_only_under_its_secret() {
        let s = secret(1);
        let t = sign(&s, &alice());
        let set = smsgw_raft::Keyring::fixed(s.clone()).current();
        assert_eq!(verify(&set, &t, 1_000), Some(alice()));
        assert_eq!(verify(&set, &t, 2_000), None, "expired");
        let other = smsgw_raft::Keyring::fixed(secret(2)).current();
        assert_eq!(verify(&other, &t, 1_000), None, "another cluster's token");
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let s = secret(1);
        let set = smsgw_raft::Keyring::fixed(s.clone()).current();
        let t = sign(&s, &alice());
        let (payload, tag) = t.split_once('.').expect("dot");
        let admin = hex::encode("v1|alice|admin|demo|2000");
        assert_eq!(verify(&set, &format!("{admin}.{tag}"), 1_000), None);
        assert_eq!(verify(&set, payload, 1_000), None);
        assert_eq!(verify(&set, "garbage", 1_000), None);
        assert_eq!(verify(&set, "zz.zz", 1_000), None);
    }

    #[test]
    fn csrf_is_bound_to_the_session() {
        let s = secret(1);
        let set = smsgw_raft::Keyring::fixed(s.clone()).current();
        let t = sign(&s, &alice());
        let c = csrf(&s, &t);
        assert!(csrf_ok(&set, &t, &c));
        let mut bob = alice();
        bob.user = "bob".into();
        assert!(!csrf_ok(&set, &sign(&s, &bob), &c));
        assert!(!csrf_ok(&set, &t, ""));
        assert!(!csrf_ok(&set, &t, "00"));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert("cookie", HeaderValue::from_static("a=1; smsgw_session=tok; b=2"));
        assert_eq!(cookie(&h).as_deref(), Some("tok"));
        let v = set_cookie(Some("tok"), false);
        let v = v.to_str().expect("ascii");
        assert!(v.contains("HttpOnly") && v.contains("SameSite=Strict"), "{v}");
        assert!(!v.contains("Secure"), "{v}");
        let v = set_cookie(Some("tok"), true);
        assert!(v.to_str().expect("ascii").contains("; Secure"), "{v:?}");
    }
}
