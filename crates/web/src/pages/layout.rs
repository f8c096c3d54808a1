//! The page shell: language and direction, navigation by permission, CSRF for htmx.

use axum::response::Html;
use maud::{DOCTYPE, Markup, html};
use sanad_domain::Permission;

use crate::auth::Principal;
use crate::i18n::Locale;

/// A full page. `active` names the navigation entry to highlight.
pub fn page(
    l: Locale,
    p: Option<&Principal>,
    title: &str,
    active: &str,
    content: Markup,
) -> Html<String> {
    let csrf_header = p
        .map(|p| format!("{{\"X-CSRF-Token\": \"{}\"}}", p.csrf()))
        .unwrap_or_else(|| "{}".into());
    Html(
        html! {
            (DOCTYPE)
            html lang=(l.code()) dir=(l.dir()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowScriptTags":false}"#;
                    title { (title) " — Sanad" }
                    link rel="stylesheet" href="/assets/sanad.css";
                    link rel="stylesheet" href="/assets/report.css";
                    script src="/assets/htmx.min.js" defer {}
                    script src="/assets/sanad.js" defer {}
                }
                body hx-headers=(csrf_header) {
                    header.top {
                        a.brand href="/" { "Sanad" }
                        span.tagline { (l.t("app.tagline")) }
                        @if let Some(p) = p { (nav(l, p, active)) }
                        (language_switch(l, p))
                    }
                    main { (content) }
                    footer { (l.t("app.footer")) }
                }
            }
        }
        .into_string(),
    )
}

fn nav(l: Locale, p: &Principal, active: &str) -> Markup {
    let items: [(&str, &str, bool); 11] = [
        ("home", "/", p.can(Permission::Aggregates)),
        (
            "households",
            "/households",
            p.can(Permission::HouseholdRead),
        ),
        (
            "review",
            "/applications",
            p.can(Permission::ApplicationsIntake),
        ),
        ("outbox", "/outbox", p.can(Permission::Outbox)),
        ("payroll", "/payroll", p.can(Permission::PayrollRead)),
        ("rules", "/rules", p.can(Permission::RulesRead)),
        ("pilot", "/pilot", p.can(Permission::Aggregates)),
        (
            "caseload",
            "/pilot/caseload",
            p.can(Permission::CasesManage),
        ),
        ("users", "/admin/users", p.can(Permission::UsersManage)),
        ("audit", "/audit", p.can(Permission::AuditRead)),
        ("api", "/api/docs", true),
    ];
    html! {
        nav aria-label=(l.t("nav.label")) {
            @for (key, href, shown) in items {
                @if shown {
                    @let k = format!("nav.{key}");
                    @let label = l.t(&k);
                    @if key == active { a href=(href) aria-current="page" { (label) } } @else { a href=(href) { (label) } }
                }
            }
        }
        span.who { (p.display_name) " · " (l.t(&format!("role.{}", p.role.as_str()))) }
        form.inline method="post" action="/logout" {
            input type="hidden" name="_csrf" value=(p.csrf());
            button.link type="submit" { (l.t("nav.logout")) }
        }
    }
}

fn language_switch(l: Locale, p: Option<&Principal>) -> Markup {
    html! {
        form.inline.lang method="post" action="/settings/language" {
            @if let Some(p) = p { input type="hidden" name="_csrf" value=(p.csrf()); }
            label.visually-hidden for="lang" { (l.t("nav.language")) }
            select id="lang" name="lang" data-autosubmit {
                @for x in Locale::ALL {
                    option value=(x.code()) selected[x == l] { (x.t("language.name")) }
                }
            }
            noscript { button type="submit" { "OK" } }
        }
    }
}

/// A horizontal bar chart as inline SVG (no inline style, allowed by the CSP).
pub fn bars(l: Locale, rows: &[(String, i64)]) -> Markup {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let h = 22;
    html! {
        svg.chart viewBox=(format!("0 0 600 {}", rows.len() * h)) role="img" aria-label=(l.t("chart.bars")) {
            @for (i, (label, v)) in rows.iter().enumerate() {
                @let y = i * h;
                @let w = (*v as f64 / max as f64 * 300.0).round();
                text x="0" y=(y + 15) { (label) }
                rect x="220" y=(y + 4) width=(w) height="14" rx="2" {}
                text.value x=(228.0 + w) y=(y + 15) { (l.int(*v)) }
            }
        }
    }
}
