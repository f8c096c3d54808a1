//! Text in the three languages of Sanad's pages: French, Arabic, English.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Fr,
    Ar,
    En,
}

/// One message in French, Arabic and English.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub fr: String,
    pub ar: String,
    pub en: String,
}

impl Text {
    pub fn new(fr: impl Into<String>, ar: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            fr: fr.into(),
            ar: ar.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.fr,
            Lang::Ar => &self.ar,
            Lang::En => &self.en,
        }
    }

    /// The first language that is blank, if any: a catalogue entry must be complete in all three.
    pub(crate) fn missing(&self) -> Option<Lang> {
        [Lang::Fr, Lang::Ar, Lang::En]
            .into_iter()
            .find(|&l| self.get(l).trim().is_empty())
    }
}
