//! HTML tables and the standalone document. Every fragment is a `<section>`
//! with classes only (no inline styles), so the web app can embed it.

use std::fmt::Write;

use super::labels::{Key, Lang, text};
use super::svg::{coef_plot_svg, event_study_svg, rd_plot_svg};
use super::{
    BalanceTable, DesignSummary, EstimatesTable, EventStudy, RdSection, Report, escape, num, pval,
};
use crate::ols::Vcov;

/// Styles of the standalone document; the web app can serve the same rules
/// from its own stylesheet (class names are stable).
/// The page styles of the standalone report; [`FRAGMENT_STYLESHEET`] follows them.
const PAGE_STYLESHEET: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans Arabic",sans-serif;margin:2rem auto;max-width:68rem;padding:0 1rem;color:#1f2933;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d9e2ec;padding-bottom:.3rem}
"#;

/// The styles of the fragments alone, for a page that has its own (the web application).
pub const FRAGMENT_STYLESHEET: &str = r#"
table.eval-table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.6rem 0}
.eval-table th,.eval-table td{border-bottom:1px solid #e4e7eb;padding:.3rem .5rem;text-align:end;vertical-align:top}
.eval-table th:first-child,.eval-table td:first-child{text-align:start}
.eval-table thead th{background:#f0f4f8}
.eval-note{font-size:.85rem;color:#52606d}
.eval-hash{font-family:ui-monospace,monospace;word-break:break-all}
.eval-ok{color:#18794e}.eval-bad{color:#c62828;font-weight:bold}.eval-warn{color:#8d6e00}
.eval-se{color:#616e7c;font-size:.85em}
figure.eval-figure{margin:1rem 0}figure.eval-figure svg{width:100%;height:auto;max-width:48rem;display:block}
figure.eval-figure figcaption{font-size:.9rem;color:#52606d}
.eval-svg text{font-size:12px;fill:#323f4b}
"#;

fn th(s: &str) -> String {
    format!("<th scope=\"col\">{}</th>", escape(s))
}

fn td(s: &str) -> String {
    format!("<td>{}</td>", escape(s))
}

fn report_title(r: &Report, lang: Lang) -> String {
    r.title
        .clone()
        .unwrap_or_else(|| text(lang, Key::ReportTitle).to_string())
}

/// The report's title and every section, for embedding in a page.
pub fn body_html(r: &Report, lang: Lang) -> String {
    let mut body = format!("<h1>{}</h1>\n", escape(&report_title(r, lang)));
    body.push_str(&design_html(&r.design, lang));
    if let Some(b) = &r.balance {
        body.push_str(&balance_html(b, lang));
    }
    if !r.estimates.rows.is_empty() {
        body.push_str(&estimates_html(&r.estimates, lang));
        body.push_str(&qvalues_html(&r.estimates, lang));
    }
    if let Some(rd) = &r.rd {
        body.push_str(&rd_table_html(rd, lang));
    }
    if let Some(es) = &r.event_study {
        body.push_str(&event_study_table_html(es, lang));
    }
    body
}

/// Numbers keep left-to-right order inside Arabic text ("-0.08", "[a, b]", "<0.001").
fn ltr(s: &str) -> String {
    format!("<bdi dir=\"ltr\">{s}</bdi>")
}

/// Numeric cell (the text is generated, never user input).
fn tdn(s: &str) -> String {
    format!("<td>{}</td>", ltr(s))
}

/// Estimate over its standard error in parentheses.
fn est_se(est: f64, se: f64) -> String {
    format!(
        "<td>{}<br><span class=\"eval-se\">{}</span></td>",
        ltr(&num(est)),
        ltr(&format!("({})", num(se)))
    )
}

fn ci(lo: f64, hi: f64) -> String {
    format!("[{}, {}]", num(lo), num(hi))
}

fn section(class: &str, title: &str, body: &str) -> String {
    format!(
        "<section class=\"eval-section {class}\"><h2>{}</h2>\n{body}</section>\n",
        escape(title)
    )
}

/// Design summary: algorithm, seed, unit, strata, arms, design hash and
/// whether it matches the pre-registered one.
pub fn design_html(d: &DesignSummary, lang: Lang) -> String {
    let t = |k| text(lang, k);
    let ds = &d.design;
    let mut b = String::from("<table class=\"eval-table eval-design\"><tbody>\n");
    let mut row = |k: Key, v: String| {
        let _ = writeln!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{v}</td></tr>",
            escape(t(k))
        );
    };
    row(Key::Algorithm, escape(&ds.algorithm));
    row(Key::Seed, ds.seed.to_string());
    let unit = match &ds.cluster {
        Some(c) => format!("{} ⊂ {}", escape(&ds.unit), escape(c)),
        None => escape(&ds.unit),
    };
    row(Key::RandomisationUnit, unit);
    let strata = ds
        .strata
        .iter()
        .map(|s| escape(s))
        .collect::<Vec<_>>()
        .join(", ");
    let strata = match d.n_strata {
        Some(n) => format!("{strata} ({n})"),
        None => strata,
    };
    row(Key::Strata, strata);
    let status = match d.hash_verified {
        Some(true) => format!(
            "<span class=\"eval-ok\">✓ {}</span>",
            escape(t(Key::HashVerified))
        ),
        Some(false) => format!(
            "<span class=\"eval-bad\">✗ {}</span>",
            escape(t(Key::HashMismatch))
        ),
        None => format!(
            "<span class=\"eval-warn\">{}</span>",
            escape(t(Key::HashNotChecked))
        ),
    };
    row(
        Key::DesignHash,
        format!(
            "<code class=\"eval-hash\">{}</code><br>{status}",
            escape(&d.design_hash)
        ),
    );
    b.push_str("</tbody></table>\n<table class=\"eval-table eval-arms\"><thead><tr>");
    for k in [Key::Arm, Key::Share, Key::Units, Key::Clusters] {
        b.push_str(&th(t(k)));
    }
    b.push_str("</tr></thead><tbody>\n");
    for a in &d.arms {
        let cl = a.clusters.map_or("–".into(), |c| c.to_string());
        let _ = writeln!(
            b,
            "<tr>{}{}{}{}</tr>",
            td(&a.name),
            tdn(&num(a.share)),
            tdn(&a.units.to_string()),
            tdn(&cl)
        );
    }
    b.push_str("</tbody></table>\n");
    section("eval-design-section", t(Key::Design), &b)
}

fn vcov_note(vcov: Vcov, cluster: Option<&str>, strata: Option<&str>, lang: Lang) -> String {
    let t = |k| escape(text(lang, k));
    let mut s = match (vcov, cluster) {
        (Vcov::Cr1, Some(c)) => format!("{} {}.", t(Key::SeClustered), escape(c)),
        _ => t(Key::SeRobust),
    };
    if let Some(st) = strata {
        let _ = write!(s, " {} {}.", t(Key::StrataFe), escape(st));
    }
    format!("<p class=\"eval-note\">{s}</p>\n")
}

/// iebaltab-style balance table: N, mean (SE) per arm, difference,
/// normalised difference, p-value, and the joint F test.
pub fn balance_html(b: &BalanceTable, lang: Lang) -> String {
    let t = |k| text(lang, k);
    let mut h = String::from("<table class=\"eval-table eval-balance\"><thead><tr>");
    h.push_str(&th(t(Key::Variable)));
    for arm in [&b.control_name, &b.treatment_name] {
        h.push_str(&th(&format!("{arm}: N")));
        h.push_str(&th(&format!("{arm}: {} ({})", t(Key::Mean), t(Key::Se))));
    }
    for k in [Key::Difference, Key::NormDiff, Key::PValue] {
        h.push_str(&th(t(k)));
    }
    h.push_str("</tr></thead><tbody>\n");
    for r in &b.rows {
        let _ = writeln!(
            h,
            "<tr>{}{}{}{}{}{}{}{}</tr>",
            td(&r.variable),
            tdn(&r.n_control.to_string()),
            est_se(r.mean_control, r.se_control),
            tdn(&r.n_treatment.to_string()),
            est_se(r.mean_treatment, r.se_treatment),
            tdn(&num(r.regression_difference)),
            tdn(&num(r.normalized_difference)),
            tdn(&pval(r.p_value)),
        );
    }
    let j = &b.joint;
    let _ = writeln!(
        h,
        "</tbody><tfoot><tr><th scope=\"row\">{}</th><td colspan=\"7\">{} ; {} = {} ; N = {}</td></tr></tfoot></table>",
        escape(t(Key::JointF)),
        ltr(&format!(
            "F({}, {}) = {}",
            j.df_num,
            num(j.df_den),
            num(j.f)
        )),
        escape(t(Key::PValue)),
        ltr(&pval(j.p_value)),
        j.n
    );
    h.push_str(&vcov_note(
        b.vcov,
        b.cluster.as_deref(),
        b.strata.as_deref(),
        lang,
    ));
    section("eval-balance-section", t(Key::Balance), &h)
}

/// Estimates table: ITT (OLS) and LATE (2SLS) with SE, CI and p-value.
pub fn estimates_html(e: &EstimatesTable, lang: Lang) -> String {
    let t = |k| text(lang, k);
    let lvl = format!("{} {:.0} %", t(Key::Ci), e.level * 100.0);
    let mut h = String::from("<table class=\"eval-table eval-estimates\"><thead><tr>");
    for s in [
        t(Key::Outcome),
        t(Key::Family),
        "N",
        t(Key::ControlMean),
        t(Key::Itt),
        &lvl,
        t(Key::PValue),
        t(Key::Late),
        &lvl,
        t(Key::PValue),
        t(Key::FirstStageF),
    ] {
        h.push_str(&th(s));
    }
    h.push_str("</tr></thead><tbody>\n");
    for r in &e.rows {
        let late = match &r.late {
            Some(c) => format!(
                "{}{}{}",
                est_se(c.estimate, c.se),
                tdn(&ci(c.ci_low, c.ci_high)),
                tdn(&pval(c.p))
            ),
            None => "<td>–</td><td>–</td><td>–</td>".into(),
        };
        let _ = writeln!(
            h,
            "<tr>{}{}{}{}{}{}{}{late}{}</tr>",
            td(&r.label),
            td(&r.family),
            tdn(&r.n.to_string()),
            tdn(&num(r.control_mean)),
            est_se(r.itt.estimate, r.itt.se),
            tdn(&ci(r.itt.ci_low, r.itt.ci_high)),
            tdn(&pval(r.itt.p)),
            tdn(&r.first_stage_f.map_or("–".into(), num)),
        );
    }
    h.push_str("</tbody></table>\n");
    h.push_str(&vcov_note(
        e.vcov,
        e.cluster.as_deref(),
        e.strata.as_deref(),
        lang,
    ));
    h.push_str(&coef_plot_svg(&e.rows, e.level, lang));
    section("eval-estimates-section", t(Key::Estimates), &h)
}

/// q-values of the ITT p-values within each outcome family.
pub fn qvalues_html(e: &EstimatesTable, lang: Lang) -> String {
    let t = |k| text(lang, k);
    let mut h = String::from("<table class=\"eval-table eval-qvalues\"><thead><tr>");
    for k in [
        Key::Family,
        Key::Outcome,
        Key::PValue,
        Key::BhQ,
        Key::SharpenedQ,
        Key::Holm,
    ] {
        h.push_str(&th(t(k)));
    }
    h.push_str("</tr></thead><tbody>\n");
    let mut rows: Vec<_> = e.rows.iter().collect();
    rows.sort_by(|a, b| a.family.cmp(&b.family));
    for r in rows {
        let _ = writeln!(
            h,
            "<tr>{}{}{}{}{}{}</tr>",
            td(&r.family),
            td(&r.label),
            tdn(&pval(r.itt.p)),
            tdn(&pval(r.q_bh)),
            tdn(&pval(r.q_sharpened)),
            tdn(&pval(r.p_holm)),
        );
    }
    h.push_str("</tbody></table>\n");
    section("eval-qvalues-section", t(Key::MultipleTesting), &h)
}

/// RD estimates (conventional and robust bias-corrected) with the plot.
pub fn rd_table_html(rd: &RdSection, lang: Lang) -> String {
    let t = |k| text(lang, k);
    let r = &rd.result;
    let lvl = format!("{} {:.0} %", t(Key::Ci), rd.level * 100.0);
    let mut h = String::from("<table class=\"eval-table eval-rd\"><thead><tr>");
    for s in ["", t(Key::Effect), &lvl, t(Key::PValue)] {
        h.push_str(&th(s));
    }
    h.push_str("</tr></thead><tbody>\n");
    let _ = writeln!(
        h,
        "<tr>{}{}{}{}</tr>\n<tr>{}{}{}{}</tr>",
        td(t(Key::Conventional)),
        est_se(r.tau_conventional, r.se_conventional),
        tdn(&ci(r.ci_conventional_low, r.ci_conventional_high)),
        tdn(&pval(r.p_conventional)),
        td(t(Key::RobustBc)),
        est_se(r.tau_bias_corrected, r.se_robust),
        tdn(&ci(r.ci_robust_low, r.ci_robust_high)),
        tdn(&pval(r.p_robust)),
    );
    let _ = writeln!(
        h,
        "</tbody></table>\n<p class=\"eval-note\">{} = {} ; {} = {} ; N = {} + {} ({} : {} + {}). {}</p>",
        escape(t(Key::Cutoff)),
        ltr(&rd.spec.cutoff.to_string()),
        escape(t(Key::Bandwidth)),
        ltr(&num(r.h)),
        r.n_left,
        r.n_right,
        escape(t(Key::Bandwidth)),
        r.n_h_left,
        r.n_h_right,
        escape(t(Key::RdTauNote)),
    );
    h.push_str(&rd_plot_svg(rd, lang));
    section("eval-rd-section", t(Key::RdPlot), &h)
}

/// Dynamic (event-time) effects with the plot.
pub fn event_study_table_html(es: &EventStudy, lang: Lang) -> String {
    let t = |k| text(lang, k);
    let lvl = format!("{} {:.0} %", t(Key::PointwiseCi), es.level * 100.0);
    let mut h = String::from("<table class=\"eval-table eval-event\"><thead><tr>");
    for s in [t(Key::EventTime), t(Key::Effect), &lvl] {
        h.push_str(&th(s));
    }
    h.push_str("</tr></thead><tbody>\n");
    for e in &es.dynamic.effects {
        let _ = writeln!(
            h,
            "<tr>{}{}{}</tr>",
            tdn(&format!("{}", e.key)),
            est_se(e.att, e.se),
            tdn(&ci(e.ci_low, e.ci_high))
        );
    }
    let _ = writeln!(
        h,
        "</tbody><tfoot><tr><th scope=\"row\">{}</th>{}<td></td></tr></tfoot></table>",
        escape(t(Key::Overall)),
        est_se(es.dynamic.overall_att, es.dynamic.overall_se)
    );
    let _ = writeln!(
        h,
        "<p class=\"eval-note\">{} ; N = {}</p>",
        escape(&es.label),
        es.n_units
    );
    h.push_str(&event_study_svg(es, lang));
    section("eval-event-section", t(Key::EventStudy), &h)
}

/// The whole report as one offline HTML document (no external assets, no script).
pub fn standalone_html(r: &Report, lang: Lang) -> String {
    let title = report_title(r, lang);
    let body = body_html(r, lang);
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\" dir=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"sanad-evaluation {}\">\n<title>{}</title>\n<style>{}{}</style>\n</head>\n\
         <body>\n{body}<footer class=\"eval-note\">{} {}</footer>\n</body>\n</html>\n",
        lang.code(),
        lang.dir(),
        env!("CARGO_PKG_VERSION"),
        escape(&title),
        PAGE_STYLESHEET,
        FRAGMENT_STYLESHEET,
        escape(text(lang, Key::GeneratedBy)),
        env!("CARGO_PKG_VERSION"),
    )
}
