//! What the state's unit tests share: a throw-away state tree, and a command
//! applied to it as one committed raft entry. Test-only; never part of the
//! crate's API.

use smsgw_raft::Tx;

use crate::apply::apply_command;
use crate::command::{Command, Response};

/// A fresh state tree in a temporary sled database.
pub(crate) fn tree() -> sled::Tree {
    let db = sled::Config::new().temporary(true).open().unwrap();
    db.open_tree("sm").unwrap()
}

/// Applies `cmd` as one committed entry (what raft's apply does): reads
/// after it see its rows, as a purge or an index read does.
pub(crate) fn step(tree: &sled::Tree, cmd: &Command) -> Response {
    let mut tx = Tx::new(tree);
    let r = apply_command(&mut tx, 1, cmd).unwrap();
    tree.apply_batch(tx.into_batch()).unwrap();
    r
}
