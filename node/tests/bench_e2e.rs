//! `smsgw bench e2e` runs end to end on a fresh machine: it starts the
//! simulator and a node itself, takes the carrier down, drives a short round,
//! brings the carrier back and sees every accepted message (and the alarm
//! posted last) reach the carrier. Figures are not checked here (they are a
//! benchmark's, see ARCHITECTURE), only that the numbers add up.

use std::process::Command;

#[test]
fn bench_e2e_drives_a_round_through_an_outage_and_every_accepted_message_reaches_the_carrier() {
    let out = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(["bench", "e2e", "--rounds", "1", "--secs", "2", "--clients", "4"])
        .args(["--carrier-down", "--drain-secs", "60"])
        .output()
        .expect("smsgw bench e2e runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench e2e failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let round = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .unwrap_or_else(|| panic!("no round line in {stdout}"));
    let accepted: u64 = round
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("accepted");
    assert!(accepted > 0, "{stdout}");
    assert!(
        stdout.contains("the alarm posted last") && stdout.contains("reached the carrier"),
        "{stdout}"
    );
    let end = stdout
        .lines()
        .find(|l| l.starts_with("end to end:"))
        .unwrap_or_else(|| panic!("no end line in {stdout}"));
    // "N accepted, M at the carrier": N counts the alarm, one more than the
    // round accepted; submits in flight when the carrier dropped its links
    // go again, so the carrier may hold a few more, never fewer.
    let count = |word: &str| -> u64 {
        let before = end.split(word).next().unwrap_or("");
        before
            .split_whitespace()
            .last()
            .and_then(|v| v.parse().ok())
            .expect(word)
    };
    let (total, at_carrier) = (count(" accepted,"), count(" at the carrier"));
    assert_eq!(total, accepted + 1, "{end}");
    assert!(at_carrier >= total, "{end}");
    assert!(!end.contains("drain timed out"), "{end}");
    // "node: S submits sent (...)": the node's own count, which also holds
    // submits written to links the carrier dropped, so never fewer.
    let sent: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("node: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no node line in {stdout}"));
    assert!(sent >= at_carrier, "{stdout}");
}
