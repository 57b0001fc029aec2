#![no_main]
#[path = "common.rs"]
mod common;

use smsgw_protocols::smgp::Smgp;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::fuzz::<Smgp>(data, Default::default());
});
