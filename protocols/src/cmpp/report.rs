//! The CMPP status report carried in a DELIVER's Msg_Content when
//! Registered_Delivery = 1, and its mapping to the normalised
//! [`DeliveryReport`].
//!
//! Layout: Msg_Id 8 (the id from SUBMIT_RESP) · Stat 7 · Submit_time 10 ·
//! Done_time 10 · Dest_terminal_Id 21 (2.0) or 32 (3.0) · SMSC_sequence 4,
//! so 60 or 71 bytes. The carrier id handed to the reconciler is the Msg_Id's
//! display form, the same string its SUBMIT_RESP id displays as. This module
//! never guesses a state from anything but Stat.

use bytes::{BufMut, Bytes, BytesMut};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{get_terminal, terminal_width, CmppVersion, Deliver, MsgId};
use crate::error::{DecodeError, EncodeError};
use crate::report::{format_report_time, parse_report_time, DeliveryReport, ReportState};
use crate::wire::{FixedStr, PutExt, Reader};

/// A CMPP status report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The Msg_Id of the SUBMIT_RESP this reports on.
    pub msg_id: MsgId,
    /// DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD or a
    /// carrier code.
    pub stat: FixedStr<7>,
    /// YYMMDDHHMM.
    pub submit_time: FixedStr<10>,
    /// YYMMDDHHMM.
    pub done_time: FixedStr<10>,
    /// The handset; 21 bytes on the wire in 2.0, 32 in 3.0.
    pub dest_terminal_id: FixedStr<32>,
    pub smsc_sequence: u32,
}

impl Report {
    /// Bytes of a report in `version`.
    pub const fn len(version: CmppVersion) -> usize {
        match version {
            CmppVersion::V20 => 60,
            CmppVersion::V30 => 71,
        }
    }

    /// A report for the simulator: `state` becomes its stat word and the
    /// times are formatted YYMMDDHHMM.
    pub fn new(
        msg_id: MsgId,
        state: ReportState,
        submit_time: &NaiveDateTime,
        done_time: &NaiveDateTime,
        dest_terminal_id: &str,
        smsc_sequence: u32,
    ) -> Result<Report, EncodeError> {
        Ok(Report {
            msg_id,
            stat: FixedStr::for_field("stat", state.stat())?,
            submit_time: FixedStr::truncating(&format_report_time(submit_time)),
            done_time: FixedStr::truncating(&format_report_time(done_time)),
            dest_terminal_id: FixedStr::for_field("dest_terminal_id", dest_terminal_id)?,
            smsc_sequence,
        })
    }

    /// Decodes a report of `version`'s layout; the content must be exactly
    /// that long. Offsets in errors count from the start of the content.
    pub fn decode(content: &Bytes, version: CmppVersion) -> Result<Report, DecodeError> {
        let mut r = Reader::new(content, 0);
        let report = Report {
            msg_id: MsgId(r.u64("report.msg_id")?),
            stat: r.octets("report.stat")?,
            submit_time: r.octets("report.submit_time")?,
            done_time: r.octets("report.done_time")?,
            dest_terminal_id: get_terminal(&mut r, version, "report.dest_terminal_id")?,
            smsc_sequence: r.u32("report.smsc_sequence")?,
        };
        r.finish()?;
        Ok(report)
    }

    /// Decodes either layout, told apart by length (60: 2.0, 71: 3.0).
    /// Gateways are known to send the 3.0 report on links that otherwise
    /// speak 2.0, so the link's version is not trusted here.
    pub fn decode_any(content: &Bytes) -> Result<Report, DecodeError> {
        let version = if content.len() == Report::len(CmppVersion::V30) {
            CmppVersion::V30
        } else if content.len() == Report::len(CmppVersion::V20) {
            CmppVersion::V20
        } else {
            return Err(DecodeError::InvalidValue {
                field: "report",
                offset: 0,
                message: format!(
                    "a status report is 60 (CMPP 2.0) or 71 (3.0) bytes, got {}",
                    content.len()
                ),
            });
        };
        Report::decode(content, version)
    }

    /// Bytes a report must have to be matched at all: Msg_Id and Stat.
    pub const MIN_MATCHABLE: usize = 15;

    /// Decodes a report of any length as far as it goes: the exact
    /// layouts as [`Report::decode_any`]; 71 bytes or more as 3.0 and
    /// 60..70 as 2.0 with the rest skipped (real ISMGs pad, and Msg_Id and
    /// Stat sit at the same offsets in both); shorter than 60 fills what
    /// fits and leaves the rest empty. Under [`Report::MIN_MATCHABLE`]
    /// bytes it cannot be matched and is an error naming the field.
    pub fn decode_partial(content: &Bytes) -> Result<Report, DecodeError> {
        let exact = [Report::len(CmppVersion::V20), Report::len(CmppVersion::V30)];
        if exact.contains(&content.len()) {
            return Report::decode_any(content);
        }
        if content.len() < Report::MIN_MATCHABLE {
            return Err(DecodeError::InvalidValue {
                field: "report",
                offset: 0,
                message: format!(
                    "a status report needs at least Msg_Id and Stat ({} bytes), got {}",
                    Report::MIN_MATCHABLE,
                    content.len()
                ),
            });
        }
        let version = if content.len() >= Report::len(CmppVersion::V30) {
            CmppVersion::V30
        } else {
            CmppVersion::V20
        };
        let mut r = Reader::lenient(content, 0);
        let msg_id = MsgId(r.u64("report.msg_id")?);
        let stat = r.octets("report.stat")?;
        // Past Stat every field is optional: a missing or unreadable one
        // is left empty rather than losing the report.
        let submit_time = r.octets("report.submit_time").unwrap_or_default();
        let done_time = r.octets("report.done_time").unwrap_or_default();
        let dest_terminal_id = get_terminal(&mut r, version, "report.dest_terminal_id").unwrap_or_default();
        let smsc_sequence = r.u32("report.smsc_sequence").unwrap_or(0);
        Ok(Report {
            msg_id,
            stat,
            submit_time,
            done_time,
            dest_terminal_id,
            smsc_sequence,
        })
    }

    /// Appends the report in `version`'s layout.
    pub fn encode(&self, version: CmppVersion, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_u64(self.msg_id.0);
        dst.put_octets(self.stat.as_bytes(), 7, "report.stat")?;
        dst.put_octets(self.submit_time.as_bytes(), 10, "report.submit_time")?;
        dst.put_octets(self.done_time.as_bytes(), 10, "report.done_time")?;
        dst.put_octets(
            self.dest_terminal_id.as_bytes(),
            terminal_width(version),
            "report.dest_terminal_id",
        )?;
        dst.put_u32(self.smsc_sequence);
        Ok(())
    }

    /// The report as bytes of `version`'s layout.
    pub fn to_bytes(&self, version: CmppVersion) -> Result<Bytes, EncodeError> {
        let mut b = BytesMut::with_capacity(Report::len(version));
        self.encode(version, &mut b)?;
        Ok(b.freeze())
    }

    /// A DELIVER carrying this report (see [`Deliver::with_report`]).
    pub fn into_deliver(
        &self,
        deliver_msg_id: MsgId,
        dest_id: &str,
        version: CmppVersion,
    ) -> Result<Deliver, EncodeError> {
        Deliver::with_report(deliver_msg_id, dest_id, self, version)
    }

    /// The normalised form for the reconciler.
    pub fn to_delivery_report(&self) -> DeliveryReport {
        DeliveryReport {
            carrier_msg_id: self.msg_id.to_string(),
            state: ReportState::from_stat(self.stat.as_str()),
            stat: self.stat.as_str().to_string(),
            error_code: 0,
            destination: (!self.dest_terminal_id.is_empty()).then(|| self.dest_terminal_id.to_string()),
            submit_time: parse_report_time(self.submit_time.as_str()),
            done_time: parse_report_time(self.done_time.as_str()),
        }
    }
}
