//! The status report a Deliver with IsReport = 1 carries in its MsgContent.
//!
//! Layout written (122 bytes, the SMPP-3.4-style text the SMGP 3.0 spec
//! prescribes and the public implementations produce and parse by position),
//! values NUL-padded to their widths:
//!
//! `id:` 10-byte binary MsgID · ` sub:` 3 · ` dlvrd:` 3 · ` Submit date:` 10 ·
//! ` done date:` 10 · ` stat:` 7 · ` err:` 3 · ` Text:` 20
//!
//! Our shared README writes the labels `Submit_date:`, `Stat:`, `Err:`,
//! `Txt:` (121 bytes); the spec and the implementations win, so that is what
//! we write, but reading is by label, case-insensitive, accepting both
//! spellings, so either layout (and padding by spaces or NULs) decodes.
//!
//! Offsets in errors count from the start of MsgContent. This module must
//! never guess a message id: the id is the 10 bytes after `id:`.

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::ids::MsgId;
use crate::error::{DecodeError, EncodeError};
use crate::report::{parse_report_time, DeliveryReport, ReportState};
use crate::wire::{FixedStr, PutExt};

/// The length of a report as we write it.
pub const REPORT_LEN: usize = 122;

/// A typed SMGP status report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The MsgID of the Submit_Resp this reports on.
    pub msg_id: MsgId,
    pub sub: FixedStr<3>,
    pub dlvrd: FixedStr<3>,
    /// YYMMDDHHMM.
    pub submit_date: FixedStr<10>,
    /// YYMMDDHHMM.
    pub done_date: FixedStr<10>,
    /// `DELIVRD`, `EXPIRED`, `UNDELIV`, ... or a carrier code.
    pub stat: FixedStr<7>,
    pub err: FixedStr<3>,
    /// The first characters of the message, informational only (decoded
    /// lossily: carriers put GBK or binary here).
    pub txt: FixedStr<20>,
}

const LABELS: [(&str, &[&[u8]]); 7] = [
    ("sub", &[b"sub:"]),
    ("dlvrd", &[b"dlvrd:"]),
    ("submit_date", &[b"submit date:", b"submit_date:"]),
    ("done_date", &[b"done date:", b"done_date:"]),
    ("stat", &[b"stat:"]),
    ("err", &[b"err:"]),
    ("txt", &[b"text:", b"txt:"]),
];

/// Where the earliest of `labels` occurs in `hay` at or after `from`
/// (ASCII case-insensitive): (start, end).
fn find_label(hay: &[u8], from: usize, labels: &[&[u8]]) -> Option<(usize, usize)> {
    let hay = hay.get(from..)?;
    labels
        .iter()
        .filter_map(|l| {
            hay.windows(l.len())
                .position(|w| w.eq_ignore_ascii_case(l))
                .map(|p| (from + p, from + p + l.len()))
        })
        .min()
}

fn trim(v: &[u8]) -> &[u8] {
    let is_pad = |b: &u8| *b == 0 || *b == b' ';
    let start = v.iter().position(|b| !is_pad(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !is_pad(b)).map_or(start, |e| e + 1);
    &v[start..end]
}

fn text<const N: usize>(v: &[u8], field: &'static str, offset: usize) -> Result<FixedStr<N>, DecodeError> {
    let s = std::str::from_utf8(v).map_err(|_| DecodeError::InvalidText {
        field,
        offset,
        encoding: "ASCII text",
    })?;
    FixedStr::new(s).map_err(|_| DecodeError::InvalidValue {
        field,
        offset,
        message: format!("{:?} is longer than {N} bytes", s),
    })
}

impl Report {
    /// Reads a report from a Deliver's MsgContent.
    pub fn decode(content: &[u8]) -> Result<Report, DecodeError> {
        match content.get(..3) {
            Some(p) if p.eq_ignore_ascii_case(b"id:") => {}
            _ => {
                return Err(DecodeError::InvalidValue {
                    field: "report id",
                    offset: 0,
                    message: "status report does not start with \"id:\"".into(),
                })
            }
        }
        let id: [u8; 10] =
            content
                .get(3..13)
                .and_then(|s| s.try_into().ok())
                .ok_or(DecodeError::Truncated {
                    field: "report id",
                    offset: 3,
                    needed: 10,
                    available: content.len().saturating_sub(3),
                })?;
        // (start of label, end of label) for each field, in order.
        let mut spans = [(0usize, 0usize); 7];
        let mut pos = 13;
        for (i, (field, labels)) in LABELS.iter().enumerate() {
            match find_label(content, pos, labels) {
                Some(span) => {
                    spans[i] = span;
                    pos = span.1;
                }
                // A report cut before its text is still a report.
                None if *field == "txt" => spans[i] = (content.len(), content.len()),
                None => {
                    return Err(DecodeError::InvalidValue {
                        field,
                        offset: pos,
                        message: format!("no {:?} label in the status report", field),
                    })
                }
            }
        }
        let value = |i: usize| {
            let end = spans.get(i + 1).map_or(content.len(), |s| s.0);
            (trim(&content[spans[i].1..end]), spans[i].1)
        };
        let (v, o) = value(0);
        let sub = text(v, "sub", o)?;
        let (v, o) = value(1);
        let dlvrd = text(v, "dlvrd", o)?;
        let (v, o) = value(2);
        let submit_date = text(v, "submit_date", o)?;
        let (v, o) = value(3);
        let done_date = text(v, "done_date", o)?;
        let (v, o) = value(4);
        let stat = text(v, "stat", o)?;
        let (v, o) = value(5);
        let err = text(v, "err", o)?;
        let (v, _) = value(6);
        // Cut to the field's 20 bytes, then trim again: padding that was
        // inside a longer value must not end up at the end of `txt`, where
        // encoding would pad it away and the report not decode to itself.
        let cut = FixedStr::<20>::truncating(&String::from_utf8_lossy(v));
        let txt = FixedStr::truncating(cut.as_str().trim_end_matches(['\0', ' ']));
        Ok(Report {
            msg_id: MsgId(id),
            sub,
            dlvrd,
            submit_date,
            done_date,
            stat,
            err,
            txt,
        })
    }

    /// Appends the 122-byte report text.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_slice(b"id:");
        dst.put_slice(&self.msg_id.0);
        dst.put_slice(b" sub:");
        dst.put_octets(self.sub.as_bytes(), 3, "sub")?;
        dst.put_slice(b" dlvrd:");
        dst.put_octets(self.dlvrd.as_bytes(), 3, "dlvrd")?;
        dst.put_slice(b" Submit date:");
        dst.put_octets(self.submit_date.as_bytes(), 10, "submit_date")?;
        dst.put_slice(b" done date:");
        dst.put_octets(self.done_date.as_bytes(), 10, "done_date")?;
        dst.put_slice(b" stat:");
        dst.put_octets(self.stat.as_bytes(), 7, "stat")?;
        dst.put_slice(b" err:");
        dst.put_octets(self.err.as_bytes(), 3, "err")?;
        dst.put_slice(b" Text:");
        dst.put_octets(self.txt.as_bytes(), 20, "txt")?;
        Ok(())
    }

    /// The report as MsgContent.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut b = BytesMut::with_capacity(REPORT_LEN);
        self.encode(&mut b)?;
        Ok(b.freeze())
    }

    /// The carrier-neutral report; `carrier_msg_id` is the MsgID's Display,
    /// as in the Submit_Resp. The handset is not in the text: see
    /// [`Deliver::delivery_report`](super::Deliver::delivery_report).
    pub fn to_delivery_report(&self) -> DeliveryReport {
        DeliveryReport {
            carrier_msg_id: self.msg_id.to_string(),
            state: ReportState::from_stat(self.stat.as_str()),
            stat: self.stat.to_string(),
            error_code: self.err.as_str().trim().parse().unwrap_or(0),
            destination: None,
            submit_time: parse_report_time(self.submit_date.as_str()),
            done_time: parse_report_time(self.done_date.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            msg_id: "05900111251200000042".parse().unwrap(),
            sub: FixedStr::new("001").unwrap(),
            dlvrd: FixedStr::new("001").unwrap(),
            submit_date: FixedStr::new("2611251200").unwrap(),
            done_date: FixedStr::new("2611251201").unwrap(),
            stat: FixedStr::new("DELIVRD").unwrap(),
            err: FixedStr::new("000").unwrap(),
            txt: FixedStr::new("hello").unwrap(),
        }
    }

    #[test]
    fn round_trip_and_length() {
        let b = sample().to_bytes().unwrap();
        assert_eq!(b.len(), REPORT_LEN);
        assert_eq!(&b[13..18], b" sub:");
        assert_eq!(Report::decode(&b).unwrap(), sample());
    }

    #[test]
    fn readme_spelling_also_decodes() {
        let mut c = b"id:".to_vec();
        c.extend_from_slice(&sample().msg_id.0);
        c.extend_from_slice(
            b" sub:001 dlvrd:001 Submit_date:2611251200 done_date:2611251201 Stat:DELIVRD Err:000 Txt:hello",
        );
        assert_eq!(Report::decode(&c).unwrap(), sample());
        let d = sample().to_delivery_report();
        assert_eq!(d.carrier_msg_id, "05900111251200000042");
        assert_eq!(d.state, ReportState::Delivered);
        assert_eq!(d.error_code, 0);
        assert!(d.done_time.is_some());
    }

    #[test]
    fn bad_reports_name_the_field() {
        assert!(matches!(
            Report::decode(b"xx"),
            Err(DecodeError::InvalidValue { offset: 0, .. })
        ));
        assert!(matches!(
            Report::decode(b"id:123"),
            Err(DecodeError::Truncated { offset: 3, .. })
        ));
        let e = Report::decode(b"id:0123456789 sub:001 dlvrd:001").unwrap_err();
        assert!(
            matches!(
                e,
                DecodeError::InvalidValue {
                    field: "submit_date",
                    ..
                }
            ),
            "{e}"
        );
        let e = Report::decode(
            b"id:0123456789 sub:001 dlvrd:001 submit date:1 done date:2 stat:TOOLONGSTAT err:0",
        )
        .unwrap_err();
        assert!(
            matches!(e, DecodeError::InvalidValue { field: "stat", .. }),
            "{e}"
        );
    }
}
