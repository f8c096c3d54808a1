//! The dashboard: the registry's size within the user's scope, by region.

use axum::extract::State;
use axum::response::Html;
use maud::html;
use sanad_domain::{Geography, Permission};

use super::layout;
use crate::AppState;
use crate::auth::{Lang, Principal};
use crate::error::WebError;

pub async fn dashboard(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
) -> Result<Html<String>, WebError> {
    p.require(Permission::Aggregates)?;
    let counts = s.store.count_by_region(&p.scope).await?;
    let geo = Geography::get();
    let name = |c: sanad_domain::RegionCode| {
        let r = geo.region(c);
        if l == crate::i18n::Locale::Ar {
            r.name_ar.clone()
        } else {
            r.name_fr.clone()
        }
    };
    let (hh, persons): (i64, i64) = counts
        .iter()
        .fold((0, 0), |(a, b), c| (a + c.households, b + c.persons));
    let content = html! {
        h1 { (l.t("home.title")) }
        p.totals {
            span { b { (l.tn("households.count", hh)) } }
            span { b { (l.tn("persons.count", persons)) } }
            span.scope { (l.t("home.scope")) " : " (p.scope.to_string()) }
        }
        section.card {
            h2 { (l.t("home.by_region")) }
            (layout::bars(l, &counts.iter().map(|c| (name(c.region), c.households)).collect::<Vec<_>>()))
            table {
                thead { tr { th { (l.t("home.region")) } th.num { (l.t("home.households")) } th.num { (l.t("home.persons")) } } }
                tbody {
                    @for c in &counts {
                        tr { td { (c.region) " " (name(c.region)) } td.num { (l.int(c.households)) } td.num { (l.int(c.persons)) } }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("home.title"),
        "home",
        content,
    ))
}
