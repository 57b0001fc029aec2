//! What the state's unit tests share: a throw-away state tree, and a command
//! applied to it as one committed raft entry. Test-only; never part of the
//! crate's API.

use smsgw_raft::Tx;

use crate::apply::apply_command;
use crate::command::{Command, MtPart, ReadySlot, Response};

/// A fresh state tree in a temporary sled database.
pub(crate) fn tree() -> sled::Tree {
    let db = sled::Config::new().temporary(true).open().unwrap();
    db.open_tree("sm").unwrap()
}

/// Applies `cmd` as one committed entry (what raft's apply does): reads
/// after it see its rows, as a purge or an index read does.
pub(crate) fn step(tree: &sled::Tree, cmd: &Command) -> Response {
    step_writes(tree, cmd).0
}

/// As [`step`], and the keys the entry wrote or removed.
pub(crate) fn step_writes(tree: &sled::Tree, cmd: &Command) -> (Response, Vec<Vec<u8>>) {
    let mut tx = Tx::new(tree);
    let r = apply_command(&mut tx, 1, cmd).unwrap();
    let keys = tx.keys().map(<[u8]>::to_vec).collect();
    tree.apply_batch(tx.into_batch()).unwrap();
    (r, keys)
}

/// Message `mid` as the API builds it: its head (queued on `route`,
/// normal priority) and `parts` parts, accepted at `at` for `acme`; part
/// `k`'s payload is ten bytes of `k`.
pub(crate) fn message_parts(mid: &str, parts: u16, route: &str, at: u64) -> Vec<MtPart> {
    (0..=parts)
        .map(|seq| MtPart {
            id: format!("{mid}.{seq}"),
            account: "acme".into(),
            to: "13800138000".into(),
            parts,
            payload: vec![seq as u8; 10],
            accepted_at_ms: at,
            queue: (seq == 0).then(|| ReadySlot {
                route: route.into(),
                priority: 2,
            }),
        })
        .collect()
}
