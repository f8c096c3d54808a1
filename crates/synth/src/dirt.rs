//! Deliberate errors, one per dirty household, for the import and verification to find.

use sanad_domain::{MaritalStatus, Relation, Sex};
use sanad_registry::feed::{FeedHousehold, FeedMember};

use crate::SynthConfig;
use crate::household::{clean, phone};
use crate::members::{SLOTS, age_on, cnie, date, days_before, death_after, idcs};
use crate::names::{FEMALE, MALE, family};
use crate::people::years;
use crate::rng::Rng;

/// Stream salt of the dirt decisions, independent of the clean data.
const DIRT: u64 = 0xD1_27_D1_27;

/// The dirt item a household carries. Positions are indexes into the dirty row's `members`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dirt {
    /// Kind 1: member `member` of the earlier household `from` (same IDCS, CNIE, names, birth
    /// date) appended at position `at` as `other`. The row alone is valid; the import refuses
    /// it as `members[at].idcs` because the person already appeared on an earlier line.
    DuplicatePerson { from: u64, member: usize, at: usize },
    /// Kind 2: an IDCS with a wrong check digit.
    BadIdcs { member: usize },
    /// Kind 2: a malformed CNIE.
    BadCnie { member: usize },
    /// Kind 2: an RSU id of 11 digits.
    ShortRsuId,
    /// Kind 3: a birth after `as_of`.
    BirthInFuture { member: usize },
    /// Kind 3: a `child` born before the head.
    ChildBeforeHead { member: usize },
    /// Kind 4 (valid): the phone of the earlier household `from`.
    SharedPhone { from: u64 },
    /// Kind 5 (valid): the registrant died in the last two years.
    DeceasedRegistrant,
    /// Kind 5 (valid): an extra `other` member, aged 60–95, who died in the last two years.
    DeceasedMember { at: usize },
}

impl Dirt {
    /// Whether the import refuses the row (kinds 1–3).
    pub fn refused_at_import(&self) -> bool {
        !matches!(
            self,
            Dirt::SharedPhone { .. } | Dirt::DeceasedRegistrant | Dirt::DeceasedMember { .. }
        )
    }

    /// The field the import names when it refuses the row.
    pub fn field(&self) -> Option<String> {
        Some(match self {
            Dirt::DuplicatePerson { at, .. } => format!("members[{at}].idcs"),
            Dirt::BadIdcs { member } => format!("members[{member}].idcs"),
            Dirt::BadCnie { member } => format!("members[{member}].cnie"),
            Dirt::ShortRsuId => "rsu_id".into(),
            Dirt::BirthInFuture { member } | Dirt::ChildBeforeHead { member } => {
                format!("members[{member}].birth_date")
            }
            _ => return None,
        })
    }
}

/// The dirt of household `index`, given its clean form.
pub(crate) fn choose(cfg: &SynthConfig, index: u64, h: &FeedHousehold<'_>) -> Option<Dirt> {
    let mut rng = Rng::new(cfg.seed, index, DIRT);
    if !dirty(&mut rng, cfg) {
        return None;
    }
    let n = h.members.len();
    Some(match rng.below(5) {
        // Copies come from an earlier line, so that it is this row the import refuses.
        0 if index > 0 => {
            let (from, source) = clean_source(cfg, &mut rng, index);
            let member = rng.below(source.members.len() as u64) as usize;
            Dirt::DuplicatePerson {
                from,
                member,
                at: n,
            }
        }
        1 => match rng.below(3) {
            0 => Dirt::BadIdcs {
                member: rng.below(n as u64) as usize,
            },
            1 => {
                let with_cnie: Vec<usize> =
                    (0..n).filter(|&k| h.members[k].cnie.is_some()).collect();
                Dirt::BadCnie {
                    member: *rng.pick(&with_cnie),
                }
            }
            _ => Dirt::ShortRsuId,
        },
        2 => {
            let children: Vec<usize> = (0..n)
                .filter(|&k| h.members[k].relation == Relation::Child.as_str())
                .collect();
            if !children.is_empty() && rng.chance(0.5) {
                Dirt::ChildBeforeHead {
                    member: *rng.pick(&children),
                }
            } else {
                // Someone other than the head, so that only one field is wrong.
                Dirt::BirthInFuture {
                    member: if n > 1 {
                        1 + rng.below(n as u64 - 1) as usize
                    } else {
                        0
                    },
                }
            }
        }
        3 if index > 0 => Dirt::SharedPhone {
            from: rng.below(index),
        },
        _ if rng.chance(0.5) => Dirt::DeceasedRegistrant,
        _ => Dirt::DeceasedMember { at: n },
    })
}

/// The first draw of a household's dirt stream decides whether it is dirty.
fn dirty(rng: &mut Rng, cfg: &SynthConfig) -> bool {
    rng.chance(cfg.dirt_rate)
}

/// An earlier household written clean, so the copied person is really in the file as copied
/// (a few tries; the odds that all are dirty are negligible at any sensible rate).
fn clean_source(cfg: &SynthConfig, rng: &mut Rng, index: u64) -> (u64, FeedHousehold<'static>) {
    // Only the decision is drawn, not the item: choosing an item may look at another household.
    let mut from = rng.below(index);
    for _ in 0..8 {
        if !dirty(&mut Rng::new(cfg.seed, from, DIRT), cfg) {
            break;
        }
        from = rng.below(index);
    }
    (from, clean(cfg, from))
}

pub(crate) fn apply(cfg: &SynthConfig, index: u64, h: &mut FeedHousehold<'_>, d: &Dirt) {
    let mut rng = Rng::new(cfg.seed, index, DIRT ^ 1);
    let as_of = cfg.as_of;
    match *d {
        Dirt::DuplicatePerson { from, member, .. } => {
            let mut p = clean(cfg, from).members.swap_remove(member);
            p.relation = Relation::Other.as_str().into();
            h.members.push(p);
        }
        Dirt::BadIdcs { member } => {
            let id = h.members[member].idcs.to_mut();
            let last = id.pop().and_then(|c| c.to_digit(10)).expect("10 digits");
            id.push(char::from_digit((last + 1) % 10, 10).expect("digit"));
        }
        Dirt::BadCnie { member } => {
            h.members[member].cnie =
                Some((*rng.pick(&["12AB", "AB-1234", "A1234567", "ab12345"])).into());
        }
        Dirt::ShortRsuId => {
            h.rsu_id.to_mut().remove(0);
        }
        Dirt::BirthInFuture { member } => {
            let m = &mut h.members[member];
            m.birth_date = date(days_before(as_of, -rng.between(1, 365))).into();
            m.death_date = None;
        }
        Dirt::ChildBeforeHead { member } => {
            let head = h.members[0].birth_date.parse().expect("clean date");
            h.members[member].birth_date = date(days_before(head, rng.between(1, 3650))).into();
        }
        Dirt::SharedPhone { from } => h.phone = Some(phone(from)),
        Dirt::DeceasedRegistrant => {
            let m = h
                .members
                .iter_mut()
                .find(|m| m.idcs == h.registrant)
                .expect("registrant is a member");
            let birth = m.birth_date.parse().expect("clean date");
            m.death_date = Some(date(death_after(&mut rng, as_of, birth)));
        }
        Dirt::DeceasedMember { .. } => h.members.push(deceased(&mut rng, cfg, index)),
    }
}

/// An elderly relative who died lately, in the slot clean data never uses.
fn deceased(rng: &mut Rng, cfg: &SynthConfig, index: u64) -> FeedMember<'static> {
    let slot = SLOTS - 1;
    let sex = if rng.chance(0.5) {
        Sex::Male
    } else {
        Sex::Female
    };
    let birth = days_before(cfg.as_of, years(60) + rng.between(0, years(35)));
    let first = *rng.pick(if sex == Sex::Male { MALE } else { FEMALE });
    let family = family(rng);
    FeedMember {
        idcs: idcs(index, slot).into(),
        cnie: (age_on(birth, cfg.as_of) >= 18).then(|| cnie(index, slot)),
        first_name: first.0.into(),
        last_name: family.latin,
        first_name_ar: first.1.into(),
        last_name_ar: family.arabic,
        sex: sex.as_str().into(),
        birth_date: date(birth).into(),
        death_date: Some(date(death_after(rng, cfg.as_of, birth))),
        relation: Relation::Other.as_str().into(),
        marital_status: MaritalStatus::Widowed.as_str().into(),
        schooling: "none".into(),
        disability: "none".into(),
        father_deceased: false,
        public_employee: None,
        pensioner: None,
        family_allowance: None,
    }
}
