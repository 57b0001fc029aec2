//! REPORT: the SMG's status report for an earlier SUBMIT (or a forwarded
//! DELIVER), and its mapping to the carrier-neutral [`DeliveryReport`].
//!
//! The report names the SUBMIT by the SUBMIT's own header sequence number,
//! whose display form is the carrier message id; this module must keep
//! `carrier_msg_id` equal to `SequenceNumber::to_string()` of that SUBMIT.

use bytes::{BufMut, BytesMut};
use serde::{Deserialize, Serialize};

use super::bodies::{is_zero, read_reserve, Reserve};
use super::sequence::SequenceNumber;
use crate::error::{DecodeError, EncodeError};
use crate::report::{DeliveryReport, ReportState};
use crate::wire::{FixedStr, PutExt, Reader};

/// Values of `Report::state`.
pub mod state {
    /// Delivered to the handset.
    pub const DELIVERED: u8 = 0;
    /// Waiting to be delivered (an intermediate report).
    pub const WAITING: u8 = 1;
    /// Failed; `error_code` says why.
    pub const FAILED: u8 = 2;
}

/// Values of `Report::report_type`.
pub mod report_type {
    /// About an earlier SUBMIT.
    pub const SUBMIT: u8 = 0;
    /// About an earlier forwarded DELIVER.
    pub const DELIVER: u8 = 1;
}

/// REPORT body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The header sequence of the SUBMIT this is about.
    pub submit_sequence_number: SequenceNumber,
    /// See [`report_type`].
    pub report_type: u8,
    pub user_number: FixedStr<21>,
    /// See [`state`].
    pub state: u8,
    /// When `state` is FAILED, a code from [`super::result`]; else 0.
    pub error_code: u8,
    #[serde(default, with = "crate::wire::hex_array", skip_serializing_if = "is_zero")]
    pub reserve: Reserve,
}

impl Report {
    /// A report about `submit` for `user_number` (what the simulator sends).
    /// `error_code` is forced to 0 unless `state` is FAILED, as the spec asks.
    pub fn for_submit(
        submit: SequenceNumber,
        user_number: &str,
        state: u8,
        error_code: u8,
    ) -> Result<Self, EncodeError> {
        Ok(Report {
            submit_sequence_number: submit,
            report_type: report_type::SUBMIT,
            user_number: FixedStr::for_field("user_number", user_number)?,
            state,
            error_code: if state == state::FAILED { error_code } else { 0 },
            reserve: Reserve::default(),
        })
    }

    /// The canonical carrier message id: the SUBMIT's sequence, displayed.
    pub fn carrier_msg_id(&self) -> String {
        self.submit_sequence_number.to_string()
    }

    /// The carrier-neutral form. SGIP carries no status word, so `stat` is
    /// the usual word for the state (DELIVRD, UNKNOWN for waiting or an
    /// unknown state, UNDELIV for failed) and the reason is in `error_code`.
    /// No times: the sequence's MMDDHHMMSS has no year.
    pub fn to_delivery_report(&self) -> DeliveryReport {
        let report_state = match self.state {
            state::DELIVERED => ReportState::Delivered,
            state::FAILED => ReportState::Undeliverable,
            _ => ReportState::Unknown,
        };
        DeliveryReport {
            carrier_msg_id: self.carrier_msg_id(),
            state: report_state,
            stat: report_state.stat().to_owned(),
            error_code: u32::from(self.error_code),
            destination: (!self.user_number.trimmed().is_empty())
                .then(|| self.user_number.trimmed().to_string()),
            submit_time: None,
            done_time: None,
        }
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Report {
            submit_sequence_number: SequenceNumber::read(r, "submit_sequence_number")?,
            report_type: r.u8("report_type")?,
            user_number: r.octets("user_number")?,
            state: r.u8("state")?,
            error_code: r.u8("error_code")?,
            reserve: read_reserve(r)?,
        })
    }

    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        self.submit_sequence_number.put(dst);
        dst.put_u8(self.report_type);
        dst.put_octets(self.user_number.as_bytes(), 21, "user_number")?;
        dst.put_u8(self.state);
        dst.put_u8(self.error_code);
        dst.put_slice(&self.reserve);
        Ok(())
    }
}
