#![no_main]
#[path = "common.rs"]
mod common;

use smsgw_protocols::smpp::{Body, Pdu, Receipt, Smpp};

/// Receipts and UDH carried in content or TLVs: reading them must not panic.
fn extra(pdu: &Pdu) {
    match &pdu.body {
        Body::SubmitSm(sm) | Body::DeliverSm(sm) => {
            let _ = sm.concat();
            let _ = sm.delivery_report();
            if let Ok(r) = Receipt::parse(sm.payload()) {
                let _ = r.to_delivery_report();
                let _ = r.to_text();
            }
        }
        Body::DataSm(d) => {
            let _ = d.concat();
            let _ = d.tlvs.sar();
            let _ = d.tlvs.network_error_code();
        }
        _ => {}
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::fuzz::<Smpp>(data, Default::default(), extra);
});
