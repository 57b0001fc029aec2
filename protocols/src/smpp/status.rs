//! SMPP 3.4 `command_status` codes (section 5.1.3) and their log text.
//!
//! Only names and descriptions live here; which status a session answers
//! with is the session's decision, never this module's.

pub const ESME_ROK: u32 = 0x0000_0000;
pub const ESME_RINVMSGLEN: u32 = 0x0000_0001;
pub const ESME_RINVCMDLEN: u32 = 0x0000_0002;
pub const ESME_RINVCMDID: u32 = 0x0000_0003;
pub const ESME_RINVBNDSTS: u32 = 0x0000_0004;
pub const ESME_RALYBND: u32 = 0x0000_0005;
pub const ESME_RINVPRTFLG: u32 = 0x0000_0006;
pub const ESME_RINVREGDLVFLG: u32 = 0x0000_0007;
pub const ESME_RSYSERR: u32 = 0x0000_0008;
pub const ESME_RINVSRCADR: u32 = 0x0000_000A;
pub const ESME_RINVDSTADR: u32 = 0x0000_000B;
pub const ESME_RINVMSGID: u32 = 0x0000_000C;
pub const ESME_RBINDFAIL: u32 = 0x0000_000D;
pub const ESME_RINVPASWD: u32 = 0x0000_000E;
pub const ESME_RINVSYSID: u32 = 0x0000_000F;
pub const ESME_RCANCELFAIL: u32 = 0x0000_0011;
pub const ESME_RREPLACEFAIL: u32 = 0x0000_0013;
pub const ESME_RMSGQFUL: u32 = 0x0000_0014;
pub const ESME_RINVSERTYP: u32 = 0x0000_0015;
pub const ESME_RINVNUMDESTS: u32 = 0x0000_0033;
pub const ESME_RINVDLNAME: u32 = 0x0000_0034;
pub const ESME_RINVDESTFLAG: u32 = 0x0000_0040;
pub const ESME_RINVSUBREP: u32 = 0x0000_0042;
pub const ESME_RINVESMCLASS: u32 = 0x0000_0043;
pub const ESME_RCNTSUBDL: u32 = 0x0000_0044;
pub const ESME_RSUBMITFAIL: u32 = 0x0000_0045;
pub const ESME_RINVSRCTON: u32 = 0x0000_0048;
pub const ESME_RINVSRCNPI: u32 = 0x0000_0049;
pub const ESME_RINVDSTTON: u32 = 0x0000_0050;
pub const ESME_RINVDSTNPI: u32 = 0x0000_0051;
pub const ESME_RINVSYSTYP: u32 = 0x0000_0053;
pub const ESME_RINVREPFLAG: u32 = 0x0000_0054;
pub const ESME_RINVNUMMSGS: u32 = 0x0000_0055;
pub const ESME_RTHROTTLED: u32 = 0x0000_0058;
pub const ESME_RINVSCHED: u32 = 0x0000_0061;
pub const ESME_RINVEXPIRY: u32 = 0x0000_0062;
pub const ESME_RINVDFTMSGID: u32 = 0x0000_0063;
pub const ESME_RX_T_APPN: u32 = 0x0000_0064;
pub const ESME_RX_P_APPN: u32 = 0x0000_0065;
pub const ESME_RX_R_APPN: u32 = 0x0000_0066;
pub const ESME_RQUERYFAIL: u32 = 0x0000_0067;
pub const ESME_RINVOPTPARSTREAM: u32 = 0x0000_00C0;
pub const ESME_ROPTPARNOTALLWD: u32 = 0x0000_00C1;
pub const ESME_RINVPARLEN: u32 = 0x0000_00C2;
pub const ESME_RMISSINGOPTPARAM: u32 = 0x0000_00C3;
pub const ESME_RINVOPTPARAMVAL: u32 = 0x0000_00C4;
pub const ESME_RDELIVERYFAILURE: u32 = 0x0000_00FE;
pub const ESME_RUNKNOWNERR: u32 = 0x0000_00FF;

/// Short text for logs; vendor-specific codes (0x400..=0x4FF) and anything
/// unassigned get a generic description rather than an error.
pub fn status_text(code: u32) -> &'static str {
    match code {
        ESME_ROK => "ESME_ROK: no error",
        ESME_RINVMSGLEN => "ESME_RINVMSGLEN: message length is invalid",
        ESME_RINVCMDLEN => "ESME_RINVCMDLEN: command length is invalid",
        ESME_RINVCMDID => "ESME_RINVCMDID: invalid command id",
        ESME_RINVBNDSTS => "ESME_RINVBNDSTS: incorrect bind status for given command",
        ESME_RALYBND => "ESME_RALYBND: ESME already in bound state",
        ESME_RINVPRTFLG => "ESME_RINVPRTFLG: invalid priority flag",
        ESME_RINVREGDLVFLG => "ESME_RINVREGDLVFLG: invalid registered delivery flag",
        ESME_RSYSERR => "ESME_RSYSERR: system error",
        ESME_RINVSRCADR => "ESME_RINVSRCADR: invalid source address",
        ESME_RINVDSTADR => "ESME_RINVDSTADR: invalid destination address",
        ESME_RINVMSGID => "ESME_RINVMSGID: message id is invalid",
        ESME_RBINDFAIL => "ESME_RBINDFAIL: bind failed",
        ESME_RINVPASWD => "ESME_RINVPASWD: invalid password",
        ESME_RINVSYSID => "ESME_RINVSYSID: invalid system id",
        ESME_RCANCELFAIL => "ESME_RCANCELFAIL: cancel_sm failed",
        ESME_RREPLACEFAIL => "ESME_RREPLACEFAIL: replace_sm failed",
        ESME_RMSGQFUL => "ESME_RMSGQFUL: message queue full",
        ESME_RINVSERTYP => "ESME_RINVSERTYP: invalid service type",
        ESME_RINVNUMDESTS => "ESME_RINVNUMDESTS: invalid number of destinations",
        ESME_RINVDLNAME => "ESME_RINVDLNAME: invalid distribution list name",
        ESME_RINVDESTFLAG => "ESME_RINVDESTFLAG: invalid destination flag",
        ESME_RINVSUBREP => "ESME_RINVSUBREP: invalid submit with replace request",
        ESME_RINVESMCLASS => "ESME_RINVESMCLASS: invalid esm_class field data",
        ESME_RCNTSUBDL => "ESME_RCNTSUBDL: cannot submit to distribution list",
        ESME_RSUBMITFAIL => "ESME_RSUBMITFAIL: submit_sm or submit_multi failed",
        ESME_RINVSRCTON => "ESME_RINVSRCTON: invalid source address TON",
        ESME_RINVSRCNPI => "ESME_RINVSRCNPI: invalid source address NPI",
        ESME_RINVDSTTON => "ESME_RINVDSTTON: invalid destination address TON",
        ESME_RINVDSTNPI => "ESME_RINVDSTNPI: invalid destination address NPI",
        ESME_RINVSYSTYP => "ESME_RINVSYSTYP: invalid system_type field",
        ESME_RINVREPFLAG => "ESME_RINVREPFLAG: invalid replace_if_present flag",
        ESME_RINVNUMMSGS => "ESME_RINVNUMMSGS: invalid number of messages",
        ESME_RTHROTTLED => "ESME_RTHROTTLED: throttling error (ESME exceeded allowed message limits)",
        ESME_RINVSCHED => "ESME_RINVSCHED: invalid scheduled delivery time",
        ESME_RINVEXPIRY => "ESME_RINVEXPIRY: invalid message validity period",
        ESME_RINVDFTMSGID => "ESME_RINVDFTMSGID: predefined message invalid or not found",
        ESME_RX_T_APPN => "ESME_RX_T_APPN: ESME receiver temporary app error",
        ESME_RX_P_APPN => "ESME_RX_P_APPN: ESME receiver permanent app error",
        ESME_RX_R_APPN => "ESME_RX_R_APPN: ESME receiver reject message error",
        ESME_RQUERYFAIL => "ESME_RQUERYFAIL: query_sm request failed",
        ESME_RINVOPTPARSTREAM => "ESME_RINVOPTPARSTREAM: error in the optional part of the PDU body",
        ESME_ROPTPARNOTALLWD => "ESME_ROPTPARNOTALLWD: optional parameter not allowed",
        ESME_RINVPARLEN => "ESME_RINVPARLEN: invalid parameter length",
        ESME_RMISSINGOPTPARAM => "ESME_RMISSINGOPTPARAM: expected optional parameter missing",
        ESME_RINVOPTPARAMVAL => "ESME_RINVOPTPARAMVAL: invalid optional parameter value",
        ESME_RDELIVERYFAILURE => "ESME_RDELIVERYFAILURE: delivery failure (data_sm_resp)",
        ESME_RUNKNOWNERR => "ESME_RUNKNOWNERR: unknown error",
        0x400..=0x4FF => "SMSC vendor-specific error",
        _ => "reserved / unassigned status",
    }
}

/// Whether a peer may reasonably try the same request again later (queue
/// full, throttled, transient system errors), as opposed to a permanent
/// rejection of this message.
pub fn is_transient(code: u32) -> bool {
    matches!(
        code,
        ESME_RMSGQFUL | ESME_RTHROTTLED | ESME_RSYSERR | ESME_RX_T_APPN
    )
}
