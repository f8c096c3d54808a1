//! What-if simulation: evaluate a scenario rule set and the rules in force over every
//! household for one month, and compare them — cost, eligibility, winners and losers, by
//! region, province and component. The population is read once and can serve many scenarios.

use sanad_domain::{Geography, Money, Month, RegionCode};
use sanad_rules::RuleSet;
use sanad_rules::engine::{Component, Decision, Snapshot, evaluate};
use sanad_store::population::{PopHousehold, Population};
use serde::Serialize;

/// Width of a bucket of the distribution of monthly amounts, and how many buckets.
const BUCKET: i64 = 100_00;
const BUCKETS: usize = 21;
const COMPONENTS: [Component; 7] = Component::ALL;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Side {
    pub eligible: u64,
    pub monthly_centimes: i64,
    pub one_off_centimes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaRow {
    pub code: String,
    pub name: String,
    pub households: u64,
    pub baseline: Side,
    pub scenario: Side,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentRow {
    pub component: &'static str,
    pub baseline_centimes: i64,
    pub scenario_centimes: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Eligible under both, paid more under the scenario.
    pub gaining: u64,
    /// Eligible under both, paid less.
    pub losing: u64,
    pub newly_eligible: u64,
    pub newly_excluded: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Monthly amount range in MAD, `[from, to)`; the last bucket is open-ended.
    pub from_mad: i64,
    pub to_mad: Option<i64>,
    pub baseline: u64,
    pub scenario: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimulationReport {
    pub month: Month,
    pub baseline_rule_set: String,
    pub scenario_rule_set: String,
    pub households: u64,
    pub baseline: Side,
    pub scenario: Side,
    /// Monthly cost × 12 (one-off grants excluded).
    pub baseline_annual_centimes: i64,
    pub scenario_annual_centimes: i64,
    pub monthly_delta_centimes: i64,
    pub annual_delta_centimes: i64,
    pub changes: Changes,
    pub by_region: Vec<AreaRow>,
    pub by_province: Vec<AreaRow>,
    pub by_component: Vec<ComponentRow>,
    pub distribution: Vec<Bucket>,
}

/// Partial sums over a slice of households; merged across threads.
#[derive(Clone)]
struct Acc {
    province: Vec<(u64, Side, Side)>,
    component: [(i64, i64); 7],
    changes: Changes,
    buckets: [(u64, u64); BUCKETS],
}

impl Acc {
    fn new(provinces: usize) -> Acc {
        Acc {
            province: vec![Default::default(); provinces],
            component: [(0, 0); 7],
            changes: Changes::default(),
            buckets: [(0, 0); BUCKETS],
        }
    }

    fn merge(mut self, o: Acc) -> Acc {
        for (a, b) in self.province.iter_mut().zip(o.province) {
            a.0 += b.0;
            add(&mut a.1, &b.1);
            add(&mut a.2, &b.2);
        }
        for (a, b) in self.component.iter_mut().zip(o.component) {
            a.0 += b.0;
            a.1 += b.1;
        }
        let (c, d) = (&mut self.changes, o.changes);
        c.gaining += d.gaining;
        c.losing += d.losing;
        c.newly_eligible += d.newly_eligible;
        c.newly_excluded += d.newly_excluded;
        c.unchanged += d.unchanged;
        for (a, b) in self.buckets.iter_mut().zip(o.buckets) {
            a.0 += b.0;
            a.1 += b.1;
        }
        self
    }
}

fn add(a: &mut Side, b: &Side) {
    a.eligible += b.eligible;
    a.monthly_centimes += b.monthly_centimes;
    a.one_off_centimes += b.one_off_centimes;
}

fn side(d: &Decision) -> Side {
    Side {
        eligible: u64::from(d.eligible),
        monthly_centimes: d.monthly_total.centimes(),
        one_off_centimes: d.one_off_total().centimes(),
    }
}

fn bucket(m: Money) -> usize {
    ((m.centimes() / BUCKET) as usize).min(BUCKETS - 1)
}

fn component_sums(
    d: &Decision,
    slot: impl Fn(&mut (i64, i64)) -> &mut i64,
    acc: &mut [(i64, i64); 7],
) {
    for l in d.lines.iter().chain(&d.one_off) {
        let i = COMPONENTS
            .iter()
            .position(|c| *c == l.component)
            .expect("every component is listed");
        *slot(&mut acc[i]) += l.amount.centimes();
    }
}

fn run_slice(
    pop: &Population,
    households: &[PopHousehold],
    base: &RuleSet,
    scn: &RuleSet,
    month: Month,
    provinces: usize,
) -> Acc {
    let mut acc = Acc::new(provinces);
    let (mut b, mut s) = (Decision::default(), Decision::default());
    let score_date = month.last_day();
    for h in households {
        let snap = Snapshot {
            score: pop.score_at(h, score_date),
            resident: true,
            members: pop.members_of(h),
        };
        evaluate(base, &snap, month, &mut b);
        evaluate(scn, &snap, month, &mut s);
        let row = &mut acc.province[h.province as usize];
        row.0 += 1;
        add(&mut row.1, &side(&b));
        add(&mut row.2, &side(&s));
        component_sums(&b, |p| &mut p.0, &mut acc.component);
        component_sums(&s, |p| &mut p.1, &mut acc.component);
        let c = &mut acc.changes;
        match (b.eligible, s.eligible) {
            (false, true) => c.newly_eligible += 1,
            (true, false) => c.newly_excluded += 1,
            (true, true) if s.monthly_total > b.monthly_total => c.gaining += 1,
            (true, true) if s.monthly_total < b.monthly_total => c.losing += 1,
            _ => c.unchanged += 1,
        }
        if b.eligible {
            acc.buckets[bucket(b.monthly_total)].0 += 1;
        }
        if s.eligible {
            acc.buckets[bucket(s.monthly_total)].1 += 1;
        }
    }
    acc
}

/// Compare `scenario` with `baseline` (the rules in force) over `pop` for `month`, on every core.
pub fn simulate(
    pop: &Population,
    baseline: &RuleSet,
    scenario: &RuleSet,
    month: Month,
) -> SimulationReport {
    let geo = Geography::get();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .max(1);
    let chunk = pop.households.len().div_ceil(threads).max(1);
    let acc = std::thread::scope(|s| {
        let handles: Vec<_> = pop
            .households
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    run_slice(pop, part, baseline, scenario, month, geo.provinces.len())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("simulation thread"))
            .fold(Acc::new(geo.provinces.len()), Acc::merge)
    });
    report(acc, baseline, scenario, month)
}

fn report(acc: Acc, baseline: &RuleSet, scenario: &RuleSet, month: Month) -> SimulationReport {
    let geo = Geography::get();
    let by_province: Vec<AreaRow> = geo
        .provinces
        .iter()
        .zip(&acc.province)
        .filter(|(_, a)| a.0 > 0)
        .map(|(p, a)| AreaRow {
            code: p.code.clone(),
            name: p.name_fr.clone(),
            households: a.0,
            baseline: a.1.clone(),
            scenario: a.2.clone(),
        })
        .collect();
    let by_region: Vec<AreaRow> = RegionCode::all()
        .filter_map(|r| {
            let mut row = AreaRow {
                code: r.to_string(),
                name: geo.region(r).name_fr.clone(),
                households: 0,
                baseline: Side::default(),
                scenario: Side::default(),
            };
            for (p, a) in geo
                .provinces
                .iter()
                .zip(&acc.province)
                .filter(|(p, _)| p.region == r)
            {
                let _ = p;
                row.households += a.0;
                add(&mut row.baseline, &a.1);
                add(&mut row.scenario, &a.2);
            }
            (row.households > 0).then_some(row)
        })
        .collect();
    let mut base = Side::default();
    let mut scn = Side::default();
    for r in &by_region {
        add(&mut base, &r.baseline);
        add(&mut scn, &r.scenario);
    }
    let households = by_region.iter().map(|r| r.households).sum();
    SimulationReport {
        month,
        baseline_rule_set: baseline.id.clone(),
        scenario_rule_set: scenario.id.clone(),
        households,
        baseline_annual_centimes: base.monthly_centimes * 12,
        scenario_annual_centimes: scn.monthly_centimes * 12,
        monthly_delta_centimes: scn.monthly_centimes - base.monthly_centimes,
        annual_delta_centimes: (scn.monthly_centimes - base.monthly_centimes) * 12,
        baseline: base,
        scenario: scn,
        changes: acc.changes,
        by_region,
        by_province,
        by_component: COMPONENTS
            .iter()
            .zip(acc.component)
            .map(|(c, (b, s))| ComponentRow {
                component: c.code(),
                baseline_centimes: b,
                scenario_centimes: s,
            })
            .collect(),
        distribution: acc
            .buckets
            .iter()
            .enumerate()
            .map(|(i, &(b, s))| Bucket {
                from_mad: i as i64 * BUCKET / 100,
                to_mad: (i + 1 < BUCKETS).then_some((i as i64 + 1) * BUCKET / 100),
                baseline: b,
                scenario: s,
            })
            .collect(),
    }
}
