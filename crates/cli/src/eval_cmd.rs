//! `sanad eval ols|iv|rdd|did|balance|attrition|power|assign|adjust`: the evaluation
//! estimators on a CSV file, printing JSON (docs/evaluation.md).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use sanad_evaluation::cli as ev;
use sanad_evaluation::did::ControlGroup;
use sanad_evaluation::ols::Vcov;
use sanad_evaluation::power::PowerParams;

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Subcommand)]
pub enum EvalCmd {
    /// OLS with covariates, an optional absorbed fixed effect and iid/HC1/CR1 errors.
    Ols {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        y: String,
        /// Regressors, comma-separated.
        #[arg(long)]
        x: String,
        #[arg(long)]
        fe: Option<String>,
        #[arg(long)]
        cluster: Option<String>,
        #[arg(long, default_value = "hc1")]
        vcov: Vcov,
        #[arg(long, default_value_t = 0.95)]
        level: f64,
    },
    /// 2SLS (LATE with the assignment as instrument).
    Iv {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        y: String,
        #[arg(long, default_value = "")]
        exog: String,
        #[arg(long)]
        endog: String,
        #[arg(long)]
        instruments: String,
        #[arg(long)]
        fe: Option<String>,
        #[arg(long)]
        cluster: Option<String>,
        #[arg(long, default_value = "hc1")]
        vcov: Vcov,
        #[arg(long, default_value_t = 0.95)]
        level: f64,
    },
    /// Sharp regression discontinuity as rdrobust (local linear, triangular kernel, MSE-optimal h).
    Rdd {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        y: String,
        #[arg(long)]
        x: String,
        #[arg(long)]
        cutoff: f64,
        #[arg(long)]
        kernel: Option<String>,
        #[arg(long)]
        h: Option<f64>,
        #[arg(long)]
        b: Option<f64>,
        #[arg(long, default_value_t = 0.95)]
        level: f64,
        #[arg(long)]
        bins: Option<usize>,
    },
    /// Callaway–Sant'Anna group-time ATTs and their aggregations.
    Did {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        y: String,
        /// First treated period (0 = never treated).
        #[arg(long)]
        group: String,
        #[arg(long)]
        time: String,
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "never")]
        control: ControlGroup,
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        /// Multiplier-bootstrap draws for uniform bands (0: none).
        #[arg(long, default_value_t = 999)]
        bootstrap: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Balance table as iebaltab, with a joint F-test.
    Balance {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        treatment: String,
        #[arg(long)]
        vars: String,
        #[arg(long)]
        strata: Option<String>,
        #[arg(long)]
        cluster: Option<String>,
    },
    /// Attrition by arm, differential-attrition test and Lee bounds.
    Attrition {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        treatment: String,
        #[arg(long)]
        observed: String,
        #[arg(long)]
        y: Option<String>,
        #[arg(long)]
        strata: Option<String>,
        #[arg(long)]
        cluster: Option<String>,
    },
    /// Minimum detectable effect for a sample size, or the sample size for an effect.
    Power {
        #[arg(long)]
        n: Option<f64>,
        #[arg(long)]
        effect: Option<f64>,
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        #[arg(long, default_value_t = 0.8)]
        power: f64,
        #[arg(long, default_value_t = 0.5)]
        share_treated: f64,
        #[arg(long, default_value_t = 1.0)]
        sd: f64,
        #[arg(long, default_value_t = 0.0)]
        r2: f64,
        #[arg(long, default_value_t = 0.0)]
        icc: f64,
        #[arg(long, default_value_t = 1.0)]
        cluster_size: f64,
        #[arg(long, default_value_t = 1.0)]
        takeup: f64,
    },
    /// Reproducible stratified (cluster) randomisation with its pre-registration hash.
    Assign {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        unit: String,
        #[arg(long, default_value = "")]
        strata: String,
        #[arg(long)]
        cluster: Option<String>,
        /// `control:0.5,treatment:0.5` (equal shares when omitted).
        #[arg(long, default_value = "control,treatment")]
        arms: String,
        #[arg(long)]
        seed: u64,
        /// Phase clusters into this many waves (stepped wedge).
        #[arg(long)]
        waves: Option<usize>,
    },
    /// The pilot's synthetic data with known effects, its report (fr, ar, en) and the
    /// pseudonymised analysis dataset (CSV, Parquet), into a directory.
    Pilot {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 11)]
        seed: u64,
    },
    /// An evaluation report as one offline HTML file, from a JSON specification
    /// (docs/evaluation.md: `ReportArgs`).
    Report {
        /// The report's specification (JSON: csv, rd_csv, did_csv, design, outcomes, …).
        #[arg(long)]
        spec: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Pseudonymised analysis dataset: ids replaced by keyed pseudonyms, only the listed variables.
    Export {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long)]
        id: String,
        #[arg(long)]
        keep: String,
        /// Label columns kept as pseudonyms (e.g. the cluster).
        #[arg(long, default_value = "")]
        hash: String,
        /// File holding the secret key (at least 16 bytes).
        #[arg(long)]
        key_file: PathBuf,
        #[arg(long)]
        out_csv: Option<PathBuf>,
        #[arg(long)]
        out_parquet: Option<PathBuf>,
    },
    /// Check a survey file against its codebook: every violation with line and column.
    Survey {
        #[arg(long)]
        codebook: PathBuf,
        #[arg(long)]
        csv: PathBuf,
        /// `baseline` or `followup` when the file has no `round` column.
        #[arg(long)]
        round: Option<String>,
    },
    /// Benjamini–Hochberg (and sharpened) q-values and Holm adjusted p-values.
    Adjust {
        /// p-values, comma-separated.
        #[arg(long)]
        p: String,
    },
}

pub fn eval(cmd: EvalCmd) -> anyhow::Result<ExitCode> {
    let out = match cmd {
        EvalCmd::Ols {
            csv,
            y,
            x,
            fe,
            cluster,
            vcov,
            level,
        } => ev::ols(&ev::OlsArgs {
            csv,
            y,
            x: list(&x),
            fe,
            cluster,
            vcov,
            level,
        }),
        EvalCmd::Iv {
            csv,
            y,
            exog,
            endog,
            instruments,
            fe,
            cluster,
            vcov,
            level,
        } => ev::iv(&ev::IvArgs {
            csv,
            y,
            exog: list(&exog),
            endog: list(&endog),
            instruments: list(&instruments),
            fe,
            cluster,
            vcov,
            level,
        }),
        EvalCmd::Rdd {
            csv,
            y,
            x,
            cutoff,
            kernel,
            h,
            b,
            level,
            bins,
        } => ev::rdd(&ev::RddArgs {
            csv,
            y,
            x,
            cutoff,
            kernel,
            h,
            b,
            level,
            bins,
        }),
        EvalCmd::Did {
            csv,
            y,
            group,
            time,
            id,
            control,
            alpha,
            bootstrap,
            seed,
        } => ev::did(&ev::DidArgs {
            csv,
            y,
            group,
            time,
            id,
            control,
            alpha,
            bootstrap,
            seed,
            weights: None,
        }),
        EvalCmd::Balance {
            csv,
            treatment,
            vars,
            strata,
            cluster,
        } => {
            let robust = cluster.is_none();
            ev::balance(&ev::BalanceArgs {
                csv,
                treatment,
                vars: list(&vars),
                strata,
                cluster,
                robust,
            })
        }
        EvalCmd::Attrition {
            csv,
            treatment,
            observed,
            y,
            strata,
            cluster,
        } => {
            let robust = cluster.is_none();
            ev::attrition(&ev::AttritionArgs {
                csv,
                treatment,
                observed,
                y,
                strata,
                cluster,
                robust,
            })
        }
        EvalCmd::Power {
            n,
            effect,
            alpha,
            power,
            share_treated,
            sd,
            r2,
            icc,
            cluster_size,
            takeup,
        } => {
            let params = PowerParams {
                alpha,
                power,
                share_treated,
                sd,
                r2,
                icc,
                cluster_size,
                takeup,
            };
            ev::power(&ev::PowerArgs { params, n, effect })
        }
        EvalCmd::Assign {
            csv,
            unit,
            strata,
            cluster,
            arms,
            seed,
            waves,
        } => ev::assign(&ev::AssignArgs {
            csv,
            unit,
            strata: list(&strata),
            cluster,
            arms: ev::parse_arms(&arms)?,
            seed,
            waves,
        }),
        EvalCmd::Pilot { out, seed } => {
            let (_, truth) = sanad_evaluation::pilot::write_demo(&out, seed)?;
            Ok(serde_json::json!({"out": out, "truth": truth}))
        }
        EvalCmd::Report { spec, out } => {
            let text = std::fs::read_to_string(&spec)
                .map_err(|e| anyhow::anyhow!("{}: {e}", spec.display()))?;
            let args: ev::ReportArgs = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", spec.display()))?;
            std::fs::write(&out, ev::report(&args)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
            Ok(serde_json::json!({"report": out}))
        }
        EvalCmd::Export {
            csv,
            id,
            keep,
            hash,
            key_file,
            out_csv,
            out_parquet,
        } => ev::export(&ev::ExportArgs {
            csv,
            id,
            keep: list(&keep),
            hash: list(&hash),
            key_file,
            out_csv,
            out_parquet,
        }),
        EvalCmd::Survey {
            codebook,
            csv,
            round,
        } => ev::survey(&ev::SurveyArgs {
            codebook,
            csv,
            round,
        }),
        EvalCmd::Adjust { p } => {
            let ps = list(&p)
                .iter()
                .map(|v| {
                    v.parse::<f64>()
                        .map_err(|_| anyhow::anyhow!("--p: '{v}' is not a number"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            ev::adjust_pvalues(&ps)
        }
    }?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
