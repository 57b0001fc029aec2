#![no_main]
#[path = "common.rs"]
mod common;

use smsgw_protocols::smpp::Smpp;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::fuzz::<Smpp>(data, Default::default());
});
