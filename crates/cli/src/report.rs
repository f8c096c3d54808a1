//! Plain-text tables for the terminal.

use sanad_analytics::SimulationReport;

/// `12345678` centimes → `123 456,78` (MAD, French grouping).
pub fn mad(centimes: i64) -> String {
    let sign = if centimes < 0 { "-" } else { "" };
    let whole = (centimes.abs() / 100).to_string();
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

pub fn simulation_table(r: &SimulationReport) -> String {
    let mut s = String::new();
    let line = |s: &mut String, t: String| {
        s.push_str(&t);
        s.push('\n');
    };
    line(
        &mut s,
        format!(
            "Simulation for {}: {} (in force) vs {} — {} households",
            r.month, r.baseline_rule_set, r.scenario_rule_set, r.households
        ),
    );
    line(
        &mut s,
        format!(
            "{:<34} {:>16} {:>16} {:>16}",
            "", "in force", "scenario", "difference"
        ),
    );
    let row = |s: &mut String, name: &str, a: i64, b: i64, money: bool| {
        let f = |x: i64| if money { mad(x) } else { x.to_string() };
        line(
            s,
            format!("{name:<34} {:>16} {:>16} {:>16}", f(a), f(b), f(b - a)),
        );
    };
    row(
        &mut s,
        "eligible households",
        r.baseline.eligible as i64,
        r.scenario.eligible as i64,
        false,
    );
    row(
        &mut s,
        "monthly cost (MAD)",
        r.baseline.monthly_centimes,
        r.scenario.monthly_centimes,
        true,
    );
    row(
        &mut s,
        "annual cost, monthly × 12 (MAD)",
        r.baseline_annual_centimes,
        r.scenario_annual_centimes,
        true,
    );
    row(
        &mut s,
        "one-off grants this month (MAD)",
        r.baseline.one_off_centimes,
        r.scenario.one_off_centimes,
        true,
    );
    let c = &r.changes;
    line(
        &mut s,
        format!(
            "\nnewly eligible {}  newly excluded {}  gaining {}  losing {}  unchanged {}",
            c.newly_eligible, c.newly_excluded, c.gaining, c.losing, c.unchanged
        ),
    );
    line(&mut s, "\nby component (MAD)".into());
    for x in &r.by_component {
        row(
            &mut s,
            x.component,
            x.baseline_centimes,
            x.scenario_centimes,
            true,
        );
    }
    line(
        &mut s,
        "\nby region: eligible households, monthly cost (MAD)".into(),
    );
    for x in &r.by_region {
        row(
            &mut s,
            &format!("{} {}", x.code, x.name),
            x.baseline.monthly_centimes,
            x.scenario.monthly_centimes,
            true,
        );
    }
    line(
        &mut s,
        "\ndistribution of monthly amounts (eligible households)".into(),
    );
    let max = r
        .distribution
        .iter()
        .map(|b| b.baseline.max(b.scenario))
        .max()
        .unwrap_or(1)
        .max(1);
    for b in &r.distribution {
        let label = match b.to_mad {
            Some(t) => format!("{:>5}–{:<5}", b.from_mad, t),
            None => format!("{:>5}+     ", b.from_mad),
        };
        let bar = "█".repeat((b.scenario * 40 / max) as usize);
        line(
            &mut s,
            format!("{label} {:>10} {:>10} {bar}", b.baseline, b.scenario),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_dirhams() {
        assert_eq!(super::mad(123_456_789), "1 234 567");
        assert_eq!(super::mad(-50_000), "-500");
        assert_eq!(super::mad(0), "0");
    }
}
