#![no_main]
#[path = "common.rs"]
mod common;

use smsgw_protocols::cmpp::{Cmpp, CmppVersion, Options};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::fuzz::<Cmpp>(data, Options { version: CmppVersion::V20 });
    common::fuzz::<Cmpp>(data, Options { version: CmppVersion::V30 });
});
