#![no_main]
#[path = "common.rs"]
mod common;

use smsgw_protocols::cmpp::{Body, Cmpp, CmppVersion, Options, Pdu, Report};

/// Status reports and UDH carried in content: reading them must not panic,
/// and a report that decodes must encode back to the same value.
fn extra(pdu: &Pdu) {
    match &pdu.body {
        Body::Submit(s) => {
            let _ = s.concat();
        }
        Body::Deliver(d) => {
            let _ = d.concat();
            if let Ok(Some(report)) = d.report() {
                let v = if d.msg_content.len() == 71 {
                    CmppVersion::V30
                } else {
                    CmppVersion::V20
                };
                let bytes = report.to_bytes(v).expect("decoded report must encode");
                assert_eq!(Report::decode(&bytes, v).expect("re-encoded report"), report);
                let _ = report.to_delivery_report();
            }
        }
        _ => {}
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::fuzz::<Cmpp>(data, Options::new(CmppVersion::V20), extra);
    common::fuzz::<Cmpp>(data, Options::new(CmppVersion::V30), extra);
});
