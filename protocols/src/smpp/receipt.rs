//! The de-facto SMPP delivery receipt text (`id:... sub:001 dlvrd:001
//! submit date:... done date:... stat:DELIVRD err:000 text:...`), its
//! mapping to the normalised [`DeliveryReport`], and building a deliver_sm
//! that carries one (for the simulator).
//!
//! Parsing is tolerant because SMSCs vary (key case, `submit_date` for
//! `submit date`, missing fields, field order); writing always uses the
//! standard form. This module must never guess an id: the carrier's id is
//! taken as written.

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::sm::{DeliverSm, ESM_RECEIPT};
use super::tlv::Tlv;
use crate::error::{DecodeError, EncodeError};
use crate::report::{parse_report_time, DeliveryReport, ReportState};
use crate::wire::FixedStr;

/// A parsed receipt. Numbers are kept as the text received (`"001"`), so
/// re-writing a receipt gives back what the SMSC sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub id: String,
    pub sub: String,
    pub dlvrd: String,
    pub submit_date: String,
    pub done_date: String,
    pub stat: String,
    pub err: String,
    pub text: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Key {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
}

/// Key spellings seen in the wild, lowercase, longest first where one is a
/// prefix of another.
const KEYS: &[(&str, Key)] = &[
    ("submit date", Key::SubmitDate),
    ("submit_date", Key::SubmitDate),
    ("submitdate", Key::SubmitDate),
    ("done date", Key::DoneDate),
    ("done_date", Key::DoneDate),
    ("donedate", Key::DoneDate),
    ("dlvrd", Key::Dlvrd),
    ("stat", Key::Stat),
    ("text", Key::Text),
    ("txt", Key::Text),
    ("sub", Key::Sub),
    ("err", Key::Err),
    ("id", Key::Id),
];

fn key_at(s: &[u8], i: usize) -> Option<(Key, usize)> {
    if i > 0 && !s[i - 1].is_ascii_whitespace() {
        return None;
    }
    KEYS.iter().find_map(|(name, key)| {
        let end = i + name.len();
        let cand = s.get(i..end)?;
        (cand.eq_ignore_ascii_case(name.as_bytes()) && s.get(end) == Some(&b':')).then_some((*key, end + 1))
    })
}

impl Receipt {
    /// Parses receipt text. Needs at least `id` and `stat`; anything before
    /// the first key and unknown `key:value` words are ignored.
    pub fn parse(raw: &[u8]) -> Result<Receipt, DecodeError> {
        // Find every key; a value runs to the next key (`text` to the end,
        // since free text may contain anything).
        let mut found: Vec<(Key, usize, usize)> = Vec::with_capacity(8);
        let mut i = 0;
        while i < raw.len() {
            if let Some((key, vstart)) = key_at(raw, i) {
                found.push((key, i, vstart));
                if key == Key::Text {
                    break;
                }
                i = vstart;
            } else {
                i += 1;
            }
        }
        let mut r = Receipt::default();
        for (n, &(key, _, vstart)) in found.iter().enumerate() {
            let vend = if key == Key::Text {
                raw.len()
            } else {
                found.get(n + 1).map_or(raw.len(), |next| next.1)
            };
            let value = raw.get(vstart..vend).unwrap_or_default();
            let value = String::from_utf8_lossy(value);
            let value = if key == Key::Text {
                value.trim_end_matches('\0').to_string()
            } else {
                value.trim().trim_end_matches('\0').to_string()
            };
            let slot = match key {
                Key::Id => &mut r.id,
                Key::Sub => &mut r.sub,
                Key::Dlvrd => &mut r.dlvrd,
                Key::SubmitDate => &mut r.submit_date,
                Key::DoneDate => &mut r.done_date,
                Key::Stat => &mut r.stat,
                Key::Err => &mut r.err,
                Key::Text => &mut r.text,
            };
            if slot.is_empty() {
                *slot = value;
            }
        }
        if !found.iter().any(|f| f.0 == Key::Id) {
            return Err(DecodeError::InvalidValue {
                field: "receipt id",
                offset: 0,
                message: "no `id:` in delivery receipt text".into(),
            });
        }
        if r.stat.is_empty() {
            return Err(DecodeError::InvalidValue {
                field: "receipt stat",
                offset: 0,
                message: "no `stat:` in delivery receipt text".into(),
            });
        }
        Ok(r)
    }

    /// The standard text form.
    pub fn to_text(&self) -> String {
        self.to_string()
    }

    /// The normalised report; `carrier_msg_id` is the receipt's id.
    pub fn to_delivery_report(&self) -> DeliveryReport {
        DeliveryReport {
            carrier_msg_id: self.id.clone(),
            state: ReportState::from_stat(&self.stat),
            stat: self.stat.clone(),
            error_code: self.err.trim().parse().unwrap_or(0),
            destination: None,
            submit_time: parse_report_time(&self.submit_date),
            done_time: parse_report_time(&self.done_date),
        }
    }

    /// A receipt for a message in its final `state`, as an SMSC writes it.
    pub fn new(id: &str, state: ReportState, submit_date: &str, done_date: &str, err: u16) -> Receipt {
        let delivered = if state == ReportState::Delivered {
            "001"
        } else {
            "000"
        };
        Receipt {
            id: id.to_string(),
            sub: "001".into(),
            dlvrd: delivered.into(),
            submit_date: submit_date.to_string(),
            done_date: done_date.to_string(),
            stat: state.stat().to_string(),
            err: format!("{err:03}"),
            text: String::new(),
        }
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "id:{} sub:{} dlvrd:{} submit date:{} done date:{} stat:{} err:{} text:{}",
            self.id, self.sub, self.dlvrd, self.submit_date, self.done_date, self.stat, self.err, self.text
        )
    }
}

/// `message_state` TLV values (SMPP 3.4 section 5.2.28).
pub fn message_state_report(state: u8) -> ReportState {
    match state {
        2 => ReportState::Delivered,
        3 => ReportState::Expired,
        4 => ReportState::Deleted,
        5 => ReportState::Undeliverable,
        8 => ReportState::Rejected,
        _ => ReportState::Unknown,
    }
}

/// The `message_state` value for a final state.
pub fn report_message_state(state: ReportState) -> u8 {
    match state {
        ReportState::Delivered => 2,
        ReportState::Expired => 3,
        ReportState::Deleted => 4,
        ReportState::Undeliverable => 5,
        ReportState::Rejected => 8,
        ReportState::Unknown => 7,
    }
}

impl DeliverSm {
    /// A deliver_sm carrying `receipt` as text and as the
    /// `receipted_message_id` / `message_state` TLVs. `handset` is the
    /// original destination (the receipt's source), `sender` the original
    /// source.
    pub fn receipt(receipt: &Receipt, handset: &str, sender: &str) -> Result<DeliverSm, EncodeError> {
        let text = receipt.to_text();
        let mut sm = DeliverSm::new(handset, sender, 0, Bytes::from(text))?;
        sm.esm_class = ESM_RECEIPT;
        sm.tlvs.push(Tlv::ReceiptedMessageId(FixedStr::for_field(
            "receipted_message_id",
            &receipt.id,
        )?));
        sm.tlvs
            .push(Tlv::MessageState(report_message_state(ReportState::from_stat(
                &receipt.stat,
            ))));
        Ok(sm)
    }

    /// The delivery report this deliver_sm carries, if it is a receipt
    /// (esm_class 0x04, or a `receipted_message_id` TLV). The
    /// `receipted_message_id` TLV wins over the text's id, and the
    /// `message_state` TLV is used when the text cannot be parsed.
    pub fn delivery_report(&self) -> Option<Result<DeliveryReport, DecodeError>> {
        let tlv_id = self.tlvs.receipted_message_id();
        if !self.is_receipt() && tlv_id.is_none() {
            return None;
        }
        let parsed = Receipt::parse(self.payload()).map(|r| r.to_delivery_report());
        let mut report = match (parsed, tlv_id, self.tlvs.message_state()) {
            (Ok(r), _, _) => r,
            (Err(_), Some(id), Some(state)) => {
                let state = message_state_report(state);
                DeliveryReport {
                    carrier_msg_id: id.to_string(),
                    state,
                    stat: state.stat().to_string(),
                    error_code: self
                        .tlvs
                        .network_error_code()
                        .map_or(0, |c| u32::from(c.error_code)),
                    destination: None,
                    submit_time: None,
                    done_time: None,
                }
            }
            (Err(e), _, _) => return Some(Err(e)),
        };
        if let Some(id) = tlv_id.filter(|id| !id.is_empty()) {
            report.carrier_msg_id = id.to_string();
        }
        if !self.source_addr.is_empty() {
            report.destination = Some(self.source_addr.to_string());
        }
        Some(Ok(report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_variants_seen_in_the_wild() {
        let r = Receipt::parse(
            b"id:0123456789 sub:001 dlvrd:001 submit date:2611241200 done date:2611241201 stat:DELIVRD err:000 text:Hello world",
        )
        .unwrap();
        assert_eq!(r.id, "0123456789");
        assert_eq!(r.submit_date, "2611241200");
        assert_eq!(r.done_date, "2611241201");
        assert_eq!(r.text, "Hello world");
        let r = Receipt::parse(b"ID:ab12 SUB:001 DLVRD:000 SUBMIT_DATE:2611241200 DONE_DATE:2611241201 STAT:EXPIRED ERR:012 Text:x").unwrap();
        assert_eq!(
            (r.id.as_str(), r.stat.as_str(), r.err.as_str()),
            ("ab12", "EXPIRED", "012")
        );
        assert_eq!(r.submit_date, "2611241200");
        let r = Receipt::parse(b"stat:UNDELIV id:77 err:5").unwrap();
        assert_eq!(r.id, "77");
        assert_eq!(r.to_delivery_report().error_code, 5);
        assert!(Receipt::parse(b"hello").is_err());
        assert!(Receipt::parse(b"id:1 sub:001").is_err());
    }

    #[test]
    fn text_roundtrips() {
        let r = Receipt::new("A1", ReportState::Delivered, "2611241200", "2611241201", 0);
        let s = r.to_text();
        assert_eq!(
            s,
            "id:A1 sub:001 dlvrd:001 submit date:2611241200 done date:2611241201 stat:DELIVRD err:000 text:"
        );
        assert_eq!(Receipt::parse(s.as_bytes()).unwrap(), r);
    }
}
