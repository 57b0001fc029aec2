//! Console users, replicated: who may sign in to the web console, with which
//! role and for which account. A row holds the username, the password's
//! argon2 hash (PHC string, made by the node: apply never hashes, never reads
//! a clock, never draws randomness), the role and the account it is scoped
//! to (`None` only for admins, who see every account).
//!
//! It must never hold a password in clear, and never decide whether a
//! password is right: the node checks the hash it reads here.
//!
//! Table `U/USERNAME` (built in [`crate::keys`]); the console lists users
//! with a bounded range, never a scan.

mod apply;
mod view;

pub(crate) use apply::apply_users;
pub use view::UserView;

use serde::{Deserialize, Serialize};

/// Longest username.
pub const MAX_USERNAME: usize = 64;

/// What a user may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Everything, every account: accounts, cluster, users.
    Admin,
    /// Watches carriers and queues; sends and reads records of its account.
    Operator,
    /// Sends to groups, works the alarm desk, reads records of its account.
    Dispatcher,
    /// Takes alarm cases (on a phone); reads its account's records.
    Officer,
}

impl Role {
    /// Lower-case name for the API and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Dispatcher => "dispatcher",
            Role::Officer => "officer",
        }
    }

    /// The role called `name` (as [`Role::name`] writes it).
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "dispatcher" => Some(Role::Dispatcher),
            "officer" => Some(Role::Officer),
            _ => None,
        }
    }
}

/// One console user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Unique name it signs in with.
    pub username: String,
    /// argon2id hash of the password (PHC string).
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// The account it works for; `None` for an admin of every account.
    pub account: Option<String>,
    /// When it was created or last changed (from the command).
    pub changed_ms: u64,
}

/// A change to the users table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserCommand {
    /// Creates the user or replaces it (a new password, role or account).
    Put(UserRecord),
    /// Removes the user (its sessions end at their next request).
    Remove {
        /// Its name.
        username: String,
    },
}

/// What a [`UserCommand`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserResponse {
    /// Stored; `created` when there was no such user before.
    Put {
        /// Whether it is new.
        created: bool,
    },
    /// Removed; `existed` when there was such a user.
    Removed {
        /// Whether it was there.
        existed: bool,
    },
}

#[cfg(test)]
mod tests;
