//! SMPP `query_sm` and `cancel_sm` of an application's own messages: a
//! point read of the message's parts in the replicated state (as fresh as
//! the leader's), never a scan. A message of another account answers
//! exactly like one that does not exist (`ESME_RINVMSGID`), so a session
//! learns nothing of another account's ids.
//!
//! Cancel: a message is accepted, routed and handed to its carrier's
//! dispatcher at its commit, so once `submit_sm_resp` carried its id there
//! is nothing left in the gateway to withdraw; `cancel_sm` of an own
//! message answers `ESME_RCANCELFAIL` (the SMPP answer for "too late"). It
//! never changes the replicated state.

use smsgw_protocols::smpp::status::{ESME_RCANCELFAIL, ESME_RINVMSGID, ESME_ROK, ESME_RQUERYFAIL};
use smsgw_protocols::smpp::{Body, CancelSm, Pdu, QuerySm, QuerySmResp};
use smsgw_protocols::FixedStr;
use smsgw_state::PartRecord;

use crate::api::messages::{message_status, part_status};
use crate::api::state::AppState;

/// A message's parts (head first), if it is `account`'s.
async fn own_parts(state: &AppState, account: &str, id: &str) -> Result<Option<Vec<PartRecord>>, ()> {
    // Our ids are decimal; anything else is no message of ours.
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let view = state.fresh_view().await.map_err(|_| ())?;
    let (head, rows) = match view.message(id) {
        Ok(Some((h, rows))) if h.part.account == account => (h, rows),
        Ok(_) => return Ok(None),
        Err(_) => return Err(()),
    };
    let count = head.part.parts;
    let mut parts = vec![head];
    // A part that cannot be read fails the query: left out, the message
    // would answer with the state of the parts that could.
    for seq in 1..=count {
        parts.extend(rows.get(seq).map_err(|_| ())?);
    }
    Ok(Some(parts))
}

/// SMPP `message_state` of a message status: 1 ENROUTE, 2 DELIVERED,
/// 3 EXPIRED, 5 UNDELIVERABLE, 8 REJECTED.
fn smpp_state(status: &str) -> u8 {
    match status {
        "DELIVERED" => 2,
        "EXPIRED" => 3,
        "UNDELIVERABLE" | "FAILED" => 5,
        "REJECTED" => 8,
        _ => 1,
    }
}

/// SMPP absolute time `YYMMDDhhmmss000+` in Beijing time (+8 h = 32
/// quarter hours).
fn smpp_time(ms: u64) -> String {
    let t =
        chrono::DateTime::from_timestamp_millis(ms as i64).unwrap_or_default() + chrono::Duration::hours(8);
    format!("{}032+", t.format("%y%m%d%H%M%S"))
}

/// The answer to `query_sm` sequence `seq`.
pub async fn query_sm(state: &AppState, account: &str, seq: u32, q: &QuerySm) -> Pdu {
    let id = q.message_id.as_str();
    let parts = match own_parts(state, account, id).await {
        Ok(Some(p)) => p,
        Ok(None) => return refused(seq, Body::QuerySmResp(QuerySmResp::default()), ESME_RINVMSGID),
        Err(()) => return refused(seq, Body::QuerySmResp(QuerySmResp::default()), ESME_RQUERYFAIL),
    };
    // The head (M.0) holds the envelope; the parts carry the outcome.
    let (head, sent) = (&parts[0], &parts[1..]);
    let statuses: Vec<&str> = sent.iter().map(part_status).collect();
    // As `GET /v1/messages/{id}` says it: the message's own final state
    // (expired before all its parts were sent) wins.
    let status = match head.report_state.as_deref() {
        Some(_) if statuses.iter().any(|s| ["QUEUED", "SUBMITTED"].contains(s)) => part_status(head),
        _ => message_status(&statuses),
    };
    let state_code = smpp_state(status);
    let final_date = if state_code == 1 {
        String::new()
    } else {
        parts
            .iter()
            .filter_map(|p| p.reported_at_ms)
            .max()
            .map(smpp_time)
            .unwrap_or_default()
    };
    let resp = QuerySmResp {
        message_id: FixedStr::for_field("message_id", id).unwrap_or_default(),
        final_date: FixedStr::for_field("final_date", &final_date).unwrap_or_default(),
        message_state: state_code,
        error_code: 0,
    };
    Pdu::new(seq, Body::QuerySmResp(resp))
}

/// The answer to `cancel_sm` sequence `seq`.
pub async fn cancel_sm(state: &AppState, account: &str, seq: u32, c: &CancelSm) -> Pdu {
    let status = match own_parts(state, account, c.message_id.as_str()).await {
        // Already with its carrier (see the module doc).
        Ok(Some(_)) => ESME_RCANCELFAIL,
        Ok(None) => ESME_RINVMSGID,
        Err(()) => ESME_RCANCELFAIL,
    };
    refused(seq, Body::CancelSmResp, status)
}

fn refused(seq: u32, body: Body, status: u32) -> Pdu {
    debug_assert_ne!(status, ESME_ROK);
    Pdu {
        command_status: status,
        sequence_number: seq,
        body,
    }
}
