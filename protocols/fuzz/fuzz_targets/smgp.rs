#![no_main]
#[path = "common.rs"]
mod common;

use smsgw_protocols::smgp::{Body, Pdu, Report, Smgp};

/// Status reports and UDH carried in content: reading them must not panic,
/// and a report that decodes must encode back to the same value.
fn extra(pdu: &Pdu) {
    match &pdu.body {
        Body::Submit(s) => {
            let _ = s.concat();
        }
        Body::Deliver(d) => {
            let _ = d.concat();
            let _ = d.delivery_report();
            if let Some(Ok(report)) = d.report() {
                let bytes = report.to_bytes().expect("decoded report must encode");
                assert_eq!(Report::decode(&bytes).expect("re-encoded report"), report);
            }
        }
        _ => {}
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::fuzz::<Smgp>(data, Default::default(), extra);
});
