//! Life events and declarations, each with the date it takes effect and the date it was
//! declared. [`apply_event`] returns the household as it is after the event, rebuilt through
//! `Household::new`, so an event can never leave an invalid household behind.

mod score_updates;

use chrono::NaiveDate;
use sanad_domain::household::HouseholdParts;
use sanad_domain::{
    Disability, FieldError, Household, HouseholdStatus, Idcs, MaritalStatus, Money, Month,
    PaymentInstrument, Person, Phone, Relation, Residence, RsuId, Schooling, ScoreHistory,
    ScoreRecord,
};
use sanad_rules::{Component, RuleSet, evaluate_household};
use serde::{Deserialize, Serialize};

use crate::reasons::ReasonCode;
pub use score_updates::{ScoreUpdate, ScoreUpdates, crosses_threshold};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifeEvent {
    /// The day the change happened (a birth, a death) or takes effect.
    pub effective: NaiveDate,
    /// The day it was declared; the household is validated as of this day.
    pub declared_on: NaiveDate,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A child born into the household, on the effective date.
    Birth {
        child: Box<Person>,
    },
    Death {
        person: Idcs,
    },
    SchoolingChange {
        person: Idcs,
        schooling: Schooling,
    },
    DisabilityRecognised {
        person: Idcs,
        severity: Disability,
    },
    /// `person` marries; a spouse who joins the household comes with the event.
    Marriage {
        person: Idcs,
        joining_spouse: Option<Box<Person>>,
    },
    /// `person` divorces; the former spouse may leave the household.
    Divorce {
        person: Idcs,
        leaving: Option<Idcs>,
    },
    /// A member leaves (split, transfer, emigration). The head leaving names the new head.
    MemberLeaves {
        person: Idcs,
        new_head: Option<Idcs>,
    },
    /// A member arrives from elsewhere (transfer, kafala…).
    MemberJoins {
        person: Box<Person>,
    },
    ResidenceChange {
        residence: Residence,
    },
    /// A new RSU score (one row of a national refresh, or a recomputation).
    ScoreUpdate {
        record: ScoreRecord,
    },
    PaymentAccountChange {
        instrument: Option<PaymentInstrument>,
    },
    PhoneChange {
        phone: Option<Phone>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("an event cannot take effect ({effective}) after it is declared ({declared_on})")]
    DeclaredBeforeEffective {
        effective: NaiveDate,
        declared_on: NaiveDate,
    },
    #[error("{0} is not a member of the household")]
    NotAMember(Idcs),
    #[error("{0} is already a member of the household")]
    AlreadyAMember(Idcs),
    #[error("{0} is already recorded as deceased")]
    AlreadyDeceased(Idcs),
    #[error("a birth event's child must be a child born on the effective date")]
    NotABirth,
    #[error("the head is leaving: name a remaining member as the new head")]
    NewHeadNeeded,
    #[error("a member joining cannot join as head")]
    JoiningAsHead,
    #[error("the household after the event is invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
}

fn member(p: &mut HouseholdParts, idcs: &Idcs) -> Result<usize, EventError> {
    p.members
        .iter()
        .position(|m| &m.idcs == idcs)
        .ok_or_else(|| EventError::NotAMember(idcs.clone()))
}

fn join(p: &mut HouseholdParts, person: Person) -> Result<(), EventError> {
    if p.members.iter().any(|m| m.idcs == person.idcs) {
        return Err(EventError::AlreadyAMember(person.idcs));
    }
    if person.relation == Relation::Head {
        return Err(EventError::JoiningAsHead);
    }
    p.members.push(person);
    Ok(())
}

/// Remove a member; if it was the head, `new_head` takes the role (other members keep their
/// relation: the RSU restates them at its next update). The registrant leaving passes that
/// role to the head.
fn leave(
    p: &mut HouseholdParts,
    idcs: &Idcs,
    new_head: Option<&Idcs>,
) -> Result<Person, EventError> {
    let i = member(p, idcs)?;
    if p.members[i].relation == Relation::Head {
        let next = new_head.ok_or(EventError::NewHeadNeeded)?;
        let j = member(p, next)?;
        if j == i {
            return Err(EventError::NewHeadNeeded);
        }
        p.members[j].relation = Relation::Head;
    }
    let gone = p.members.remove(i);
    if p.registrant == gone.idcs {
        p.registrant = p
            .members
            .iter()
            .find(|m| m.relation == Relation::Head)
            .map_or(p.registrant.clone(), |h| h.idcs.clone());
    }
    Ok(gone)
}

fn change(p: &mut HouseholdParts, e: &LifeEvent) -> Result<(), EventError> {
    match &e.kind {
        EventKind::Birth { child } => {
            if child.birth_date != e.effective || child.relation != Relation::Child {
                return Err(EventError::NotABirth);
            }
            join(p, (**child).clone())?;
        }
        EventKind::Death { person } => {
            let i = member(p, person)?;
            if p.members[i].death_date.is_some() {
                return Err(EventError::AlreadyDeceased(person.clone()));
            }
            p.members[i].death_date = Some(e.effective);
        }
        EventKind::SchoolingChange { person, schooling } => {
            let i = member(p, person)?;
            p.members[i].schooling = *schooling;
        }
        EventKind::DisabilityRecognised { person, severity } => {
            let i = member(p, person)?;
            p.members[i].disability = *severity;
        }
        EventKind::Marriage {
            person,
            joining_spouse,
        } => marriage(p, person, joining_spouse.as_deref())?,
        EventKind::Divorce { person, leaving } => {
            let i = member(p, person)?;
            p.members[i].marital_status = MaritalStatus::Divorced;
            if let Some(other) = leaving {
                leave(p, other, Some(person))?;
            }
        }
        EventKind::MemberLeaves { person, new_head } => {
            leave(p, person, new_head.as_ref())?;
        }
        EventKind::MemberJoins { person } => join(p, (**person).clone())?,
        EventKind::ResidenceChange { residence } => p.residence = residence.clone(),
        EventKind::ScoreUpdate { record } => {
            p.scores.record(*record);
        }
        EventKind::PaymentAccountChange { instrument } => p.instrument = instrument.clone(),
        EventKind::PhoneChange { phone } => p.phone = phone.clone(),
    }
    Ok(())
}

/// The spouse who joins is the head's spouse if the head marries; otherwise "other" (the
/// RSU's relations are to the head, and a child's spouse has no closer one).
fn marriage(
    p: &mut HouseholdParts,
    person: &Idcs,
    joining: Option<&Person>,
) -> Result<(), EventError> {
    let i = member(p, person)?;
    p.members[i].marital_status = MaritalStatus::Married;
    if let Some(s) = joining {
        let mut s = s.clone();
        s.marital_status = MaritalStatus::Married;
        s.relation = if p.members[i].relation == Relation::Head {
            Relation::Spouse
        } else {
            Relation::Other
        };
        join(p, s)?;
    }
    Ok(())
}

/// The household after `event`, valid as of the declaration date.
pub fn apply_event(household: &Household, event: &LifeEvent) -> Result<Household, EventError> {
    if event.effective > event.declared_on {
        return Err(EventError::DeclaredBeforeEffective {
            effective: event.effective,
            declared_on: event.declared_on,
        });
    }
    let mut parts = household.clone().into_parts();
    change(&mut parts, event)?;
    Household::new(parts, event.declared_on).map_err(EventError::Invalid)
}

/// Members leaving to form a new household: who, and their relation to its head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub new_rsu_id: RsuId,
    /// Exactly one `Head`; the others' relation to that head.
    pub members: Vec<(Idcs, Relation)>,
    /// The new head of the household left behind, if its head is among those leaving.
    pub remaining_head: Option<Idcs>,
    /// Where the new household lives (default: where the old one does).
    pub residence: Option<Residence>,
}

/// A household split: the household left behind and the new one. The new household has no
/// RSU score, phone or payment account yet: the RSU scores it after its own registration.
pub fn split_household(
    h: &Household,
    split: &Split,
    effective: NaiveDate,
    declared_on: NaiveDate,
) -> Result<(Household, Household), EventError> {
    let mut remaining = h.clone();
    let mut leaving = Vec::new();
    for (idcs, relation) in &split.members {
        let mut person = h
            .members
            .iter()
            .find(|m| &m.idcs == idcs)
            .cloned()
            .ok_or_else(|| EventError::NotAMember(idcs.clone()))?;
        person.relation = *relation;
        leaving.push(person);
        let kind = EventKind::MemberLeaves {
            person: idcs.clone(),
            new_head: split.remaining_head.clone(),
        };
        remaining = apply_event(
            &remaining,
            &LifeEvent {
                effective,
                declared_on,
                kind,
            },
        )?;
    }
    let head = leaving
        .iter()
        .find(|m| m.relation == Relation::Head)
        .map(|m| m.idcs.clone())
        .ok_or(EventError::NewHeadNeeded)?;
    let parts = HouseholdParts {
        rsu_id: split.new_rsu_id.clone(),
        residence: split
            .residence
            .clone()
            .unwrap_or_else(|| h.residence.clone()),
        registrant: head,
        phone: None,
        instrument: None,
        status: HouseholdStatus::Active,
        members: leaving,
        scores: ScoreHistory::default(),
    };
    let new = Household::new(parts, declared_on).map_err(EventError::Invalid)?;
    Ok((remaining, new))
}

/// A birth grant as claimed: the amount is the rules engine's one-off line for the birth month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BirthGrantClaim {
    pub child: Idcs,
    pub birth_date: NaiveDate,
    /// Birth order among the household's children (1: first birth).
    pub order: u8,
    pub amount: Money,
    pub claim_deadline: NaiveDate,
    pub rule_set: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum ClaimRefusal {
    #[error("{0} is not a child of the household")]
    NotAChild(Idcs),
    #[error("claimed on {claimed_on}, after the deadline {deadline}")]
    Late {
        deadline: NaiveDate,
        claimed_on: NaiveDate,
    },
    #[error("the household was not eligible in the month of the birth")]
    NotEligible { reasons: Vec<ReasonCode> },
    #[error("no birth grant for a birth of order {order}")]
    NoGrantForOrder { order: u8 },
}

/// Claim the birth grant for `child` of `h` (the household after the birth) under `rules`,
/// the rule set in force in the birth month: within the claim window (asd-rules.md §4.3, 6 months (S)).
pub fn birth_grant_claim(
    h: &Household,
    child: &Idcs,
    rules: &RuleSet,
    claimed_on: NaiveDate,
) -> Result<BirthGrantClaim, ClaimRefusal> {
    let i = h
        .members
        .iter()
        .position(|m| &m.idcs == child && m.relation == Relation::Child)
        .ok_or_else(|| ClaimRefusal::NotAChild(child.clone()))?;
    let birth_date = h.members[i].birth_date;
    let months = rules.birth_grant.claim_window_months;
    let claim_deadline = birth_date
        .checked_add_months(chrono::Months::new(months))
        .expect("dates stay far from chrono's limits");
    if claimed_on > claim_deadline {
        return Err(ClaimRefusal::Late {
            deadline: claim_deadline,
            claimed_on,
        });
    }
    let (decision, _) = evaluate_household(rules, h, Month::of(birth_date));
    if !decision.eligible {
        return Err(ClaimRefusal::NotEligible {
            reasons: decision
                .reasons
                .iter()
                .map(|r| ReasonCode::from(*r))
                .collect(),
        });
    }
    let line = decision
        .one_off
        .iter()
        .find(|l| l.component == Component::BirthGrant && l.member == Some(i as u16));
    match line {
        Some(l) => Ok(BirthGrantClaim {
            child: child.clone(),
            birth_date,
            order: l.rank.unwrap_or(0),
            amount: l.amount,
            claim_deadline,
            rule_set: rules.id.clone(),
        }),
        None => {
            let order = h
                .members
                .iter()
                .filter(|m| m.relation == Relation::Child && m.birth_date <= birth_date)
                .count();
            Err(ClaimRefusal::NoGrantForOrder { order: order as u8 })
        }
    }
}

#[cfg(test)]
mod tests;
