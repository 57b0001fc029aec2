//! Who a console session is at the 110 alarm desk: an admin, or a user of
//! the desk's account who is not an officer, is a dispatcher (every case);
//! an officer user is the officer whose badge is the username (only the
//! cases given to that badge). It must never make a user of another
//! account a dispatcher.

use smsgw_state::users::Role;

use super::session::Principal;
use crate::api::alarm::Caller;
use crate::api::ApiError;

/// The desk caller of session `p`, the desk's account being `desk_account`.
pub fn caller_of(p: &Principal, desk_account: Option<&str>) -> Result<Caller, ApiError> {
    match p.role {
        Role::Admin => Ok(Caller::Dispatcher),
        Role::Officer => Ok(Caller::Officer(p.user.to_ascii_uppercase())),
        _ if p.account.is_some() && p.account.as_deref() == desk_account => Ok(Caller::Dispatcher),
        _ => Err(ApiError::Forbidden(
            "this user's account is not the alarm desk's account".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: Role, account: Option<&str>) -> Principal {
        Principal {
            user: "a12".into(),
            role,
            account: account.map(String::from),
            expires_ms: 1,
        }
    }

    #[test]
    fn only_the_desk_account_dispatches() {
        assert_eq!(
            caller_of(&p(Role::Admin, None), Some("desk")),
            Ok(Caller::Dispatcher)
        );
        assert_eq!(
            caller_of(&p(Role::Dispatcher, Some("desk")), Some("desk")),
            Ok(Caller::Dispatcher)
        );
        assert_eq!(
            caller_of(&p(Role::Officer, Some("desk")), Some("desk")),
            Ok(Caller::Officer("A12".into()))
        );
        assert!(caller_of(&p(Role::Dispatcher, Some("shop")), Some("desk")).is_err());
        assert!(caller_of(&p(Role::Operator, None), None).is_err());
    }
}
