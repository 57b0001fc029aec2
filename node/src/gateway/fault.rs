//! Deliberately broken behaviour for drills, compiled only with the
//! `test-commands` feature (the shipped binary has none of it: every switch
//! is a constant `false` there). A drill turns a switch on through the
//! node's environment to show that its checker catches the broken build.
//!
//! It must never be reachable in a normal build, nor on by default.

/// `SMSGW_FAULT_DISPATCH_IGNORES_LEADERSHIP=1`: once this node has led, its
/// gateway keeps feeding and dispatching whatever its state holds, as if it
/// still led and held the lease: a deposed leader that keeps sending.
#[cfg(feature = "test-commands")]
pub(super) fn dispatch_ignores_leadership() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        let on = std::env::var("SMSGW_FAULT_DISPATCH_IGNORES_LEADERSHIP").is_ok_and(|v| v == "1");
        if on {
            tracing::warn!("FAULT SWITCH ON: a deposed leader keeps dispatching (test build only)");
        }
        on
    })
}

#[cfg(not(feature = "test-commands"))]
pub(super) const fn dispatch_ignores_leadership() -> bool {
    false
}
