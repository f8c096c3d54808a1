//! The pilot's M&E indicators (issue 7): enrolment against capacity by measure and antenna
//! (with a server-rendered SVG chart), visits made against cases to visit in the month,
//! referrals completed, goals achieved and follow-up alerts open, by antenna; the same numbers
//! as CSV. Aggregates only: no household is named, so the M&E analyst sees it.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use sanad_pilot::{Indicators, Ratio};
use serde::Deserialize;

use super::layout;
use super::pilot_cases::tabs;
use crate::AppState;
use crate::auth::{Lang, Principal};
use crate::error::WebError;
use crate::i18n::Locale;
use crate::service::pilot_admin as svc;
use crate::service::wire_name;

#[derive(Deserialize, Default)]
pub struct IndicatorsQuery {
    /// The month of the visit indicators (`YYYY-MM`, default the current month).
    #[serde(default)]
    month: Option<String>,
}

pub(crate) fn month(q: &IndicatorsQuery) -> Result<Option<sanad_domain::Month>, WebError> {
    q.month
        .as_deref()
        .filter(|m| !m.is_empty())
        .map(|m| {
            m.parse()
                .map_err(|_| WebError::Invalid(format!("month: '{m}' is not YYYY-MM")))
        })
        .transpose()
}

fn pilot_lang(l: Locale) -> sanad_pilot::Lang {
    match l {
        Locale::Fr => sanad_pilot::Lang::Fr,
        Locale::Ar => sanad_pilot::Lang::Ar,
        Locale::En => sanad_pilot::Lang::En,
    }
}

/// `num / den (pct %)`, or a dash when nothing is measured yet.
fn ratio(l: Locale, r: Ratio) -> String {
    if !r.is_defined() {
        return "—".into();
    }
    let pct = (r.num * 200 + r.den) / (r.den * 2);
    format!(
        "{} / {} ({} %)",
        l.int(r.num as i64),
        l.int(r.den as i64),
        l.int(pct as i64)
    )
}

/// Per measure and antenna: capacity as the track, active enrolments on it.
fn places_chart(l: Locale, names: &dyn Fn(&str) -> String, ind: &Indicators) -> Markup {
    let (h, x0, span) = (26, 260.0, 280.0);
    html! {
        svg.chart.places viewBox=(format!("0 0 600 {}", ind.enrolment.len().max(1) * h)) role="img" aria-label=(l.t("pilot.indicators.chart")) {
            @for (i, e) in ind.enrolment.iter().enumerate() {
                @let y = i * h;
                @let filled = if e.rate.den == 0 { 0.0 } else { (e.rate.num.min(e.rate.den) as f64 / e.rate.den as f64 * span * 10.0).round() / 10.0 };
                text x="0" y=(y + 16) { (names(e.measure.as_str())) " · " (e.antenna) }
                rect.track x=(x0) y=(y + 5) width=(span) height="14" {}
                rect.used.full[e.rate.num >= e.rate.den] x=(x0) y=(y + 5) width=(filled) height="14" {}
                text.value x=(x0 + span + 6.0) y=(y + 16) { (l.int(e.rate.num as i64)) "/" (l.int(e.rate.den as i64)) }
            }
        }
    }
}

pub async fn page(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Query(q): Query<IndicatorsQuery>,
) -> Result<Html<String>, WebError> {
    let ind = svc::indicators(&s, &p, month(&q)?).await?;
    let pilot = crate::service::pilot::stored_pilot(&s).await?;
    let lang = pilot_lang(l);
    let names = |id: &str| {
        pilot
            .as_ref()
            .and_then(|x| {
                x.catalogue
                    .measures()
                    .iter()
                    .find(|m| m.id.as_str() == id)
                    .map(|m| m.name.get(lang).to_owned())
            })
            .unwrap_or_else(|| id.to_owned())
    };
    let content = html! {
        (tabs(l, &p, "indicators"))
        h1 { (l.t("pilot.indicators.title")) }
        @match &ind {
            None => p.empty { (l.t("pilot.none")) },
            Some(ind) => {
                p.hint { (l.t("pilot.indicators.hint")) " " (l.date(ind.as_of)) " "
                    a.button href=(format!("/pilot/indicators.csv{}", q.month.as_deref().map(|m| format!("?month={m}")).unwrap_or_default())) { "CSV" } }
                section.card id="enrolment" {
                    h2 { (l.t("pilot.indicators.enrolment")) }
                    (places_chart(l, &names, ind))
                    p.legend { span.key.track {} (l.t("pilot.indicators.capacity")) " " span.key.used {} (l.t("pilot.indicators.active")) }
                    table {
                        thead { tr { th { (l.t("pilot.indicators.measure")) } th { (l.t("pilot.antenna")) } th.num { (l.t("pilot.indicators.rate")) } } }
                        tbody { @for e in &ind.enrolment { tr { td { (names(e.measure.as_str())) } td { (e.antenna) } td.num { (ratio(l, e.rate)) } } } }
                    }
                }
                section.card id="visits" {
                    @let shown = month(&q).ok().flatten().unwrap_or_else(|| sanad_domain::Month::of(ind.as_of));
                    h2 { (l.t("pilot.indicators.visits")) " " (l.month(shown)) }
                    p.hint { (l.t("pilot.indicators.visits_hint")) }
                    form.inline-form method="get" action="/pilot/indicators#visits" {
                        label for="indicators-month" { (l.t("pilot.indicators.month")) }
                        input id="indicators-month" name="month" type="month" value=(shown.to_string());
                        button type="submit" { (l.t("pilot.indicators.show")) }
                    }
                    @if ind.visits.is_empty() { p.empty { (l.t("pilot.indicators.nothing")) } } @else {
                        table {
                            thead { tr { th { (l.t("pilot.antenna")) } th.num { (l.t("pilot.indicators.visits_done")) } th.num { (l.t("pilot.indicators.present")) } } }
                            tbody { @for v in &ind.visits { tr { td { (v.antenna) } td.num { (ratio(l, v.per_case)) } td.num { (ratio(l, v.present_per_case)) } } } }
                        }
                    }
                }
                section.card id="referrals" {
                    h2 { (l.t("pilot.indicators.referrals")) }
                    @if ind.referrals.is_empty() { p.empty { (l.t("pilot.indicators.nothing")) } } @else {
                        table {
                            thead { tr { th { (l.t("pilot.antenna")) } th { (l.t("pilot.indicators.service")) } th.num { (l.t("pilot.indicators.completed")) } th.num { (l.t("pilot.indicators.refused")) } } }
                            tbody { @for r in &ind.referrals { tr { td { (r.antenna) } td { (l.t(&format!("pilot.service.{}", wire_name(&r.service)))) } td.num { (ratio(l, r.completion)) } td.num { (l.int(r.refused as i64)) } } } }
                        }
                    }
                }
                section.card id="goals" {
                    h2 { (l.t("pilot.indicators.goals")) }
                    @if ind.goals.is_empty() { p.empty { (l.t("pilot.indicators.nothing")) } } @else {
                        table {
                            thead { tr { th { (l.t("pilot.antenna")) } th { (l.t("pilot.indicators.domain")) } th.num { (l.t("pilot.indicators.achieved")) } } }
                            tbody { @for g in &ind.goals { tr { td { (g.antenna) } td { (g.domain.name().get(lang)) } td.num { (ratio(l, g.achieved_share)) } } } }
                        }
                    }
                }
                section.card id="alerts" {
                    h2 { (l.t("pilot.indicators.alerts")) }
                    @if ind.alerts.is_empty() { p.empty { (l.t("pilot.indicators.nothing")) } } @else {
                        table {
                            thead { tr { th { (l.t("pilot.antenna")) } th { (l.t("pilot.indicators.alert")) } th.num { (l.t("pilot.indicators.open")) } } }
                            tbody { @for a in &ind.alerts { tr { td { (a.antenna) } td { (l.t(&format!("pilot.alert.{}", a.code.as_str()))) } td.num { (l.int(a.count as i64)) } } } }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("pilot.indicators.title"),
        "pilot",
        content,
    ))
}

/// The indicators as CSV (`indicator,antenna,key,numerator,denominator`).
pub async fn csv(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<IndicatorsQuery>,
) -> Result<Response, WebError> {
    let ind = svc::indicators(&s, &p, month(&q)?)
        .await?
        .unwrap_or_else(svc::no_indicators);
    let mut out = Vec::new();
    ind.write_csv(&mut out).map_err(|e| {
        WebError::Store(sanad_store::StoreError::Corrupt(format!(
            "indicators CSV: {e}"
        )))
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"pilot-indicators.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}
