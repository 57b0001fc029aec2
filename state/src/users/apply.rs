//! Apply of [`UserCommand`]: point writes only.

use smsgw_raft::{ApplyError, Tx};

use super::{UserCommand, UserRecord, UserResponse};
use crate::keys;

pub(crate) fn apply_users(tx: &mut Tx<'_>, cmd: &UserCommand) -> Result<UserResponse, ApplyError> {
    Ok(match cmd {
        UserCommand::Put(user) => {
            let key = keys::user(&user.username);
            let created = tx.get::<UserRecord>(&key)?.is_none();
            tx.put(key, user)?;
            UserResponse::Put { created }
        }
        UserCommand::Remove { username } => {
            let key = keys::user(username);
            let existed = tx.get::<UserRecord>(&key)?.is_some();
            if existed {
                tx.remove(key);
            }
            UserResponse::Removed { existed }
        }
    })
}
