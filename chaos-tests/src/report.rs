//! The drill's report for people: one table row per nemesis, the totals and
//! every violation. It only formats; the numbers come from the checker.

use crate::drill::DrillReport;

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
        "{:<20} {:>6} {:>9} {:>5} {:>11} {:>9} {:>13} {:>12} {:>13}\n",
        "nemesis",
        "rounds",
        "accepted",
        "lost",
        "duplicates",
        "not final",
        "indeterminate",
        "max unavail",
        "max resume"
    ));
    for n in &r.verdict.per_nemesis {
        s.push_str(&format!(
            "{:<20} {:>6} {:>9} {:>5} {:>11} {:>9} {:>13} {:>10} ms {:>10} ms\n",
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
        ));
    }
    let v = &r.verdict;
    s.push_str(&format!(
        "{:<20} {:>6} {:>9} {:>5} {:>11} {:>9} {:>13} {:>10} ms\n",
        "total", "", v.accepted, v.lost, v.duplicates, v.not_final, v.indeterminate, v.max_unavailable_ms
    ));
    s.push_str("\nduplicates: total (most in one round); max unavail: longest time without a 202 from a fault's start; max resume: fault start to the first message accepted after it reaching the carrier\n");
    if v.ok() {
        s.push_str("\nverdict: OK (lost 0, every accepted message final, duplicates within bound)\n");
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
    if let Some(d) = &r.kept_dir {
        s.push_str(&format!("node logs and data kept in {d}\n"));
    }
    s
}
