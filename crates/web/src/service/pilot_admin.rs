//! Pilot administration (issue 7): evaluation designs registered and assigned outside the
//! demo, the catalogue and rollout plan loaded from a file, and cases moved between social
//! workers. Pages and the CLI share these functions; each checks its permission, then works
//! through the store (which refuses what would break the pilot's invariants).

use sanad_domain::Permission;
use sanad_evaluation::assign::{ALGORITHM, Arm, AssignInput, Design};
use sanad_pilot::{
    Catalogue, CatalogueError, Measure, Pilot, PlannedAntenna, RolloutError, RolloutPlan,
};
use sanad_store::pilot::{AssignmentRow, DesignRow};
use sanad_store::{Actor, Scope};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::actor;
use super::pilot::{save_config, stored_pilot};
use crate::auth::Principal;
use crate::error::WebError;
use crate::{AppState, RequestId};

/// A JSON file starts with `{`; anything else is read as TOML. Errors name the source and
/// the line (and, from serde, the field).
fn parse_file<T: DeserializeOwned>(source: &str, text: &str) -> Result<T, WebError> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| {
            WebError::Invalid(format!(
                "{source} line {} column {}: {e}",
                e.line(),
                e.column()
            ))
        })
    } else {
        toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
            WebError::Invalid(format!("{source} line {line}: {}", e.message()))
        })
    }
}

/// The first line (1-based) quoting `needle`, to locate a validation error in the file.
fn line_of(text: &str, needle: &str) -> usize {
    let quoted = format!("\"{needle}\"");
    text.lines()
        .position(|l| l.contains(&quoted))
        .map_or(0, |i| i + 1)
}

/// The first line (1-based) setting the field `key`: `key = …` or a `[[key]]` table in TOML,
/// `"key": …` in JSON.
fn key_line(text: &str, key: &str) -> usize {
    let json = format!("\"{key}\"");
    let sets = |l: &str| {
        let t = l.trim_start();
        t.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
            || t.starts_with(&format!("[[{key}]]"))
            || t.starts_with(&format!("[{key}]"))
            || l.match_indices(&json)
                .any(|(i, _)| l[i + json.len()..].trim_start().starts_with(':'))
    };
    text.lines().position(sets).map_or(1, |i| i + 1)
}

// ---- evaluation designs ----

/// A design file (JSON or TOML, docs/formats.md): the design's id and the fields of
/// `sanad_evaluation::assign::Design`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignFile {
    id: String,
    #[serde(default = "default_algorithm")]
    algorithm: String,
    seed: u64,
    unit: String,
    #[serde(default)]
    cluster: Option<String>,
    #[serde(default)]
    strata: Vec<String>,
    arms: Vec<Arm>,
    #[serde(default)]
    waves: Option<usize>,
}

fn default_algorithm() -> String {
    ALGORITHM.to_owned()
}

/// The columns a design may name: what every household of the registry has.
pub const UNIT_COLUMN: &str = "rsu_id";
pub const DESIGN_COLUMNS: [&str; 4] = ["region", "province", "antenna", "commune"];

/// Read and check a design file: its id, then the design as the evaluation crate checks it
/// (algorithm, shares), and columns the registry has.
pub fn parse_design(source: &str, text: &str) -> Result<(String, Design), WebError> {
    let f: DesignFile = parse_file(source, text)?;
    let bad = |field: &str, msg: String| {
        WebError::Invalid(format!(
            "{source} line {}: {field}: {msg}",
            key_line(text, field)
        ))
    };
    if f.id.is_empty()
        || f.id.len() > 64
        || !f
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(bad(
            "id",
            format!("'{}' must be 1–64 letters, digits, '-', '_' or '.'", f.id),
        ));
    }
    if f.unit != UNIT_COLUMN {
        return Err(bad(
            "unit",
            format!("'{}': the unit is the household, '{UNIT_COLUMN}'", f.unit),
        ));
    }
    for c in f.strata.iter().chain(&f.cluster) {
        if !DESIGN_COLUMNS.contains(&c.as_str()) {
            return Err(WebError::Invalid(format!(
                "{source} line {}: '{c}' is not a column of the registry (one of {})",
                line_of(text, c).max(1),
                DESIGN_COLUMNS.join(", ")
            )));
        }
    }
    let design = Design {
        algorithm: f.algorithm,
        seed: f.seed,
        unit: f.unit,
        cluster: f.cluster,
        strata: f.strata,
        arms: f.arms,
        waves: f.waves,
    };
    design
        .validate()
        .map_err(|e| WebError::Invalid(format!("{source}: {e}")))?;
    Ok((f.id, design))
}

/// Register a design read from a file; the store computes and keeps its SHA-256 and refuses
/// an id registered before.
pub async fn register_design(
    s: &AppState,
    p: &Principal,
    actor: &Actor,
    source: &str,
    text: &str,
) -> Result<DesignRow, WebError> {
    p.require(Permission::DesignsManage)?;
    let (id, design) = parse_design(source, text)?;
    Ok(s.store
        .register_design(&id, &design.canonical_json(), actor)
        .await?)
}

/// The units a design is drawn over: the active households living in the antennas of the
/// stored rollout plan, with the columns a design may name.
async fn eligible_units(s: &AppState, design: &Design) -> Result<AssignInput, WebError> {
    let pilot = stored_pilot(s)
        .await?
        .ok_or_else(super::pilot_errors::no_catalogue)?;
    let scope = Scope::Antennas(
        pilot
            .plan
            .antennas()
            .iter()
            .map(|a| a.province.clone())
            .collect(),
    );
    let column = |h: &sanad_store::HouseholdSummary, c: &str| match c {
        "region" => h.region.to_string(),
        "province" | "antenna" => h.province.clone(),
        _ => h.commune.clone(),
    };
    let mut input = AssignInput {
        ids: Vec::new(),
        strata: vec![Vec::new(); design.strata.len()],
        clusters: design.cluster.as_ref().map(|_| Vec::new()),
    };
    let mut after = None;
    loop {
        let page = s
            .store
            .list_households(&scope, after.as_ref(), 1000)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.rsu_id.clone());
        for h in page.iter().filter(|h| h.status == "active") {
            input.ids.push(h.rsu_id.to_string());
            for (col, name) in input.strata.iter_mut().zip(&design.strata) {
                col.push(column(h, name));
            }
            if let (Some(cl), Some(name)) = (input.clusters.as_mut(), design.cluster.as_ref()) {
                cl.push(column(h, name));
            }
        }
    }
    Ok(input)
}

/// Draw a registered design's assignment over the eligible units and store it, once; returns
/// the units per arm.
pub async fn assign_design(
    s: &AppState,
    p: &Principal,
    actor: &Actor,
    id: &str,
) -> Result<Vec<(String, i64)>, WebError> {
    p.require(Permission::DesignsManage)?;
    let (_, design) = stored_design(s, id).await?;
    if !s.store.assignment_counts(id).await?.is_empty() {
        return Err(WebError::Conflict(format!(
            "design {id} is already assigned"
        )));
    }
    let input = eligible_units(s, &design).await?;
    if input.ids.is_empty() {
        return Err(WebError::Refused(format!(
            "design {id}: no active household in the antennas of the rollout plan"
        )));
    }
    let drawn = sanad_evaluation::assign::assign(&design, &input)
        .map_err(|e| WebError::Invalid(format!("design {id}: {e}")))?;
    let units: Vec<AssignmentRow> = drawn
        .units
        .iter()
        .map(|u| AssignmentRow {
            unit: u.id.clone(),
            arm: u.arm.clone(),
            stratum: u.stratum.clone(),
            wave: u.wave.and_then(|w| i64::try_from(w).ok()),
        })
        .collect();
    s.store.save_assignment(id, &units, actor).await?;
    Ok(s.store.assignment_counts(id).await?)
}

// ---- catalogue and rollout plan ----

/// The catalogue file (JSON or TOML, docs/formats.md): the measures and the rollout plan.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PilotFile {
    version: String,
    measures: Vec<Measure>,
    #[serde(default)]
    evaluation_design: Option<String>,
    antennas: Vec<PlannedAntenna>,
}

/// Read and check a catalogue file whole: any error names the line (of the measure or
/// antenna at fault) and nothing is kept.
pub fn parse_pilot(source: &str, text: &str) -> Result<Pilot, WebError> {
    let f: PilotFile = parse_file(source, text)?;
    let at = |needle: &str, msg: String| {
        WebError::Invalid(format!(
            "{source} line {}: {msg}",
            line_of(text, needle).max(1)
        ))
    };
    let catalogue = Catalogue::new(f.version, f.measures).map_err(|e| match &e {
        CatalogueError::Duplicate(m) | CatalogueError::Invalid { measure: m, .. } => {
            at(m.as_str(), format!("measures: {e}"))
        }
        _ => WebError::Invalid(format!(
            "{source} line {}: {e}",
            key_line(
                text,
                if matches!(e, CatalogueError::Empty) {
                    "measures"
                } else {
                    "version"
                }
            )
        )),
    })?;
    let plan = RolloutPlan::new(f.evaluation_design, f.antennas).map_err(|e| match &e {
        RolloutError::UnknownProvince(p)
        | RolloutError::Duplicate(p)
        | RolloutError::StartOrder { province: p, .. } => at(p, format!("antennas: {e}")),
        RolloutError::Design(h) => at(h, format!("evaluation_design: {e}")),
        _ => WebError::Invalid(format!(
            "{source} line {}: antennas: {e}",
            key_line(text, "antennas")
        )),
    })?;
    Ok(Pilot { catalogue, plan })
}

/// Load a catalogue file: checked whole, then stored in one transaction (audited).
pub async fn load_catalogue(
    s: &AppState,
    p: &Principal,
    actor: &Actor,
    source: &str,
    text: &str,
) -> Result<Pilot, WebError> {
    p.require(Permission::PilotConfigure)?;
    let pilot = parse_pilot(source, text)?;
    save_config(s, &pilot, actor).await?;
    Ok(pilot)
}

// ---- case reassignment ----

/// Move open cases to another social worker of the same antenna: one household's case, or
/// (when `household` is `None`) every open case of `from`. Only a supervisor may, within
/// their scope; every move is checked first, then each case is saved and audited as
/// `reassign`. Returns the cases moved.
pub async fn reassign(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    household: Option<&str>,
    from: Option<&str>,
    to: &str,
) -> Result<usize, WebError> {
    p.require(Permission::CasesReassign)?;
    let rows = match household {
        Some(h) => {
            let h = super::household(s, p, h).await?;
            vec![
                s.store
                    .open_case(&p.scope, &h.rsu_id.to_string())
                    .await?
                    .ok_or(WebError::NotFound)?,
            ]
        }
        None => {
            let from = from.filter(|f| !f.is_empty()).ok_or_else(|| {
                WebError::Invalid("from: the social worker whose cases move".into())
            })?;
            s.store.open_cases(&p.scope, Some(from)).await?
        }
    };
    let target = s
        .store
        .user(to)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| WebError::Invalid(format!("to: no active user '{to}'")))?;
    if !target.role.can(Permission::CasesManage) {
        return Err(WebError::Invalid(format!(
            "to: '{to}' is not a social worker"
        )));
    }
    let id = sanad_pilot::WorkerId::parse(to).map_err(|e| WebError::Invalid(format!("to: {e}")))?;
    // Every move is checked before any is saved: a caseload moves whole or not at all.
    let mut moved = Vec::new();
    for row in rows.into_iter().filter(|r| r.worker != to) {
        if !super::pilot::in_scope(&target.scope, &row.antenna) {
            return Err(super::pilot_errors::not_in_antenna(to, &row.antenna));
        }
        let mut book = sanad_pilot::CaseBook::from_cases(vec![super::pilot::case_from_row(&row)?])
            .map_err(|e| WebError::Invalid(e.to_string()))?;
        let worker = sanad_pilot::Worker {
            id: id.clone(),
            antenna: row.antenna.clone(),
            role: target.role,
            active: true,
        };
        let household = sanad_domain::RsuId::parse(&row.rsu_id)
            .map_err(|e| WebError::Invalid(e.to_string()))?;
        book.reassign(&household, &worker)
            .map_err(|e| super::pilot_errors::case_error(&e, axum::http::StatusCode::CONFLICT))?;
        moved.push(super::pilot::case_to_row(&book.cases()[0])?);
    }
    for row in &moved {
        s.store.save_case(row, "reassign", &actor(p, req)).await?;
    }
    Ok(moved.len())
}

// ---- M&E indicators ----

/// The monitoring indicators of `sanad_pilot::monitoring` over the caller's scope, for the
/// visits of `month` and the alerts open on today: aggregates only (no household is named),
/// each an exact ratio. `None` before a catalogue is stored.
pub async fn indicators(
    s: &AppState,
    p: &Principal,
    month: Option<sanad_domain::Month>,
) -> Result<Option<sanad_pilot::Indicators>, WebError> {
    p.require(Permission::Aggregates)?;
    let Some(pilot) = stored_pilot(s).await? else {
        return Ok(None);
    };
    let today = super::pilot::today();
    let rows = s.store.enrolments(&p.scope).await?;
    let enrolments = rows
        .iter()
        .map(super::pilot::enrolment_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let register = sanad_pilot::Register::from_enrolments(enrolments)
        .map_err(|e| WebError::Store(sanad_store::StoreError::Corrupt(format!("pilot: {e}"))))?;
    let cases = s
        .store
        .cases(&p.scope)
        .await?
        .iter()
        .map(super::pilot::case_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let book = sanad_pilot::CaseBook::from_cases(cases)
        .map_err(|e| WebError::Store(sanad_store::StoreError::Corrupt(format!("pilot: {e}"))))?;
    let month = month.unwrap_or_else(|| sanad_domain::Month::of(today));
    let mut ind = sanad_pilot::Indicators::compute(
        &pilot,
        &register,
        &book,
        &sanad_pilot::AlertPolicy::default(),
        month,
        today,
    );
    // Places of antennas outside the scope would read as empty: they are not the caller's.
    ind.enrolment
        .retain(|e| super::pilot::in_scope(&p.scope, &e.antenna));
    Ok(Some(ind))
}

// ---- outcomes: survey rounds and administrative outcomes ----

/// A refused import: every problem, one per line (`file line N column C: …`).
fn refused_lines(lines: Vec<String>) -> WebError {
    WebError::Invalid(lines.join("\n"))
}

/// What an applied survey import stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutcomesImported {
    pub round: String,
    pub households: usize,
    pub cells: usize,
    pub sha256: String,
}

/// Import one survey round (CSV) checked against its codebook (CSV, docs/evaluation.md):
/// every violation is reported with its line, and unit ids must be households of the
/// caller's scope; then the round replaces any earlier import of it, whole, in one transaction.
pub async fn import_outcomes(
    s: &AppState,
    p: &Principal,
    actor: &Actor,
    codebook: (&str, &str),
    survey: (&str, &str),
    round: &str,
) -> Result<OutcomesImported, WebError> {
    use sanad_evaluation::survey::{self, Cell, Codebook, Round};
    p.require(Permission::DesignsManage)?;
    let round: Round = round
        .parse()
        .map_err(|e: sanad_evaluation::EvalError| WebError::Invalid(format!("round: {e}")))?;
    let book = Codebook::from_reader(codebook.1.as_bytes(), codebook.0)
        .map_err(|v| refused_lines(v.iter().map(ToString::to_string).collect()))?;
    let data = survey::import(survey.1.as_bytes(), survey.0, &book, Some(round))
        .map_err(|v| refused_lines(v.iter().map(ToString::to_string).collect()))?;
    let wire = |r: Round| {
        if r == Round::Baseline {
            "baseline"
        } else {
            "followup"
        }
    };
    let mut problems = Vec::new();
    for r in &data.records {
        let at = |column: &str, value: &str, msg: &str| {
            format!(
                "{} line {} column {column}: '{value}' {msg}",
                survey.0, r.line
            )
        };
        if r.round != round {
            problems.push(at(
                "round",
                wire(r.round),
                &format!("is not the round imported ({})", wire(round)),
            ));
        }
        match sanad_domain::RsuId::parse(&r.unit_id) {
            Err(e) => problems.push(at("unit_id", &r.unit_id, &e)),
            Ok(id) if s.store.household(&p.scope, &id).await?.is_none() => problems.push(at(
                "unit_id",
                &r.unit_id,
                "is not a household of the registry in your scope",
            )),
            Ok(_) => {}
        }
    }
    if !problems.is_empty() {
        return Err(refused_lines(problems));
    }
    let rows: Vec<sanad_store::pilot::OutcomeRow> = data
        .records
        .iter()
        .flat_map(|r| {
            data.variables.iter().zip(&r.values).map(move |(v, cell)| {
                sanad_store::pilot::OutcomeRow {
                    round: wire(round).to_owned(),
                    rsu_id: r.unit_id.clone(),
                    variable: v.name.clone(),
                    value: if let Cell::Value(x) = cell {
                        Some(x.to_string())
                    } else {
                        None
                    },
                    missing_code: if let Cell::MissingCode(c) = cell {
                        Some(c.to_string())
                    } else {
                        None
                    },
                }
            })
        })
        .collect();
    let sha256 = sanad_store::pilot::design_hash(survey.1);
    let households = data.records.len();
    let meta = sanad_store::pilot::OutcomeRound {
        round: wire(round).to_owned(),
        source: survey.0.to_owned(),
        sha256: sha256.clone(),
        codebook: codebook.1.to_owned(),
        households: i64::try_from(households).unwrap_or(i64::MAX),
        imported_at: String::new(),
        imported_by: actor.user.clone(),
    };
    s.store.save_outcomes(&meta, &rows, actor).await?;
    Ok(OutcomesImported {
        round: meta.round,
        households,
        cells: rows.len(),
        sha256,
    })
}

/// The analysis dataset of a design: one row per assigned household of the caller's scope —
/// arm, arm index (`treat`, 0 = the design's first arm), stratum and wave; each survey
/// variable at baseline (`<var>_bl`) and follow-up (`<var>`); settled payments received
/// (count and centimes) from the payroll; members listed in the imported school-enrolment
/// list; health-centre visits and formal employment from the imported outcome lists over the
/// follow-up `window` (`service/pilot_outcomes.rs`). Pseudonymised by `sanad_evaluation::export`: the household id becomes `pid`, the
/// keyed HMAC-SHA-256 of it, and the stratum is pseudonymised too; names and national ids are
/// never read into it.
pub async fn analysis_dataset(
    s: &AppState,
    p: &Principal,
    design_id: &str,
    key: &[u8],
    window: super::pilot_outcomes::Window,
) -> Result<sanad_evaluation::parquet::Table, WebError> {
    p.require(Permission::DesignsManage)?;
    let (row, design) = stored_design(s, design_id).await?;
    let units = s.store.assignments(&p.scope, design_id).await?;
    if units.is_empty() {
        return Err(WebError::Refused(format!(
            "design {design_id} has no assignment in your scope yet"
        )));
    }
    let outcomes = s.store.outcomes(&p.scope).await?;
    let mut variables: Vec<String> = outcomes.iter().map(|o| o.variable.clone()).collect();
    variables.sort();
    variables.dedup();
    let value: std::collections::HashMap<(&str, &str, &str), &str> = outcomes
        .iter()
        .filter_map(|o| {
            o.value.as_deref().map(|v| {
                (
                    (o.rsu_id.as_str(), o.variable.as_str(), o.round.as_str()),
                    v,
                )
            })
        })
        .collect();
    let received: std::collections::HashMap<String, (i64, i64)> = s
        .store
        .payments_received(&p.scope)
        .await?
        .into_iter()
        .map(|r| (r.rsu_id, (r.payments, r.centimes)))
        .collect();
    let listed_school = s.store.list_meta("school_enrolment").await?.is_some();
    let registered = row
        .registered_at
        .get(..10)
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| {
            WebError::Store(sanad_store::StoreError::Corrupt(format!(
                "design {design_id}: registered_at {}",
                row.registered_at
            )))
        })?;
    let admin = super::pilot_outcomes::AdminOutcomes::load(s, window, registered).await?;

    let mut header = vec![
        "rsu_id".to_owned(),
        "arm".into(),
        "treat".into(),
        "stratum".into(),
        "wave".into(),
    ];
    for v in &variables {
        header.push(format!("{v}_bl"));
        header.push(v.clone());
    }
    header.extend([
        "payments_received".to_owned(),
        "payments_received_centimes".into(),
        "takeup".into(),
    ]);
    // Take-up: the household enrolled in a measure of the pilot (active or since ended).
    let enrolled: std::collections::HashSet<String> = s
        .store
        .enrolments(&p.scope)
        .await?
        .into_iter()
        .map(|e| e.rsu_id)
        .collect();
    if listed_school {
        header.push("members_in_school_list".into());
    }
    let admin_header = admin.header();
    header.extend(admin_header.iter().cloned());
    // A cluster-randomised design: the cluster each household was drawn with, for CR1.
    if design.cluster.is_some() {
        header.push("cluster".into());
    }
    let mut csv = header.join(",") + "\n";
    for u in &units {
        let treat = design
            .arms
            .iter()
            .position(|a| a.name == u.arm)
            .unwrap_or(0);
        let mut cells = vec![
            u.unit.clone(),
            u.arm.clone(),
            treat.to_string(),
            u.stratum.clone(),
            u.wave.map(|w| w.to_string()).unwrap_or_default(),
        ];
        for v in &variables {
            for round in ["baseline", "followup"] {
                cells.push(
                    value
                        .get(&(u.unit.as_str(), v.as_str(), round))
                        .map(|x| (*x).to_owned())
                        .unwrap_or_default(),
                );
            }
        }
        let (n, centimes) = received.get(&u.unit).copied().unwrap_or((0, 0));
        let takeup = u8::from(enrolled.contains(&u.unit));
        cells.extend([n.to_string(), centimes.to_string(), takeup.to_string()]);
        if listed_school || !admin_header.is_empty() || design.cluster.is_some() {
            // Assignments are scoped by the same join, so the household is found.
            let h = match sanad_domain::RsuId::parse(&u.unit) {
                Ok(id) => s.store.household(&p.scope, &id).await?,
                Err(_) => None,
            };
            let h = h.ok_or_else(|| {
                WebError::Store(sanad_store::StoreError::Corrupt(format!(
                    "design {design_id}: an assigned unit is not a household"
                )))
            })?;
            if listed_school {
                cells.push(in_school_list(s, &h).await?.to_string());
            }
            cells.extend(admin.cells(s, &h).await?);
            if let Some(c) = &design.cluster {
                cells.push(cluster_of(&h, c));
            }
        }
        csv.push_str(
            &cells
                .iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push('\n');
    }
    let frame = sanad_evaluation::data::Frame::from_reader(csv.as_bytes(), design_id)
        .map_err(|e| WebError::Invalid(e.to_string()))?;
    let keep: Vec<String> = header
        .iter()
        .filter(|c| !matches!(c.as_str(), "rsu_id" | "stratum" | "cluster"))
        .cloned()
        .collect();
    let mut hashed = vec!["stratum".to_owned()];
    if design.cluster.is_some() {
        hashed.push("cluster".into());
    }
    let spec = sanad_evaluation::export::ExportSpec {
        id: "rsu_id",
        keep: &keep,
        hash: &hashed,
        key,
    };
    sanad_evaluation::export::analysis_table(&frame, &spec)
        .map_err(|e| WebError::Invalid(e.to_string()))
}

/// The household's value of a design's cluster column, as the assignment drew it
/// (`eligible_units`: region, province or antenna, else the commune).
fn cluster_of(h: &sanad_domain::Household, column: &str) -> String {
    match column {
        "region" => h.residence.region.to_string(),
        "province" | "antenna" => h.residence.province.clone(),
        _ => h.residence.commune.clone(),
    }
}

fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_owned()
    }
}

/// How many of the household's members the imported school-enrolment list names (any school year).
async fn in_school_list(s: &AppState, h: &sanad_domain::Household) -> Result<usize, WebError> {
    let idcs: Vec<String> = h.members.iter().map(|m| m.idcs.to_string()).collect();
    let rows = s.store.list_rows("school_enrolment", &idcs).await?;
    let mut persons: Vec<String> = rows
        .iter()
        .filter_map(|(_, body)| {
            serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("idcs").and_then(|x| x.as_str().map(str::to_owned)))
        })
        .collect();
    persons.sort();
    persons.dedup();
    Ok(persons.len())
}

/// No indicator yet: what the CSV and the API give before a catalogue is stored.
pub fn no_indicators() -> sanad_pilot::Indicators {
    sanad_pilot::Indicators {
        as_of: super::pilot::today(),
        enrolment: vec![],
        visits: vec![],
        goals: vec![],
        referrals: vec![],
        alerts: vec![],
    }
}

/// A stored design with its registration row (the caller checked the permission).
pub(crate) async fn stored_design(
    s: &AppState,
    design_id: &str,
) -> Result<(sanad_store::pilot::DesignRow, Design), WebError> {
    let row = s
        .store
        .designs()
        .await?
        .into_iter()
        .find(|d| d.id == design_id)
        .ok_or(WebError::NotFound)?;
    let design = serde_json::from_str(&row.body).map_err(|e| {
        WebError::Store(sanad_store::StoreError::Corrupt(format!(
            "design {design_id}: {e}"
        )))
    })?;
    Ok((row, design))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: WebError) -> String {
        e.to_string()
    }

    #[test]
    fn a_design_reads_the_same_from_json_and_toml_and_errors_name_line_and_field() {
        let toml = "id = \"d1\"\nseed = 7\nunit = \"rsu_id\"\nstrata = [\"commune\"]\ncluster = \"commune\"\nwaves = 2\n[[arms]]\nname = \"control\"\nshare = 0.5\n[[arms]]\nname = \"treatment\"\nshare = 0.5\n";
        let json = r#"{
  "id": "d1", "seed": 7, "unit": "rsu_id", "strata": ["commune"], "cluster": "commune", "waves": 2,
  "arms": [{"name": "control", "share": 0.5}, {"name": "treatment", "share": 0.5}]
}"#;
        let (id, a) = parse_design("d.toml", toml).unwrap();
        assert_eq!(
            (id.as_str(), a.algorithm.as_str()),
            ("d1", ALGORITHM),
            "the algorithm defaults to the only one"
        );
        assert_eq!(
            parse_design("d.json", json).unwrap().1.hash(),
            a.hash(),
            "same design, same hash"
        );
        let e = message(
            parse_design("d.json", &json.replace("\"waves\": 2", "\"wave\": 2")).unwrap_err(),
        );
        assert!(
            e.starts_with("d.json line 2 column") && e.contains("unknown field `wave`"),
            "{e}"
        );
        let e = message(parse_design("d.toml", &toml.replace("seed = 7\n", "")).unwrap_err());
        assert!(e.contains("d.toml line") && e.contains("seed"), "{e}");
        let e = message(
            parse_design("d.toml", &toml.replace("id = \"d1\"", "id = \"a b\"")).unwrap_err(),
        );
        assert!(e.starts_with("d.toml line 1: id:"), "{e}");
        let e = message(
            parse_design(
                "d.toml",
                &toml.replace("unit = \"rsu_id\"", "unit = \"idcs\""),
            )
            .unwrap_err(),
        );
        assert!(e.starts_with("d.toml line 3: unit:"), "{e}");
        let e = message(
            parse_design(
                "d.toml",
                &toml
                    .replace("algorithm", "x")
                    .replace("id = \"d1\"", "id = \"d1\"\nalgorithm = \"random-v0\""),
            )
            .unwrap_err(),
        );
        assert!(
            e.contains("unknown assignment algorithm 'random-v0'"),
            "{e}"
        );
    }

    #[test]
    fn the_shipped_catalogue_and_plan_load_as_one_file() {
        let mut file: serde_json::Value =
            serde_json::from_str(include_str!("../../../pilot/data/measures.json")).unwrap();
        let plan: serde_json::Value =
            serde_json::from_str(include_str!("../../../pilot/data/rollout.json")).unwrap();
        file["antennas"] = plan["antennas"].clone();
        let pilot =
            parse_pilot("pilot.json", &serde_json::to_string_pretty(&file).unwrap()).unwrap();
        let shipped = Pilot::shipped();
        assert_eq!(
            (pilot.catalogue, pilot.plan),
            (shipped.catalogue, shipped.plan)
        );
        // A measure at fault is located by the line of its id.
        let text = serde_json::to_string_pretty(&file).unwrap().replace(
            "\"capacity_per_antenna\": 400",
            "\"capacity_per_antenna\": 0",
        );
        let line = text
            .lines()
            .position(|l| l.contains("\"early-nutrition\""))
            .unwrap()
            + 1;
        let e = message(parse_pilot("pilot.json", &text).unwrap_err());
        assert!(
            e.starts_with(&format!(
                "pilot.json line {line}: measures: measure early-nutrition:"
            )),
            "{e}"
        );
        let text = serde_json::to_string_pretty(&file)
            .unwrap()
            .replace("\"01.331\"", "\"99.999\"");
        let line = text.lines().position(|l| l.contains("\"99.999\"")).unwrap() + 1;
        let e = message(parse_pilot("pilot.json", &text).unwrap_err());
        assert!(
            e.starts_with(&format!(
                "pilot.json line {line}: antennas: unknown province code '99.999'"
            )),
            "{e}"
        );
    }
}
