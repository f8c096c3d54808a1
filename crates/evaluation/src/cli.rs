//! Machine interface for the `sanad` binary: each function takes parsed
//! options (plus a CSV path) and returns JSON. Argument parsing lives in the
//! binary; everything here is plain data so it can be tested without a shell.
//!
//! Missing cells (`""`, `NA`, `NaN`, `.`, `null`) drop the row listwise over
//! the columns a command uses; the output reports `n` and `n_dropped`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::assign::{self, ALGORITHM, Arm, AssignInput, Design};
use crate::balance::{self, BalanceOptions};
use crate::data::{Factor, Frame, Selection};
use crate::did::{self, BootWeights, Bootstrap, ControlGroup, CsOptions, Panel};
use crate::error::{EvalError, Result, invalid};
use crate::iv::{self, IvInput};
use crate::multiple;
use crate::ols::{self, OlsInput, RegResult, Vcov};
use crate::power::{self, PowerParams};
use crate::rdd::{self, Kernel, RdOptions};
use crate::report::{self, Lang, ReportSpec};
use crate::{export as exp, parquet, survey};

fn default_level() -> f64 {
    0.95
}

/// `ols` command.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OlsArgs {
    pub csv: PathBuf,
    pub y: String,
    pub x: Vec<String>,
    #[serde(default)]
    pub fe: Option<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    pub vcov: Vcov,
    #[serde(default = "default_level")]
    pub level: f64,
}

/// `iv` command (2SLS).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IvArgs {
    pub csv: PathBuf,
    pub y: String,
    #[serde(default)]
    pub exog: Vec<String>,
    pub endog: Vec<String>,
    pub instruments: Vec<String>,
    #[serde(default)]
    pub fe: Option<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    pub vcov: Vcov,
    #[serde(default = "default_level")]
    pub level: f64,
}

/// `rdd` command.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RddArgs {
    pub csv: PathBuf,
    pub y: String,
    pub x: String,
    pub cutoff: f64,
    /// "triangular" (default), "uniform" or "epanechnikov".
    #[serde(default)]
    pub kernel: Option<String>,
    #[serde(default)]
    pub h: Option<f64>,
    #[serde(default)]
    pub b: Option<f64>,
    #[serde(default = "default_level")]
    pub level: f64,
    /// Bins per side for the RD plot (omit for the default rule).
    #[serde(default)]
    pub bins: Option<usize>,
}

/// `did` command (Callaway–Sant'Anna).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DidArgs {
    pub csv: PathBuf,
    pub y: String,
    /// First-treatment period column (0 or empty = never treated).
    pub group: String,
    pub time: String,
    pub id: String,
    pub control: ControlGroup,
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Multiplier-bootstrap iterations for uniform bands (0 = none).
    #[serde(default)]
    pub bootstrap: usize,
    #[serde(default)]
    pub seed: u64,
    /// "mammen" (default) or "rademacher".
    #[serde(default)]
    pub weights: Option<String>,
}

fn default_alpha() -> f64 {
    0.05
}

/// `balance` command.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BalanceArgs {
    pub csv: PathBuf,
    pub treatment: String,
    pub vars: Vec<String>,
    #[serde(default)]
    pub strata: Option<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    /// HC1 instead of iid when no cluster is given.
    #[serde(default)]
    pub robust: bool,
}

/// `attrition` command: observation rates, differential attrition test and,
/// when `y` is given, Lee bounds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttritionArgs {
    pub csv: PathBuf,
    pub treatment: String,
    /// 0/1 column: 1 when the unit was observed at follow-up.
    pub observed: String,
    #[serde(default)]
    pub y: Option<String>,
    #[serde(default)]
    pub strata: Option<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub robust: bool,
}

/// `power` command: give `n` to get the MDE, or `effect` to get `n`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PowerArgs {
    #[serde(flatten)]
    pub params: PowerParams,
    #[serde(default)]
    pub n: Option<f64>,
    #[serde(default)]
    pub effect: Option<f64>,
}

/// `assign` command.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssignArgs {
    pub csv: PathBuf,
    pub unit: String,
    #[serde(default)]
    pub strata: Vec<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    pub arms: Vec<Arm>,
    pub seed: u64,
    #[serde(default)]
    pub waves: Option<usize>,
}

fn load(path: &PathBuf, num: &[&str], lab: &[&str]) -> Result<Selection> {
    Frame::from_path(path)?.select(num, lab)
}

fn by_name(names: &[String], values: &[f64]) -> Value {
    Value::Object(
        names
            .iter()
            .cloned()
            .zip(values.iter().map(|v| json!(v)))
            .collect::<Map<_, _>>(),
    )
}

/// The common JSON shape of `ols` and `iv`.
pub fn regression_json(r: &RegResult, n_dropped: usize) -> Value {
    json!({
        "n": r.n,
        "n_dropped": n_dropped,
        "k": r.k,
        "clusters": r.clusters,
        "fe_levels": r.fe_levels,
        "vcov": r.vcov_kind,
        "df_inference": r.df_inference,
        "r2": r.r2,
        "coef": by_name(&r.names, &r.coef),
        "se": by_name(&r.names, &r.se),
        "t": by_name(&r.names, &r.t),
        "p": by_name(&r.names, &r.p),
        "ci_low": by_name(&r.names, &r.ci_low),
        "ci_high": by_name(&r.names, &r.ci_high),
    })
}

fn opt_factor(sel: &Selection, col: &Option<String>) -> Option<Factor> {
    col.as_ref().map(|c| Factor::from_labels(sel.lab(c)))
}

fn labels_of<'a>(fe: &'a Option<String>, cluster: &'a Option<String>) -> Vec<&'a str> {
    fe.iter()
        .chain(cluster.iter())
        .map(String::as_str)
        .collect()
}

/// `ols`: `{"n","k","clusters","coef":{..},"se","t","p","ci_low","ci_high",…}`.
pub fn ols(a: &OlsArgs) -> Result<Value> {
    if a.vcov == Vcov::Cr1 && a.cluster.is_none() {
        return invalid("--vcov cr1 needs --cluster");
    }
    let mut num: Vec<&str> = vec![a.y.as_str()];
    num.extend(a.x.iter().map(String::as_str));
    let sel = load(&a.csv, &num, &labels_of(&a.fe, &a.cluster))?;
    let fit = ols::ols(OlsInput {
        y: sel.num(&a.y).to_vec(),
        x: a.x.iter().map(|c| sel.num(c).to_vec()).collect(),
        names: a.x.clone(),
        intercept: true,
        fe: opt_factor(&sel, &a.fe),
        cluster: opt_factor(&sel, &a.cluster),
        vcov: a.vcov,
        level: a.level,
    })?;
    Ok(regression_json(&fit, sel.n_dropped))
}

/// `iv`: the `ols` shape plus `first_stage_f`.
pub fn iv(a: &IvArgs) -> Result<Value> {
    if a.vcov == Vcov::Cr1 && a.cluster.is_none() {
        return invalid("--vcov cr1 needs --cluster");
    }
    let mut num: Vec<&str> = vec![a.y.as_str()];
    for list in [&a.exog, &a.endog, &a.instruments] {
        num.extend(list.iter().map(String::as_str));
    }
    let sel = load(&a.csv, &num, &labels_of(&a.fe, &a.cluster))?;
    let cols = |names: &[String]| {
        names
            .iter()
            .map(|c| sel.num(c).to_vec())
            .collect::<Vec<_>>()
    };
    let fit = iv::iv(IvInput {
        y: sel.num(&a.y).to_vec(),
        exog: cols(&a.exog),
        exog_names: a.exog.clone(),
        endog: cols(&a.endog),
        endog_names: a.endog.clone(),
        instruments: cols(&a.instruments),
        instrument_names: a.instruments.clone(),
        intercept: true,
        fe: opt_factor(&sel, &a.fe),
        cluster: opt_factor(&sel, &a.cluster),
        vcov: a.vcov,
        level: a.level,
    })?;
    let mut v = regression_json(&fit.fit, sel.n_dropped);
    v["first_stage_f"] = by_name(&a.endog, &fit.first_stage_f);
    Ok(v)
}

fn kernel(name: &Option<String>) -> Result<Kernel> {
    match name.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("tri" | "triangular") => Ok(Kernel::Triangular),
        Some("uni" | "uniform") => Ok(Kernel::Uniform),
        Some("epa" | "epanechnikov") => Ok(Kernel::Epanechnikov),
        Some(other) => invalid(format!("unknown kernel '{other}'")),
    }
}

/// `rdd`: rdrobust estimates, plus `density` (McCrary test) and `bins`.
pub fn rdd(a: &RddArgs) -> Result<Value> {
    let sel = load(&a.csv, &[&a.y, &a.x], &[])?;
    let (y, x) = (sel.num(&a.y), sel.num(&a.x));
    let opts = RdOptions {
        cutoff: a.cutoff,
        kernel: kernel(&a.kernel)?,
        h: a.h,
        b: a.b,
        level: a.level,
        ..Default::default()
    };
    let r = rdd::rdrobust(y, x, &opts)?;
    let mut v = serde_json::to_value(&r).map_err(|e| EvalError::Invalid(e.to_string()))?;
    v["n_dropped"] = json!(sel.n_dropped);
    v["density"] = match rdd::mccrary(x, a.cutoff, None, None) {
        Ok(d) => json!(d),
        Err(e) => json!({ "error": e.to_string() }),
    };
    v["bins"] = json!(rdd::binned_means(y, x, a.cutoff, a.bins)?);
    Ok(v)
}

/// `did`: `{"att_gt":[…], "simple", "dynamic", "group", …}`.
pub fn did(a: &DidArgs) -> Result<Value> {
    let sel = load(&a.csv, &[&a.y, &a.time, &a.group], &[&a.id])?;
    let panel = Panel {
        id: Factor::from_labels(sel.lab(&a.id)),
        time: sel.num(&a.time).to_vec(),
        first_treat: sel.num(&a.group).to_vec(),
        y: sel.num(&a.y).to_vec(),
    };
    let weights = match a.weights.as_deref() {
        None | Some("mammen") => BootWeights::Mammen,
        Some("rademacher") => BootWeights::Rademacher,
        Some(o) => return invalid(format!("unknown bootstrap weights '{o}'")),
    };
    let opts = CsOptions {
        control: a.control,
        alpha: a.alpha,
        bootstrap: (a.bootstrap > 0).then_some(Bootstrap {
            iterations: a.bootstrap,
            seed: a.seed,
            weights,
        }),
    };
    let r = did::callaway_santanna(&panel, &opts)?;
    let mut v = serde_json::to_value(&r).map_err(|e| EvalError::Invalid(e.to_string()))?;
    v["n_dropped"] = json!(sel.n_dropped);
    Ok(v)
}

/// `balance`: `{"rows":[…], "joint":{…}}`; each variable uses its own
/// complete cases, the joint test the complete cases of all variables.
pub fn balance(a: &BalanceArgs) -> Result<Value> {
    let frame = Frame::from_path(&a.csv)?;
    let labels = labels_of(&a.strata, &a.cluster);
    let opts_for = |sel: &Selection| BalanceOptions {
        strata: opt_factor(sel, &a.strata),
        cluster: opt_factor(sel, &a.cluster),
        robust: a.robust,
    };
    let mut rows = Vec::new();
    for v in &a.vars {
        let sel = frame.select(&[&a.treatment, v], &labels)?;
        rows.push(balance::balance_row(
            v,
            sel.num(v),
            sel.num(&a.treatment),
            &opts_for(&sel),
        )?);
    }
    let mut num: Vec<&str> = vec![a.treatment.as_str()];
    num.extend(a.vars.iter().map(String::as_str));
    let sel = frame.select(&num, &labels)?;
    let cols: Vec<(String, Vec<f64>)> = a
        .vars
        .iter()
        .map(|v| (v.clone(), sel.num(v).to_vec()))
        .collect();
    let joint = balance::joint_test(&cols, sel.num(&a.treatment), &opts_for(&sel))?;
    Ok(json!({ "rows": rows, "joint": joint }))
}

/// `attrition`: `{"attrition":{…}, "lee_bounds":{…}|null}`. Outcomes of
/// attrited units may be missing; they are not read.
pub fn attrition(a: &AttritionArgs) -> Result<Value> {
    let frame = Frame::from_path(&a.csv)?;
    let labels = labels_of(&a.strata, &a.cluster);
    let sel = frame.select(&[&a.treatment, &a.observed], &labels)?;
    let opts = BalanceOptions {
        strata: opt_factor(&sel, &a.strata),
        cluster: opt_factor(&sel, &a.cluster),
        robust: a.robust,
    };
    let att = balance::attrition(sel.num(&a.observed), sel.num(&a.treatment), &opts)?;
    let lee = match &a.y {
        None => None,
        Some(y) => {
            // Outcomes of observed units; an observed unit without an outcome
            // counts as attrited.
            let ys = frame.select(&[&a.treatment, &a.observed, y], &[])?;
            let mut yv = Vec::new();
            let mut tv = Vec::new();
            for ((v, t), o) in ys
                .num(y)
                .iter()
                .zip(ys.num(&a.treatment))
                .zip(ys.num(&a.observed))
            {
                if *o == 1.0 {
                    yv.push(*v);
                    tv.push(*t);
                }
            }
            let mut ov = vec![1.0; yv.len()];
            for arm in [0.0, 1.0] {
                let n_arm = sel.num(&a.treatment).iter().filter(|t| **t == arm).count();
                let seen = tv.iter().filter(|t| **t == arm).count();
                for _ in seen..n_arm {
                    yv.push(0.0);
                    tv.push(arm);
                    ov.push(0.0);
                }
            }
            Some(balance::lee_bounds(&yv, &ov, &tv)?)
        }
    };
    Ok(json!({ "n": sel.n, "n_dropped": sel.n_dropped, "attrition": att, "lee_bounds": lee }))
}

/// `power`: MDE for `n`, or `n` for `effect`.
pub fn power(a: &PowerArgs) -> Result<Value> {
    let r = match (a.n, a.effect) {
        (Some(n), None) => power::mde(&a.params, n)?,
        (None, Some(e)) => power::sample_size(&a.params, e)?,
        _ => return invalid("power: give exactly one of n or effect"),
    };
    Ok(json!({ "params": a.params, "result": r }))
}

/// Parse `"control:0.5,cash:0.25,voucher:0.25"` (shares may be omitted for equal arms).
pub fn parse_arms(spec: &str) -> Result<Vec<Arm>> {
    let parts: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let equal = 1.0 / parts.len().max(1) as f64;
    parts
        .iter()
        .map(|p| match p.split_once(':') {
            Some((name, share)) => share
                .trim()
                .parse::<f64>()
                .map(|s| Arm {
                    name: name.trim().to_string(),
                    share: s,
                })
                .map_err(|_| EvalError::Invalid(format!("arm '{p}': share is not a number"))),
            None => Ok(Arm {
                name: p.to_string(),
                share: equal,
            }),
        })
        .collect()
}

/// `assign`: `{"design", "design_hash", "assignment_hash", "counts", "units":[…]}`.
pub fn assign(a: &AssignArgs) -> Result<Value> {
    let mut labels: Vec<&str> = vec![a.unit.as_str()];
    labels.extend(a.strata.iter().map(String::as_str));
    labels.extend(a.cluster.iter().map(String::as_str));
    let sel = load(&a.csv, &[], &labels)?;
    let design = Design {
        algorithm: ALGORITHM.to_string(),
        seed: a.seed,
        unit: a.unit.clone(),
        cluster: a.cluster.clone(),
        strata: a.strata.clone(),
        arms: a.arms.clone(),
        waves: a.waves,
    };
    let input = AssignInput {
        ids: sel.lab(&a.unit).to_vec(),
        strata: a.strata.iter().map(|s| sel.lab(s).to_vec()).collect(),
        clusters: a.cluster.as_ref().map(|c| sel.lab(c).to_vec()),
    };
    let out = assign::assign(&design, &input)?;
    let mut v = serde_json::to_value(&out).map_err(|e| EvalError::Invalid(e.to_string()))?;
    v["n_dropped"] = json!(sel.n_dropped);
    Ok(v)
}

/// Multiple-testing adjustments of a list of p-values.
pub fn adjust_pvalues(p: &[f64]) -> Result<Value> {
    Ok(json!({
        "p": p,
        "bh": multiple::benjamini_hochberg(p)?,
        "sharpened_q": multiple::sharpened_q(p)?,
        "holm": multiple::holm(p)?,
    }))
}

/// `report` command: the standalone HTML report of a dataset and its design.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportArgs {
    /// One row per unit: assignment, take-up, baseline and follow-up columns.
    pub csv: PathBuf,
    /// Data of the RD section (needed when `rd` is set).
    #[serde(default)]
    pub rd_csv: Option<PathBuf>,
    /// Long panel of the event-study section (needed when `did` is set).
    #[serde(default)]
    pub did_csv: Option<PathBuf>,
    #[serde(flatten)]
    pub spec: ReportSpec,
    #[serde(default)]
    pub lang: Lang,
}

/// `report`: the whole report as one offline HTML document.
pub fn report(a: &ReportArgs) -> Result<String> {
    let main = Frame::from_path(&a.csv)?;
    let rd = a.rd_csv.as_ref().map(Frame::from_path).transpose()?;
    let panel = a.did_csv.as_ref().map(Frame::from_path).transpose()?;
    report::render(&a.spec, &main, rd.as_ref(), panel.as_ref(), a.lang)
}

/// `export` command: pseudonymised analysis dataset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportArgs {
    pub csv: PathBuf,
    /// Unit id column, replaced by the keyed pseudonym `pid`.
    pub id: String,
    /// Analysis variables to keep.
    pub keep: Vec<String>,
    /// Label columns kept as keyed pseudonyms (e.g. the cluster).
    #[serde(default)]
    pub hash: Vec<String>,
    /// File holding the secret key (trailing newlines ignored; ≥ 16 bytes).
    pub key_file: PathBuf,
    #[serde(default)]
    pub out_csv: Option<PathBuf>,
    #[serde(default)]
    pub out_parquet: Option<PathBuf>,
}

fn io_err(path: &std::path::Path, e: std::io::Error) -> EvalError {
    EvalError::Csv {
        file: path.display().to_string(),
        message: e.to_string(),
    }
}

/// `export`: writes the requested files, returns
/// `{"rows","columns":[{"name","type"}],"csv","parquet"}` (never the key).
pub fn export(a: &ExportArgs) -> Result<Value> {
    if a.out_csv.is_none() && a.out_parquet.is_none() {
        return invalid("export: give out_csv and/or out_parquet");
    }
    let mut key = std::fs::read(&a.key_file).map_err(|e| io_err(&a.key_file, e))?;
    while key.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        key.pop();
    }
    let frame = Frame::from_path(&a.csv)?;
    let spec = exp::ExportSpec {
        id: &a.id,
        keep: &a.keep,
        hash: &a.hash,
        key: &key,
    };
    let table = exp::analysis_table(&frame, &spec)?;
    let create = |p: &PathBuf| {
        std::fs::File::create(p)
            .map(std::io::BufWriter::new)
            .map_err(|e| io_err(p, e))
    };
    if let Some(p) = &a.out_csv {
        exp::write_csv(&table, create(p)?)?;
    }
    if let Some(p) = &a.out_parquet {
        exp::write_parquet(&table, create(p)?)?;
    }
    let columns: Vec<Value> = table
        .columns
        .iter()
        .map(|c| {
            let ty = match c.data {
                parquet::ColumnData::Int64(_) => "int64",
                parquet::ColumnData::Double(_) => "double",
                parquet::ColumnData::Utf8(_) => "utf8",
            };
            json!({ "name": c.name, "type": ty })
        })
        .collect();
    Ok(
        json!({ "rows": table.n_rows(), "columns": columns, "csv": a.out_csv, "parquet": a.out_parquet }),
    )
}

/// `survey` command: validate a survey file against its codebook.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SurveyArgs {
    pub codebook: PathBuf,
    pub csv: PathBuf,
    /// Round of the whole file when it has no `round` column.
    #[serde(default)]
    pub round: Option<String>,
}

/// `survey`: `{"ok", "records", "violations":[{file,line,column,value,message}]}`.
pub fn survey(a: &SurveyArgs) -> Result<Value> {
    let open = |p: &PathBuf| std::fs::File::open(p).map_err(|e| io_err(p, e));
    let name = |p: &PathBuf| p.display().to_string();
    let round = a.round.as_deref().map(str::parse).transpose()?;
    let cb = match survey::Codebook::from_reader(open(&a.codebook)?, &name(&a.codebook)) {
        Ok(cb) => cb,
        Err(v) => return Ok(json!({ "ok": false, "records": 0, "violations": v })),
    };
    Ok(
        match survey::import(open(&a.csv)?, &name(&a.csv), &cb, round) {
            Ok(d) => json!({ "ok": true, "records": d.records.len(), "violations": [] }),
            Err(v) => json!({ "ok": false, "records": 0, "violations": v }),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arms_parse() {
        let a = parse_arms("control:0.5, treat:0.5").unwrap();
        assert_eq!(
            a[1],
            Arm {
                name: "treat".into(),
                share: 0.5
            }
        );
        let b = parse_arms("a,b,c,d").unwrap();
        assert!(b.iter().all(|x| x.share == 0.25));
        assert!(parse_arms("a:x").is_err());
    }
}
