//! The template file format, its validation, and rendering.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use sanad_domain::{Money, Month};
use serde::{Deserialize, Serialize};

use crate::application::{Application, DeadlinePolicy, Status};
use crate::reasons::ReasonCode;
use crate::receipt::ReceiptNumber;

const DEFAULTS: &str = include_str!("../../templates/notifications.txt");

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Notices are in French unless the household asked for Arabic.
    #[default]
    Fr,
    Ar,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Fr, Language::Ar];

    /// `fr` or `ar`.
    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::Ar => "ar",
        }
    }
}

/// The message templates and the placeholders each may use.
const KINDS: [(&str, &[&str]); 6] = [
    ("receipt", &["receipt", "submitted_on", "decision_by"]),
    (
        "approved",
        &["receipt", "decided_on", "start_month", "amount"],
    ),
    (
        "rejected",
        &["receipt", "decided_on", "reasons", "appeal_until"],
    ),
    ("suspension", &["from_month", "terminates_from", "reasons"]),
    ("payment_issued", &["month", "amount", "reference"]),
    ("termination", &["last_month", "decided_on", "appeal_until"]),
];

/// What is to be said, with its values; the wording comes from the templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    Receipt {
        receipt: ReceiptNumber,
        submitted_on: NaiveDate,
        decision_by: NaiveDate,
    },
    Approved {
        receipt: ReceiptNumber,
        decided_on: NaiveDate,
        start_month: Month,
        amount: Money,
    },
    Rejected {
        receipt: ReceiptNumber,
        decided_on: NaiveDate,
        reasons: Vec<ReasonCode>,
        appeal_until: NaiveDate,
    },
    Suspension {
        from_month: Month,
        terminates_from: Month,
        reasons: Vec<ReasonCode>,
    },
    PaymentIssued {
        month: Month,
        amount: Money,
        reference: String,
    },
    /// The end of the aid once a suspension's notice has run out: a decision, so it can be
    /// appealed.
    Termination {
        last_month: Month,
        decided_on: NaiveDate,
        appeal_until: NaiveDate,
    },
}

impl Notice {
    /// The receipt of a new application, with the date a decision is due.
    pub fn receipt(app: &Application, policy: &DeadlinePolicy) -> Notice {
        let decision_by = app.submitted_on + Days::new(u64::from(policy.decision_days));
        Notice::Receipt {
            receipt: app.receipt,
            submitted_on: app.submitted_on,
            decision_by,
        }
    }

    /// The decision of a decided application: for an approval, the first month and amount; for
    /// a rejection, its reasons and the last day to appeal (decision date + 15 days by default).
    pub fn decision(
        app: &Application,
        start_month: Month,
        amount: Money,
        policy: &DeadlinePolicy,
    ) -> Option<Notice> {
        let d = app.decision()?;
        Some(match d.to {
            Status::Approved => Notice::Approved {
                receipt: app.receipt,
                decided_on: d.on,
                start_month,
                amount,
            },
            _ => Notice::Rejected {
                receipt: app.receipt,
                decided_on: d.on,
                reasons: d.reasons.clone(),
                appeal_until: app.appeal_until(policy)?,
            },
        })
    }

    /// The termination of a household's aid, decided on `decided_on`, paid up to `last_month`.
    pub fn termination(
        last_month: Month,
        decided_on: NaiveDate,
        policy: &DeadlinePolicy,
    ) -> Notice {
        Notice::Termination {
            last_month,
            decided_on,
            appeal_until: decided_on + Days::new(u64::from(policy.appeal_days)),
        }
    }

    /// The template it is worded by (also its wire tag).
    pub fn template(&self) -> &'static str {
        match self {
            Notice::Receipt { .. } => "receipt",
            Notice::Approved { .. } => "approved",
            Notice::Rejected { .. } => "rejected",
            Notice::Suspension { .. } => "suspension",
            Notice::PaymentIssued { .. } => "payment_issued",
            Notice::Termination { .. } => "termination",
        }
    }
}

/// Dates as `31/03/2026`, months as `03/2026` in both languages (Moroccan usage); amounts with
/// a decimal comma in French. Full locale formatting belongs to the web layer.
fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn month(m: Month) -> String {
    format!("{:02}/{}", m.month(), m.year())
}

fn money(m: Money, lang: Language) -> String {
    let s = m.to_string();
    if lang == Language::Fr {
        s.replace('.', ",")
    } else {
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct TemplateError {
    /// 0 when the error is about the file as a whole (a missing template).
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("unknown placeholder {{{0}}}")]
    UnknownPlaceholder(String),
    #[error("unbalanced brace at character {0}")]
    Brace(usize),
    #[error("no template '{0}'")]
    MissingTemplate(String),
}

/// Every template in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    sections: HashMap<(String, Language), Vec<Piece>>,
}

/// Split a template into text and placeholders.
fn pieces(text: &str) -> Result<Vec<Piece>, RenderError> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|p| p.1) == Some('{') => {
                chars.next();
                buf.push('{');
            }
            '}' if chars.peek().map(|p| p.1) == Some('}') => {
                chars.next();
                buf.push('}');
            }
            '{' => {
                let (mut name, mut closed) = (String::new(), false);
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed
                    || name.is_empty()
                    || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                {
                    return Err(RenderError::Brace(i));
                }
                out.push(Piece::Text(std::mem::take(&mut buf)));
                out.push(Piece::Slot(name));
            }
            '}' => return Err(RenderError::Brace(i)),
            c => buf.push(c),
        }
    }
    out.push(Piece::Text(buf));
    Ok(out)
}

fn fill(pieces: &[Piece], values: &HashMap<&str, String>) -> Result<String, RenderError> {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Slot(s) => out.push_str(
                values
                    .get(s.as_str())
                    .ok_or_else(|| RenderError::UnknownPlaceholder(s.clone()))?,
            ),
        }
    }
    Ok(out)
}

/// Render any template text with `values`; a placeholder without a value is an error.
pub fn render_str(template: &str, values: &HashMap<&str, String>) -> Result<String, RenderError> {
    fill(&pieces(template)?, values)
}

fn allowed(name: &str) -> Option<&'static [&'static str]> {
    if let Some(code) = name.strip_prefix("reason.") {
        return ReasonCode::parse(code).map(|_| &[][..]);
    }
    KINDS.iter().find(|(k, _)| *k == name).map(|(_, p)| *p)
}

impl Templates {
    /// The embedded defaults.
    pub fn defaults() -> Templates {
        Templates::from_text(DEFAULTS).expect("the embedded templates are valid")
    }

    /// A complete template file: every template and reason, in both languages.
    pub fn from_text(text: &str) -> Result<Templates, TemplateError> {
        let t = Templates {
            sections: parse(text)?,
        };
        let mut names: Vec<String> = KINDS.iter().map(|(k, _)| k.to_string()).collect();
        names.extend(
            ReasonCode::ALL
                .iter()
                .map(|r| format!("reason.{}", r.code())),
        );
        for name in names {
            for lang in Language::ALL {
                if !t.sections.contains_key(&(name.clone(), lang)) {
                    return Err(TemplateError {
                        line: 0,
                        reason: format!("missing [{name}.{}]", lang.code()),
                    });
                }
            }
        }
        Ok(t)
    }

    /// These templates with some sections replaced by those of `text` (an edited file need
    /// only hold what it changes).
    pub fn overlay(&self, text: &str) -> Result<Templates, TemplateError> {
        let mut t = self.clone();
        t.sections.extend(parse(text)?);
        Ok(t)
    }

    /// The notice in `lang`.
    pub fn render(&self, notice: &Notice, lang: Language) -> Result<String, RenderError> {
        let values = self.values(notice, lang)?;
        fill(self.section(notice.template(), lang)?, &values)
    }

    fn section(&self, name: &str, lang: Language) -> Result<&[Piece], RenderError> {
        self.sections
            .get(&(name.to_owned(), lang))
            .map(Vec::as_slice)
            .ok_or_else(|| RenderError::MissingTemplate(format!("{name}.{}", lang.code())))
    }

    fn reasons(&self, reasons: &[ReasonCode], lang: Language) -> Result<String, RenderError> {
        let words = reasons
            .iter()
            .map(|r| {
                fill(
                    self.section(&format!("reason.{}", r.code()), lang)?,
                    &HashMap::new(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(words.join(if lang == Language::Ar { "، " } else { " ; " }))
    }

    fn values(
        &self,
        notice: &Notice,
        lang: Language,
    ) -> Result<HashMap<&'static str, String>, RenderError> {
        Ok(match notice {
            Notice::Receipt {
                receipt,
                submitted_on,
                decision_by,
            } => HashMap::from([
                ("receipt", receipt.to_string()),
                ("submitted_on", date(*submitted_on)),
                ("decision_by", date(*decision_by)),
            ]),
            Notice::Approved {
                receipt,
                decided_on,
                start_month,
                amount,
            } => HashMap::from([
                ("receipt", receipt.to_string()),
                ("decided_on", date(*decided_on)),
                ("start_month", month(*start_month)),
                ("amount", money(*amount, lang)),
            ]),
            Notice::Rejected {
                receipt,
                decided_on,
                reasons,
                appeal_until,
            } => HashMap::from([
                ("receipt", receipt.to_string()),
                ("decided_on", date(*decided_on)),
                ("reasons", self.reasons(reasons, lang)?),
                ("appeal_until", date(*appeal_until)),
            ]),
            Notice::Suspension {
                from_month,
                terminates_from,
                reasons,
            } => HashMap::from([
                ("from_month", month(*from_month)),
                ("terminates_from", month(*terminates_from)),
                ("reasons", self.reasons(reasons, lang)?),
            ]),
            Notice::PaymentIssued {
                month: m,
                amount,
                reference,
            } => HashMap::from([
                ("month", month(*m)),
                ("amount", money(*amount, lang)),
                ("reference", reference.clone()),
            ]),
            Notice::Termination {
                last_month,
                decided_on,
                appeal_until,
            } => HashMap::from([
                ("last_month", month(*last_month)),
                ("decided_on", date(*decided_on)),
                ("appeal_until", date(*appeal_until)),
            ]),
        })
    }
}

/// Parse sections, checking names, languages, braces and placeholders.
fn parse(text: &str) -> Result<HashMap<(String, Language), Vec<Piece>>, TemplateError> {
    let mut sections = HashMap::new();
    let mut current: Option<(String, Language, usize, Vec<&str>)> = None;
    let mut finish =
        |c: Option<(String, Language, usize, Vec<&str>)>| -> Result<(), TemplateError> {
            let Some((name, lang, line, body)) = c else {
                return Ok(());
            };
            let text = body.join("\n");
            let ps = pieces(text.trim()).map_err(|e| TemplateError {
                line,
                reason: format!("[{name}.{}]: {e}", lang.code()),
            })?;
            let allowed = allowed(&name).expect("checked at the section line");
            if let Some(Piece::Slot(bad)) = ps
                .iter()
                .find(|p| matches!(p, Piece::Slot(s) if !allowed.contains(&s.as_str())))
            {
                let reason = format!(
                    "[{name}.{}]: unknown placeholder {{{bad}}} (allowed: {})",
                    lang.code(),
                    allowed.join(", ")
                );
                return Err(TemplateError { line, reason });
            }
            if sections.insert((name.clone(), lang), ps).is_some() {
                return Err(TemplateError {
                    line,
                    reason: format!("[{name}.{}] appears twice", lang.code()),
                });
            }
            Ok(())
        };
    for (i, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        if line.starts_with('#') {
            continue;
        }
        if let Some(header) = line
            .trim()
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
        {
            finish(current.take())?;
            current = Some(section_header(header, i)?);
        } else if let Some(c) = current.as_mut() {
            c.3.push(line);
        } else if !line.trim().is_empty() {
            return Err(TemplateError {
                line: i,
                reason: "text before the first [section]".into(),
            });
        }
    }
    finish(current)?;
    Ok(sections)
}

fn section_header(
    header: &str,
    line: usize,
) -> Result<(String, Language, usize, Vec<&'static str>), TemplateError> {
    let err = |reason: String| TemplateError { line, reason };
    let (name, lang) = header
        .rsplit_once('.')
        .ok_or_else(|| err(format!("[{header}] is not [<template>.<language>]")))?;
    let lang = match lang {
        "fr" => Language::Fr,
        "ar" => Language::Ar,
        other => return Err(err(format!("unknown language '{other}' (fr, ar)"))),
    };
    if allowed(name).is_none() {
        return Err(err(format!("unknown template '{name}'")));
    }
    Ok((name.to_owned(), lang, line, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::{Channel, Requested};
    use sanad_domain::{Idcs, RsuId};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rejected() -> Application {
        let r = ReceiptNumber::new(2026, 1234).unwrap();
        let mut a = Application::submit(
            r,
            RsuId::parse("100000000001").unwrap(),
            Idcs::from_body(1),
            Channel::Web,
            &[Requested::ChildAllowance],
            d("2026-03-02"),
        )
        .unwrap();
        a.move_to(Status::Verifying, d("2026-03-02"), vec![])
            .unwrap();
        a.move_to(
            Status::Rejected,
            d("2026-03-20"),
            vec![
                ReasonCode::ExcludedPublicEmployee,
                ReasonCode::DataInconsistency,
            ],
        )
        .unwrap();
        a
    }

    #[test]
    fn decision_letters_carry_reasons_and_the_appeal_deadline() {
        let t = Templates::defaults();
        let n = Notice::decision(
            &rejected(),
            Month::of(d("2026-03-02")),
            Money::ZERO,
            &DeadlinePolicy::default(),
        )
        .unwrap();
        let fr = t.render(&n, Language::Fr).unwrap();
        let receipt = ReceiptNumber::new(2026, 1234).unwrap();
        assert_eq!(
            fr,
            format!(
                "Sanad : votre demande n° {receipt} est rejetée (20/03/2026). Motif : un membre du ménage est employé du secteur public ; données déclarées incohérentes avec les registres. Vous pouvez présenter un recours jusqu'au 04/04/2026 inclus."
            )
        );
        let ar = t.render(&n, Language::Ar).unwrap();
        assert!(
            ar.contains("أحد أفراد الأسرة موظف في القطاع العام، عدم تطابق"),
            "{ar}"
        );
        assert!(ar.contains("04/04/2026"), "{ar}");
    }

    #[test]
    fn every_notice_renders_in_both_languages() {
        let t = Templates::defaults();
        let r = ReceiptNumber::new(2026, 1).unwrap();
        let notices = [
            Notice::Receipt {
                receipt: r,
                submitted_on: d("2026-03-02"),
                decision_by: d("2026-04-01"),
            },
            Notice::Approved {
                receipt: r,
                decided_on: d("2026-03-10"),
                start_month: Month::of(d("2026-03-02")),
                amount: Money::from_centimes(100_850),
            },
            Notice::Suspension {
                from_month: Month::of(d("2026-04-01")),
                terminates_from: Month::of(d("2026-07-01")),
                reasons: vec![ReasonCode::NoPayee],
            },
            Notice::PaymentIssued {
                month: Month::of(d("2026-03-31")),
                amount: Money::from_mad(500),
                reference: "E2E-42".into(),
            },
            Notice::termination(
                Month::of(d("2026-06-01")),
                d("2026-09-20"),
                &DeadlinePolicy::default(),
            ),
        ];
        for n in &notices {
            for lang in Language::ALL {
                let text = t.render(n, lang).unwrap();
                assert!(!text.contains('{') && !text.is_empty(), "{text}");
            }
        }
        assert!(
            t.render(&notices[1], Language::Fr)
                .unwrap()
                .contains("1008,50 DH à partir de 03/2026")
        );
        assert!(
            t.render(&notices[1], Language::Ar)
                .unwrap()
                .contains("1008.50 درهم")
        );
        assert_eq!(
            t.render(&notices[4], Language::Fr).unwrap(),
            "Sanad : votre aide prend fin (20/09/2026). Dernier mois couvert : 06/2026. \
             Vous pouvez présenter un recours jusqu'au 05/10/2026 inclus."
        );
    }

    #[test]
    fn edited_templates_are_validated() {
        let t = Templates::defaults();
        let edited = t
            .overlay("# shorter\n[payment_issued.fr]\nAide {month} versée : {amount} DH.\n")
            .unwrap();
        let n = Notice::PaymentIssued {
            month: Month::of(d("2026-03-31")),
            amount: Money::from_mad(500),
            reference: "R".into(),
        };
        assert_eq!(
            edited.render(&n, Language::Fr).unwrap(),
            "Aide 03/2026 versée : 500,00 DH."
        );
        assert_eq!(
            edited.render(&n, Language::Ar).unwrap(),
            t.render(&n, Language::Ar).unwrap()
        );
        let cases = [
            (
                "[payment_issued.fr]\nAide {mois}\n",
                1,
                "unknown placeholder {mois}",
            ),
            ("\n[receipt.de]\nx\n", 2, "unknown language"),
            ("[receit.fr]\nx\n", 1, "unknown template"),
            ("[receipt.fr]\n{receipt\n", 1, "unbalanced brace"),
            ("hello\n[receipt.fr]\nx\n", 1, "before the first"),
            ("[receipt.fr]\na\n[receipt.fr]\nb\n", 3, "twice"),
        ];
        for (text, line, want) in cases {
            let e = t.overlay(text).unwrap_err();
            assert_eq!(e.line, line, "{text}");
            assert!(e.reason.contains(want), "{}", e.reason);
        }
        let e = Templates::from_text("[receipt.fr]\n{receipt}\n").unwrap_err();
        assert_eq!((e.line, e.reason.as_str()), (0, "missing [receipt.ar]"));
        // Literal braces, and the generic renderer refusing an unknown placeholder.
        let values = HashMap::from([("a", "1".to_string())]);
        assert_eq!(render_str("{{a}} = {a}", &values).unwrap(), "{a} = 1");
        assert_eq!(
            render_str("{b}", &values),
            Err(RenderError::UnknownPlaceholder("b".into()))
        );
    }
}
