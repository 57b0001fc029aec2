//! Short drills of every nemesis against real `smsgw` processes, with the
//! checker's verdict asserted: nothing accepted is lost, every accepted
//! message reaches a final status, duplicates stay within the window bound.
//! One drill at a time (a lock), each bounded; `smsgw` is built first.
//!
//! Longer runs: `smsgw drill --rounds 10 ...`.

use std::sync::Mutex;
use std::time::Duration;

use smsgw_chaos_tests::{binary, check, drill, report, DrillReport, DrillSpec, Nemesis};

/// Drills share two cores: never two at once.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn short(nemeses: &[&str]) -> DrillSpec {
    DrillSpec {
        plan: nemeses
            .iter()
            .map(|n| (Nemesis::parse(n).expect("nemesis"), 1))
            .collect(),
        hold: Duration::from_millis(1500),
        quiet: Duration::from_millis(500),
        final_wait: Duration::from_secs(40),
        recover_wait: Duration::from_secs(25),
        ..DrillSpec::default()
    }
}

fn drill(spec: &DrillSpec) -> DrillReport {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let bin = binary::build_for_tests().expect("the smsgw binary");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let r = rt.block_on(drill::run(&bin, spec)).expect("the drill ran");
    eprintln!("{}", report::table(&r));
    r
}

/// Violations the product is known to commit, found by these drills and
/// reported, not hidden: they are printed, and every other kind fails the
/// test. None today: `mo_duplicated` (about 30 % of MOs recorded twice
/// after leader kills: no idempotency key) left the list once every MO
/// carried a dedupe key (`smsgw_state::mo_keys`); both drills above then
/// recorded every MO once (0 of 32 and 0 of 19 duplicated).
const KNOWN_PRODUCT_GAPS: [&str; 0] = [];

fn assert_kept_promises(r: &DrillReport, nemeses: &[&str]) {
    let known_gap =
        |v: &&smsgw_chaos_tests::checker::Violation| KNOWN_PRODUCT_GAPS.contains(&v.kind.as_str());
    let (known, broken): (Vec<_>, Vec<_>) = r.verdict.violations.iter().partition(known_gap);
    for v in &known {
        eprintln!("KNOWN PRODUCT GAP {}: {}", v.kind, v.detail);
    }
    assert!(broken.is_empty(), "violations: {broken:#?}");
    assert_eq!(r.verdict.mo_lost, 0);
    assert_eq!(r.verdict.lost, 0);
    assert_eq!(r.verdict.not_final, 0);
    // The two-senders check saw every part's node.
    assert_eq!(r.verdict.unattributed, 0, "carrier submits without a node");
    assert!(r.history.carrier.iter().all(|s| s.node.is_some()));
    for n in nemeses {
        let s = r
            .verdict
            .per_nemesis
            .iter()
            .find(|s| s.nemesis == *n)
            .unwrap_or_else(|| panic!("{n} ran no round"));
        assert!(s.accepted > 0, "{n}: nothing accepted during its rounds");
        assert!(s.max_resume_ms.is_some(), "{n}: sending never resumed");
    }
}

#[test]
fn killing_pausing_restarting_and_replacing_nodes_loses_nothing() {
    let n = ["kill-leader", "kill-follower", "pause", "replace-follower"];
    let spec = short(&n);
    let r = drill(&spec);
    assert_kept_promises(&r, &n);
    // The same real history, tampered: after the kill, every other part of
    // a stretch relabelled as sent by another node. The checker must see
    // two senders at once.
    let mut h = r.history.clone();
    let kill = h.faults[0].end_ms;
    let mut after: Vec<&mut smsgw_chaos_tests::history::CarrierSubmit> =
        h.carrier.iter_mut().filter(|s| s.at_ms >= kill).collect();
    after.sort_by_key(|s| (s.at_ms, s.n));
    let bound = spec.bounds().handover_parts as usize;
    assert!(
        after.len() > 3 * bound,
        "enough parts after the kill to tamper with"
    );
    let sender = after[0].node.expect("attributed");
    let other = if sender == 1 { 2 } else { 1 };
    for s in after.iter_mut().take(4 * bound).skip(1).step_by(2) {
        s.node = Some(other);
    }
    let v = check(&h, &spec.bounds());
    assert!(
        v.violations.iter().any(|x| x.kind == "two_senders"),
        "{:?}",
        v.violations
    );
}

#[test]
fn partitions_and_slow_lossy_raft_and_carrier_links_lose_nothing() {
    let n = ["partition", "partition-follower", "slow-net", "slow-carrier"];
    let r = drill(&short(&n));
    assert_kept_promises(&r, &n);
    // The slow carrier round reset the carrier links (at least the kick).
    let slow = r
        .history
        .faults
        .iter()
        .find(|f| f.nemesis == "slow-carrier")
        .expect("a slow-carrier round");
    assert!(slow.carrier_resets >= 1, "{slow:?}");
}

#[test]
fn a_carrier_hard_drop_loses_nothing_and_the_checker_catches_a_tampered_history() {
    let n = ["carrier-hard-drop"];
    let spec = short(&n);
    let r = drill(&spec);
    assert_kept_promises(&r, &n);
    // The same real history, tampered: one accepted message removed from the
    // carrier's ledger, another sent 30 more times after the fault.
    let mut h = r.history.clone();
    let accepted: Vec<_> = h
        .ops
        .iter()
        .filter(|o| !o.accepted_ids().is_empty())
        .cloned()
        .collect();
    assert!(accepted.len() >= 2, "the drill accepted messages");
    h.carrier.retain(|s| s.destination != accepted[0].to);
    let after_fault = h.faults[0].start_ms + 1;
    for _ in 0..30 {
        h.carrier.push(smsgw_chaos_tests::history::CarrierSubmit {
            destination: accepted[1].to.clone(),
            at_ms: after_fault,
            node: None,
            n: 0,
        });
    }
    let v = check(&h, &spec.bounds());
    assert_eq!(v.lost, 1, "{:?}", v.violations);
    let kinds: Vec<&str> = v.violations.iter().map(|x| x.kind.as_str()).collect();
    assert!(kinds.contains(&"lost"), "{kinds:?}");
    assert!(kinds.contains(&"duplicates_over_bound"), "{kinds:?}");
}

#[test]
fn a_skewed_clock_and_a_full_disk_lose_nothing_where_this_machine_can_inject_them() {
    // Behind checks on purpose: clock skew needs Debian's faketime, disk
    // full needs root (tmpfs data dirs). CI installs faketime to run them.
    let mut n = Vec::new();
    for name in ["clock-skew", "disk-full-follower", "disk-full"] {
        match Nemesis::parse(name).expect("nemesis").precheck() {
            Ok(()) => n.push(name),
            Err(why) => eprintln!("SKIPPED {name}: {why}"),
        }
    }
    if n.is_empty() {
        return;
    }
    let r = drill(&short(&n));
    // A node whose disk filled restarts in the heal (its sled snapshot
    // cut by the full disk is repaired at start): no `no_recovery`.
    assert_kept_promises(&r, &n);
}

/// The broken build: with the node's test-only fault switch on, a leader
/// that loses its leadership (cut off by a partition) keeps dispatching
/// after the heal, beside the new leader. The checker must fail that drill
/// with two senders at once; the same binary with the switch off sends
/// with one node at a time through the same drill.
#[test]
fn a_deposed_leader_that_keeps_dispatching_fails_the_drill_with_two_senders_and_the_switch_off_has_none() {
    let n = ["partition"];
    let mut spec = short(&n);
    // Long enough for the others to elect a new leader (a partition of
    // 1.5 s often ends before they do), then load after the heal for both
    // leaders to send.
    spec.hold = Duration::from_secs(4);
    spec.quiet = Duration::from_secs(2);
    let mut broken = spec.clone();
    broken.cluster.node_env = vec![("SMSGW_FAULT_DISPATCH_IGNORES_LEADERSHIP".into(), "1".into())];
    let r = drill(&broken);
    assert!(!r.ok(), "the broken build passed the drill");
    let two: Vec<_> = r
        .verdict
        .violations
        .iter()
        .filter(|x| x.kind == "two_senders")
        .collect();
    assert!(!two.is_empty(), "no two senders: {:#?}", r.verdict.violations);
    assert!(r.verdict.max_overlap_parts > spec.bounds().handover_parts);
    // A failed drill keeps its directory for the operator; this failure
    // was the expected one, so its node logs are no use to anyone.
    remove_kept_dir(&r);
    // Switched off, the same drill has no two senders. Only that is
    // asserted here: a 4 s partition sometimes leaves a message SUBMITTED
    // in this build (its report came before the deposed leader's carrier
    // id committed and was dropped as unmatched), which the other drills
    // would report; this test is about the switch.
    let r = drill(&spec);
    let two: Vec<_> = r
        .verdict
        .violations
        .iter()
        .filter(|x| x.kind == "two_senders")
        .collect();
    assert!(two.is_empty(), "{two:#?}");
    assert_eq!((r.verdict.lost, r.verdict.unattributed), (0, 0));
    assert!(r.verdict.max_overlap_parts <= spec.bounds().handover_parts);
    remove_kept_dir(&r);
}

fn remove_kept_dir(r: &DrillReport) {
    if let Some(dir) = &r.kept_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}
