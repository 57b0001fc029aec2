#![no_main]
#[path = "common.rs"]
mod common;

use smsgw_protocols::sgip::{Body, Pdu, Sgip};

fn extra(pdu: &Pdu) {
    match &pdu.body {
        Body::Submit(s) => {
            let _ = s.concat();
        }
        Body::Deliver(d) => {
            let _ = d.concat();
        }
        _ => {}
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::fuzz::<Sgip>(data, Default::default(), extra);
});
