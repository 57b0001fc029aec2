#![no_main]
#[path = "common.rs"]
mod common;

use smsgw_protocols::sgip::Sgip;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::fuzz::<Sgip>(data, Default::default());
});
