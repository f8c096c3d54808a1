//! The operations behind both the pages and the API, written once: each takes the caller,
//! checks the permission, and lets the store apply the scope.

use std::collections::HashMap;
use std::sync::Arc;

use sanad_domain::{Household, Month, Permission, Role, RsuId};
use sanad_rules::{Decision, Member, RuleSet};
use sanad_store::{
    Actor, AuditFilter, AuditRecord, FindKey, HouseholdSummary, Scope, StoredRuleSet, User,
};
use serde::Serialize;

use crate::auth::{self, Principal};
use crate::error::WebError;
use crate::{AppState, RequestId};

// pilot (issue 7)
pub mod pilot;
// pilot administration (issue 7: designs, catalogue file, reassignment, indicators, outcomes)
pub mod pilot_admin;
pub mod pilot_errors;
// pilot administrative outcomes (issue 7: health visits, CNSS affiliation, their import)
pub mod pilot_outcomes;
// pilot report on a registered design's own data (issue 7)
pub mod pilot_report;

/// A serde enum's wire name (`in_review`, `child_allowance`…): what is stored, and the key of its label.
pub fn wire_name(v: &impl Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn actor(p: &Principal, req: &RequestId) -> Actor {
    Actor::new(&p.username, &req.0)
}

pub async fn search(
    s: &AppState,
    p: &Principal,
    q: &str,
) -> Result<Vec<HouseholdSummary>, WebError> {
    p.require(Permission::HouseholdRead)?;
    let key = FindKey::guess(q).ok_or_else(|| {
        WebError::Invalid("q: not an RSU id, IDCS, CNIE, phone number or family name".into())
    })?;
    Ok(s.store.find_households(&p.scope, &key).await?)
}

pub async fn list(
    s: &AppState,
    p: &Principal,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<HouseholdSummary>, WebError> {
    p.require(Permission::HouseholdRead)?;
    let after = after
        .map(RsuId::parse)
        .transpose()
        .map_err(|e| WebError::Invalid(format!("after: {e}")))?;
    Ok(s.store
        .list_households(&p.scope, after.as_ref(), limit.clamp(1, 500))
        .await?)
}

/// A household in the caller's scope; one outside it does not exist for them (404).
pub async fn household(s: &AppState, p: &Principal, id: &str) -> Result<Household, WebError> {
    p.require(Permission::HouseholdRead)?;
    let id = RsuId::parse(id).map_err(|_| WebError::NotFound)?;
    s.store
        .household(&p.scope, &id)
        .await?
        .ok_or(WebError::NotFound)
}

pub struct Entitlement {
    pub rules: RuleSet,
    pub decision: Decision,
    pub members: Vec<Member>,
}

/// The household's entitlement for `month` under the rule set in force then, if any.
pub fn entitlement(
    book: &sanad_rules::RuleBook,
    h: &Household,
    month: Month,
) -> Option<Entitlement> {
    book.for_month(month).map(|rules| {
        let (decision, members) = sanad_rules::evaluate_household(rules, h, month);
        Entitlement {
            rules: rules.clone(),
            decision,
            members,
        }
    })
}

/// The rule sets shipped with Sanad, parsed once.
pub fn shipped() -> &'static sanad_rules::RuleBook {
    static BOOK: std::sync::OnceLock<sanad_rules::RuleBook> = std::sync::OnceLock::new();
    BOOK.get_or_init(sanad_rules::RuleBook::shipped)
}

/// A rule set as listed: shipped with the code, or stored (proposed or approved).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleSetEntry {
    pub id: String,
    #[schema(value_type = String, format = Date)]
    pub effective_from: chrono::NaiveDate,
    pub title: String,
    /// `shipped`, `proposed` or `approved`.
    pub status: String,
    pub proposed_by: Option<String>,
    pub approved_by: Option<String>,
}

pub async fn rule_sets(s: &AppState, p: &Principal) -> Result<Vec<RuleSetEntry>, WebError> {
    p.require(Permission::RulesRead)?;
    let stored = s.store.rule_sets().await?;
    let mut out: Vec<RuleSetEntry> = shipped()
        .sets()
        .iter()
        .filter(|r| !stored.iter().any(|s| s.id == r.id))
        .map(|r| RuleSetEntry {
            id: r.id.clone(),
            effective_from: r.effective_from,
            title: r.title.clone(),
            status: "shipped".into(),
            proposed_by: None,
            approved_by: None,
        })
        .collect();
    for st in stored {
        let title = RuleSet::from_toml(&st.body)
            .map(|r| r.title)
            .unwrap_or_default();
        out.push(RuleSetEntry {
            id: st.id,
            effective_from: st.effective_from,
            title,
            status: st.status.as_str().into(),
            proposed_by: Some(st.proposed_by),
            approved_by: st.approved_by,
        });
    }
    out.sort_by(|a, b| (a.effective_from, &a.id).cmp(&(b.effective_from, &b.id)));
    Ok(out)
}

/// A rule set by id, with its entry, whether shipped or stored.
pub async fn rule_set(
    s: &AppState,
    p: &Principal,
    id: &str,
) -> Result<(RuleSetEntry, RuleSet), WebError> {
    let entry = rule_sets(s, p)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(WebError::NotFound)?;
    let stored: Option<StoredRuleSet> = s.store.rule_sets().await?.into_iter().find(|r| r.id == id);
    let rs = match stored {
        Some(st) => RuleSet::from_toml(&st.body).map_err(|e| WebError::Invalid(e.to_string()))?,
        None => shipped().get(id).cloned().ok_or(WebError::NotFound)?,
    };
    Ok((entry, rs))
}

pub async fn propose(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    body: &str,
) -> Result<RuleSet, WebError> {
    p.require(Permission::RulesPropose)?;
    let rs = RuleSet::from_toml(body).map_err(|e| WebError::Invalid(e.to_string()))?;
    if shipped().get(&rs.id).is_some() {
        return Err(WebError::Conflict(format!(
            "already exists: rule set {} is shipped with Sanad",
            rs.id
        )));
    }
    s.store
        .propose_rule_set(&rs.id, rs.effective_from, body, &actor(p, req))
        .await?;
    Ok(rs)
}

pub async fn approve(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
) -> Result<StoredRuleSet, WebError> {
    p.require(Permission::RulesApprove)?;
    let approved = s.store.approve_rule_set(id, &actor(p, req)).await?;
    s.rules_changed();
    Ok(approved)
}

/// What an administrator submits to create or change a user.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct UserForm {
    pub username: String,
    pub display_name: String,
    /// One of the role codes (`antenna_agent`, … `administrator`).
    pub role: String,
    /// `national`, `regions:01,04` or `antennas:01.511`.
    pub scope: String,
    #[serde(default = "default_locale")]
    pub locale: String,
    /// Required to create; when changing, empty keeps the current password.
    #[serde(default)]
    pub password: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn default_locale() -> String {
    "fr".into()
}
fn yes() -> bool {
    true
}

fn check_username(u: &str) -> Result<(), WebError> {
    let ok = (3..=40).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(WebError::Invalid(
            "username: 3–40 characters among a–z, 0–9, '.', '_', '-'".into(),
        ))
    }
}

fn parse_user_form(f: &UserForm) -> Result<(Role, Scope), WebError> {
    let role = Role::parse(&f.role).map_err(|e| WebError::Invalid(format!("role: {e}")))?;
    let scope = Scope::parse(&f.scope).map_err(|e| WebError::Invalid(format!("scope: {e}")))?;
    if crate::i18n::Locale::parse(&f.locale).is_none() {
        return Err(WebError::Invalid("locale: fr, ar or en".into()));
    }
    if f.display_name.trim().is_empty() || f.display_name.chars().any(char::is_control) {
        return Err(WebError::Invalid(
            "display_name: required, printable".into(),
        ));
    }
    Ok((role, scope))
}

pub async fn create_user(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    f: &UserForm,
) -> Result<User, WebError> {
    p.require(Permission::UsersManage)?;
    check_username(&f.username)?;
    let (role, scope) = parse_user_form(f)?;
    auth::check_password_strength(&f.password).map_err(WebError::Invalid)?;
    let user = new_user(
        &f.username,
        f.display_name.trim(),
        role,
        scope,
        &f.locale,
        &f.password,
    );
    s.store.create_user(&user, &actor(p, req)).await?;
    Ok(user)
}

/// A user record with a freshly hashed password (also used by `sanad admin create-user`).
pub fn new_user(
    username: &str,
    display_name: &str,
    role: Role,
    scope: Scope,
    locale: &str,
    password: &str,
) -> User {
    User {
        username: username.into(),
        display_name: display_name.into(),
        role,
        scope,
        locale: locale.into(),
        password_hash: auth::hash_password(password),
        failed_logins: 0,
        locked_until: None,
        active: true,
        created_at: sanad_store::generic::now(),
    }
}

pub async fn update_user(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    f: &UserForm,
) -> Result<User, WebError> {
    p.require(Permission::UsersManage)?;
    let (role, scope) = parse_user_form(f)?;
    let mut u = s.store.user(&f.username).await?.ok_or(WebError::NotFound)?;
    if u.username == p.username && (role != u.role || !f.active) {
        return Err(WebError::Refused(
            "an administrator cannot change their own role or deactivate themselves".into(),
        ));
    }
    let access_changed = role != u.role || scope != u.scope || !f.active || !f.password.is_empty();
    (u.display_name, u.role, u.scope, u.locale, u.active) = (
        f.display_name.trim().into(),
        role,
        scope,
        f.locale.clone(),
        f.active,
    );
    if !f.password.is_empty() {
        auth::check_password_strength(&f.password).map_err(WebError::Invalid)?;
        u.password_hash = auth::hash_password(&f.password);
        (u.failed_logins, u.locked_until) = (0, None);
    }
    s.store.update_user(&u, &actor(p, req)).await?;
    if access_changed {
        // New rights take effect at the next login, not in sessions opened under the old ones.
        s.store.delete_sessions_of(&u.username).await?;
    }
    Ok(u)
}

pub async fn audit_records(
    s: &AppState,
    p: &Principal,
    f: &AuditFilter,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditRecord>, WebError> {
    p.require(Permission::AuditRead)?;
    Ok(s.store
        .audit_records(f, before, limit.clamp(1, 1000))
        .await?)
}

/// A payroll cycle as the payment officer, the approver and the auditor see it: aggregates
/// only, never a household.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PayrollSummary {
    pub month: String,
    /// `draft` (not prepared), `prepared`, `approved`, `released`, `locked`.
    pub status: String,
    pub prepared_by: Option<String>,
    pub approved_by: Option<String>,
    pub released_by: Option<String>,
    /// Households and centimes by line status (`pay`, `withheld`, `nothing`).
    pub lines: Vec<(String, i64, i64)>,
    /// Households and centimes paid, by region.
    pub by_region: Vec<(String, i64, i64)>,
    pub reconciliation: Vec<Reconciliation>,
    pub files: Vec<sanad_store::payroll::FileRow>,
    /// Against the previous month (new, dropped, changed by more than 20 %), when both exist.
    pub variance: Option<sanad_payroll::VarianceReport>,
    /// Against the year's appropriation, when one is set and the payroll is prepared.
    pub budget: Option<sanad_payroll::BudgetReport>,
}

/// What was sent to one provider and what the bank answered, counts and centimes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reconciliation {
    pub provider: String,
    pub sent: (i64, i64),
    pub pending: (i64, i64),
    pub settled: (i64, i64),
    pub rejected: (i64, i64),
    pub returned: (i64, i64),
}

pub async fn payroll_summary(
    s: &AppState,
    p: &Principal,
    month: Month,
) -> Result<PayrollSummary, WebError> {
    p.require(Permission::PayrollRead)?;
    let m = month.to_string();
    let mut out = PayrollSummary {
        month: m.clone(),
        status: "draft".into(),
        ..Default::default()
    };
    if let Some(body) = s.store.cycle(&m).await? {
        let c: sanad_payroll::Cycle = serde_json::from_str(&body).map_err(corrupt)?;
        out.status = format!("{:?}", c.status()).to_lowercase();
        (out.prepared_by, out.approved_by, out.released_by) = (
            c.prepared_by().map(Into::into),
            c.approved_by().map(Into::into),
            c.released_by().map(Into::into),
        );
    }
    // Counted by the database: a national cycle has millions of lines and payments.
    let add = |v: &mut Vec<(String, i64, i64)>, k: &str, n: i64, amount: i64| match v
        .iter_mut()
        .find(|x| x.0 == k)
    {
        Some(x) => (x.1, x.2) = (x.1 + n, x.2 + amount),
        None => v.push((k.to_owned(), n, amount)),
    };
    for t in s.store.payroll_line_counts(&m).await? {
        add(&mut out.lines, &t.a, t.count, t.amount);
        if t.a == "pay" {
            add(&mut out.by_region, &t.b, t.count, t.amount);
        }
    }
    out.by_region.sort();
    for t in s.store.payment_counts(&m).await? {
        let r = match out.reconciliation.iter().position(|r| r.provider == t.a) {
            Some(i) => &mut out.reconciliation[i],
            None => {
                out.reconciliation.push(Reconciliation {
                    provider: t.a.clone(),
                    ..Default::default()
                });
                out.reconciliation.last_mut().expect("just pushed")
            }
        };
        let bump = |x: &mut (i64, i64)| (x.0, x.1) = (x.0 + t.count, x.1 + t.amount);
        bump(&mut r.sent);
        match t.b.as_str() {
            "settled" => bump(&mut r.settled),
            "rejected" => bump(&mut r.rejected),
            "returned" => bump(&mut r.returned),
            _ => bump(&mut r.pending),
        }
    }
    out.reconciliation
        .sort_by(|a, b| a.provider.cmp(&b.provider));
    out.files = s.store.payment_files(&m).await?;
    out.variance = sanad_payroll::run::variance_vs_previous(
        &*s.store,
        month,
        sanad_payroll::run::VARIANCE_THRESHOLD,
    )
    .await
    .map_err(corrupt)?;
    if !out.lines.is_empty() {
        let payroll = sanad_payroll::run::stored_summary(&*s.store, month)
            .await
            .map_err(corrupt)?;
        out.budget = sanad_payroll::run::budget(&*s.store, &payroll)
            .await
            .map_err(corrupt)?;
    }
    Ok(out)
}

/// Run a step of the cycle as this user; the payroll crate enforces maker-checker.
pub async fn payroll_step(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    month: Month,
    step: &str,
) -> Result<(), WebError> {
    let store = &*s.store;
    let actor = actor(p, req);
    let refused = |e: sanad_payroll::run::RunError| match e {
        sanad_payroll::run::RunError::Store(e) => WebError::from(e),
        other => WebError::Refused(other.to_string()),
    };
    match step {
        "prepare" => {
            p.require(Permission::PayrollPrepare)?;
            sanad_payroll::run::prepare(store, month, &actor, &s.notify.templates)
                .await
                .map_err(refused)?;
        }
        "approve" => {
            p.require(Permission::PayrollApprove)?;
            sanad_payroll::run::approve(store, month, &actor)
                .await
                .map_err(refused)?;
        }
        "release" => {
            p.require(Permission::PayrollPrepare)?;
            // The notices it queues are worded by the server's templates.
            let cfg = sanad_payroll::run::ReleaseConfig {
                templates: s.notify.templates.clone(),
                ..(*s.release).clone()
            };
            sanad_payroll::run::release(store, month, &actor, &cfg)
                .await
                .map_err(refused)?;
        }
        _ => return Err(WebError::NotFound),
    }
    Ok(())
}

/// A household's payments and what its ledger says it owes or is owed back.
pub struct HouseholdPayments {
    pub payments: Vec<sanad_store::payroll::PaymentRow>,
    /// Undue payments still to recover.
    pub debt: sanad_domain::Money,
    /// Rejected or returned payments waiting to be re-issued.
    pub held: sanad_domain::Money,
}

/// For a household the caller may see (checked by [`household`] first).
pub async fn household_payments(
    s: &AppState,
    h: &Household,
) -> Result<HouseholdPayments, WebError> {
    let id = h.rsu_id.to_string();
    let entries = s
        .store
        .ledger_of(&id)
        .await?
        .iter()
        .map(|b| serde_json::from_str::<sanad_payroll::Entry>(b).map_err(corrupt))
        .collect::<Result<Vec<_>, _>>()?;
    let ledger = sanad_payroll::Ledger::replay(entries).map_err(corrupt)?;
    let (debt, held) = ledger.book(&h.rsu_id).map_or(
        (sanad_domain::Money::ZERO, sanad_domain::Money::ZERO),
        |b| {
            (
                b.total(sanad_payroll::Account::Debt),
                b.total(sanad_payroll::Account::Returned),
            )
        },
    );
    Ok(HouseholdPayments {
        payments: s.store.payments_of(&id).await?,
        debt,
        held,
    })
}

/// What an applicant (or the agent for them) submits.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ApplicationForm {
    pub household_id: String,
    /// `child_allowance` and/or `flat_rate`.
    #[schema(value_type = Vec<String>)]
    pub components: Vec<sanad_applications::Requested>,
    /// `web`, `api`, `agent` or `bulk` (default: `agent` from the pages, `api` from the API).
    #[schema(value_type = Option<String>)]
    pub channel: Option<sanad_applications::Channel>,
    /// The household's language for its notices: `fr` (default) or `ar`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub language: Option<sanad_applications::notify::Language>,
}

/// An application with its checks and the automatic decision, as stored and shown.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ApplicationFile {
    pub receipt: String,
    pub status: sanad_applications::Status,
    pub application: sanad_applications::Application,
    pub checks: Vec<sanad_applications::Check>,
    pub decision: sanad_applications::AutoDecision,
    pub deadline: chrono::NaiveDate,
    /// The first month paid, once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_month: Option<Month>,
    /// The language of the household's notices (absent in files saved before: French).
    #[serde(default)]
    pub language: Option<sanad_applications::notify::Language>,
}

impl ApplicationFile {
    pub fn language(&self) -> sanad_applications::notify::Language {
        self.language
            .unwrap_or(sanad_applications::notify::Language::Fr)
    }
}

fn corrupt(e: impl ToString) -> WebError {
    WebError::Store(sanad_store::StoreError::Corrupt(e.to_string()))
}

/// What an approval grants: the requested aids, from the start month of the rule set in force
/// in the application's month. Nothing for any other status.
fn award_of(
    book: &sanad_rules::RuleBook,
    file: &mut ApplicationFile,
) -> Result<Option<sanad_store::Award>, WebError> {
    let app = &file.application;
    let decided = app
        .history
        .last()
        .filter(|c| c.to == sanad_applications::Status::Approved);
    let Some(decided) = decided else {
        return Ok(None);
    };
    let applied = Month::of(app.submitted_on);
    let rules = book
        .for_month(applied)
        .ok_or_else(|| WebError::Refused(format!("no rule set in force in {applied}")))?;
    let start = sanad_applications::start_month(rules, app.submitted_on, decided.on);
    file.start_month = Some(start);
    Ok(Some(sanad_store::Award {
        components: app.requested.iter().map(|r| r.code().to_owned()).collect(),
        start_month: start.to_string(),
    }))
}

/// Take an application: one open per household and component, a receipt number, every
/// check run with its evidence, then approved, rejected with reasons, or sent to review.
/// A cross-check list never imported leaves its checks inconclusive: such applications go to
/// an agent's review. The receipt, and an automatic decision, are queued to the household.
pub async fn submit_application(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    f: &ApplicationForm,
    default_channel: sanad_applications::Channel,
) -> Result<ApplicationFile, WebError> {
    submit_application_on(s, p, req, f, default_channel, s.today()).await
}

/// Whether `f` would be taken on `submitted_on`, without writing anything: the permission,
/// the household in scope, the date, the one-open-application rule and a rule set in force.
/// What the import checks for every row before applying any.
pub async fn check_application(
    s: &AppState,
    p: &Principal,
    f: &ApplicationForm,
    submitted_on: chrono::NaiveDate,
) -> Result<Household, WebError> {
    use sanad_applications as apps;
    p.require(Permission::ApplicationsIntake)?;
    let h = household(s, p, &f.household_id).await?;
    let today = s.today();
    if submitted_on > today {
        return Err(WebError::Invalid(format!(
            "submitted_on: {submitted_on} is in the future"
        )));
    }
    let existing = s.store.applications_of(&h.rsu_id.to_string()).await?;
    let existing: Vec<apps::Application> = existing
        .iter()
        .map(|r| {
            serde_json::from_str::<ApplicationFile>(&r.body)
                .map(|a| a.application)
                .map_err(corrupt)
        })
        .collect::<Result<_, _>>()?;
    apps::check_no_open_application(&existing, &h.rsu_id, &f.components)
        .map_err(|e| WebError::Refused(e.to_string()))?;
    let book = s.rule_book().await?;
    book.for_month(Month::of(today)).ok_or_else(|| {
        WebError::Refused(format!("no rule set in force in {}", Month::of(today)))
    })?;
    Ok(h)
}

/// [`submit_application`] for an application received on `submitted_on` (a paper form
/// entered later by the bulk import); checked and decided today.
pub async fn submit_application_on(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    f: &ApplicationForm,
    default_channel: sanad_applications::Channel,
    submitted_on: chrono::NaiveDate,
) -> Result<ApplicationFile, WebError> {
    let forms = std::slice::from_ref(f);
    let mut files = take_batch(s, p, req, forms, default_channel, submitted_on, |f| f).await?;
    Ok(files.pop().expect("one file per form"))
}

/// What a batch reports of each application it took; its file is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub receipt: String,
    pub status: sanad_applications::Status,
}

impl Taken {
    fn of(file: ApplicationFile) -> Taken {
        Taken {
            receipt: file.receipt,
            status: file.status,
        }
    }
}

/// How many applications a batch reads, decides or writes at a time, unless the state says
/// otherwise (`AppState::with_intake_part`): a part is read while the one before it is
/// decided and the one before that written.
pub const PART: usize = 10_000;

/// Take many applications received on `submitted_on` as [`submit_application`] takes one — a
/// launch wave, the demo's history — part by part, every application saved in one
/// transaction: all are taken, or none (the first refusal names its form, counted from 1).
/// Checked and decided today; notices queued once saved.
pub async fn submit_applications(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    forms: &[ApplicationForm],
    default_channel: sanad_applications::Channel,
    submitted_on: chrono::NaiveDate,
) -> Result<Vec<Taken>, WebError> {
    take_batch(s, p, req, forms, default_channel, submitted_on, Taken::of).await
}

/// The batch path, keeping of each decided file what `keep` returns: a launch wave does not
/// hold 500,000 files in memory.
async fn take_batch<T>(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    forms: &[ApplicationForm],
    default_channel: sanad_applications::Channel,
    submitted_on: chrono::NaiveDate,
    keep: fn(ApplicationFile) -> T,
) -> Result<Vec<T>, WebError> {
    p.require(Permission::ApplicationsIntake)?;
    let today = s.today();
    if submitted_on > today {
        return Err(WebError::Invalid(format!(
            "submitted_on: {submitted_on} is in the future"
        )));
    }
    let book = s.rule_book().await?;
    book.for_month(Month::of(today)).ok_or_else(|| {
        WebError::Refused(format!("no rule set in force in {}", Month::of(today)))
    })?;
    if forms.is_empty() {
        return Ok(Vec::new());
    }
    let year = chrono::Datelike::year(&submitted_on);
    let first = s
        .store
        .reserve_sequence(
            &format!("receipt-{year}"),
            u32::try_from(forms.len()).map_err(corrupt)?,
        )
        .await?;
    let intake = Arc::new(Intake {
        book,
        notify: s.notify.clone(),
        first,
        year,
        today,
        submitted_on,
        default_channel,
        single: forms.len() == 1,
        at: crate::notify::now(),
    });
    let (parts, received) = tokio::sync::mpsc::channel(2);
    let writer = tokio::spawn({
        let (store, actor) = (s.store.clone(), actor(p, req));
        async move {
            store
                .save_applications_streamed(received, "submit", &actor)
                .await
        }
    });
    let taken = take_parts(s, p, forms, &intake, &parts, keep).await;
    if let Ok(Some(_)) = taken {
        // Without this the writer rolls the batch back: a refusal saves nothing.
        let _ = parts
            .send(sanad_store::applications::Streamed::Commit)
            .await;
    }
    drop(parts);
    let t = std::time::Instant::now();
    let saved = writer.await.map_err(corrupt)?;
    tracing::debug!(applications = forms.len(), committed = ?t.elapsed(), "applications taken");
    match taken? {
        Some(files) => saved.map(|()| files).map_err(WebError::from),
        // The writer hung up: its error says why.
        None => Err(saved
            .err()
            .map_or_else(|| corrupt("the application writer stopped"), WebError::from)),
    }
}

/// What every application of a batch is decided with.
struct Intake {
    book: Arc<sanad_rules::RuleBook>,
    notify: Arc<crate::notify::NotifyConfig>,
    /// The receipt number of the batch's first application.
    first: i64,
    year: i32,
    today: chrono::NaiveDate,
    submitted_on: chrono::NaiveDate,
    default_channel: sanad_applications::Channel,
    /// A batch of one: its refusal does not name a form.
    single: bool,
    at: chrono::NaiveDateTime,
}

/// What a part of a batch reads before it is decided.
struct PartRead {
    households: Vec<Household>,
    lists: sanad_applications::Lists,
    index: sanad_applications::verification::MemoryIndex,
    /// Applications already stored for the part's households.
    stored: Vec<(String, sanad_applications::Application)>,
}

/// A part decided: its files, and the rows and notices to save.
struct Decided {
    files: Vec<ApplicationFile>,
    batch: Vec<(sanad_store::ApplicationRow, Option<sanad_store::Award>)>,
    notices: Vec<sanad_store::MessageRow>,
    /// Each household's applications so far, handed on to the next part.
    open: HashMap<String, Vec<sanad_applications::Application>>,
}

/// How many parts are read at once, ahead of the one being decided.
const READ_AHEAD: usize = 2;

/// Parts being read, each on its own task; dropped, they stop.
struct Reading(std::collections::VecDeque<tokio::task::JoinHandle<PartReadAt>>);

type PartReadAt = (usize, Vec<ApplicationForm>, Result<PartRead, WebError>);

impl Drop for Reading {
    fn drop(&mut self) {
        self.0.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

/// Read, decide and send to the writer each part of `forms`: [`READ_AHEAD`] parts are read
/// while one is decided and another written. `None` if the writer hung up.
async fn take_parts<T>(
    s: &AppState,
    p: &Principal,
    forms: &[ApplicationForm],
    intake: &Arc<Intake>,
    parts: &tokio::sync::mpsc::Sender<sanad_store::applications::Streamed>,
    keep: fn(ApplicationFile) -> T,
) -> Result<Option<Vec<T>>, WebError> {
    let mut files = Vec::with_capacity(forms.len());
    let mut open = HashMap::new();
    let mut deciding: Option<tokio::task::JoinHandle<Result<Decided, WebError>>> = None;
    let part = s.intake_part();
    let mut chunks = forms.chunks(part).enumerate();
    let mut read_next = || {
        let (k, chunk) = chunks.next()?;
        let (s, p, chunk) = (s.clone(), p.clone(), chunk.to_vec());
        Some(tokio::spawn(async move {
            let read = read_part(&s, &p, &chunk).await;
            (k * part, chunk, read)
        }))
    };
    let mut reading = Reading((0..READ_AHEAD).map_while(|_| read_next()).collect());
    loop {
        let t = std::time::Instant::now();
        let next = match reading.0.pop_front() {
            Some(h) => {
                let (offset, chunk, read) = h.await.map_err(corrupt)?;
                reading.0.extend(read_next());
                Some((offset, chunk, read?))
            }
            None => None,
        };
        let read = t.elapsed();
        if let Some(d) = deciding.take() {
            let d = d.await.map_err(corrupt)??;
            let decided = t.elapsed();
            files.extend(d.files.into_iter().map(keep));
            open = d.open;
            let part = sanad_store::applications::Streamed::Part {
                batch: d.batch,
                notices: d.notices,
            };
            if parts.send(part).await.is_err() {
                return Ok(None);
            }
            let sent = t.elapsed();
            tracing::debug!(
                ?read,
                ?decided,
                ?sent,
                "applications part (cumulative times)"
            );
        }
        let Some((offset, chunk, mut read)) = next else {
            return Ok(Some(files));
        };
        // A household met in an earlier part already holds its stored applications, and the
        // batch's.
        let mut stored: HashMap<String, Vec<sanad_applications::Application>> = HashMap::new();
        for (key, app) in std::mem::take(&mut read.stored) {
            stored.entry(key).or_default().push(app);
        }
        for (key, apps) in stored {
            open.entry(key).or_insert(apps);
        }
        let (intake, open) = (intake.clone(), std::mem::take(&mut open));
        deciding = Some(tokio::task::spawn_blocking(move || {
            decide_part(&intake, offset, &chunk, read, open)
        }));
    }
}

/// A part's households, with the lists, the duplicate index and the applications they need,
/// read concurrently on the store's reader connections.
async fn read_part(
    s: &AppState,
    p: &Principal,
    forms: &[ApplicationForm],
) -> Result<PartRead, WebError> {
    let t = std::time::Instant::now();
    let households = households_of(s, p, forms).await?;
    let read = t.elapsed();
    let keys: Vec<String> = households.iter().map(|h| h.rsu_id.to_string()).collect();
    let ((lists, listed), (index, indexed), (rows, stored)) = tokio::try_join!(
        timed(stored_lists(s, &households)),
        timed(registry_index(s, &households)),
        timed(async { Ok::<_, WebError>(s.store.applications_of_households(&keys).await?) }),
    )?;
    tracing::debug!(
        ?read,
        ?listed,
        ?indexed,
        ?stored,
        "part read (households, then the rest at once)"
    );
    let stored = rows
        .into_iter()
        .map(|r| {
            let file = serde_json::from_str::<ApplicationFile>(&r.body).map_err(corrupt)?;
            Ok((r.rsu_id, file.application))
        })
        .collect::<Result<_, WebError>>()?;
    Ok(PartRead {
        households,
        lists,
        index,
        stored,
    })
}

/// `f`'s outcome, with how long it took.
async fn timed<T>(
    f: impl std::future::Future<Output = Result<T, WebError>>,
) -> Result<(T, std::time::Duration), WebError> {
    let t = std::time::Instant::now();
    f.await.map(|v| (v, t.elapsed()))
}

/// Check, decide and render the notices of a part's applications, numbered from `offset`
/// within the batch.
fn decide_part(
    intake: &Intake,
    offset: usize,
    forms: &[ApplicationForm],
    read: PartRead,
    mut open: HashMap<String, Vec<sanad_applications::Application>>,
) -> Result<Decided, WebError> {
    use sanad_applications as apps;
    let book = &intake.book;
    let rules = book
        .for_month(Month::of(intake.today))
        .ok_or_else(|| corrupt("the rule set in force was checked"))?;
    let policy = apps::DeadlinePolicy::default();
    let mut d = Decided {
        files: Vec::with_capacity(forms.len()),
        batch: Vec::with_capacity(forms.len()),
        notices: Vec::new(),
        open: HashMap::new(),
    };
    for (i, (f, h)) in forms.iter().zip(&read.households).enumerate() {
        let i = offset + i;
        let key = h.rsu_id.to_string();
        let existing = open.entry(key.clone()).or_default();
        let refused = |e: String| {
            WebError::Refused(if intake.single {
                e
            } else {
                format!("application {}: {e}", i + 1)
            })
        };
        apps::check_no_open_application(existing, &h.rsu_id, &f.components)
            .map_err(|e| refused(e.to_string()))?;
        let number = u32::try_from(intake.first + i as i64).map_err(corrupt)?;
        let receipt = apps::ReceiptNumber::new(intake.year, number).map_err(corrupt)?;
        let app = apps::Application::submit(
            receipt,
            h.rsu_id.clone(),
            h.registrant.clone(),
            f.channel.unwrap_or(intake.default_channel),
            &f.components,
            intake.submitted_on,
        )
        .map_err(refused)?;
        let mut file = verify_and_decide(app, h, &read.lists, &read.index, rules, intake.today)?;
        file.language = f.language;
        let award = award_of(book, &mut file)?;
        existing.push(file.application.clone());
        let row = sanad_store::ApplicationRow {
            receipt: file.receipt.clone(),
            rsu_id: key,
            status: wire_name(&file.status),
            submitted_on: intake.submitted_on.to_string(),
            body: serde_json::to_string(&file).map_err(corrupt)?,
            language: file.language().code().into(),
        };
        let receipt_notice = apps::notify::Notice::receipt(&file.application, &policy);
        let decided = decision_notice(h, &file, book);
        for (id, notice) in std::iter::once((format!("receipt:{}", file.receipt), receipt_notice))
            .chain(decided.map(|n| (format!("decision:{}", file.receipt), n)))
        {
            match crate::notify::message_row(
                &intake.notify,
                h,
                id.clone(),
                &notice,
                file.language(),
                intake.at,
            ) {
                Ok(row) => d.notices.extend(row),
                // A template that does not render costs the notice, not the application.
                Err(e) => tracing::warn!(message = %id, error = %e, "notice not queued"),
            }
        }
        d.batch.push((row, award));
        d.files.push(file);
    }
    d.open = open;
    Ok(d)
}
/// The households the forms name, in their order, read in one batch within the caller's scope.
async fn households_of(
    s: &AppState,
    p: &Principal,
    forms: &[ApplicationForm],
) -> Result<Vec<Household>, WebError> {
    p.require(Permission::HouseholdRead)?;
    let ids: Vec<RsuId> = forms
        .iter()
        .map(|f| RsuId::parse(&f.household_id).map_err(|_| WebError::NotFound))
        .collect::<Result<_, _>>()?;
    let found: HashMap<RsuId, Household> = s
        .store
        .households(&p.scope, &ids)
        .await?
        .into_iter()
        .map(|h| (h.rsu_id.clone(), h))
        .collect();
    ids.iter()
        .map(|id| found.get(id).cloned().ok_or(WebError::NotFound))
        .collect()
}

/// The duplicate index of a batch: the registry's answers about its members and contacts.
async fn registry_index(
    s: &AppState,
    households: &[Household],
) -> Result<sanad_applications::verification::MemoryIndex, WebError> {
    use sanad_applications::verification::{MemoryIndex, PersonRecord};
    let e = s.store.duplicate_evidence(households).await?;
    let bad = |what: &'static str| {
        move |_| {
            WebError::Store(sanad_store::StoreError::Corrupt(format!(
                "duplicate index: bad {what}"
            )))
        }
    };
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let cnie = e
        .cnie_holders
        .into_iter()
        .map(|(c, h)| {
            Ok((
                sanad_domain::Cnie::parse(&c).map_err(bad("CNIE"))?,
                RsuId::parse(&h).map_err(bad("RSU id"))?,
            ))
        })
        .collect::<Result<Vec<_>, WebError>>()?;
    let phones = e
        .phones
        .into_iter()
        .map(|(ph, n)| {
            Ok((
                sanad_domain::Phone::parse(&ph).map_err(bad("phone"))?,
                count(n),
            ))
        })
        .collect::<Result<Vec<_>, WebError>>()?;
    let persons = e
        .namesakes
        .into_iter()
        .map(|p| {
            Ok(PersonRecord {
                household: RsuId::parse(&p.household_id).map_err(bad("RSU id"))?,
                idcs: sanad_domain::Idcs::parse(&p.idcs).ok(),
                cnie: p
                    .cnie
                    .as_deref()
                    .and_then(|c| sanad_domain::Cnie::parse(c).ok()),
                first_name: p.first_name,
                last_name: p.last_name,
                first_name_ar: p.first_name_ar,
                last_name_ar: p.last_name_ar,
                birth_date: p.birth_date,
            })
        })
        .collect::<Result<Vec<_>, WebError>>()?;
    Ok(MemoryIndex::from_registry(
        households,
        cnie,
        phones,
        e.accounts.into_iter().map(|(a, n)| (a, count(n))),
        persons,
    ))
}

/// Every check with its evidence, then the automatic decision: approved, rejected with its
/// reasons, or sent to an agent's review. The 30-day deadline runs from the application date.
fn verify_and_decide(
    mut app: sanad_applications::Application,
    h: &Household,
    lists: &sanad_applications::Lists,
    index: &sanad_applications::verification::MemoryIndex,
    rules: &sanad_rules::RuleSet,
    today: chrono::NaiveDate,
) -> Result<ApplicationFile, WebError> {
    use sanad_applications as apps;
    let indexes = apps::verification::Indexes {
        identity: index,
        contacts: index,
        persons: index,
    };
    let checks = apps::verify(
        &app,
        h,
        lists,
        indexes,
        rules,
        &apps::VerificationPolicy::default(),
        today,
    );
    let decision = apps::decide(&checks);
    let reasons = match &decision {
        apps::AutoDecision::Reject { reasons } => reasons.clone(),
        _ => Vec::new(),
    };
    app.move_to(apps::Status::Verifying, today, Vec::new())
        .map_err(corrupt)?;
    app.move_to(decision.status(), today, reasons)
        .map_err(corrupt)?;
    Ok(ApplicationFile {
        receipt: app.receipt.to_string(),
        status: app.status(),
        deadline: app.submitted_on
            + chrono::Duration::days(i64::from(apps::DeadlinePolicy::default().decision_days)),
        application: app,
        checks,
        decision,
        start_month: None,
        language: None,
    })
}

/// The decision notice of a decided application: the amount and first month of an approval,
/// the reasons and appeal deadline of a rejection. None while it is in review.
fn decision_notice(
    h: &Household,
    file: &ApplicationFile,
    book: &sanad_rules::RuleBook,
) -> Option<sanad_applications::notify::Notice> {
    use sanad_applications as apps;
    let on = file.application.decision()?.on;
    let (start, amount) = match book.for_month(Month::of(on)) {
        Some(rules) => {
            let start = file
                .start_month
                .unwrap_or_else(|| apps::start_month(rules, file.application.submitted_on, on));
            (
                start,
                entitlement(book, h, start)
                    .map_or(sanad_domain::Money::ZERO, |e| e.decision.monthly_total),
            )
        }
        None => (Month::of(on), sanad_domain::Money::ZERO),
    };
    apps::notify::Notice::decision(
        &file.application,
        start,
        amount,
        &apps::DeadlinePolicy::default(),
    )
}

/// The imported cross-check lists, with the rows about these households' members.
async fn stored_lists(
    s: &AppState,
    households: &[Household],
) -> Result<sanad_applications::Lists, WebError> {
    let idcs: Vec<String> = households
        .iter()
        .flat_map(|h| &h.members)
        .map(|m| m.idcs.to_string())
        .collect();
    let mut found = HashMap::new();
    for kind in sanad_applications::ListKind::ALL {
        if let Some(meta) = s.store.list_meta(kind.code()).await? {
            found.insert(kind.code(), (kind, meta, Vec::new()));
        }
    }
    // One read for every list imported: each person is looked up once, not once per list.
    let kinds: Vec<&str> = found.keys().copied().collect();
    for (kind, line, body) in s.store.lists_rows(&kinds, &idcs).await? {
        if let Some((_, _, rows)) = found.get_mut(kind.as_str()) {
            rows.push((line, body));
        }
    }
    let mut found: HashMap<_, _> = found
        .into_values()
        .map(|(kind, meta, rows)| (kind, (meta, rows)))
        .collect();
    sanad_applications::Lists::from_stored(|k| found.remove(&k)).map_err(|e| {
        WebError::Store(sanad_store::StoreError::Corrupt(format!(
            "cross-check list: {e}"
        )))
    })
}

/// What a declared life event did: the household re-evaluated from the event's month to this
/// one under the rules in force each month (the next payroll settles it in the ledger).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventOutcome {
    pub id: i64,
    pub kind: String,
    /// Owed to the household for the months already paid (centimes).
    pub arrears: i64,
    /// Paid too much for the months already paid, to recover (centimes).
    pub overpayment: i64,
    /// `continue`, `suspend` or `terminate`.
    pub lifecycle: String,
}

/// A recorded event, as listed on the household page and by the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: i64,
    pub kind: String,
    pub effective: String,
    pub declared_on: String,
    pub declared_by: String,
}

/// Record a life event or declaration for a household the caller may see: the household as it
/// is after it (checked whole), the event, and the audit record, in one transaction. Declared
/// today; effective on its own date, which may be in the past (a birth declared late).
pub async fn declare_event(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    kind: sanad_applications::EventKind,
    effective: chrono::NaiveDate,
) -> Result<EventOutcome, WebError> {
    use sanad_applications as apps;
    p.require(Permission::ApplicationsIntake)?;
    let before = household(s, p, id).await?;
    let today = s.today();
    let event = apps::LifeEvent {
        effective,
        declared_on: today,
        kind,
    };
    let after = apps::apply_event(&before, &event).map_err(|e| WebError::Invalid(e.to_string()))?;
    let book = s.rule_book().await?;
    let paid = s
        .store
        .payments_of(id)
        .await?
        .iter()
        .filter_map(|x| x.month.parse::<Month>().ok())
        .max();
    let params = apps::ReevaluationParams::new(Month::of(effective), Month::of(today), paid);
    let r = apps::reevaluate(&before, &after, &book, &params);
    let kind = wire_name(&serde_json::to_value(&event.kind).map_err(corrupt)?["event"]);
    let row = sanad_store::EventRow {
        id: 0,
        rsu_id: id.to_owned(),
        kind: kind.clone(),
        effective: effective.to_string(),
        declared_on: today.to_string(),
        body: serde_json::to_string(&event).map_err(corrupt)?,
        declared_by: p.username.clone(),
    };
    let recorded = s.store.record_event(&after, &row, &actor(p, req)).await?;
    let lifecycle = consequences(s, p, req, &after, &r, paid, recorded).await?;
    Ok(EventOutcome {
        id: recorded,
        kind,
        arrears: r.arrears.centimes(),
        overpayment: r.overpayment.centimes(),
        lifecycle: lifecycle.into(),
    })
}

/// What one chunk of a national score refresh did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RefreshSummary {
    pub rows: u64,
    /// Score rows new to the registry (the others were held already: a repeat changes nothing).
    pub new_scores: u64,
    /// Households moved across the threshold: re-evaluated, a `score_update` event each.
    pub moved: u64,
    /// Of those, households no longer payable: suspended, with a notice queued.
    pub suspended: u64,
    /// Rows not applied, with the reason: a household the registry does not hold, or one the
    /// new score would leave invalid.
    pub refused: Vec<(u64, String)>,
}

/// Apply a chunk of a national RSU score refresh, a system feed over the whole registry. Every
/// new score is recorded; a household the new score moves across the eligibility threshold in
/// some month since it took effect is re-evaluated as a declared `score_update` would be (a life
/// event, which the next payroll settles; a suspension notice if no longer payable). The others
/// change no payment (amounts do not depend on the score), so they need no more. One
/// transaction per chunk; applying a chunk again changes nothing.
pub async fn refresh_scores(
    s: &AppState,
    actor: &Actor,
    updates: &[sanad_applications::events::ScoreUpdate],
    declared_on: chrono::NaiveDate,
) -> Result<RefreshSummary, WebError> {
    let plan = plan_refresh(s, actor, updates, declared_on).await?;
    save_refresh(s, actor, plan).await
}

/// A chunk of a refresh decided but not written yet: the new scores, the moved households'
/// events and notices, the awards the new scores end.
pub struct RefreshPlan {
    summary: RefreshSummary,
    scores: Vec<sanad_store::rows::ScoreRow>,
    events: Vec<sanad_store::EventRow>,
    notices: Vec<sanad_store::MessageRow>,
    ended: Vec<sanad_store::AwardEnd>,
}

/// Write a planned chunk in one transaction. A household the new score terminates has its
/// awards ended in it.
pub async fn save_refresh(
    s: &AppState,
    actor: &Actor,
    plan: RefreshPlan,
) -> Result<RefreshSummary, WebError> {
    let RefreshPlan {
        summary,
        scores,
        events,
        notices,
        ended,
    } = plan;
    let t = std::time::Instant::now();
    s.store
        .save_score_refresh(&scores, &events, &notices, &ended, actor)
        .await?;
    tracing::debug!(took = ?t.elapsed(), "refresh chunk saved");
    Ok(summary)
}

/// Read and decide a chunk of a refresh, writing nothing: it reads the registry as it is, so
/// a chunk planned while another is written must not share a household with it.
pub async fn plan_refresh(
    s: &AppState,
    actor: &Actor,
    updates: &[sanad_applications::events::ScoreUpdate],
    declared_on: chrono::NaiveDate,
) -> Result<RefreshPlan, WebError> {
    use sanad_applications as apps;
    use sanad_domain::{ScoreHistory, ScoreRecord};
    let book = s.rule_book().await?;
    let t = std::time::Instant::now();
    let ids: Vec<String> = updates.iter().map(|u| u.rsu_id.to_string()).collect();
    let mut histories: HashMap<String, ScoreHistory> = HashMap::new();
    for (id, rows) in s.store.score_histories(&Scope::National, &ids).await? {
        let records = rows.iter().map(|r| ScoreRecord {
            value: sanad_domain::Score::from_millionths(r.value_millionths),
            computed_on: r.computed_on,
            valid_from: r.valid_from,
        });
        histories.insert(id, ScoreHistory::new(records.collect()));
    }
    let mut sum = RefreshSummary {
        rows: updates.len() as u64,
        ..Default::default()
    };
    let (mut scores, mut moved) = (
        Vec::new(),
        HashMap::<RsuId, Vec<&apps::events::ScoreUpdate>>::new(),
    );
    let to = Month::of(declared_on);
    for u in updates {
        let Some(history) = histories.get_mut(u.rsu_id.as_str()) else {
            sum.refused.push((
                u.line,
                format!("rsu_id: no household {} in the registry", u.rsu_id),
            ));
            continue;
        };
        let before = history.clone();
        if !history.record(u.record) {
            continue;
        }
        let r = u.record;
        scores.push(sanad_store::rows::ScoreRow {
            household_id: u.rsu_id.to_string(),
            value_millionths: r.value.millionths(),
            computed_on: r.computed_on,
            valid_from: r.valid_from,
        });
        if apps::events::crosses_threshold(
            &book,
            &before,
            history,
            Month::of(r.valid_from.min(declared_on)),
            to,
        ) {
            moved.entry(u.rsu_id.clone()).or_default().push(u);
        }
    }
    sum.new_scores = scores.len() as u64;
    let decided = t.elapsed();
    let (events, notices, ended) =
        reevaluate_moved(s, actor, &book, &moved, declared_on, &mut sum).await?;
    tracing::debug!(rows = updates.len(), moved = moved.len(), ?decided, total = ?t.elapsed(), "refresh chunk planned");
    Ok(RefreshPlan {
        summary: sum,
        scores,
        events,
        notices,
        ended,
    })
}

/// The events, suspension notices and ended awards (household, last month) of the households a
/// refresh moves across the threshold, read as they are before it (the chunk's new scores are
/// not written yet).
async fn reevaluate_moved(
    s: &AppState,
    actor: &Actor,
    book: &sanad_rules::RuleBook,
    moved: &HashMap<RsuId, Vec<&sanad_applications::events::ScoreUpdate>>,
    declared_on: chrono::NaiveDate,
    sum: &mut RefreshSummary,
) -> Result<
    (
        Vec<sanad_store::EventRow>,
        Vec<sanad_store::MessageRow>,
        Vec<sanad_store::AwardEnd>,
    ),
    WebError,
> {
    use sanad_applications as apps;
    let t = std::time::Instant::now();
    let ids: Vec<RsuId> = moved.keys().cloned().collect();
    let households = s.store.households(&Scope::National, &ids).await?;
    let read = t.elapsed();
    let languages = latest_languages(s, &households).await?;
    let paid = last_paid_month(s, Month::of(declared_on)).await?;
    tracing::debug!(?read, languages = ?t.elapsed() - read, "moved households read");
    let (mut events, mut notices, mut ended, at) =
        (Vec::new(), Vec::new(), Vec::new(), crate::notify::now());
    for before in &households {
        let updates = &moved[&before.rsu_id];
        let evs: Vec<apps::LifeEvent> = updates.iter().map(|u| u.event(declared_on)).collect();
        let after = match evs
            .iter()
            .try_fold(before.clone(), |h, e| apps::apply_event(&h, e))
        {
            Ok(h) => h,
            Err(e) => {
                sum.refused
                    .extend(updates.iter().map(|u| (u.line, e.to_string())));
                continue;
            }
        };
        let from = evs
            .iter()
            .map(|e| Month::of(e.effective))
            .min()
            .expect("a moved household has an update");
        let r = apps::reevaluate(
            before,
            &after,
            book,
            &apps::ReevaluationParams::new(from, Month::of(declared_on), paid),
        );
        sum.moved += 1;
        for e in &evs {
            let body = serde_json::to_string(e).map_err(corrupt)?;
            events.push(sanad_store::EventRow {
                id: 0,
                rsu_id: before.rsu_id.to_string(),
                kind: "score_update".into(),
                effective: e.effective.to_string(),
                declared_on: declared_on.to_string(),
                body,
                declared_by: actor.user.clone(),
            });
        }
        let lang = languages
            .get(before.rsu_id.as_str())
            .copied()
            .unwrap_or(apps::notify::Language::Fr);
        if let Some(notice) = suspension_notice(&r) {
            sum.suspended += 1;
            let id = format!("suspension:score:{}:{}", before.rsu_id, evs[0].effective);
            match crate::notify::message_row(&s.notify, &after, id.clone(), &notice, lang, at) {
                Ok(row) => notices.extend(row),
                Err(e) => tracing::warn!(message = %id, error = %e, "notice not queued"),
            }
        }
        if let apps::Lifecycle::Terminate { suspended_from, .. } = r.lifecycle {
            let last = award_end(suspended_from, paid);
            ended.push(termination(s, &after, last, lang, at));
        }
    }
    Ok((events, notices, ended))
}

/// Each household's language: that of its latest application (none: no entry).
async fn latest_languages(
    s: &AppState,
    households: &[Household],
) -> Result<HashMap<String, sanad_applications::notify::Language>, WebError> {
    let keys: Vec<String> = households.iter().map(|h| h.rsu_id.to_string()).collect();
    let mut latest: HashMap<String, (String, String, sanad_applications::notify::Language)> =
        HashMap::new();
    for r in s.store.applications_of_households(&keys).await? {
        let key = (r.submitted_on.clone(), r.receipt.clone());
        match latest.get(&r.rsu_id) {
            Some((on, receipt, _)) if (on.clone(), receipt.clone()) >= key => {}
            _ => {
                let lang = crate::notify::parse_language(&r.language).unwrap_or_default();
                latest.insert(r.rsu_id.clone(), (key.0, key.1, lang));
            }
        }
    }
    Ok(latest.into_iter().map(|(k, (_, _, l))| (k, l)).collect())
}

/// The language of a household's notices: that of its latest application.
async fn notice_language(
    s: &AppState,
    h: &Household,
) -> Result<sanad_applications::notify::Language, WebError> {
    let mut one = latest_languages(s, std::slice::from_ref(h)).await?;
    Ok(one.remove(h.rsu_id.as_str()).unwrap_or_default())
}

/// The last month whose payroll was released, looking back a year from `month`.
async fn last_paid_month(s: &AppState, month: Month) -> Result<Option<Month>, WebError> {
    let mut m = month;
    for _ in 0..=sanad_payroll::awards::ARREARS_LOOKBACK_MONTHS {
        if let Some(body) = s.store.cycle(&m.to_string()).await? {
            let c: sanad_payroll::Cycle = serde_json::from_str(&body).map_err(corrupt)?;
            if c.released_by().is_some() {
                return Ok(Some(m));
            }
        }
        m = m.prev();
    }
    Ok(None)
}

/// The notice of a re-evaluation that suspends the household: from when, until when, and why.
fn suspension_notice(
    r: &sanad_applications::Reevaluation,
) -> Option<sanad_applications::notify::Notice> {
    let sanad_applications::Lifecycle::Suspend {
        from,
        terminates_from,
    } = r.lifecycle
    else {
        return None;
    };
    let reasons = r
        .months
        .last()
        .map(|m| m.after.reasons.clone())
        .unwrap_or_default();
    Some(sanad_applications::notify::Notice::Suspension {
        from_month: from,
        terminates_from,
        reasons,
    })
}

/// A terminated household's awards ending at `last`, with its termination notice (a decision:
/// it names the last day to appeal).
fn termination(
    s: &AppState,
    h: &Household,
    last: Month,
    lang: sanad_applications::notify::Language,
    at: chrono::NaiveDateTime,
) -> sanad_store::AwardEnd {
    use sanad_applications as apps;
    let notice =
        apps::notify::Notice::termination(last, s.today(), &apps::DeadlinePolicy::default());
    let id = format!("termination:{}:{last}", h.rsu_id);
    let notice = crate::notify::message_row(&s.notify, h, id.clone(), &notice, lang, at)
        .unwrap_or_else(|e| {
            tracing::warn!(message = %id, error = %e, "notice not queued");
            None
        });
    sanad_store::AwardEnd {
        rsu_id: h.rsu_id.to_string(),
        last_month: last.to_string(),
        notice,
    }
}

/// The last month an ended award pays: the month before the suspension, or the last month
/// already paid if later (the payroll then recovers the months in between).
fn award_end(suspended_from: Month, paid: Option<Month>) -> Month {
    paid.map_or(suspended_from.prev(), |p| p.max(suspended_from.prev()))
}

/// What a recorded change's re-evaluation brings: the suspension notice (in the language of
/// the household's latest application), or on termination the end of its running awards at
/// the last month paid or payable, so the payroll stops listing it. Returns the lifecycle code.
async fn consequences(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    after: &Household,
    r: &sanad_applications::Reevaluation,
    paid: Option<Month>,
    recorded: i64,
) -> Result<&'static str, WebError> {
    use sanad_applications as apps;
    match r.lifecycle {
        apps::Lifecycle::Continue => Ok("continue"),
        apps::Lifecycle::Suspend { .. } => {
            let notice = suspension_notice(r).expect("a suspension has its notice");
            let lang = notice_language(s, after).await?;
            crate::notify::queue(
                &*s.store,
                &s.notify,
                after,
                format!("suspension:{recorded}"),
                &notice,
                lang,
            )
            .await;
            Ok("suspend")
        }
        apps::Lifecycle::Terminate { suspended_from, .. } => {
            let last = award_end(suspended_from, paid);
            let lang = notice_language(s, after).await?;
            let end = termination(s, after, last, lang, crate::notify::now());
            s.store
                .end_awards(&[end], "terminate", &actor(p, req))
                .await?;
            Ok("terminate")
        }
    }
}

// Household split.

/// One member leaving in a split, with their relation to the new household's head.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct SplitMember {
    pub idcs: String,
    /// `head` (exactly one), `spouse`, `child`, `kafala_child`, `ward`, `parent` or `other`.
    pub relation: String,
}

/// What a split needs besides its date (the page's form and the API's body).
#[derive(Debug, Clone)]
pub struct SplitForm {
    pub new_rsu_id: String,
    pub members: Vec<SplitMember>,
    /// The remaining household's new head, when its head leaves.
    pub remaining_head: Option<String>,
}

/// What a split did: the new household, the events on each, and the re-evaluation of the
/// household left behind (as for any event).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SplitOutcome {
    pub new_rsu_id: String,
    pub event: i64,
    pub new_event: i64,
    pub arrears: i64,
    pub overpayment: i64,
    pub lifecycle: String,
}

impl SplitForm {
    fn parse(&self, h: &Household) -> Result<sanad_applications::Split, WebError> {
        use sanad_domain::{Idcs, Relation};
        let new_rsu_id = RsuId::parse(self.new_rsu_id.trim())
            .map_err(|e| WebError::Invalid(format!("new_rsu_id: {e}")))?;
        if new_rsu_id == h.rsu_id {
            return Err(WebError::Invalid(
                "new_rsu_id: the new household needs its own RSU id".into(),
            ));
        }
        if self.members.is_empty() {
            return Err(WebError::Invalid(
                "members: pick the members leaving".into(),
            ));
        }
        let mut members = Vec::with_capacity(self.members.len());
        for (i, m) in self.members.iter().enumerate() {
            let idcs = Idcs::parse(m.idcs.trim())
                .map_err(|e| WebError::Invalid(format!("members[{i}].idcs: {e}")))?;
            let relation = Relation::parse(&m.relation)
                .map_err(|e| WebError::Invalid(format!("members[{i}].relation: {e}")))?;
            members.push((idcs, relation));
        }
        if members.iter().filter(|(_, r)| *r == Relation::Head).count() != 1 {
            return Err(WebError::Invalid(
                "members: exactly one of those leaving heads the new household".into(),
            ));
        }
        let remaining_head = self
            .remaining_head
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(Idcs::parse)
            .transpose()
            .map_err(|e| WebError::Invalid(format!("remaining_head: {e}")))?;
        Ok(sanad_applications::Split {
            new_rsu_id,
            members,
            remaining_head,
            residence: None,
        })
    }
}

/// Split a household the caller may see: the members leaving form a new household (a new RSU
/// id, which must not exist); both households and an event on each are written in one
/// transaction, audited; the household left behind is re-evaluated from the split's month as
/// after any event (arrears, overpayment, suspension notice, termination).
pub async fn split_household(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    f: &SplitForm,
    effective: chrono::NaiveDate,
) -> Result<SplitOutcome, WebError> {
    use sanad_applications as apps;
    p.require(Permission::ApplicationsIntake)?;
    let before = household(s, p, id).await?;
    let split = f.parse(&before)?;
    let today = s.today();
    if effective > today {
        return Err(WebError::Invalid(format!(
            "effective: {effective} is after today"
        )));
    }
    let (after, new) = apps::split_household(&before, &split, effective, today)
        .map_err(|e| WebError::Invalid(e.to_string()))?;
    let book = s.rule_book().await?;
    let paid = s
        .store
        .payments_of(id)
        .await?
        .iter()
        .filter_map(|x| x.month.parse::<Month>().ok())
        .max();
    let r = apps::reevaluate(
        &before,
        &after,
        &book,
        &apps::ReevaluationParams::new(Month::of(effective), Month::of(today), paid),
    );
    let body = serde_json::to_string(&serde_json::json!({"effective": effective, "declared_on": today, "split": split, "from": id})).map_err(corrupt)?;
    let event = |rsu: &str, kind: &str| sanad_store::EventRow {
        id: 0,
        rsu_id: rsu.to_owned(),
        kind: kind.to_owned(),
        effective: effective.to_string(),
        declared_on: today.to_string(),
        body: body.clone(),
        declared_by: p.username.clone(),
    };
    let new_id = new.rsu_id.to_string();
    let events = [
        event(id, "household_split"),
        event(&new_id, "household_formed"),
    ];
    let (old_event, new_event) = s
        .store
        .record_split(&after, &new, &events, &actor(p, req))
        .await?;
    let lifecycle = consequences(s, p, req, &after, &r, paid, old_event).await?;
    Ok(SplitOutcome {
        new_rsu_id: new_id,
        event: old_event,
        new_event,
        arrears: r.arrears.centimes(),
        overpayment: r.overpayment.centimes(),
        lifecycle: lifecycle.into(),
    })
}

/// A household's recorded events, newest first (the caller may see the household).
pub async fn events_of(s: &AppState, h: &Household) -> Result<Vec<EventView>, WebError> {
    let rows = s.store.events_of(&h.rsu_id.to_string()).await?;
    Ok(rows
        .into_iter()
        .map(|e| EventView {
            id: e.id,
            kind: e.kind,
            effective: e.effective,
            declared_on: e.declared_on,
            declared_by: e.declared_by,
        })
        .collect())
}

/// A household's applications, for a caller who may see the household.
pub async fn applications_of(
    s: &AppState,
    h: &Household,
) -> Result<Vec<ApplicationFile>, WebError> {
    let rows = s.store.applications_of(&h.rsu_id.to_string()).await?;
    rows.iter()
        .map(|r| serde_json::from_str(&r.body).map_err(corrupt))
        .collect()
}

/// Applications waiting for review in the caller's scope, oldest first.
pub async fn review_queue(s: &AppState, p: &Principal) -> Result<Vec<ApplicationFile>, WebError> {
    p.require(Permission::ApplicationsIntake)?;
    let rows = s.store.review_queue(&p.scope, 200).await?;
    rows.iter()
        .map(|r| serde_json::from_str(&r.body).map_err(corrupt))
        .collect()
}

/// An agent decides an application under review: approve, or reject with a reason.
pub async fn decide_application(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    receipt: &str,
    reject: Option<sanad_applications::ReasonCode>,
) -> Result<ApplicationFile, WebError> {
    p.require(Permission::ApplicationsIntake)?;
    let row = s
        .store
        .application(receipt)
        .await?
        .ok_or(WebError::NotFound)?;
    // The household's scope decides whether this application exists for the caller.
    let h = household(s, p, &row.rsu_id).await?;
    let mut file: ApplicationFile = serde_json::from_str(&row.body).map_err(corrupt)?;
    let (to, reasons) = match reject {
        Some(r) => (sanad_applications::Status::Rejected, vec![r]),
        None => (sanad_applications::Status::Approved, Vec::new()),
    };
    file.application
        .move_to(to, s.today(), reasons)
        .map_err(|e| WebError::Refused(e.to_string()))?;
    file.status = file.application.status();
    let book = s.rule_book().await?;
    let award = award_of(&book, &mut file)?;
    let status = wire_name(&file.status);
    let body = serde_json::to_string(&file).map_err(corrupt)?;
    s.store
        .save_application(
            &sanad_store::ApplicationRow {
                status,
                body,
                ..row
            },
            award.as_ref(),
            "decide",
            &actor(p, req),
        )
        .await?;
    if let Some(n) = decision_notice(&h, &file, &book) {
        crate::notify::queue(
            &*s.store,
            &s.notify,
            &h,
            format!("decision:{}", file.receipt),
            &n,
            file.language(),
        )
        .await;
    }
    Ok(file)
}

/// The outbox page: messages of the households in the caller's scope, newest first, of one
/// status or all, with the count per status (notify branch).
pub struct OutboxView {
    pub counts: Vec<(String, i64)>,
    pub messages: Vec<sanad_store::MessageRow>,
}

pub const MESSAGE_STATUSES: [&str; 5] = ["queued", "failed", "sent", "dead", "delivered"];

pub async fn outbox(
    s: &AppState,
    p: &Principal,
    status: Option<&str>,
) -> Result<OutboxView, WebError> {
    p.require(Permission::Outbox)?;
    let status = status.filter(|s| !s.is_empty());
    if let Some(st) = status.filter(|st| !MESSAGE_STATUSES.contains(st)) {
        return Err(WebError::Invalid(format!(
            "status: '{st}' is not one of {}",
            MESSAGE_STATUSES.join(", ")
        )));
    }
    Ok(OutboxView {
        counts: s.store.message_counts(&p.scope).await?,
        messages: s.store.messages(&p.scope, status, 200).await?,
    })
}

/// Queue a dead message again (attempts reset); a message outside the scope does not exist.
pub async fn retry_message(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
) -> Result<(), WebError> {
    p.require(Permission::Outbox)?;
    Ok(s.store
        .retry_message(&p.scope, id, crate::notify::now(), &actor(p, req))
        .await?)
}

/// The messages of a household the caller may see (checked by [`household`] first).
pub async fn household_messages(
    s: &AppState,
    p: &Principal,
    h: &Household,
) -> Result<Vec<sanad_store::MessageRow>, WebError> {
    Ok(s.store.messages_of(&p.scope, &h.rsu_id.to_string()).await?)
}

// Gateway delivery reports.

/// What an SMS gateway reports about a message it accepted (its delivery id).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct DeliveryReport {
    pub delivery_id: String,
    /// `delivered` or `failed`.
    pub status: String,
    /// When the gateway learnt it (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub at: chrono::DateTime<chrono::FixedOffset>,
    /// The gateway's reason for a failure.
    #[serde(default)]
    pub error: Option<String>,
}

/// The message's status after the report; `changed` is false for a report already applied.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryOutcome {
    pub message_id: String,
    /// `delivered`, `failed` (a retry is due at `next_attempt_at`), `dead`, or what the message was.
    pub status: String,
    pub next_attempt_at: Option<String>,
    pub changed: bool,
}

/// Apply a gateway's delivery report to the sent message with that delivery id: delivered, or
/// failed and retried under the outbox's retry policy (dead once it gives up). A report for a
/// message that is no longer `sent` (the same report again) changes nothing.
pub async fn delivery_report(
    s: &AppState,
    p: &Principal,
    r: &DeliveryReport,
) -> Result<DeliveryOutcome, WebError> {
    p.require(Permission::DeliveryReport)?;
    if !matches!(r.status.as_str(), "delivered" | "failed") {
        return Err(WebError::Invalid(format!(
            "status: '{}' is not delivered or failed",
            r.status
        )));
    }
    let error = r.error.as_deref().map(|e| {
        e.chars()
            .filter(|c| !c.is_control())
            .take(500)
            .collect::<String>()
    });
    let m = s
        .store
        .message_by_delivery(&p.scope, &r.delivery_id)
        .await?
        .ok_or(WebError::NotFound)?;
    let outcome = |m: sanad_store::MessageRow, changed: bool| DeliveryOutcome {
        message_id: m.id,
        status: m.status,
        next_attempt_at: m.next_attempt_at,
        changed,
    };
    if m.status != "sent" {
        return Ok(outcome(m, false));
    }
    let at = r.at.naive_utc();
    let update = if r.status == "delivered" {
        sanad_store::outbox::DeliveryUpdate {
            status: "delivered".into(),
            at,
            error: None,
            retry_at: None,
        }
    } else {
        let retry_at = s
            .notify
            .retry
            .delay_after(u32::try_from(m.attempts).unwrap_or(u32::MAX))
            .map(|d| crate::notify::now() + d);
        let status = if retry_at.is_some() { "failed" } else { "dead" };
        sanad_store::outbox::DeliveryUpdate {
            status: status.into(),
            at,
            error: Some(format!("delivery: {}", error.unwrap_or_default())),
            retry_at,
        }
    };
    let changed = s
        .store
        .record_delivery(&m.id, &r.delivery_id, &update)
        .await?;
    let now = s
        .store
        .message_by_delivery(&p.scope, &r.delivery_id)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(outcome(now, changed))
}

// Ended awards.

/// The last month of each ended award of a household the caller may see, by receipt.
pub async fn ended_awards(s: &AppState, h: &Household) -> Result<HashMap<String, Month>, WebError> {
    let mut out = HashMap::new();
    for a in s.store.awards_of(&h.rsu_id.to_string()).await? {
        if let Some(end) = a.end_month {
            out.insert(a.receipt, end.parse::<Month>().map_err(corrupt)?);
        }
    }
    Ok(out)
}
