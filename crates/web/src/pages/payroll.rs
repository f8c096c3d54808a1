//! Payroll cycles: the list of months, one cycle's totals, its reconciliation with the
//! banks (chart and CSV), and the maker-checker buttons.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sanad_domain::{Geography, Money, Month, Permission, RegionCode};

use super::layout;
use crate::auth::{Lang, Principal};
use crate::error::WebError;
use crate::i18n::Locale;
use crate::service::{self, PayrollSummary};
use crate::{AppState, RequestId};

fn month(m: &str) -> Result<Month, WebError> {
    m.parse().map_err(|_| WebError::NotFound)
}

fn status_badge(l: Locale, status: &str) -> Markup {
    html! { span class=(format!("badge {status}")) { (l.t(&format!("payroll.status.{status}"))) } }
}

pub async fn list(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
) -> Result<Html<String>, WebError> {
    p.require(Permission::PayrollRead)?;
    let current = Month::of(s.today());
    let mut rows = Vec::new();
    // Newest first: next month (to prepare), this month, then the last eleven.
    for i in -1..12 {
        let m = current.plus(-i);
        rows.push(service::payroll_summary(&s, &p, m).await?);
    }
    let content = html! {
        h1 { (l.t("payroll.title")) }
        table {
            thead { tr { th { (l.t("household.month")) } th { (l.t("rules.status")) } th.num { (l.t("payroll.payments")) } th.num { (l.t("payroll.amount")) } } }
            tbody {
                @for r in &rows {
                    @let paid = r.lines.iter().find(|x| x.0 == "pay");
                    tr {
                        td { a href=(format!("/payroll/{}", r.month)) { (l.month(r.month.parse().expect("a month we formatted"))) } }
                        td { (status_badge(l, &r.status)) }
                        td.num { (l.int(paid.map_or(0, |x| x.1))) }
                        td.num { (l.money(Money::from_centimes(paid.map_or(0, |x| x.2)))) }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("payroll.title"),
        "payroll",
        content,
    ))
}

pub async fn show(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Path(m): Path<String>,
) -> Result<Html<String>, WebError> {
    let m = month(&m)?;
    let r = service::payroll_summary(&s, &p, m).await?;
    let geo = Geography::get();
    let region_name = |code: &str| {
        RegionCode::parse(code)
            .map(|c| {
                if l == Locale::Ar {
                    geo.region(c).name_ar.clone()
                } else {
                    geo.region(c).name_fr.clone()
                }
            })
            .unwrap_or_else(|_| code.to_owned())
    };
    let content = html! {
        h1 { (l.t("payroll.cycle")) " " (l.month(m)) " " (status_badge(l, &r.status)) }
        dl.facts {
            dt { (l.t("payroll.prepared_by")) } dd { (r.prepared_by.as_deref().unwrap_or("—")) }
            dt { (l.t("payroll.approved_by")) } dd { (r.approved_by.as_deref().unwrap_or("—")) }
            dt { (l.t("payroll.released_by")) } dd { (r.released_by.as_deref().unwrap_or("—")) }
        }
        (actions(l, &p, &r))
        section.card {
            h2 { (l.t("payroll.lines")) }
            table {
                thead { tr { th { (l.t("rules.status")) } th.num { (l.t("home.households")) } th.num { (l.t("payroll.amount")) } } }
                tbody { @for (st, n, amount) in &r.lines { tr { td { (l.t(&format!("payroll.line.{st}"))) } td.num { (l.int(*n)) } td.num { (l.money(Money::from_centimes(*amount))) } } } }
            }
        }
        @if let Some(b) = &r.budget {
            section.card {
                h2 { (l.t("payroll.budget")) " " (b.year) " " a.button href=(format!("/payroll/{m}/budget.csv")) { "CSV" } }
                (budget_chart(l, b))
                p.legend {
                    span.key.before {} (l.t("payroll.committed_before")) " "
                    span.key.payroll {} (l.t("payroll.this_payroll")) " "
                    span.key.track {} (l.t("payroll.appropriation")) " "
                    span.key.forecast {} (l.t("payroll.forecast"))
                }
                table {
                    thead { tr { th { (l.t("payroll.component")) } th.num { (l.t("payroll.appropriation")) } th.num { (l.t("payroll.committed_before")) } th.num { (l.t("payroll.this_payroll")) } th.num { (l.t("payroll.available")) } th.num { (l.t("payroll.forecast")) } } }
                    tbody {
                        @for x in &b.lines {
                            tr.over[x.forecast_over] {
                                td { (l.t(&format!("component.{}", x.component.code()))) }
                                td.num { (l.money(x.appropriation)) }
                                td.num { (l.money(x.committed_before)) }
                                td.num { (l.money(x.payroll)) }
                                td.num { (l.money(x.available)) }
                                td.num { (l.money(x.forecast)) @if x.forecast_over { " ⚠" } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(v) = &r.variance {
            section.card {
                h2 { (l.t("payroll.variance")) " " (l.month(v.previous)) }
                table {
                    thead { tr { th { (l.t("home.region")) } th.num { (l.t("payroll.new")) } th.num { (l.t("payroll.dropped")) } th.num { (l.t("payroll.changed")) } th.num { (l.month(v.previous)) } th.num { (l.month(v.current)) } } }
                    tbody {
                        @for (code, x) in &v.by_region {
                            tr { td { (region_name(&code.to_string())) } td.num { (l.int(x.new as i64)) } td.num { (l.int(x.dropped as i64)) } td.num { (l.int(x.changed as i64)) } td.num { (l.money(x.amount_before)) } td.num { (l.money(x.amount_after)) } }
                        }
                        tr.total { th { (l.t("payroll.total")) } td.num { (l.int(v.all.new as i64)) } td.num { (l.int(v.all.dropped as i64)) } td.num { (l.int(v.all.changed as i64)) } td.num { (l.money(v.all.amount_before)) } td.num { (l.money(v.all.amount_after)) } }
                    }
                }
            }
        }
        @if !r.by_region.is_empty() {
            section.card {
                h2 { (l.t("payroll.by_region")) }
                (layout::bars(l, &r.by_region.iter().map(|(code, _, amount)| (region_name(code), amount / 100)).collect::<Vec<_>>()))
                p.hint { (l.t("payroll.in_mad")) }
            }
        }
        @if !r.reconciliation.is_empty() {
            section.card {
                h2 { (l.t("payroll.reconciliation")) " " a.button href=(format!("/payroll/{m}/reconciliation.csv")) { "CSV" } }
                (reconciliation_chart(&r))
                table {
                    thead { tr { th { (l.t("payroll.provider")) } th.num { (l.t("payroll.sent")) } th.num { (l.t("payroll.settled")) } th.num { (l.t("payroll.pending")) } th.num { (l.t("payroll.rejected")) } th.num { (l.t("payroll.returned")) } } }
                    tbody {
                        @for x in &r.reconciliation {
                            tr {
                                td { (x.provider) }
                                @for (n, amount) in [x.sent, x.settled, x.pending, x.rejected, x.returned] {
                                    td.num { (l.int(n)) br; small { (l.money(Money::from_centimes(amount))) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !r.files.is_empty() {
            section.card {
                h2 { (l.t("payroll.files")) }
                table.files {
                    thead { tr { th { (l.t("payroll.file")) } th.num { (l.t("payroll.payments")) } th.num { (l.t("payroll.amount")) } th { "SHA-256" } } }
                    tbody { @for f in &r.files { tr { td { code { (f.file_name) } } td.num { (l.int(f.txs)) } td.num { (l.money(Money::from_centimes(f.ctrl_sum))) } td.id { (f.sha256) } } } }
                }
            }
        }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("payroll.title"),
        "payroll",
        content,
    ))
}

/// The step this user may take now, as a button (the payroll crate checks it again).
fn actions(l: Locale, p: &Principal, r: &PayrollSummary) -> Markup {
    let step = match r.status.as_str() {
        "draft" | "prepared" if p.can(Permission::PayrollPrepare) => Some("prepare"),
        "prepared"
            if p.can(Permission::PayrollApprove)
                && r.prepared_by.as_deref() != Some(p.username.as_str()) =>
        {
            Some("approve")
        }
        "approved" if p.can(Permission::PayrollPrepare) => Some("release"),
        _ => None,
    };
    html! {
        @if let Some(step) = step {
            form method="post" action=(format!("/payroll/{}/{step}", r.month)) {
                input type="hidden" name="_csrf" value=(p.csrf());
                button.primary type="submit" data-confirm=(l.t(&format!("payroll.confirm.{step}"))) { (l.t(&format!("payroll.do.{step}"))) }
            }
        } @else if r.status == "prepared" {
            p.hint { (l.t("payroll.awaiting_approval")) }
        }
    }
}

/// Per component: the appropriation as the track, what approved payrolls committed before
/// and this payroll stacked on it, and a mark at the year-end forecast (red when it overruns).
fn budget_chart(l: Locale, b: &sanad_payroll::BudgetReport) -> Markup {
    let (h, x0, span) = (26, 210.0, 380.0);
    let top = b
        .lines
        .iter()
        .map(|x| {
            x.appropriation
                .max(x.forecast)
                .max(x.committed_after)
                .centimes()
        })
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let w = |m: Money| (m.centimes().max(0) as f64 / top * span * 10.0).round() / 10.0;
    html! {
        svg.chart.budget viewBox=(format!("0 0 600 {}", b.lines.len() * h)) role="img" aria-label=(l.t("payroll.budget_chart")) {
            @for (i, x) in b.lines.iter().enumerate() {
                @let y = i * h;
                text x="0" y=(y + 16) { (l.t(&format!("component.{}", x.component.code()))) }
                rect.track x=(x0) y=(y + 5) width=(w(x.appropriation)) height="14" {}
                rect.before x=(x0) y=(y + 5) width=(w(x.committed_before)) height="14" {}
                rect.payroll x=(x0 + w(x.committed_before)) y=(y + 5) width=(w(x.payroll)) height="14" {}
                line.forecast.over[x.forecast_over] x1=(x0 + w(x.forecast)) x2=(x0 + w(x.forecast)) y1=(y + 1) y2=(y + 23) {}
            }
        }
    }
}

/// Stacked bars per provider: settled, pending, rejected and returned shares of what was sent.
fn reconciliation_chart(r: &PayrollSummary) -> Markup {
    let h = 22;
    html! {
        svg.chart.stack viewBox=(format!("0 0 600 {}", r.reconciliation.len() * h)) role="img" aria-hidden="true" {
            @for (i, x) in r.reconciliation.iter().enumerate() {
                @let y = i * h;
                @let total = x.sent.1.max(1) as f64;
                text x="0" y=(y + 15) { (x.provider) }
                @let mut at = 140.0;
                @for (class, amount) in [("settled", x.settled.1), ("pending", x.pending.1), ("rejected", x.rejected.1), ("returned", x.returned.1)] {
                    @let w = (amount as f64 / total * 440.0 * 10.0).round() / 10.0;
                    rect class=(class) x=(at) y=(y + 4) width=(w) height="14" {}
                    @let _ = { at += w; };
                }
            }
        }
    }
}

pub async fn step(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path((m, step)): Path<(String, String)>,
) -> Result<Redirect, WebError> {
    let m = month(&m)?;
    service::payroll_step(&s, &p, &req, m, &step).await?;
    Ok(Redirect::to(&format!("/payroll/{m}")))
}

/// Budget execution for the cycle's year as CSV (amounts in centimes, exact): appropriation,
/// committed before, this payroll, available after, executed, year-end forecast.
pub async fn budget_csv(
    State(s): State<AppState>,
    p: Principal,
    Path(m): Path<String>,
) -> Result<Response, WebError> {
    let m = month(&m)?;
    let r = service::payroll_summary(&s, &p, m).await?;
    let mut out = String::from(
        "year,month,component,appropriation_centimes,committed_before_centimes,payroll_centimes,available_centimes,executed_centimes,forecast_centimes,forecast_over\n",
    );
    for l in r.budget.iter().flat_map(|b| &b.lines) {
        let c = |x: Money| x.centimes().to_string();
        out.push_str(&format!(
            "{},{m},{},{},{},{},{},{},{},{}\n",
            m.year(),
            l.component.code(),
            c(l.appropriation),
            c(l.committed_before),
            c(l.payroll),
            c(l.available),
            c(l.executed),
            c(l.forecast),
            l.forecast_over
        ));
    }
    let name = format!("attachment; filename=\"sanad-budget-{m}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        out,
    )
        .into_response())
}

/// Reconciliation per provider as CSV (amounts in centimes, exact).
pub async fn reconciliation_csv(
    State(s): State<AppState>,
    p: Principal,
    Path(m): Path<String>,
) -> Result<Response, WebError> {
    let m = month(&m)?;
    let r = service::payroll_summary(&s, &p, m).await?;
    let mut out = String::from(
        "month,provider,sent_count,sent_centimes,settled_count,settled_centimes,pending_count,pending_centimes,rejected_count,rejected_centimes,returned_count,returned_centimes\n",
    );
    for x in &r.reconciliation {
        let cells: Vec<String> = [x.sent, x.settled, x.pending, x.rejected, x.returned]
            .iter()
            .flat_map(|(n, a)| [n.to_string(), a.to_string()])
            .collect();
        out.push_str(&format!("{m},{},{}\n", x.provider, cells.join(",")));
    }
    let name = format!("attachment; filename=\"sanad-reconciliation-{m}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        out,
    )
        .into_response())
}
