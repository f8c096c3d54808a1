//! Deterministic synthetic pilot with known effects, for the demo and the
//! tests: a cluster-randomised household sample in one antenna, a staggered
//! phase-in panel across antennas, and a regression-discontinuity sample
//! around the eligibility threshold. The data-generating process is written
//! out in docs/evaluation.md ("Synthetic pilot"); every number below that
//! matters to a test is a field of [`PilotConfig`] or [`Truth`].
//!
//! Randomness: SplitMix64 seeded by `seed` (one independent stream per
//! dataset, so changing the RD size does not change the household sample),
//! normals by Box–Muller. Assignment uses the crate's own [`crate::assign`]
//! with the same seed, exactly as a real pilot would.

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::assign::{self, ALGORITHM, Arm, AssignInput, Design};
use crate::data::Frame;
use crate::did::{ControlGroup, SplitMix64};
use crate::error::{EvalError, Result};
use crate::report::{DidSpec, OutcomeSpec, RdSpec, ReportSpec};

/// Eligibility threshold of the direct social aid on the RSU socio-economic
/// index (households at or below it are eligible).
pub const ELIGIBILITY_CUTOFF: f64 = 9.743001;

/// Seeded generator: SplitMix64 uniforms and Box–Muller normals.
pub struct Rng {
    inner: SplitMix64,
    spare: Option<f64>,
}

impl Rng {
    /// A stream identified by `seed` and a `stream` number.
    pub fn new(seed: u64, stream: u64) -> Rng {
        // Mixing the stream through one SplitMix step keeps streams unrelated.
        let mut mix = SplitMix64(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        Rng {
            inner: SplitMix64(mix.next_u64()),
            spare: None,
        }
    }
    /// Uniform on [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.inner.next_f64()
    }
    /// Standard normal (Box–Muller, the second draw is kept for the next call).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln stays finite
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let a = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * a.sin());
        r * a.cos()
    }
    /// 1 with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
    /// Integer uniform in `lo..=hi`.
    pub fn int(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.uniform() * f64::from(hi - lo + 1)) as u32
    }
}

/// True effects built into the data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrueEffects {
    /// Effect of the programme on the school enrolment rate (share of children 6–15).
    pub enrol: f64,
    /// Effect on the child nutrition z-score (SD units).
    pub zscore: f64,
    /// Effect on monthly household income (MAD).
    pub income: f64,
    /// Jump of the enrolment rate for eligible households at the RD threshold.
    pub rd_jump: f64,
    /// Phase-in effect on income at event time 0 (MAD) ...
    pub did_base: f64,
    /// ... growing by this much per period of exposure.
    pub did_slope: f64,
}

/// Sizes and behavioural parameters of the pilot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PilotConfig {
    pub seed: u64,
    /// Households of the randomised pilot (one antenna).
    pub households: usize,
    /// Douars (randomisation clusters).
    pub douars: usize,
    /// Mean take-up among households of treated douars (one-sided non-compliance).
    pub takeup: f64,
    /// Probability of being lost at follow-up, control and treatment arms.
    pub attrition_control: f64,
    pub attrition_treatment: f64,
    /// Staggered phase-in panel: antennas, periods, households per antenna.
    pub antennas: usize,
    pub periods: usize,
    pub panel_households: usize,
    /// Households of the RD sample.
    pub rd_households: usize,
    pub effects: TrueEffects,
}

impl Default for PilotConfig {
    fn default() -> Self {
        PilotConfig {
            seed: 11,
            households: 1200,
            douars: 40,
            takeup: 0.75,
            attrition_control: 0.10,
            attrition_treatment: 0.06,
            antennas: 6,
            periods: 4,
            panel_households: 150,
            rd_households: 4000,
            effects: TrueEffects {
                enrol: 0.10,
                zscore: 0.25,
                income: 150.0,
                rd_jump: 0.10,
                did_base: 120.0,
                did_slope: 40.0,
            },
        }
    }
}

/// One household of the randomised pilot. Follow-up values are `None` when
/// the household was not re-interviewed.
#[derive(Debug, Clone, Serialize)]
pub struct Household {
    pub hh_id: String,
    /// Synthetic name, present only to show that exports drop it.
    pub head_name: String,
    pub douar: String,
    pub area: &'static str,
    pub tercile: u32,
    pub stratum: String,
    pub hh_size: u32,
    pub head_female: u32,
    pub head_age: u32,
    pub n_children: u32,
    pub enrol_bl: f64,
    pub zscore_bl: f64,
    pub income_bl: f64,
    pub treat: u32,
    pub takeup: u32,
    pub observed: u32,
    pub enrol: Option<f64>,
    pub zscore: Option<f64>,
    pub income: Option<f64>,
}

/// One household-period of the phase-in panel.
#[derive(Debug, Clone, Serialize)]
pub struct PanelRow {
    pub hh_id: String,
    pub antenna: String,
    pub period: u32,
    /// First period of treatment (periods + 1 = after the panel ends).
    pub first_treat: u32,
    pub income: f64,
}

/// One household of the RD sample.
#[derive(Debug, Clone, Serialize)]
pub struct RdRow {
    pub hh_id: String,
    pub score: f64,
    pub eligible: u32,
    pub n_children: u32,
    pub enrol: f64,
}

/// Population values of the estimands, to compare with the estimates.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// Intention-to-treat effects: effect × expected take-up.
    pub itt: Vec<(String, f64)>,
    /// Local average treatment effects (the effect on compliers).
    pub late: Vec<(String, f64)>,
    /// rdrobust's τ (right − left limit): eligibility is below the cutoff, so τ = −jump.
    pub rd_tau: f64,
    /// Dynamic effect by event time (pre-periods 0).
    pub event_time: Vec<(i64, f64)>,
    /// Mean of the post-treatment event-time effects (did's dynamic overall).
    pub dynamic_overall: f64,
}

/// The three synthetic datasets with their design and true values.
#[derive(Debug, Clone)]
pub struct Pilot {
    pub config: PilotConfig,
    pub design: Design,
    pub design_hash: String,
    pub households: Vec<Household>,
    pub panel: Vec<PanelRow>,
    pub rd: Vec<RdRow>,
    pub truth: Truth,
}

const FIRST_NAMES: [&str; 12] = [
    "Fatima", "Mohamed", "Khadija", "Ahmed", "Aicha", "Youssef", "Zahra", "Omar", "Naima",
    "Hassan", "Malika", "Rachid",
];
const FAMILY_NAMES: [&str; 10] = [
    "Alaoui", "Bennani", "Idrissi", "Amrani", "Tazi", "Berrada", "Ouazzani", "Chraibi", "Fassi",
    "Naciri",
];

/// Generate the pilot for `config`.
pub fn generate(config: &PilotConfig) -> Result<Pilot> {
    if config.douars < 6 || config.households < config.douars || config.antennas < 2 {
        return Err(EvalError::Invalid(
            "pilot: at least 6 douars, one household per douar, 2 antennas".into(),
        ));
    }
    let design = pilot_design(config.seed);
    let households = households(config, &design)?;
    let (panel, event_time) = panel(config)?;
    let rd = rd_sample(config);
    let e = &config.effects;
    let post: Vec<f64> = event_time
        .iter()
        .filter(|(k, _)| *k >= 0)
        .map(|(_, v)| *v)
        .collect();
    let truth = Truth {
        itt: vec![
            ("enrol".into(), e.enrol * config.takeup),
            ("zscore".into(), e.zscore * config.takeup),
            ("income".into(), e.income * config.takeup),
        ],
        late: vec![
            ("enrol".into(), e.enrol),
            ("zscore".into(), e.zscore),
            ("income".into(), e.income),
        ],
        rd_tau: -e.rd_jump,
        dynamic_overall: post.iter().sum::<f64>() / post.len().max(1) as f64,
        event_time,
    };
    Ok(Pilot {
        config: config.clone(),
        design_hash: design.hash(),
        design,
        households,
        panel,
        rd,
        truth,
    })
}

/// The pre-registered design of the pilot: douars randomised 1:1 within
/// area × poverty-tercile strata.
pub fn pilot_design(seed: u64) -> Design {
    Design {
        algorithm: ALGORITHM.into(),
        seed,
        unit: "hh_id".into(),
        cluster: Some("douar".into()),
        strata: vec!["stratum".into()],
        arms: vec![
            Arm {
                name: "control".into(),
                share: 0.5,
            },
            Arm {
                name: "treatment".into(),
                share: 0.5,
            },
        ],
        waves: None,
    }
}

/// Douar-level draws: area, poverty index, tercile within area, random effect.
struct Douar {
    urban: bool,
    poverty: f64,
    tercile: u32,
    effect: f64,
}

fn douars(rng: &mut Rng, n: usize) -> Vec<Douar> {
    let mut d: Vec<Douar> = (0..n)
        .map(|_| Douar {
            urban: rng.bernoulli(0.35),
            poverty: rng.normal(),
            tercile: 0,
            effect: rng.normal(),
        })
        .collect();
    // Terciles within area so that every stratum holds several douars.
    for urban in [false, true] {
        let mut idx: Vec<usize> = (0..n).filter(|&i| d[i].urban == urban).collect();
        idx.sort_by(|&a, &b| d[a].poverty.total_cmp(&d[b].poverty));
        let m = idx.len();
        for (rank, &i) in idx.iter().enumerate() {
            // Tercile 1 = poorest (highest poverty index).
            d[i].tercile = 3 - (3 * rank / m.max(1)) as u32;
        }
    }
    d
}

/// Enrolment rate of `k` children who each attend with probability `p`.
fn enrolment(rng: &mut Rng, k: u32, p: f64) -> f64 {
    let n = (0..k).filter(|_| rng.bernoulli(p)).count();
    n as f64 / f64::from(k)
}

fn households(config: &PilotConfig, design: &Design) -> Result<Vec<Household>> {
    let mut rng = Rng::new(config.seed, 1);
    let ds = douars(&mut rng, config.douars);
    // Latent household welfare: drives baseline and follow-up, never exported.
    let mut welfare = Vec::with_capacity(config.households);
    let mut out = Vec::with_capacity(config.households);
    for i in 0..config.households {
        let d = i % config.douars;
        let a = rng.normal();
        welfare.push(a);
        out.push(baseline_household(&mut rng, i, d, &ds[d], a));
    }
    let input = AssignInput {
        ids: out.iter().map(|h| h.hh_id.clone()).collect(),
        strata: vec![out.iter().map(|h| h.stratum.clone()).collect()],
        clusters: Some(out.iter().map(|h| h.douar.clone()).collect()),
    };
    let assignment = assign::assign(design, &input)?;
    for (h, a) in out.iter_mut().zip(&assignment.units) {
        h.treat = u32::from(a.arm == "treatment");
    }
    for (i, h) in out.iter_mut().enumerate() {
        follow_up(&mut rng, config, h, &ds[i % config.douars], welfare[i]);
    }
    Ok(out)
}

fn baseline_household(rng: &mut Rng, i: usize, d: usize, douar: &Douar, a: f64) -> Household {
    let urban = f64::from(u8::from(douar.urban));
    let n_children = rng.int(1, 3);
    let income_bl = (7.6 + 0.3 * a + 0.25 * urban - 0.15 * douar.poverty).exp();
    let area = if douar.urban { "urban" } else { "rural" };
    Household {
        hh_id: format!("HH{:05}", i + 1),
        head_name: format!(
            "{} {}",
            FIRST_NAMES[rng.int(0, 11) as usize],
            FAMILY_NAMES[rng.int(0, 9) as usize]
        ),
        douar: format!("D{:02}", d + 1),
        area,
        tercile: douar.tercile,
        stratum: format!("{area}-T{}", douar.tercile),
        hh_size: n_children + rng.int(1, 4),
        head_female: u32::from(rng.bernoulli(0.18)),
        head_age: rng.int(24, 70),
        n_children,
        enrol_bl: enrolment(rng, n_children, enrol_prob(urban, douar, a)),
        zscore_bl: round_to(-1.0 + 0.25 * a + 0.2 * douar.effect + 0.9 * rng.normal(), 3),
        income_bl: round_to(income_bl, 2),
        treat: 0,
        takeup: 0,
        observed: 0,
        enrol: None,
        zscore: None,
        income: None,
    }
}

/// Rounding keeps the CSV short; it is far below the noise.
fn round_to(v: f64, digits: i32) -> f64 {
    let s = 10f64.powi(digits);
    (v * s).round() / s
}

/// Enrolment probability without treatment: bounded (tanh, uniform douar
/// shift) so that adding the effect never needs clipping, which would bias
/// the true effect.
fn enrol_prob(urban: f64, douar: &Douar, a: f64) -> f64 {
    0.66 + 0.06 * urban - 0.03 * douar.poverty.tanh() + 0.04 * a.tanh() + 0.04 * douar.effect.tanh()
}

fn follow_up(rng: &mut Rng, config: &PilotConfig, h: &mut Household, douar: &Douar, a: f64) {
    let e = &config.effects;
    // Poorer households take up more; E[tanh(a)] = 0 keeps the mean at `takeup`.
    let p_take = (config.takeup - 0.10 * a.tanh()).clamp(0.0, 1.0);
    h.takeup = u32::from(h.treat == 1 && rng.bernoulli(p_take));
    let d = f64::from(h.takeup);
    let attr = if h.treat == 1 {
        config.attrition_treatment
    } else {
        config.attrition_control
    };
    h.observed = u32::from(!rng.bernoulli(attr));
    let urban = f64::from(u8::from(douar.urban));
    let enrol = enrolment(rng, h.n_children, enrol_prob(urban, douar, a) + e.enrol * d);
    let z = -0.6
        + 0.4 * h.zscore_bl
        + 0.15 * a
        + 0.2 * douar.effect
        + e.zscore * d
        + 0.8 * rng.normal();
    let income =
        400.0 + 0.8 * h.income_bl + 120.0 * douar.effect + e.income * d + 250.0 * rng.normal();
    // Draws happen for everyone so attrition does not shift later streams.
    if h.observed == 1 {
        h.enrol = Some(enrol);
        h.zscore = Some(round_to(z, 3));
        h.income = Some(round_to(income, 2));
    }
}

/// Phase-in panel: antennas get waves 1..=periods from [`assign::assign`]
/// (stepped wedge); wave w starts treatment in period w + 1, so the last
/// wave is treated after the panel ends and serves as never treated.
/// Panel rows and the true effect at each event time.
type PanelAndTruth = (Vec<PanelRow>, Vec<(i64, f64)>);

fn panel(config: &PilotConfig) -> Result<PanelAndTruth> {
    let mut rng = Rng::new(config.seed, 2);
    let t_max = config.periods as u32;
    let design = Design {
        algorithm: ALGORITHM.into(),
        seed: config.seed,
        unit: "antenna".into(),
        cluster: None,
        strata: vec![],
        arms: vec![Arm {
            name: "phase_in".into(),
            share: 1.0,
        }],
        waves: Some(config.periods),
    };
    let ids: Vec<String> = (1..=config.antennas).map(|a| format!("A{a}")).collect();
    let waves = assign::assign(
        &design,
        &AssignInput {
            ids,
            strata: vec![],
            clusters: None,
        },
    )?;
    let e = &config.effects;
    let tau = |ev: i64| {
        if ev >= 0 {
            e.did_base + e.did_slope * ev as f64
        } else {
            0.0
        }
    };
    let mut rows = Vec::new();
    for (k, unit) in waves.units.iter().enumerate() {
        let g = unit.wave.unwrap_or(config.periods) as u32 + 1;
        let antenna_effect = 300.0 * rng.normal();
        for j in 0..config.panel_households {
            let alpha = 2000.0 + antenna_effect + 400.0 * rng.normal();
            for t in 1..=t_max {
                let ev = i64::from(t) - i64::from(g);
                let y = alpha + 50.0 * f64::from(t) + tau(ev) + 200.0 * rng.normal();
                rows.push(PanelRow {
                    hh_id: format!("P{}-{:04}", k + 1, j + 1),
                    antenna: unit.id.clone(),
                    period: t,
                    first_treat: g,
                    income: round_to(y, 2),
                });
            }
        }
    }
    // Event times present in a CS estimation: pre-periods e ≥ 2 − g_max, post up to t_max − 2.
    let treated: Vec<u32> = rows
        .iter()
        .map(|r| r.first_treat)
        .filter(|&g| g <= t_max)
        .collect();
    let (gmin, gmax) = (
        treated.iter().copied().min().unwrap_or(2),
        treated.iter().copied().max().unwrap_or(2),
    );
    let events = (2 - i64::from(gmax)..=i64::from(t_max) - i64::from(gmin))
        .map(|ev| (ev, tau(ev)))
        .collect();
    Ok((rows, events))
}

/// RD sample: score ~ N(9.9, 0.5); households at or below the cutoff are
/// eligible and their children's enrolment probability jumps by `rd_jump`.
fn rd_sample(config: &PilotConfig) -> Vec<RdRow> {
    let mut rng = Rng::new(config.seed, 3);
    (0..config.rd_households)
        .map(|i| {
            let score = round_to(9.9 + 0.5 * rng.normal(), 6);
            let eligible = score <= ELIGIBILITY_CUTOFF;
            // Linear in the score with a mild curvature; stays inside (0, 1).
            let s = (score - ELIGIBILITY_CUTOFF).clamp(-2.5, 2.5);
            let p = 0.66 + 0.08 * s - 0.01 * s * s
                + config.effects.rd_jump * f64::from(u8::from(eligible));
            let k = rng.int(1, 4);
            RdRow {
                hh_id: format!("R{:05}", i + 1),
                score,
                eligible: u32::from(eligible),
                n_children: k,
                enrol: enrolment(&mut rng, k, p),
            }
        })
        .collect()
}

fn csv_err(e: impl std::fmt::Display) -> EvalError {
    EvalError::Csv {
        file: "pilot".into(),
        message: e.to_string(),
    }
}

/// Write rows as CSV; `None` becomes an empty (missing) cell.
fn write_csv<T: Serialize>(rows: &[T], w: impl Write) -> Result<()> {
    let mut wr = csv::Writer::from_writer(w);
    for r in rows {
        wr.serialize(r).map_err(csv_err)?;
    }
    wr.flush().map_err(csv_err)
}

fn frame_of<T: Serialize>(rows: &[T], name: &str) -> Result<Frame> {
    let mut buf = Vec::new();
    write_csv(rows, &mut buf)?;
    Frame::from_reader(buf.as_slice(), name)
}

impl Pilot {
    /// Household CSV (`pilot_households.csv`).
    pub fn households_csv(&self, w: impl Write) -> Result<()> {
        write_csv(&self.households, w)
    }
    /// Panel CSV (`pilot_panel.csv`).
    pub fn panel_csv(&self, w: impl Write) -> Result<()> {
        write_csv(&self.panel, w)
    }
    /// RD CSV (`pilot_rd.csv`).
    pub fn rd_csv(&self, w: impl Write) -> Result<()> {
        write_csv(&self.rd, w)
    }
    /// The three datasets as frames (households, panel, RD), as a report reads them.
    pub fn frames(&self) -> Result<(Frame, Frame, Frame)> {
        Ok((
            frame_of(&self.households, "pilot_households.csv")?,
            frame_of(&self.panel, "pilot_panel.csv")?,
            frame_of(&self.rd, "pilot_rd.csv")?,
        ))
    }

    /// The report specification matching the pilot's columns.
    pub fn report_spec(&self) -> ReportSpec {
        let outcome = |name: &str, family: &str, label: &str| OutcomeSpec {
            name: name.into(),
            family: family.into(),
            label: Some(label.into()),
            controls: vec![format!("{name}_bl")],
        };
        ReportSpec {
            title: Some("Sanad pilot (synthetic)".into()),
            design: self.design.clone(),
            design_hash: Some(self.design_hash.clone()),
            treatment: "treat".into(),
            takeup: Some("takeup".into()),
            strata: Some("stratum".into()),
            cluster: Some("douar".into()),
            balance_vars: [
                "hh_size",
                "head_female",
                "head_age",
                "n_children",
                "enrol_bl",
                "zscore_bl",
                "income_bl",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            outcomes: vec![
                outcome("enrol", "human_capital", "School enrolment rate"),
                outcome("zscore", "human_capital", "Nutrition z-score"),
                outcome("income", "economic", "Monthly income (MAD)"),
            ],
            level: 0.95,
            rd: Some(RdSpec {
                y: "enrol".into(),
                x: "score".into(),
                cutoff: ELIGIBILITY_CUTOFF,
                bins: Some(20),
                window: None,
                label: Some("School enrolment rate".into()),
            }),
            did: Some(DidSpec {
                y: "income".into(),
                group: "first_treat".into(),
                time: "period".into(),
                id: "hh_id".into(),
                control: ControlGroup::Never,
                label: Some("Monthly income (MAD)".into()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_reproducible_and_normal() {
        let mut a = Rng::new(7, 1);
        let mut b = Rng::new(7, 1);
        let xs: Vec<f64> = (0..20_000).map(|_| a.normal()).collect();
        assert!(
            xs.iter()
                .zip((0..).map(|_| b.normal()))
                .all(|(x, y)| *x == y)
        );
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.03, "{m} {v}");
        assert_ne!(Rng::new(7, 2).uniform(), Rng::new(7, 1).uniform());
    }
}

/// The demo's evaluation: the pilot's data (CSV), its report in French, Arabic and English,
/// and the pseudonymised analysis dataset (CSV and Parquet), written to `out`. Returns the
/// computed report and the true effects. Used by `sanad demo` and `sanad eval pilot`.
pub fn write_demo(out: &std::path::Path, seed: u64) -> Result<(crate::report::Report, Truth)> {
    use std::fs::File;
    use std::io::BufWriter;

    use crate::export::{self, ExportSpec};
    use crate::report::{self, Lang};

    let create = |name: &str| {
        File::create(out.join(name))
            .map(BufWriter::new)
            .map_err(|e| crate::error::EvalError::Csv {
                file: out.join(name).display().to_string(),
                message: e.to_string(),
            })
    };
    std::fs::create_dir_all(out).map_err(|e| crate::error::EvalError::Csv {
        file: out.display().to_string(),
        message: e.to_string(),
    })?;
    let p = generate(&PilotConfig {
        seed,
        ..PilotConfig::default()
    })?;
    p.households_csv(create("pilot_households.csv")?)?;
    p.panel_csv(create("pilot_panel.csv")?)?;
    p.rd_csv(create("pilot_rd.csv")?)?;
    let (main, panel, rd) = p.frames()?;
    let r = report::analyse(&p.report_spec(), &main, Some(&rd), Some(&panel))?;
    for lang in [Lang::Fr, Lang::Ar, Lang::En] {
        let path = out.join(format!("pilot_report_{}.html", lang.code()));
        std::fs::write(&path, report::standalone_html(&r, lang)).map_err(|e| {
            crate::error::EvalError::Csv {
                file: path.display().to_string(),
                message: e.to_string(),
            }
        })?;
    }
    // Demo key only: a real key is secret and kept by the data owner.
    let key = b"demo-key-not-secret-0123456789";
    let keep: Vec<String> = [
        "stratum",
        "treat",
        "takeup",
        "observed",
        "hh_size",
        "head_female",
        "enrol_bl",
        "zscore_bl",
        "income_bl",
        "enrol",
        "zscore",
        "income",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let hash = vec!["douar".to_string()];
    let table = export::analysis_table(
        &main,
        &ExportSpec {
            id: "hh_id",
            keep: &keep,
            hash: &hash,
            key,
        },
    )?;
    export::write_csv(&table, create("pilot_analysis.csv")?)?;
    export::write_parquet(&table, create("pilot_analysis.parquet")?)?;
    Ok((r, p.truth))
}
