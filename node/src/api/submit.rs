//! `POST /v1/messages`, the pure part: validate a request, pick each
//! recipient's route, split the text with that carrier's encoding, and build
//! the parts of ONE `AcceptBatch`. No I/O here.
//!
//! Replicated layout of one message `M` (a decimal u64): part `M.0` is the
//! message envelope (its payload is the JSON [`Envelope`]: text, priority,
//! route, sender, report, validity; `parts` = number of segments), parts
//! `M.1`..`M.n` carry the encoded segments (UDH first when there are several).
//! The dispatcher rebuilds what to send from `M.0`; status comes from `M.1..n`.

use serde::{Deserialize, Serialize};
use smsgw_config::{Carrier, CarrierProtocol, ClusterDoc, Priority, Router};
use smsgw_protocols::text::{Encoding, TextError};
use smsgw_protocols::udh;
use smsgw_state::{MtPart, ReadySlot};

use super::error::ApiError;
use crate::gateway::config::protocol;

/// Most recipients in one request.
pub const MAX_RECIPIENTS: usize = 1000;
/// Most characters of text.
pub const MAX_TEXT_CHARS: usize = 1000;
/// Most parts one recipient's message may split into.
pub const MAX_PARTS: usize = 10;
/// Longest `client_ref`.
pub const MAX_CLIENT_REF: usize = 64;

/// The request body. Strict, as `/openapi.json` says: an unknown field
/// (`"priorty"`) or a `null` where a value belongs is refused, never
/// silently taken as the default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// Recipients.
    pub to: Vec<String>,
    /// The text.
    pub text: String,
    /// alarm | high | normal | bulk (default normal).
    #[serde(default, deserialize_with = "present")]
    pub priority: Option<String>,
    /// Extension code appended to the carrier's SP number.
    #[serde(default, deserialize_with = "present")]
    pub sender: Option<String>,
    /// Idempotency key, scoped to the account.
    #[serde(default, deserialize_with = "present")]
    pub client_ref: Option<String>,
    /// Ask for delivery reports (default from the cluster document).
    #[serde(default, deserialize_with = "present")]
    pub report: Option<bool>,
}

/// An optional field that, when present, must hold a value (not `null`).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Longest source address (SP number + sender extension) each protocol
/// carries: CMPP `Src_Id`, SGIP `SPNumber`, SMGP `SrcTermID` are 21
/// octets; SMPP `source_addr` is 21 with its NUL, so 20 characters.
pub fn max_source_len(p: CarrierProtocol) -> usize {
    match p {
        CarrierProtocol::Smpp => 20,
        _ => 21,
    }
}

/// The carriers `account` is limited to, if its billing names any.
fn allowed_carriers<'a>(doc: &'a ClusterDoc, account: &str) -> Option<&'a [String]> {
    let a = doc.accounts.iter().find(|a| a.name == account)?;
    let carriers = &a.billing.as_ref()?.carriers;
    (!carriers.is_empty()).then_some(carriers.as_slice())
}

/// What part `M.0` carries: everything needed to send the message again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Destination number as given.
    pub to: String,
    /// The text.
    pub text: String,
    /// Priority class.
    pub priority: Priority,
    /// Sender extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// Whether reports were asked for.
    pub report: bool,
    /// Carrier chosen.
    pub route: String,
    /// Backup carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    /// Protocol the parts were split for.
    pub protocol: CarrierProtocol,
    /// Text encoding of the parts.
    pub encoding: Encoding,
    /// `data_coding` (SMPP) or `Msg_Fmt` (CMPP/SGIP/SMGP) of the parts.
    pub coding: u8,
    /// Parts `M.1..=M.parts`.
    pub parts: u16,
    /// After this (ms since the epoch) a message without a final report is EXPIRED.
    pub valid_until_ms: u64,
    /// The client's idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ref: Option<String>,
}

/// One recipient's answer in the 202 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// Message id.
    pub id: String,
    /// Recipient.
    pub to: String,
    /// Parts (billed segments).
    pub parts: u16,
    /// Carrier chosen.
    pub route: String,
    /// Encoding of the parts.
    pub encoding: Encoding,
}

/// A validated request.
#[derive(Debug)]
pub struct Validated {
    pub priority: Priority,
    pub report: bool,
    pub request_id: Option<String>,
}

/// Checks a number: optional leading `+`, then digits, 5 to 21 characters in all.
pub fn valid_number(n: &str) -> bool {
    let digits = n.strip_prefix('+').unwrap_or(n);
    (5..=21).contains(&n.len()) && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Validates everything that does not need the route.
pub fn validate(
    req: &SendRequest,
    account: &smsgw_config::Account,
    doc: &ClusterDoc,
) -> Result<Validated, ApiError> {
    let priority = match req.priority.as_deref() {
        None => Priority::Normal,
        Some(p) => Priority::from_name(p).ok_or_else(|| ApiError::UnknownPriority(p.to_string()))?,
    };
    if !account.allows(priority) {
        return Err(ApiError::PriorityNotAllowed(priority.name().into()));
    }
    if req.to.is_empty() {
        return Err(ApiError::NoRecipients);
    }
    if req.to.len() > MAX_RECIPIENTS {
        return Err(ApiError::TooManyRecipients(req.to.len()));
    }
    if let Some(bad) = req.to.iter().find(|n| !valid_number(n)) {
        return Err(ApiError::InvalidNumber(bad.chars().take(40).collect()));
    }
    if req.text.is_empty() {
        return Err(ApiError::EmptyText);
    }
    let chars = req.text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(ApiError::TextTooLong(format!(
            "`text` has {chars} characters: at most {MAX_TEXT_CHARS}"
        )));
    }
    if let Some(s) = &req.sender {
        if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::InvalidSender(s.chars().take(40).collect()));
        }
    }
    if let Some(r) = &req.client_ref {
        if r.is_empty() || r.len() > MAX_CLIENT_REF || !r.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::InvalidClientRef(format!(
                "`client_ref` must be 1 to {MAX_CLIENT_REF} printable ASCII characters without spaces"
            )));
        }
    }
    Ok(Validated {
        priority,
        report: req.report.unwrap_or(doc.defaults.report),
        request_id: req
            .client_ref
            .as_ref()
            .map(|r| format!("mt/{}/{r}", account.name)),
    })
}

/// Splits `text` of message `id` the way the dispatcher will for
/// `carrier` ([`smsgw_actors::split_text`]: the protocol's encoding, the
/// profile's UDH style and `max_parts`). Over [`MAX_PARTS`] is this API's
/// own limit (422 `text_too_long`); within it, over the carrier's
/// `max_parts` is 400 `too_many_parts`.
pub fn split_for(
    text: &str,
    carrier: &Carrier,
    id: u64,
) -> Result<(Encoding, u8, Vec<udh::Segment>), ApiError> {
    let too_long = |parts: usize, enc: &str| {
        ApiError::TextTooLong(format!(
            "`text` needs {parts} parts in {enc}: at most {MAX_PARTS}"
        ))
    };
    let profile = carrier.profile();
    match smsgw_actors::split_text(text, id, protocol(carrier.protocol), &profile) {
        Ok(s) if s.segments.len() > MAX_PARTS => Err(too_long(s.segments.len(), s.encoding.name())),
        Ok(s) => Ok((s.encoding, s.coding, s.segments)),
        Err(TextError::TooManyParts { parts, .. }) if parts > MAX_PARTS => {
            Err(too_long(parts, "its encoding"))
        }
        Err(TextError::TooManyParts { parts, max }) => Err(ApiError::TooManyParts(format!(
            "`text` needs {parts} parts: carrier `{}` takes at most {max} per message",
            carrier.name
        ))),
        Err(e) => Err(ApiError::TextTooLong(format!("`text` cannot be encoded: {e}"))),
    }
}

/// One recipient's message, built exactly as a plain send builds it (the
/// jobs, their checks and the gateway's own notices use this).
#[allow(clippy::too_many_arguments)]
pub fn build_one(
    to: &str,
    text: &str,
    sender: Option<&str>,
    v: &Validated,
    account: &str,
    doc: &ClusterDoc,
    router: &Router,
    id: u64,
    now_ms: u64,
) -> Result<(Vec<MtPart>, Accepted), ApiError> {
    let req = SendRequest {
        to: vec![to.to_string()],
        text: text.to_string(),
        priority: None,
        sender: sender.map(str::to_string),
        client_ref: None,
        report: None,
    };
    let (parts, mut answers) = build(&req, v, account, doc, router, &[id], now_ms)?;
    let answer = answers
        .pop()
        .ok_or_else(|| ApiError::Internal("a one-recipient build gave no answer".into()))?;
    Ok((parts, answer))
}

/// Builds the parts of one request (ids already drawn, one per recipient)
/// and the answer each recipient will get.
#[allow(clippy::too_many_arguments)]
pub fn build(
    req: &SendRequest,
    v: &Validated,
    account: &str,
    doc: &ClusterDoc,
    router: &Router,
    ids: &[u64],
    now_ms: u64,
) -> Result<(Vec<MtPart>, Vec<Accepted>), ApiError> {
    let mut parts = Vec::new();
    let mut answers = Vec::with_capacity(req.to.len());
    for (to, id) in req.to.iter().zip(ids) {
        let choice = router.route(to).ok_or_else(|| ApiError::NoRoute(to.clone()))?;
        let carrier = doc
            .carrier(choice.carrier)
            .ok_or_else(|| ApiError::Internal(format!("route names unknown carrier {}", choice.carrier)))?;
        if let Some(allowed) = allowed_carriers(doc, account) {
            if !allowed.iter().any(|c| c == &carrier.name) {
                return Err(ApiError::Forbidden(format!(
                    "`{to}` routes to carrier `{}`, which account `{account}` may not use (allowed: {allowed:?})",
                    carrier.name
                )));
            }
        }
        let source_len =
            carrier.sp_number.as_deref().map_or(0, str::len) + req.sender.as_deref().map_or(0, str::len);
        if source_len > max_source_len(carrier.protocol) {
            return Err(ApiError::SenderTooLong(format!(
                "`sender` makes the source number {source_len} digits with carrier `{}`'s SP number `{}`: {} takes at most {}",
                carrier.name,
                carrier.sp_number.as_deref().unwrap_or(""),
                carrier.protocol.name(),
                max_source_len(carrier.protocol)
            )));
        }
        let (encoding, coding, segments) = split_for(&req.text, carrier, *id)?;
        let n = segments.len() as u16;
        let env = Envelope {
            to: to.clone(),
            text: req.text.clone(),
            priority: v.priority,
            sender: req.sender.clone(),
            report: v.report,
            route: carrier.name.clone(),
            backup: choice.backup.map(str::to_string),
            protocol: carrier.protocol,
            encoding,
            coding,
            parts: n,
            valid_until_ms: now_ms + doc.defaults.validity_secs * 1000,
            client_ref: req.client_ref.clone(),
        };
        let payload = serde_json::to_vec(&env).map_err(ApiError::internal)?;
        let part = |seq: usize, payload: Vec<u8>| MtPart {
            id: format!("{id}.{seq}"),
            account: account.to_string(),
            to: to.clone(),
            parts: n,
            payload,
            accepted_at_ms: now_ms,
            // The head waits in its route's ready queue until it is finished.
            queue: (seq == 0).then(|| ReadySlot {
                route: carrier.name.clone(),
                priority: v.priority.class(),
            }),
        };
        parts.push(part(0, payload));
        for (i, s) in segments.into_iter().enumerate() {
            parts.push(part(i + 1, s.content.to_vec()));
        }
        answers.push(Accepted {
            id: id.to_string(),
            to: to.clone(),
            parts: n,
            route: carrier.name.clone(),
            encoding,
        });
    }
    Ok((parts, answers))
}

/// The answer for an already-committed message, from its envelope.
pub fn answer_from_envelope(id: &str, env: &Envelope) -> Accepted {
    Accepted {
        id: id.to_string(),
        to: env.to.clone(),
        parts: env.parts,
        route: env.route.clone(),
        encoding: env.encoding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for ok in ["13800138000", "+8613800138000", "12345", "+447700900123"] {
            assert!(valid_number(ok), "{ok}");
        }
        for bad in [
            "",
            "1234",
            "+",
            "138-0013-8000",
            "1380013800a",
            "+1234567890123456789012",
            "++12345",
        ] {
            assert!(!valid_number(bad), "{bad}");
        }
    }

    #[test]
    fn splits_per_protocol_and_profile() {
        let carrier = |p: CarrierProtocol| Carrier {
            name: "c".into(),
            protocol: p,
            address: "127.0.0.1:1".into(),
            login: "l".into(),
            password: "p".into(),
            connections: 1,
            window: 1,
            tps: 1,
            sp_number: None,
            sgip_sp_listen: None,
            profile: None,
            overrides: Default::default(),
        };
        let (e, _, s) = split_for("hello", &carrier(CarrierProtocol::Cmpp3), 1).unwrap();
        assert_eq!((e, s.len()), (Encoding::Ascii, 1));
        let (e, _, s) = split_for(&"你好".repeat(40), &carrier(CarrierProtocol::Sgip), 1).unwrap();
        assert_eq!((e, s.len()), (Encoding::Ucs2, 2));
        let (e, _, s) = split_for(&"a".repeat(200), &carrier(CarrierProtocol::Smpp), 1).unwrap();
        assert_eq!((e, s.len()), (Encoding::Gsm7, 2));
        let over = split_for(&"好".repeat(700), &carrier(CarrierProtocol::Smgp), 1).unwrap_err();
        assert_eq!(over.code(), "text_too_long");
        let mut two = carrier(CarrierProtocol::Smgp);
        two.overrides.max_parts = Some(2);
        let refused = split_for(&"好".repeat(150), &two, 1).unwrap_err();
        assert_eq!(
            (refused.status().as_u16(), refused.code()),
            (400, "too_many_parts")
        );
        assert!(refused.message().contains("at most 2"), "{}", refused.message());
    }
}
