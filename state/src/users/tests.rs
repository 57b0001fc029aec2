//! Users through apply on a temporary tree.

use smsgw_raft::View;

use super::*;
use crate::command::{Command, Response};
use crate::jobs::tests::run;
use crate::test_support::tree;
use crate::StateView;

fn user(name: &str, role: Role) -> UserRecord {
    UserRecord {
        username: name.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
        role,
        account: Some("demo".into()),
        changed_ms: 1,
    }
}

#[test]
fn put_replace_list_and_remove() {
    let t = tree();
    let put = |u| Command::Users(UserCommand::Put(u));
    assert_eq!(
        run(&t, 1, &put(user("wang", Role::Dispatcher))),
        Response::Users(UserResponse::Put { created: true })
    );
    assert_eq!(
        run(&t, 2, &put(user("wang", Role::Officer))),
        Response::Users(UserResponse::Put { created: false })
    );
    run(&t, 3, &put(user("li", Role::Admin)));
    let v = StateView::new(View::new(t.clone())).users();
    assert_eq!(v.user("wang").unwrap().map(|u| u.role), Some(Role::Officer));
    let names: Vec<String> = v
        .list(None, 10)
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["li", "wang"]);
    let after: Vec<String> = v
        .list(Some("li"), 10)
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(after, ["wang"]);
    assert_eq!(v.list(None, 1).unwrap().len(), 1);
    let rm = |n: &str| Command::Users(UserCommand::Remove { username: n.into() });
    assert_eq!(
        run(&t, 4, &rm("wang")),
        Response::Users(UserResponse::Removed { existed: true })
    );
    assert_eq!(
        run(&t, 5, &rm("wang")),
        Response::Users(UserResponse::Removed { existed: false })
    );
    let v = StateView::new(View::new(t.clone())).users();
    assert!(v.user("wang").unwrap().is_none());
}

#[test]
fn roles_round_trip_by_name() {
    for r in [Role::Admin, Role::Operator, Role::Dispatcher, Role::Officer] {
        assert_eq!(Role::parse(r.name()), Some(r));
    }
    assert_eq!(Role::parse("root"), None);
}
