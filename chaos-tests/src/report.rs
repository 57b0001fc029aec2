//! The drill's report for people: one table row per nemesis, the totals and
//! every violation. It only formats; the numbers come from the checker.

use crate::drill::DrillReport;

fn latency(p50: Option<u64>, p99: Option<u64>) -> String {
    match (p50, p99) {
        (Some(a), Some(b)) => format!("{a}/{b} ms"),
        _ => "-".into(),
    }
}

/// The table `smsgw drill` prints.
pub fn table(r: &DrillReport) -> String {
    let mut s = format!(
        "drill: {} nodes, plan {}, {} msg/s, {:.1} s, {} carrier submits, duplicate bound {} per round\n\n",
        r.nodes,
        r.plan.join(","),
        r.rate,
        r.duration_ms as f64 / 1000.0,
        r.carrier_submits,
        r.dup_bound_per_round
    );
    s.push_str(&format!(
        "{:<20} {:>6} {:>9} {:>5} {:>11} {:>9} {:>13} {:>12} {:>13} {:>8} {:>14} {:>17}\n",
        "nemesis",
        "rounds",
        "accepted",
        "lost",
        "duplicates",
        "not final",
        "indeterminate",
        "max unavail",
        "max resume",
        "overlap",
        "MO lost/dup",
        "alarm p50/p99"
    ));
    for n in &r.verdict.per_nemesis {
        s.push_str(&format!(
            "{:<20} {:>6} {:>9} {:>5} {:>11} {:>9} {:>13} {:>10} ms {:>10} ms {:>8} {:>14} {:>17}\n",
            n.nemesis,
            n.rounds,
            n.accepted,
            n.lost,
            format!("{} (≤{})", n.duplicates, n.max_round_duplicates),
            n.not_final,
            n.indeterminate,
            n.max_unavailable_ms,
            n.max_resume_ms
                .map(|m| m.to_string())
                .unwrap_or_else(|| "never".into()),
            n.max_overlap_parts,
            format!("{}/{} of {}", n.mo_lost, n.mo_duplicates, n.mo_sent),
            latency(n.alarm_p50_ms, n.alarm_p99_ms),
        ));
    }
    let v = &r.verdict;
    s.push_str(&format!(
        "{:<20} {:>6} {:>9} {:>5} {:>11} {:>9} {:>13} {:>10} ms {:>13} {:>8} {:>14} {:>17}\n",
        "total",
        "",
        v.accepted,
        v.lost,
        v.duplicates,
        v.not_final,
        v.indeterminate,
        v.max_unavailable_ms,
        "",
        v.max_overlap_parts,
        format!("{}/{} of {}", v.mo_lost, v.mo_duplicates, v.mo_sent),
        latency(v.alarm_p50_ms, v.alarm_p99_ms),
    ));
    s.push_str(&format!("\nduplicates: total (most in one round); max unavail: longest time without a 202 from a fault's start; max resume: fault start to the first message accepted after it reaching the carrier; overlap: most parts one node submitted while another was sending (a handover may land one window, {} here); MO lost/dup: MOs injected at the carrier never recorded / recorded more than once; alarm: accept → carrier of alarm-priority messages\n",
        r.handover_parts
    ));
    if v.unattributed > 0 {
        s.push_str(&format!(
            "{} carrier submits could not be attributed to a node (not checked for two senders)\n",
            v.unattributed
        ));
    }
    if v.ok() {
        s.push_str("\nverdict: OK (lost 0, every accepted message final, duplicates within bound, never two senders, every MO once)\n");
    } else {
        s.push_str(&format!("\nverdict: {} VIOLATION(S)\n", v.violations.len()));
        for x in v.violations.iter().take(30) {
            s.push_str(&format!("  {}: {}\n", x.kind, x.detail));
        }
        if v.violations.len() > 30 {
            s.push_str(&format!(
                "  ... and {} more (see the JSON report)\n",
                v.violations.len() - 30
            ));
        }
    }
    if r.rounds_skipped > 0 {
        s.push_str(&format!(
            "{} rounds of the plan were not run: the time budget ran out\n",
            r.rounds_skipped
        ));
    }
    if let Some(d) = &r.kept_dir {
        s.push_str(&format!("node logs and data kept in {d}\n"));
    }
    s
}
