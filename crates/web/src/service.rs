//! The operations behind both the pages and the API, written once: each takes the caller,
//! checks the permission, and lets the store apply the scope.

use sanad_domain::{Household, Month, Permission, Role, RsuId};
use sanad_rules::{Decision, Member, RuleSet};
use sanad_store::{Actor, AuditFilter, AuditRecord, FindKey, HouseholdSummary, Scope, StoredRuleSet, User};
use serde::Serialize;

use crate::auth::{self, Principal};
use crate::error::WebError;
use crate::{AppState, RequestId};

// pilot (issue 7)
pub mod pilot;

/// A serde enum's wire name (`in_review`, `child_allowance`…): what is stored, and the key of its label.
pub fn wire_name(v: &impl Serialize) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

pub fn actor(p: &Principal, req: &RequestId) -> Actor {
    Actor::new(&p.username, &req.0)
}

pub async fn search(s: &AppState, p: &Principal, q: &str) -> Result<Vec<HouseholdSummary>, WebError> {
    p.require(Permission::HouseholdRead)?;
    let key = FindKey::guess(q).ok_or_else(|| WebError::Invalid("q: not an RSU id, IDCS, CNIE, phone number or family name".into()))?;
    Ok(s.store.find_households(&p.scope, &key).await?)
}

pub async fn list(s: &AppState, p: &Principal, after: Option<&str>, limit: u32) -> Result<Vec<HouseholdSummary>, WebError> {
    p.require(Permission::HouseholdRead)?;
    let after = after.map(RsuId::parse).transpose().map_err(|e| WebError::Invalid(format!("after: {e}")))?;
    Ok(s.store.list_households(&p.scope, after.as_ref(), limit.clamp(1, 500)).await?)
}

/// A household in the caller's scope; one outside it does not exist for them (404).
pub async fn household(s: &AppState, p: &Principal, id: &str) -> Result<Household, WebError> {
    p.require(Permission::HouseholdRead)?;
    let id = RsuId::parse(id).map_err(|_| WebError::NotFound)?;
    s.store.household(&p.scope, &id).await?.ok_or(WebError::NotFound)
}

pub struct Entitlement {
    pub rules: RuleSet,
    pub decision: Decision,
    pub members: Vec<Member>,
}

/// The household's entitlement for `month` under the rule set in force then, if any.
pub fn entitlement(book: &sanad_rules::RuleBook, h: &Household, month: Month) -> Option<Entitlement> {
    book.for_month(month).map(|rules| {
        let (decision, members) = sanad_rules::evaluate_household(rules, h, month);
        Entitlement { rules: rules.clone(), decision, members }
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
        .map(|r| RuleSetEntry { id: r.id.clone(), effective_from: r.effective_from, title: r.title.clone(), status: "shipped".into(), proposed_by: None, approved_by: None })
        .collect();
    for st in stored {
        let title = RuleSet::from_toml(&st.body).map(|r| r.title).unwrap_or_default();
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
pub async fn rule_set(s: &AppState, p: &Principal, id: &str) -> Result<(RuleSetEntry, RuleSet), WebError> {
    let entry = rule_sets(s, p).await?.into_iter().find(|e| e.id == id).ok_or(WebError::NotFound)?;
    let stored: Option<StoredRuleSet> = s.store.rule_sets().await?.into_iter().find(|r| r.id == id);
    let rs = match stored {
        Some(st) => RuleSet::from_toml(&st.body).map_err(|e| WebError::Invalid(e.to_string()))?,
        None => shipped().get(id).cloned().ok_or(WebError::NotFound)?,
    };
    Ok((entry, rs))
}

pub async fn propose(s: &AppState, p: &Principal, req: &RequestId, body: &str) -> Result<RuleSet, WebError> {
    p.require(Permission::RulesPropose)?;
    let rs = RuleSet::from_toml(body).map_err(|e| WebError::Invalid(e.to_string()))?;
    if shipped().get(&rs.id).is_some() {
        return Err(WebError::Conflict(format!("already exists: rule set {} is shipped with Sanad", rs.id)));
    }
    s.store.propose_rule_set(&rs.id, rs.effective_from, body, &actor(p, req)).await?;
    Ok(rs)
}

pub async fn approve(s: &AppState, p: &Principal, req: &RequestId, id: &str) -> Result<StoredRuleSet, WebError> {
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
    let ok = (3..=40).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok { Ok(()) } else { Err(WebError::Invalid("username: 3–40 characters among a–z, 0–9, '.', '_', '-'".into())) }
}

fn parse_user_form(f: &UserForm) -> Result<(Role, Scope), WebError> {
    let role = Role::parse(&f.role).map_err(|e| WebError::Invalid(format!("role: {e}")))?;
    let scope = Scope::parse(&f.scope).map_err(|e| WebError::Invalid(format!("scope: {e}")))?;
    if crate::i18n::Locale::parse(&f.locale).is_none() {
        return Err(WebError::Invalid("locale: fr, ar or en".into()));
    }
    if f.display_name.trim().is_empty() || f.display_name.chars().any(char::is_control) {
        return Err(WebError::Invalid("display_name: required, printable".into()));
    }
    Ok((role, scope))
}

pub async fn create_user(s: &AppState, p: &Principal, req: &RequestId, f: &UserForm) -> Result<User, WebError> {
    p.require(Permission::UsersManage)?;
    check_username(&f.username)?;
    let (role, scope) = parse_user_form(f)?;
    auth::check_password_strength(&f.password).map_err(WebError::Invalid)?;
    let user = new_user(&f.username, f.display_name.trim(), role, scope, &f.locale, &f.password);
    s.store.create_user(&user, &actor(p, req)).await?;
    Ok(user)
}

/// A user record with a freshly hashed password (also used by `sanad admin create-user`).
pub fn new_user(username: &str, display_name: &str, role: Role, scope: Scope, locale: &str, password: &str) -> User {
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

pub async fn update_user(s: &AppState, p: &Principal, req: &RequestId, f: &UserForm) -> Result<User, WebError> {
    p.require(Permission::UsersManage)?;
    let (role, scope) = parse_user_form(f)?;
    let mut u = s.store.user(&f.username).await?.ok_or(WebError::NotFound)?;
    if u.username == p.username && (role != u.role || !f.active) {
        return Err(WebError::Refused("an administrator cannot change their own role or deactivate themselves".into()));
    }
    let access_changed = role != u.role || scope != u.scope || !f.active || !f.password.is_empty();
    (u.display_name, u.role, u.scope, u.locale, u.active) = (f.display_name.trim().into(), role, scope, f.locale.clone(), f.active);
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

pub async fn audit_records(s: &AppState, p: &Principal, f: &AuditFilter, before: Option<i64>, limit: u32) -> Result<Vec<AuditRecord>, WebError> {
    p.require(Permission::AuditRead)?;
    Ok(s.store.audit_records(f, before, limit.clamp(1, 1000)).await?)
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

pub async fn payroll_summary(s: &AppState, p: &Principal, month: Month) -> Result<PayrollSummary, WebError> {
    p.require(Permission::PayrollRead)?;
    let m = month.to_string();
    let mut out = PayrollSummary { month: m.clone(), status: "draft".into(), ..Default::default() };
    if let Some(body) = s.store.cycle(&m).await? {
        let c: sanad_payroll::Cycle = serde_json::from_str(&body).map_err(|e| WebError::Store(sanad_store::StoreError::Corrupt(e.to_string())))?;
        out.status = format!("{:?}", c.status()).to_lowercase();
        (out.prepared_by, out.approved_by, out.released_by) = (c.prepared_by().map(Into::into), c.approved_by().map(Into::into), c.released_by().map(Into::into));
    }
    let add = |v: &mut Vec<(String, i64, i64)>, k: &str, amount: i64| match v.iter_mut().find(|x| x.0 == k) {
        Some(x) => (x.1, x.2) = (x.1 + 1, x.2 + amount),
        None => v.push((k.to_owned(), 1, amount)),
    };
    for l in s.store.payroll_lines(&m).await? {
        add(&mut out.lines, &l.status, l.amount);
        if l.status == "pay" {
            add(&mut out.by_region, &l.region, l.amount);
        }
    }
    out.by_region.sort();
    for pay in s.store.payments(&m).await? {
        let r = match out.reconciliation.iter().position(|r| r.provider == pay.provider) {
            Some(i) => &mut out.reconciliation[i],
            None => {
                out.reconciliation.push(Reconciliation { provider: pay.provider.clone(), ..Default::default() });
                out.reconciliation.last_mut().expect("just pushed")
            }
        };
        let bump = |x: &mut (i64, i64)| (x.0, x.1) = (x.0 + 1, x.1 + pay.amount);
        bump(&mut r.sent);
        match pay.status.as_str() {
            "settled" => bump(&mut r.settled),
            "rejected" => bump(&mut r.rejected),
            "returned" => bump(&mut r.returned),
            _ => bump(&mut r.pending),
        }
    }
    out.reconciliation.sort_by(|a, b| a.provider.cmp(&b.provider));
    out.files = s.store.payment_files(&m).await?;
    let corrupt = |e: sanad_payroll::run::RunError| WebError::Store(sanad_store::StoreError::Corrupt(e.to_string()));
    out.variance = sanad_payroll::run::variance_vs_previous(&*s.store, month, sanad_payroll::run::VARIANCE_THRESHOLD).await.map_err(corrupt)?;
    if !out.lines.is_empty() {
        let payroll = sanad_payroll::run::stored_payroll(&*s.store, month).await.map_err(corrupt)?;
        out.budget = sanad_payroll::run::budget(&*s.store, &payroll).await.map_err(corrupt)?;
    }
    Ok(out)
}

/// Run a step of the cycle as this user; the payroll crate enforces maker-checker.
pub async fn payroll_step(s: &AppState, p: &Principal, req: &RequestId, month: Month, step: &str) -> Result<(), WebError> {
    let store = &*s.store;
    let actor = actor(p, req);
    let refused = |e: sanad_payroll::run::RunError| match e {
        sanad_payroll::run::RunError::Store(e) => WebError::from(e),
        other => WebError::Refused(other.to_string()),
    };
    match step {
        "prepare" => {
            p.require(Permission::PayrollPrepare)?;
            sanad_payroll::run::prepare(store, month, &actor).await.map_err(refused)?;
        }
        "approve" => {
            p.require(Permission::PayrollApprove)?;
            sanad_payroll::run::approve(store, month, &actor).await.map_err(refused)?;
        }
        "release" => {
            p.require(Permission::PayrollPrepare)?;
            sanad_payroll::run::release(store, month, &actor, &s.release).await.map_err(refused)?;
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
pub async fn household_payments(s: &AppState, h: &Household) -> Result<HouseholdPayments, WebError> {
    let id = h.rsu_id.to_string();
    let corrupt = |e: String| WebError::Store(sanad_store::StoreError::Corrupt(e));
    let entries = s.store.ledger_of(&id).await?.iter().map(|b| serde_json::from_str::<sanad_payroll::Entry>(b).map_err(|e| corrupt(e.to_string()))).collect::<Result<Vec<_>, _>>()?;
    let ledger = sanad_payroll::Ledger::replay(entries).map_err(|e| corrupt(e.to_string()))?;
    let (debt, held) = ledger.book(&h.rsu_id).map_or((sanad_domain::Money::ZERO, sanad_domain::Money::ZERO), |b| {
        (b.total(sanad_payroll::Account::Debt), b.total(sanad_payroll::Account::Returned))
    });
    Ok(HouseholdPayments { payments: s.store.payments_of(&id).await?, debt, held })
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
}

/// Take an application: one open per household and component, a receipt number, every
/// check run with its evidence, then approved, rejected with reasons, or sent to review.
/// A cross-check list never imported leaves its checks inconclusive: such applications go to
/// an agent's review.
pub async fn submit_application(s: &AppState, p: &Principal, req: &RequestId, f: &ApplicationForm, default_channel: sanad_applications::Channel) -> Result<ApplicationFile, WebError> {
    use sanad_applications as apps;
    p.require(Permission::ApplicationsIntake)?;
    let h = household(s, p, &f.household_id).await?;
    let corrupt = |e: String| WebError::Store(sanad_store::StoreError::Corrupt(e));
    let existing = s.store.applications_of(&h.rsu_id.to_string()).await?;
    let existing: Vec<apps::Application> = existing.iter().map(|r| serde_json::from_str::<ApplicationFile>(&r.body).map(|a| a.application).map_err(|e| corrupt(e.to_string()))).collect::<Result<_, _>>()?;
    apps::check_no_open_application(&existing, &h.rsu_id, &f.components).map_err(|e| WebError::Refused(e.to_string()))?;
    let today = chrono::Local::now().date_naive();
    let year = chrono::Datelike::year(&today);
    let seq = s.store.next_sequence(&format!("receipt-{year}")).await?;
    let receipt = apps::ReceiptNumber::new(year, u32::try_from(seq).map_err(|e| corrupt(e.to_string()))?).map_err(corrupt)?;
    let mut app = apps::Application::submit(receipt, h.rsu_id.clone(), h.registrant.clone(), f.channel.unwrap_or(default_channel), &f.components, today).map_err(WebError::Invalid)?;
    let book = s.rule_book().await?;
    let rules = book.for_month(Month::of(today)).ok_or_else(|| WebError::Refused(format!("no rule set in force in {}", Month::of(today))))?;
    let lists = stored_lists(s, &h).await?;
    let index = apps::verification::MemoryIndex::new([&h]);
    let indexes = apps::verification::Indexes { identity: &index, contacts: &index, persons: &index };
    let checks = apps::verify(&app, &h, &lists, indexes, rules, &apps::VerificationPolicy::default(), today);
    let decision = apps::decide(&checks);
    let reasons = match &decision {
        apps::AutoDecision::Reject { reasons } => reasons.clone(),
        _ => Vec::new(),
    };
    app.move_to(apps::Status::Verifying, today, Vec::new()).map_err(|e| corrupt(e.to_string()))?;
    app.move_to(decision.status(), today, reasons).map_err(|e| corrupt(e.to_string()))?;
    let file = ApplicationFile {
        receipt: receipt.to_string(),
        status: app.status(),
        deadline: today + chrono::Duration::days(i64::from(apps::DeadlinePolicy::default().decision_days)),
        application: app,
        checks,
        decision,
    };
    let row = sanad_store::ApplicationRow {
        receipt: file.receipt.clone(),
        rsu_id: h.rsu_id.to_string(),
        status: wire_name(&file.status),
        submitted_on: today.to_string(),
        body: serde_json::to_string(&file).map_err(|e| corrupt(e.to_string()))?,
    };
    s.store.save_application(&row, "submit", &actor(p, req)).await?;
    Ok(file)
}

/// The imported cross-check lists, with the rows about this household's members.
async fn stored_lists(s: &AppState, h: &Household) -> Result<sanad_applications::Lists, WebError> {
    let idcs: Vec<String> = h.members.iter().map(|m| m.idcs.to_string()).collect();
    let mut found = std::collections::HashMap::new();
    for kind in sanad_applications::ListKind::ALL {
        if let Some(meta) = s.store.list_meta(kind.code()).await? {
            found.insert(kind, (meta, s.store.list_rows(kind.code(), &idcs).await?));
        }
    }
    sanad_applications::Lists::from_stored(|k| found.remove(&k)).map_err(|e| WebError::Store(sanad_store::StoreError::Corrupt(format!("cross-check list: {e}"))))
}

/// A household's applications, for a caller who may see the household.
pub async fn applications_of(s: &AppState, h: &Household) -> Result<Vec<ApplicationFile>, WebError> {
    let rows = s.store.applications_of(&h.rsu_id.to_string()).await?;
    rows.iter().map(|r| serde_json::from_str(&r.body).map_err(|e| WebError::Store(sanad_store::StoreError::Corrupt(e.to_string())))).collect()
}

/// Applications waiting for review in the caller's scope, oldest first.
pub async fn review_queue(s: &AppState, p: &Principal) -> Result<Vec<ApplicationFile>, WebError> {
    p.require(Permission::ApplicationsIntake)?;
    let rows = s.store.review_queue(&p.scope, 200).await?;
    rows.iter().map(|r| serde_json::from_str(&r.body).map_err(|e| WebError::Store(sanad_store::StoreError::Corrupt(e.to_string())))).collect()
}

/// An agent decides an application under review: approve, or reject with a reason.
pub async fn decide_application(s: &AppState, p: &Principal, req: &RequestId, receipt: &str, reject: Option<sanad_applications::ReasonCode>) -> Result<ApplicationFile, WebError> {
    p.require(Permission::ApplicationsIntake)?;
    let row = s.store.application(receipt).await?.ok_or(WebError::NotFound)?;
    // The household's scope decides whether this application exists for the caller.
    household(s, p, &row.rsu_id).await?;
    let mut file: ApplicationFile = serde_json::from_str(&row.body).map_err(|e| WebError::Store(sanad_store::StoreError::Corrupt(e.to_string())))?;
    let (to, reasons) = match reject {
        Some(r) => (sanad_applications::Status::Rejected, vec![r]),
        None => (sanad_applications::Status::Approved, Vec::new()),
    };
    file.application.move_to(to, chrono::Local::now().date_naive(), reasons).map_err(|e| WebError::Refused(e.to_string()))?;
    file.status = file.application.status();
    let status = wire_name(&file.status);
    let body = serde_json::to_string(&file).map_err(|e| WebError::Store(sanad_store::StoreError::Corrupt(e.to_string())))?;
    s.store.save_application(&sanad_store::ApplicationRow { status, body, ..row }, "decide", &actor(p, req)).await?;
    Ok(file)
}
