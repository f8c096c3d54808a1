//! `/pilot/outcomes` (issue 7, item 4): the M&E analyst imports a survey round against its
//! codebook, or an administrative-outcome list (health-centre visits, CNSS affiliation), from
//! the page. Files are read into the text boxes by `/assets/sanad.js` (no multipart upload);
//! an import applies whole or the page comes back with every rejected line and the texts kept.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{Markup, PreEscaped, html};
use sanad_domain::Permission;
use serde::Deserialize;

use super::layout;
use super::pilot_cases::tabs;
use crate::auth::{Lang, Principal};
use crate::error::WebError;
use crate::i18n::Locale;
use crate::service::{pilot_admin, pilot_outcomes};
use crate::{AppState, RequestId};

/// What the last import did, carried by the redirect to the page.
#[derive(Deserialize, Default)]
pub struct Done {
    round: Option<String>,
    households: Option<usize>,
    cells: Option<usize>,
    sha256: Option<String>,
    list: Option<String>,
    as_of: Option<String>,
    source: Option<String>,
    rows: Option<usize>,
}

#[derive(Deserialize, Default)]
pub struct SurveyForm {
    round: String,
    codebook_name: String,
    codebook: String,
    survey_name: String,
    survey: String,
}

#[derive(Deserialize, Default)]
pub struct ListForm {
    list_name: String,
    list: String,
}

/// A refused import: which form, its rejected lines, and the texts to fix.
struct Refused {
    survey: SurveyForm,
    list: ListForm,
    lines: Vec<String>,
}

pub async fn page(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Query(done): Query<Done>,
) -> Result<Html<String>, WebError> {
    render(&s, l, &p, &done, None).await
}

async fn render(
    s: &AppState,
    l: Locale,
    p: &Principal,
    done: &Done,
    refused: Option<Refused>,
) -> Result<Html<String>, WebError> {
    p.require(Permission::DesignsManage)?;
    let rounds = s.store.outcome_rounds().await?;
    let mut lists = Vec::new();
    for kind in pilot_outcomes::OUTCOME_LISTS {
        if let Some(meta) = s.store.list_meta(kind.code()).await? {
            let meta: sanad_applications::lists::ListRef =
                serde_json::from_str(&meta).map_err(|e| {
                    WebError::Store(sanad_store::StoreError::Corrupt(format!(
                        "outcome list: {e}"
                    )))
                })?;
            lists.push(meta);
        }
    }
    let empty = (SurveyForm::default(), ListForm::default());
    let (survey, list) = refused
        .as_ref()
        .map_or((&empty.0, &empty.1), |r| (&r.survey, &r.list));
    let content = html! {
        (tabs(l, p, "outcomes"))
        h1 { (l.t("pilot.outcomes.title")) }
        p.hint { (l.t("pilot.outcomes.hint")) }
        (summary(l, done))
        @if let Some(r) = &refused {
            div.notice.error role="alert" id="refused" {
                p { strong { (l.t("pilot.outcomes.refused")) } }
                ul.problems { @for line in &r.lines { li { code { (line) } } } }
            }
        }
        section.card id="survey" {
            h2 { (l.t("pilot.outcomes.survey")) }
            p.hint { (l.t("pilot.outcomes.survey_hint")) }
            form.stack method="post" action="/pilot/outcomes/survey" {
                (csrf(p))
                label for="round" { (l.t("pilot.outcomes.round")) }
                select id="round" name="round" {
                    @for (value, key) in [("baseline", "pilot.outcomes.baseline"), ("followup", "pilot.outcomes.followup")] {
                        option value=(value) selected[survey.round == value] { (l.t(key)) }
                    }
                }
                (file_box(l, "codebook", &survey.codebook_name, &survey.codebook, "pilot.outcomes.codebook"))
                (file_box(l, "survey", &survey.survey_name, &survey.survey, "pilot.outcomes.survey_file"))
                button type="submit" { (l.t("pilot.outcomes.import_survey")) }
            }
        }
        section.card id="lists" {
            h2 { (l.t("pilot.outcomes.lists")) }
            p.hint { (l.t("pilot.outcomes.lists_hint")) }
            form.stack method="post" action="/pilot/outcomes/lists" {
                (csrf(p))
                (file_box(l, "list", &list.list_name, &list.list, "pilot.outcomes.list_file"))
                button type="submit" { (l.t("pilot.outcomes.import_list")) }
            }
        }
        section.card id="imported" {
            h2 { (l.t("pilot.outcomes.imported")) }
            @if rounds.is_empty() && lists.is_empty() { p.empty { (l.t("pilot.outcomes.none")) } }
            @for r in &rounds {
                dl.facts {
                    dt { (l.t("pilot.outcomes.round")) } dd { (r.round) " · " (r.source) " · " (l.t("pilot.outcomes.households")) " " (r.households) }
                    dt { "SHA-256" } dd { code.token { (r.sha256) } }
                    dt { (l.t("pilot.outcomes.imported_by")) } dd { (r.imported_at) " · " (r.imported_by) }
                }
            }
            @for m in &lists {
                dl.facts {
                    dt { (l.t("pilot.outcomes.list")) } dd { code { (m.kind.code()) } " · " (m.as_of) " · " (m.source) " · " (m.file) }
                }
            }
        }
    };
    Ok(layout::page(
        l,
        Some(p),
        l.t("pilot.outcomes.title"),
        "pilot",
        content,
    ))
}

fn csrf(p: &Principal) -> Markup {
    html! { input type="hidden" name="_csrf" value=(p.csrf()); }
}

/// A file chooser that fills a text box and a file-name field (the name the errors cite).
fn file_box(l: Locale, id: &str, name: &str, text: &str, label: &str) -> Markup {
    let (name_id, body_id) = (format!("{id}-name"), format!("{id}-body"));
    let name = if name.is_empty() {
        format!("{id}.csv")
    } else {
        name.to_owned()
    };
    html! {
        label for=(format!("{id}-file")) { (l.t(label)) }
        input id=(format!("{id}-file")) type="file" accept=".csv,text/csv,text/plain" data-fill=(body_id) data-name=(name_id);
        label for=(name_id) { (l.t("pilot.outcomes.file_name")) }
        input id=(name_id) name=(format!("{id}_name")) type="text" value=(name) required;
        textarea id=(body_id) name=(id) rows="8" spellcheck="false" required { (text) }
    }
}

fn summary(l: Locale, d: &Done) -> Markup {
    html! {
        @if let (Some(round), Some(n), Some(cells), Some(sha)) = (&d.round, d.households, d.cells, &d.sha256) {
            div.notice role="status" id="imported-now" {
                p { (l.t("pilot.outcomes.survey_done")) " " strong { (round) } " · " (l.t("pilot.outcomes.households")) " " (n) " · " (l.t("pilot.outcomes.cells")) " " (cells) }
                code.token { (sha) }
            }
        }
        @if let (Some(kind), Some(as_of), Some(source), Some(rows)) = (&d.list, &d.as_of, &d.source, d.rows) {
            div.notice role="status" id="imported-now" {
                p { (l.t("pilot.outcomes.list_done")) " " strong { code { (kind) } } " · " (as_of) " · " (source) " · " (l.t("pilot.outcomes.rows")) " " (rows) }
            }
        }
    }
}

/// A refusal with rejected lines becomes the page again (422), other errors go on as usual.
async fn refused_page(
    s: &AppState,
    l: Locale,
    p: &Principal,
    e: WebError,
    keep: Refused,
) -> Response {
    match e {
        WebError::Invalid(lines) => {
            let r = Refused {
                lines: lines.lines().map(str::to_owned).collect(),
                ..keep
            };
            match render(s, l, p, &Done::default(), Some(r)).await {
                Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        other => other.into_response(),
    }
}

/// Import a survey round checked against its codebook, whole or not at all.
pub async fn import_survey(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Form(f): Form<SurveyForm>,
) -> Response {
    let actor = crate::service::actor(&p, &req);
    let done = pilot_admin::import_outcomes(
        &s,
        &p,
        &actor,
        (f.codebook_name.trim(), &f.codebook),
        (f.survey_name.trim(), &f.survey),
        &f.round,
    )
    .await;
    match done {
        Ok(d) => Redirect::to(&format!(
            "/pilot/outcomes?round={}&households={}&cells={}&sha256={}#imported-now",
            d.round, d.households, d.cells, d.sha256
        ))
        .into_response(),
        Err(e) => {
            let keep = Refused {
                survey: f,
                list: ListForm::default(),
                lines: vec![],
            };
            refused_page(&s, l, &p, e, keep).await
        }
    }
}

/// Import a health-visit or CNSS-affiliation list, whole or not at all.
pub async fn import_list(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Form(f): Form<ListForm>,
) -> Response {
    let actor = crate::service::actor(&p, &req);
    match pilot_outcomes::import_outcome_list(&s, &p, &actor, f.list_name.trim(), &f.list).await {
        Ok(d) => Redirect::to(&format!(
            "/pilot/outcomes?list={}&as_of={}&source={}&rows={}#imported-now",
            d.kind,
            d.as_of,
            super::urlencode(&d.source),
            d.rows
        ))
        .into_response(),
        Err(e) => {
            let keep = Refused {
                survey: SurveyForm::default(),
                list: f,
                lines: vec![],
            };
            refused_page(&s, l, &p, e, keep).await
        }
    }
}

// ---- the report of a registered design on the pilot's own data (issue 7) ----

fn report_lang(l: Locale) -> sanad_evaluation::report::Lang {
    match l {
        Locale::Fr => sanad_evaluation::report::Lang::Fr,
        Locale::Ar => sanad_evaluation::report::Lang::Ar,
        Locale::En => sanad_evaluation::report::Lang::En,
    }
}

/// `/pilot/designs/{id}/report`: balance and ITT estimates of a design on its stored
/// assignment, survey rounds and administrative outcomes; a link downloads the offline HTML.
pub async fn design_report(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let r = crate::service::pilot_report::design_report(&s, &p, &id).await?;
    let content = html! {
        (tabs(l, &p, "designs"))
        p.notice { (l.t("pilot.report.own_data")) }
        p { a href=(format!("/pilot/designs/{}/report.html", super::urlencode(&id))) download { (l.t("pilot.report.download")) } }
        // The report's HTML is generated by the evaluation crate, which escapes all text.
        div.eval-report { (PreEscaped(sanad_evaluation::report::body_html(&r, report_lang(l)))) }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("pilot.title"),
        "pilot",
        content,
    ))
}

/// The same report as one offline HTML document (its own stylesheet, no script), to download.
pub async fn design_report_html(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let r = crate::service::pilot_report::design_report(&s, &p, &id).await?;
    let html = sanad_evaluation::report::standalone_html(&r, report_lang(l));
    let name = format!(
        "attachment; filename=\"{}-report.html\"",
        super::urlencode(&id)
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/html; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        html,
    )
        .into_response())
}
