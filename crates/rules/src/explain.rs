//! Decisions in words a caseworker can read to a household, in French, Arabic and English,
//! generated from the line items (never written separately, so they cannot disagree).

use sanad_domain::Money;

use crate::engine::{Component, Decision, Line, Reason};
use crate::ruleset::RuleSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    Ar,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.get(..2)?.to_ascii_lowercase().as_str() {
            "fr" => Some(Lang::Fr),
            "ar" => Some(Lang::Ar),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// `300 MAD`, `36,50 MAD`, `300 درهم`.
fn amount(m: Money, lang: Lang) -> String {
    let c = m.centimes();
    let whole = c / 100;
    let cents = c % 100;
    let num = match (lang, cents) {
        (_, 0) => whole.to_string(),
        (Lang::En, _) => format!("{whole}.{cents:02}"),
        _ => format!("{whole},{cents:02}"),
    };
    match lang {
        Lang::Ar => format!("{num} درهم"),
        _ => format!("{num} MAD"),
    }
}

/// Arabic counted noun for years: 1 سنة, 2 سنتان, 3–10 سنوات, 11+ سنة (CLDR plural classes).
fn years(n: u8, lang: Lang) -> String {
    match lang {
        Lang::Fr => format!("{n} an{}", if n > 1 { "s" } else { "" }),
        Lang::En => format!("aged {n}"),
        Lang::Ar => match n {
            0 => "أقل من سنة".into(),
            1 => "سنة واحدة".into(),
            2 => "سنتان".into(),
            3..=10 => format!("{n} سنوات"),
            _ => format!("{n} سنة"),
        },
    }
}

fn school(line: &Line, lang: Lang) -> &'static str {
    let young = line.age.is_some_and(|a| a < 6);
    match (lang, young, line.in_school) {
        (Lang::Fr, true, _) => "moins de 6 ans",
        (Lang::Fr, _, true) => "scolarisé",
        (Lang::Fr, _, false) => "non scolarisé",
        (Lang::En, true, _) => "under 6",
        (Lang::En, _, true) => "in school",
        (Lang::En, _, false) => "not in school",
        (Lang::Ar, true, _) => "أقل من 6 سنوات",
        (Lang::Ar, _, true) => "متمدرس",
        (Lang::Ar, _, false) => "غير متمدرس",
    }
}

/// One sentence per line item, in order.
pub fn lines(d: &Decision, lang: Lang) -> Vec<String> {
    d.lines
        .iter()
        .chain(&d.one_off)
        .map(|l| line(l, lang))
        .collect()
}

fn line(l: &Line, lang: Lang) -> String {
    let rank = l.rank.unwrap_or(0);
    let age = l.age.map(|a| years(a, lang)).unwrap_or_default();
    let amt = amount(l.amount, lang);
    let sep = if lang == Lang::Ar { "، " } else { ", " };
    match (l.component, lang) {
        (Component::ChildAllowance, Lang::Fr) => {
            format!("Enfant {rank}, {age}, {} : {amt}", school(l, lang))
        }
        (Component::ChildAllowance, Lang::En) => {
            format!("Child {rank}, {age}, {}: {amt}", school(l, lang))
        }
        (Component::ChildAllowance, Lang::Ar) => {
            format!("الطفل {rank}{sep}{age}{sep}{}: {amt}", school(l, lang))
        }
        (Component::OrphanAllowance, Lang::Fr) => format!(
            "Enfant {rank}, orphelin de père, {age}, {} : {amt}",
            school(l, lang)
        ),
        (Component::OrphanAllowance, Lang::En) => format!(
            "Child {rank}, paternal orphan, {age}, {}: {amt}",
            school(l, lang)
        ),
        (Component::OrphanAllowance, Lang::Ar) => format!(
            "الطفل {rank}{sep}يتيم الأب{sep}{age}{sep}{}: {amt}",
            school(l, lang)
        ),
        (Component::DisabilitySupplement, Lang::Fr) => {
            format!("Enfant {rank} en situation de handicap : supplément de {amt}")
        }
        (Component::DisabilitySupplement, Lang::En) => {
            format!("Child {rank} with a disability: supplement of {amt}")
        }
        (Component::DisabilitySupplement, Lang::Ar) => {
            format!("الطفل {rank} في وضعية إعاقة: إضافة {amt}")
        }
        (Component::FloorTopUp, Lang::Fr) => {
            format!("Complément jusqu'au minimum mensuel par ménage : {amt}")
        }
        (Component::FloorTopUp, Lang::En) => {
            format!("Top-up to the household monthly minimum: {amt}")
        }
        (Component::FloorTopUp, Lang::Ar) => format!("تكملة إلى الحد الأدنى الشهري للأسرة: {amt}"),
        (Component::FlatRate, Lang::Fr) => {
            format!("Aide forfaitaire (pas d'enfant de moins de 21 ans) : {amt}")
        }
        (Component::FlatRate, Lang::En) => format!("Flat-rate aid (no child under 21): {amt}"),
        (Component::FlatRate, Lang::Ar) => {
            format!("الإعانة الجزافية (لا يوجد طفل دون 21 سنة): {amt}")
        }
        (Component::BirthGrant, Lang::Fr) => {
            format!("Prime de naissance (naissance n° {rank}) : {amt}")
        }
        (Component::BirthGrant, Lang::En) => format!("Birth grant (birth no. {rank}): {amt}"),
        (Component::BirthGrant, Lang::Ar) => format!("منحة الولادة (الولادة رقم {rank}): {amt}"),
        (Component::SchoolStartGrant, Lang::Fr) => {
            format!("Aide à la rentrée scolaire, enfant {rank}, {age} : {amt}")
        }
        (Component::SchoolStartGrant, Lang::En) => {
            format!("School-start grant, child {rank}, {age}: {amt}")
        }
        (Component::SchoolStartGrant, Lang::Ar) => {
            format!("منحة الدخول المدرسي، الطفل {rank}{sep}{age}: {amt}")
        }
    }
}

/// Why a household is not eligible, one sentence per reason.
pub fn reasons(
    d: &Decision,
    rules: &RuleSet,
    score: Option<sanad_domain::Score>,
    lang: Lang,
) -> Vec<String> {
    let t = rules.threshold();
    let s = score.map(|s| s.to_string()).unwrap_or_default();
    d.reasons
        .iter()
        .map(|r| match (r, lang) {
            (Reason::ScoreAboveThreshold, Lang::Fr) => format!("Score {s} supérieur au seuil {t}"),
            (Reason::ScoreAboveThreshold, Lang::En) => format!("Score {s} above the threshold {t}"),
            (Reason::ScoreAboveThreshold, Lang::Ar) => format!("المؤشر {s} أعلى من العتبة {t}"),
            (Reason::NoScore, Lang::Fr) => "Aucun score RSU en vigueur pour ce mois".into(),
            (Reason::NoScore, Lang::En) => "No RSU score in force for this month".into(),
            (Reason::NoScore, Lang::Ar) => {
                "لا يوجد مؤشر للسجل الاجتماعي الموحد ساري المفعول لهذا الشهر".into()
            }
            (Reason::Residence, Lang::Fr) => "Le ménage ne réside pas au Maroc".into(),
            (Reason::Residence, Lang::En) => "The household does not reside in Morocco".into(),
            (Reason::Residence, Lang::Ar) => "الأسرة لا تقيم بالمغرب".into(),
            (Reason::ExcludedPublicEmployee, Lang::Fr) => {
                "Un membre est employé du secteur public".into()
            }
            (Reason::ExcludedPublicEmployee, Lang::En) => {
                "A member is a public-sector employee".into()
            }
            (Reason::ExcludedPublicEmployee, Lang::Ar) => "أحد الأفراد موظف في القطاع العام".into(),
            (Reason::ExcludedPensioner, Lang::Fr) => "Un membre perçoit une pension".into(),
            (Reason::ExcludedPensioner, Lang::En) => "A member receives a pension".into(),
            (Reason::ExcludedPensioner, Lang::Ar) => "أحد الأفراد يتقاضى معاشا".into(),
            (Reason::ExcludedFamilyAllowance, Lang::Fr) => {
                "Le ménage perçoit déjà des allocations familiales".into()
            }
            (Reason::ExcludedFamilyAllowance, Lang::En) => {
                "The household already receives family allowances".into()
            }
            (Reason::ExcludedFamilyAllowance, Lang::Ar) => {
                "الأسرة تستفيد من التعويضات العائلية".into()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_years_follow_plural_classes() {
        assert_eq!(years(1, Lang::Ar), "سنة واحدة");
        assert_eq!(years(2, Lang::Ar), "سنتان");
        assert_eq!(years(8, Lang::Ar), "8 سنوات");
        assert_eq!(years(15, Lang::Ar), "15 سنة");
        assert_eq!(years(1, Lang::Fr), "1 an");
        assert_eq!(years(8, Lang::Fr), "8 ans");
    }

    #[test]
    fn amounts_per_locale() {
        assert_eq!(amount(Money::from_mad(300), Lang::Fr), "300 MAD");
        assert_eq!(amount(Money::from_centimes(3650), Lang::Fr), "36,50 MAD");
        assert_eq!(amount(Money::from_centimes(3650), Lang::En), "36.50 MAD");
        assert_eq!(amount(Money::from_mad(300), Lang::Ar), "300 درهم");
    }
}
