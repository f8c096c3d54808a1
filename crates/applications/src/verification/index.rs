//! The duplicate indexes a verification reads. The caller builds them from the registry
//! (at national scale, from the database); [`MemoryIndex`] builds them from households in
//! memory, for tests and small runs.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::names::FullName;
use sanad_domain::{Cnie, Household, Idcs, PaymentInstrument, Phone, RsuId};
use serde::{Deserialize, Serialize};

/// Which households hold a person, by IDCS or by CNIE.
pub trait IdentityIndex {
    fn households_with_idcs(&self, idcs: &Idcs) -> Vec<RsuId>;
    fn households_with_cnie(&self, cnie: &Cnie) -> Vec<RsuId>;
}

/// How many households are registered with a phone number or a payment account — the
/// household being verified included, when it is in the index (it is, when the index is the
/// registry's).
pub trait ContactIndex {
    fn households_with_phone(&self, phone: &Phone) -> u32;
    fn households_with_account(&self, account: &PaymentInstrument) -> u32;
}

/// A person recorded somewhere else, for name and birth-date matching. Identifiers are
/// optional: records from declarations or other programmes may carry neither.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    pub household: RsuId,
    pub idcs: Option<Idcs>,
    pub cnie: Option<Cnie>,
    pub first_name: String,
    pub last_name: String,
    pub first_name_ar: String,
    pub last_name_ar: String,
    pub birth_date: NaiveDate,
}

/// A person of the index with their name normalised once.
#[derive(Debug, Clone)]
pub struct IndexedPerson {
    pub person: PersonRecord,
    pub name: FullName,
}

impl From<PersonRecord> for IndexedPerson {
    fn from(person: PersonRecord) -> Self {
        let name = FullName::new(
            (&person.first_name, &person.last_name),
            (&person.first_name_ar, &person.last_name_ar),
        );
        IndexedPerson { person, name }
    }
}

/// Persons by birth date, the blocking key of the fuzzy match.
pub trait PersonIndex {
    /// Every person born between `from` and `to` inclusive.
    fn born_between(&self, from: NaiveDate, to: NaiveDate) -> &[IndexedPerson];
}

/// The three indexes a verification needs.
#[derive(Clone, Copy)]
pub struct Indexes<'a> {
    pub identity: &'a dyn IdentityIndex,
    pub contacts: &'a dyn ContactIndex,
    pub persons: &'a dyn PersonIndex,
}

/// The key of a payment account: a RIB, or provider and reference of a wallet or cash-out.
pub fn account_key(i: &PaymentInstrument) -> String {
    match i {
        PaymentInstrument::Bank { rib } => format!("bank:{rib}"),
        PaymentInstrument::Wallet {
            provider,
            reference,
        } => format!("wallet:{provider}:{reference}"),
        PaymentInstrument::CashOut {
            provider,
            reference,
        } => format!("cash_out:{provider}:{reference}"),
    }
}

/// All three indexes over households held in memory.
#[derive(Debug, Default)]
pub struct MemoryIndex {
    idcs: HashMap<Idcs, Vec<RsuId>>,
    cnie: HashMap<Cnie, Vec<RsuId>>,
    phones: HashMap<Phone, u32>,
    accounts: HashMap<String, u32>,
    /// By birth date.
    persons: Vec<IndexedPerson>,
}

impl MemoryIndex {
    pub fn new<'a>(households: impl IntoIterator<Item = &'a Household>) -> Self {
        let mut ix = MemoryIndex::default();
        for h in households {
            ix.add(h);
        }
        ix.persons.sort_by_key(|p| p.person.birth_date);
        ix
    }

    /// The index of a batch checked against the whole registry: identities, contact counts
    /// and persons as the registry answered for the batch's households (`batch`), which the
    /// registry holds too. An IDCS is in one household only (the registry's key), so the
    /// batch's own members are the identity index by IDCS.
    pub fn from_registry<'a>(
        batch: impl IntoIterator<Item = &'a Household>,
        cnie_holders: impl IntoIterator<Item = (Cnie, RsuId)>,
        phones: impl IntoIterator<Item = (Phone, u32)>,
        accounts: impl IntoIterator<Item = (PaymentInstrument, u32)>,
        persons: impl IntoIterator<Item = PersonRecord>,
    ) -> Self {
        let mut ix = MemoryIndex::default();
        for h in batch {
            for m in &h.members {
                ix.idcs
                    .entry(m.idcs.clone())
                    .or_default()
                    .push(h.rsu_id.clone());
            }
        }
        for (c, h) in cnie_holders {
            ix.cnie.entry(c).or_default().push(h);
        }
        ix.phones = phones.into_iter().collect();
        ix.accounts = accounts
            .into_iter()
            .map(|(a, n)| (account_key(&a), n))
            .collect();
        ix.persons = persons.into_iter().map(IndexedPerson::from).collect();
        ix.persons.sort_by_key(|p| p.person.birth_date);
        ix
    }

    fn add(&mut self, h: &Household) {
        for m in &h.members {
            self.idcs
                .entry(m.idcs.clone())
                .or_default()
                .push(h.rsu_id.clone());
            if let Some(c) = &m.cnie {
                self.cnie
                    .entry(c.clone())
                    .or_default()
                    .push(h.rsu_id.clone());
            }
            self.persons.push(IndexedPerson::from(PersonRecord {
                household: h.rsu_id.clone(),
                idcs: Some(m.idcs.clone()),
                cnie: m.cnie.clone(),
                first_name: m.first_name.clone(),
                last_name: m.last_name.clone(),
                first_name_ar: m.first_name_ar.clone(),
                last_name_ar: m.last_name_ar.clone(),
                birth_date: m.birth_date,
            }));
        }
        if let Some(p) = &h.phone {
            *self.phones.entry(p.clone()).or_default() += 1;
        }
        if let Some(i) = &h.instrument {
            *self.accounts.entry(account_key(i)).or_default() += 1;
        }
    }

    /// Add a person known only from another source (no household record of ours).
    pub fn add_person(&mut self, p: PersonRecord) {
        let at = self
            .persons
            .partition_point(|q| q.person.birth_date <= p.birth_date);
        self.persons.insert(at, p.into());
    }
}

impl IdentityIndex for MemoryIndex {
    fn households_with_idcs(&self, idcs: &Idcs) -> Vec<RsuId> {
        self.idcs.get(idcs).cloned().unwrap_or_default()
    }
    fn households_with_cnie(&self, cnie: &Cnie) -> Vec<RsuId> {
        self.cnie.get(cnie).cloned().unwrap_or_default()
    }
}

impl ContactIndex for MemoryIndex {
    fn households_with_phone(&self, phone: &Phone) -> u32 {
        self.phones.get(phone).copied().unwrap_or(0)
    }
    fn households_with_account(&self, account: &PaymentInstrument) -> u32 {
        self.accounts
            .get(&account_key(account))
            .copied()
            .unwrap_or(0)
    }
}

impl PersonIndex for MemoryIndex {
    fn born_between(&self, from: NaiveDate, to: NaiveDate) -> &[IndexedPerson] {
        let start = self.persons.partition_point(|p| p.person.birth_date < from);
        let end = self.persons.partition_point(|p| p.person.birth_date <= to);
        &self.persons[start..end.max(start)]
    }
}
