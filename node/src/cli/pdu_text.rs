//! What `smsgw pdu decode` shows beside a message's raw bytes: the text,
//! decoded by the PDU's own coding field (SMPP `data_coding`, CMPP
//! `Msg_Fmt`, SGIP `MessageCoding`, SMGP `MsgFormat`), with the User Data
//! Header parsed into reference, total and sequence; and a delivery
//! receipt's fields (SMPP receipt text, the CMPP report body). Works on
//! the JSON a PDU decodes to, so every protocol gets it the same way; it
//! only adds keys, never changes one the codec wrote.

use serde_json::{json, Map, Value};
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::{cmpp, smpp, udh};

/// Content fields and their coding field, by protocol.
const FIELDS: &[(&str, &str, bool)] = &[
    ("short_message", "data_coding", true),
    ("msg_content", "msg_fmt", false),
    ("message_content", "message_coding", false),
    ("msg_content", "msg_format", false),
];

/// Adds `"decoded"` (and `"receipt"`) to a decoded PDU's JSON object.
pub fn annotate(v: &mut Value) {
    let Value::Object(m) = v else { return };
    for (content, coding, smpp_coding) in FIELDS {
        let (Some(Value::String(hexed)), Some(code)) =
            (m.get(*content), m.get(*coding).and_then(Value::as_u64))
        else {
            continue;
        };
        let Ok(bytes) = hex::decode(hexed) else { continue };
        let code = code as u8;
        let udhi = m
            .get("esm_class")
            .and_then(Value::as_u64)
            .is_some_and(|e| e & 0x40 != 0)
            || m.get("tp_udhi").and_then(Value::as_u64).is_some_and(|u| u != 0);
        if let Some(r) = receipt(m, &bytes) {
            m.insert("receipt".into(), r);
        } else {
            let encoding = if *smpp_coding {
                Encoding::from_data_coding(code)
            } else {
                Encoding::from_msg_fmt(code)
            };
            m.insert("decoded".into(), decoded(&bytes, udhi, encoding));
        }
        return;
    }
}

fn decoded(bytes: &[u8], udhi: bool, encoding: Option<Encoding>) -> Value {
    let mut out = Map::new();
    let mut body = bytes;
    if udhi {
        match udh::parse_udh(bytes) {
            Ok((h, rest)) => {
                if let Some(c) = h.concat() {
                    out.insert(
                        "udh".into(),
                        json!({"reference": c.reference, "total": c.total, "sequence": c.seq}),
                    );
                }
                body = rest;
            }
            Err(e) => {
                out.insert("udh_error".into(), e.to_string().into());
            }
        }
    }
    match encoding {
        Some(enc) => {
            out.insert("encoding".into(), enc.name().into());
            match text::decode(body, enc) {
                Ok(t) => out.insert("text".into(), t.into()),
                Err(e) => out.insert("text_error".into(), e.to_string().into()),
            };
        }
        None => {
            out.insert("text_error".into(), "unknown coding: shown as hex only".into());
        }
    }
    Value::Object(out)
}

/// The receipt a PDU carries: an SMPP deliver_sm with esm_class 0x04, a
/// CMPP DELIVER with `Registered_Delivery = 1`.
fn receipt(m: &Map<String, Value>, bytes: &[u8]) -> Option<Value> {
    let command = m.get("command").and_then(Value::as_str)?;
    if command == "deliver_sm" && m.get("esm_class").and_then(Value::as_u64)? & 0x04 != 0 {
        let r = smpp::Receipt::parse(bytes).ok()?;
        return Some(json!({
            "id": r.id, "stat": r.stat, "err": r.err, "sub": r.sub, "dlvrd": r.dlvrd,
            "submit_date": r.submit_date, "done_date": r.done_date, "text": r.text,
        }));
    }
    if command == "deliver" && m.get("registered_delivery").and_then(Value::as_u64)? == 1 {
        let r = cmpp::Report::decode_any(&bytes::Bytes::copy_from_slice(bytes)).ok()?;
        return Some(json!({
            "msg_id": r.msg_id.0, "stat": r.stat.as_str(), "submit_time": r.submit_time.as_str(),
            "done_time": r.done_time.as_str(), "dest_terminal_id": r.dest_terminal_id.as_str(),
            "smsc_sequence": r.smsc_sequence,
        }));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_udh_and_receipts_are_shown() {
        let mut v = json!({"command": "submit_sm", "esm_class": 0x40, "data_coding": 8,
            "short_message": "0500032a0201" .to_string() + &hex::encode(text::encode("你好", Encoding::Ucs2).unwrap())});
        annotate(&mut v);
        assert_eq!(v["decoded"]["text"], "你好");
        assert_eq!(
            v["decoded"]["udh"],
            json!({"reference": 42, "total": 2, "sequence": 1})
        );
        let r =
            "id:123 sub:001 dlvrd:001 submit date:2612031200 done date:2612031201 stat:DELIVRD err:000 text:";
        let mut v = json!({"command": "deliver_sm", "esm_class": 4, "data_coding": 0, "short_message": hex::encode(r)});
        annotate(&mut v);
        assert_eq!(
            (v["receipt"]["id"].as_str(), v["receipt"]["stat"].as_str()),
            (Some("123"), Some("DELIVRD"))
        );
        let mut v = json!({"command": "submit", "msg_fmt": 15, "tp_udhi": 0, "msg_content": "c4e3bac3"});
        annotate(&mut v);
        assert_eq!(v["decoded"]["text"], "你好");
        assert_eq!(v["decoded"]["encoding"], "GBK");
    }
}
