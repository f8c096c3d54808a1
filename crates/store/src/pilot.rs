//! The accompanying-measures pilot as stored. The `sanad-pilot` crate decides what the rows
//! mean (eligibility, capacity, case rules, alerts); the store keeps them, refuses what would
//! break the pilot's invariants whoever the caller is (two active enrolments, a place beyond
//! capacity, a second open case, a registered design changed), audits every change, and scopes
//! every query that lists households.

use async_trait::async_trait;
use serde::Serialize;

use crate::audit::Actor;
use crate::{Result, Scope};

/// One measure of the stored catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeasureRow {
    pub id: String,
    pub catalogue_version: String,
    pub domain: String,
    pub capacity: i64,
    pub cost_centimes: i64,
    /// The measure as JSON (names, description, target-group rule).
    pub body: String,
}

/// An antenna of the rollout plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AntennaRow {
    pub province: String,
    pub wave: i64,
    /// `YYYY-MM`.
    pub start_month: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrolmentRow {
    pub rsu_id: String,
    pub measure_id: String,
    pub antenna: String,
    pub enrolled_on: String,
    /// `None` while active.
    pub exit: Option<ExitRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExitRow {
    pub on: String,
    pub reason: String,
    pub note: String,
}

/// Active places taken in one measure and antenna.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlacesRow {
    pub measure_id: String,
    pub antenna: String,
    pub active: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitRow {
    pub date: String,
    pub attendance: String,
    pub notes: String,
    pub next_steps: String,
    pub next_visit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralRow {
    pub id: i64,
    pub service: String,
    pub detail: String,
    pub sent_on: String,
    pub status: String,
    pub status_on: Option<String>,
    pub outcome: String,
}

/// A case with its visits (in date order) and referrals (by id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRow {
    pub rsu_id: String,
    pub antenna: String,
    /// The social worker's user name.
    pub worker: String,
    pub opened_on: String,
    /// (date, reason) once closed.
    pub closure: Option<(String, String)>,
    /// The case plan's goals as JSON (a list).
    pub goals: String,
    pub visits: Vec<VisitRow>,
    pub referrals: Vec<ReferralRow>,
}

impl CaseRow {
    /// The case's key: a household has at most one case opened on a given day.
    pub fn id(&self) -> String {
        format!("{}/{}", self.rsu_id, self.opened_on)
    }
}

/// A pre-registered evaluation design, as frozen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesignRow {
    pub id: String,
    /// The design's canonical JSON (unit or cluster, strata, arms and shares, waves, seed, algorithm).
    pub body: String,
    /// SHA-256 (hex) of `body`.
    pub hash: String,
    pub registered_at: String,
    pub registered_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentRow {
    pub unit: String,
    pub arm: String,
    pub stratum: String,
    pub wave: Option<i64>,
}

/// One cell of an imported survey round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeRow {
    /// `baseline` or `followup`.
    pub round: String,
    pub rsu_id: String,
    pub variable: String,
    /// The typed value as text (`None` when blank or a missing code).
    pub value: Option<String>,
    /// The declared missing code (e.g. `-99`), if the cell held one.
    pub missing_code: Option<String>,
}

/// An imported survey round: its file, the file's SHA-256, the codebook (CSV text) and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeRound {
    pub round: String,
    pub source: String,
    pub sha256: String,
    pub codebook: String,
    pub households: i64,
    pub imported_at: String,
    pub imported_by: String,
}

/// Payments a household received: settled payments only (sent but bounced or pending ones are not received).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivedRow {
    pub rsu_id: String,
    pub payments: i64,
    pub centimes: i64,
}

#[async_trait]
pub trait PilotStore: Send + Sync {
    /// Replace the stored catalogue and rollout plan (measures by id, antennas whole), in one
    /// transaction; audited. Measures with enrolments stay even if the new catalogue drops them.
    async fn save_pilot_config(
        &self,
        measures: &[MeasureRow],
        antennas: &[AntennaRow],
        actor: &Actor,
    ) -> Result<()>;
    async fn measures(&self) -> Result<Vec<MeasureRow>>;
    async fn antennas(&self) -> Result<Vec<AntennaRow>>;

    /// Enrol, refusing (`Refused`) when the antenna's `capacity` places of the measure are
    /// taken and (`Conflict`) when the household is already actively enrolled; audited.
    async fn enrol(&self, e: &EnrolmentRow, capacity: i64, actor: &Actor) -> Result<()>;
    /// End the active enrolment of a household in a measure (`NotFound` if none); audited.
    async fn exit_enrolment(
        &self,
        rsu_id: &str,
        measure_id: &str,
        exit: &ExitRow,
        actor: &Actor,
    ) -> Result<()>;
    /// Enrolments of households in `scope`, by household then date.
    async fn enrolments(&self, scope: &Scope) -> Result<Vec<EnrolmentRow>>;
    /// Enrolments of one household, if it is in `scope`.
    async fn enrolments_of(&self, scope: &Scope, rsu_id: &str) -> Result<Vec<EnrolmentRow>>;
    /// Active places by measure and antenna, over the antennas of households in `scope`.
    async fn places(&self, scope: &Scope) -> Result<Vec<PlacesRow>>;

    /// Insert or update a case with its visits and referrals, whole, in one transaction;
    /// `Conflict` for a second open case of a household. Audited as `action`.
    async fn save_case(&self, case: &CaseRow, action: &str, actor: &Actor) -> Result<()>;
    /// Open cases of households in `scope`, of one worker if given, by household.
    async fn open_cases(&self, scope: &Scope, worker: Option<&str>) -> Result<Vec<CaseRow>>;
    /// A household's open case, if the household is in `scope`.
    async fn open_case(&self, scope: &Scope, rsu_id: &str) -> Result<Option<CaseRow>>;
    /// Every case, open or closed, of households in `scope`, by household then opening date
    /// (the M&E indicators' input).
    async fn cases(&self, scope: &Scope) -> Result<Vec<CaseRow>>;

    /// Freeze a design: its hash is computed here; `Conflict` if the id exists (a registered
    /// design is never replaced). Audited.
    async fn register_design(&self, id: &str, body: &str, actor: &Actor) -> Result<DesignRow>;
    /// Every registered design, oldest first; `Corrupt` if a body no longer matches its hash.
    async fn designs(&self) -> Result<Vec<DesignRow>>;
    /// Store the assignment drawn from a registered design, once (`Conflict` the second
    /// time, `NotFound` for an unknown design). Audited with its size.
    async fn save_assignment(
        &self,
        design_id: &str,
        units: &[AssignmentRow],
        actor: &Actor,
    ) -> Result<()>;
    /// Units per arm of a design's assignment (no personal data).
    async fn assignment_counts(&self, design_id: &str) -> Result<Vec<(String, i64)>>;
    /// The assignment of the design's units that are households in `scope`, by unit.
    async fn assignments(&self, scope: &Scope, design_id: &str) -> Result<Vec<AssignmentRow>>;

    /// Replace a survey round whole (its description and every cell) in one transaction;
    /// `NotFound` naming the first household the registry does not hold. Audited with its size.
    async fn save_outcomes(
        &self,
        round: &OutcomeRound,
        rows: &[OutcomeRow],
        actor: &Actor,
    ) -> Result<()>;
    /// The imported rounds.
    async fn outcome_rounds(&self) -> Result<Vec<OutcomeRound>>;
    /// Cells of households in `scope`, by round, household, variable.
    async fn outcomes(&self, scope: &Scope) -> Result<Vec<OutcomeRow>>;
    /// Settled payments per household in `scope`, by household (an administrative outcome).
    async fn payments_received(&self, scope: &Scope) -> Result<Vec<ReceivedRow>>;
}

/// The SHA-256 (hex) of a design body: what `register_design` stores and `designs` checks.
pub fn design_hash(body: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::audit::hex(&Sha256::digest(body.as_bytes()))
}

pub mod sql {
    use crate::Scope;

    pub const MEASURE_UPSERT: &str = "INSERT INTO pilot_measures (id, catalogue_version, domain, capacity, cost_centimes, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET catalogue_version = excluded.catalogue_version, domain = excluded.domain, capacity = excluded.capacity, \
         cost_centimes = excluded.cost_centimes, body = excluded.body, updated_at = excluded.updated_at";
    pub const MEASURES: &str = "SELECT id, catalogue_version, domain, capacity, cost_centimes, body FROM pilot_measures ORDER BY id";
    pub const ANTENNAS_DELETE: &str = "DELETE FROM pilot_antennas";
    pub const ANTENNA_INSERT: &str =
        "INSERT INTO pilot_antennas (province, wave, start_month) VALUES ($1, $2, $3)";
    pub const ANTENNAS: &str =
        "SELECT province, wave, start_month FROM pilot_antennas ORDER BY wave, province";

    pub const PLACES_TAKEN: &str = "SELECT count(*) AS n FROM pilot_enrolments WHERE measure_id = $1 AND antenna = $2 AND status = 'active'";
    pub const ACTIVE_OF: &str = "SELECT enrolled_on FROM pilot_enrolments WHERE rsu_id = $1 AND measure_id = $2 AND status = 'active'";
    pub const ENROL: &str = "INSERT INTO pilot_enrolments (rsu_id, measure_id, antenna, status, enrolled_on, exit_note) VALUES ($1, $2, $3, 'active', $4, '')";
    pub const EXIT: &str = "UPDATE pilot_enrolments SET status = 'exited', exited_on = $3, exit_reason = $4, exit_note = $5 WHERE rsu_id = $1 AND measure_id = $2 AND status = 'active'";
    const ENROLMENT_COLUMNS: &str =
        "e.rsu_id, e.measure_id, e.antenna, e.enrolled_on, e.exited_on, e.exit_reason, e.exit_note";

    pub fn enrolments(scope: &Scope) -> String {
        format!(
            "SELECT {ENROLMENT_COLUMNS} FROM pilot_enrolments e JOIN households h ON h.rsu_id = e.rsu_id WHERE {} ORDER BY e.rsu_id, e.enrolled_on, e.measure_id",
            scope.sql("h")
        )
    }
    pub fn enrolments_of(scope: &Scope) -> String {
        format!(
            "SELECT {ENROLMENT_COLUMNS} FROM pilot_enrolments e JOIN households h ON h.rsu_id = e.rsu_id WHERE e.rsu_id = $1 AND {} ORDER BY e.enrolled_on, e.measure_id",
            scope.sql("h")
        )
    }
    /// Places over the antennas the scope's households live in (counting every household there).
    /// Nationally every antenna, without reading the registry.
    pub fn places(scope: &Scope) -> String {
        let within = match scope {
            Scope::National => String::new(),
            _ => format!(
                "AND antenna IN (SELECT DISTINCT h.province FROM households h WHERE {})",
                scope.sql("h")
            ),
        };
        format!(
            "SELECT measure_id, antenna, count(*) AS n FROM pilot_enrolments WHERE status = 'active' {within} GROUP BY measure_id, antenna ORDER BY measure_id, antenna"
        )
    }

    pub const CASE_GET: &str = "SELECT id, closed_on FROM pilot_cases WHERE id = $1";
    pub const CASE_UPSERT: &str = "INSERT INTO pilot_cases (id, rsu_id, antenna, worker, opened_on, closed_on, close_reason, goals, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET worker = excluded.worker, closed_on = excluded.closed_on, close_reason = excluded.close_reason, goals = excluded.goals, updated_at = excluded.updated_at";
    pub const VISITS_DELETE: &str = "DELETE FROM pilot_visits WHERE case_id = $1";
    pub const REFERRALS_DELETE: &str = "DELETE FROM pilot_referrals WHERE case_id = $1";
    pub const VISITS_OF: &str = "SELECT visit_date, attendance, notes, next_steps, next_visit FROM pilot_visits WHERE case_id = $1 ORDER BY seq";
    pub const REFERRALS_OF: &str = "SELECT id, service, detail, sent_on, status, status_on, outcome FROM pilot_referrals WHERE case_id = $1 ORDER BY id";
    const CASE_COLUMNS: &str =
        "c.id, c.rsu_id, c.antenna, c.worker, c.opened_on, c.closed_on, c.close_reason, c.goals";

    /// Open cases in the scope; `$1` is the worker or '' for all.
    pub fn open_cases(scope: &Scope) -> String {
        format!(
            "SELECT {CASE_COLUMNS} FROM pilot_cases c JOIN households h ON h.rsu_id = c.rsu_id \
             WHERE c.closed_on IS NULL AND ($1 = '' OR c.worker = $1) AND {} ORDER BY c.rsu_id",
            scope.sql("h")
        )
    }
    pub fn open_case(scope: &Scope) -> String {
        format!(
            "SELECT {CASE_COLUMNS} FROM pilot_cases c JOIN households h ON h.rsu_id = c.rsu_id WHERE c.closed_on IS NULL AND c.rsu_id = $1 AND {}",
            scope.sql("h")
        )
    }

    pub fn cases(scope: &Scope) -> String {
        format!(
            "SELECT {CASE_COLUMNS} FROM pilot_cases c JOIN households h ON h.rsu_id = c.rsu_id WHERE {} ORDER BY c.rsu_id, c.opened_on",
            scope.sql("h")
        )
    }

    pub const OUTCOMES_DELETE: &str = "DELETE FROM pilot_outcomes WHERE round = $1";
    pub const OUTCOME_ROUND_DELETE: &str = "DELETE FROM pilot_outcome_rounds WHERE round = $1";
    pub const OUTCOME_ROUND_INSERT: &str = "INSERT INTO pilot_outcome_rounds (round, source, sha256, codebook, households, imported_at, imported_by) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    pub const OUTCOME_ROUNDS: &str = "SELECT round, source, sha256, codebook, households, imported_at, imported_by FROM pilot_outcome_rounds ORDER BY round";
    pub const HOUSEHOLD_EXISTS: &str = "SELECT rsu_id FROM households WHERE rsu_id = $1";
    pub fn outcomes(scope: &Scope) -> String {
        format!(
            "SELECT o.round, o.rsu_id, o.variable, o.value, o.missing_code FROM pilot_outcomes o JOIN households h ON h.rsu_id = o.rsu_id WHERE {} ORDER BY o.round, o.rsu_id, o.variable",
            scope.sql("h")
        )
    }
    pub fn payments_received(scope: &Scope) -> String {
        format!(
            "SELECT p.rsu_id, count(*) AS n, CAST(sum(p.amount) AS BIGINT) AS centimes FROM payments p JOIN households h ON h.rsu_id = p.rsu_id \
             WHERE p.status = 'settled' AND {} GROUP BY p.rsu_id ORDER BY p.rsu_id",
            scope.sql("h")
        )
    }

    pub const DESIGN_INSERT: &str = "INSERT INTO pilot_designs (id, body, hash, registered_at, registered_by) VALUES ($1, $2, $3, $4, $5)";
    pub const DESIGNS: &str = "SELECT id, body, hash, registered_at, registered_by FROM pilot_designs ORDER BY registered_at, id";
    pub const DESIGN_EXISTS: &str = "SELECT id FROM pilot_designs WHERE id = $1";
    pub const ASSIGNED: &str = "SELECT count(*) AS n FROM pilot_assignments WHERE design_id = $1";
    pub const ASSIGNMENT_COUNTS: &str = "SELECT arm, count(*) AS n FROM pilot_assignments WHERE design_id = $1 GROUP BY arm ORDER BY arm";
    pub fn assignments(scope: &Scope) -> String {
        format!(
            "SELECT a.unit, a.arm, a.stratum, a.wave FROM pilot_assignments a JOIN households h ON h.rsu_id = a.unit WHERE a.design_id = $1 AND {} ORDER BY a.unit",
            scope.sql("h")
        )
    }
}
