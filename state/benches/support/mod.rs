//! What the state benches share: one-part messages as the API builds them
//! (an envelope of about 300 bytes of JSON on the head), numbered `i`.

use smsgw_state::{MtPart, ReadySlot};

/// Messages per log entry in the end-to-end bench (`smsgw bench e2e` on
/// this machine).
pub const PER_ENTRY: u64 = 27;

/// Message `i`'s id: distinct for every `i`, and as long as the node's.
pub fn message_id(i: u64) -> u64 {
    3_875_283_093_925_000_000 + i
}

/// Message `i`'s head, queued on `china-mobile` at normal priority.
pub fn head(i: u64) -> MtPart {
    let envelope = format!(
        r#"{{"to":"138{i:08}","text":"Your verification code is {i:06}. It expires in 5 minutes.","route":"china-mobile","priority":"normal","report":true,"parts":1,"encoding":"ascii","sender":null,"valid_until_ms":1796633182835,"client_ref":null}}"#
    );
    MtPart {
        id: format!("{}.0", message_id(i)),
        account: "demo".into(),
        to: format!("138{i:08}"),
        parts: 1,
        payload: envelope.into_bytes(),
        accepted_at_ms: 1_796_460_382_835 + i,
        queue: Some(ReadySlot {
            route: "china-mobile".into(),
            priority: 2,
        }),
    }
}
