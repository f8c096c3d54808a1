//! A household member as the benefit rules see it: compact, copyable, no identifiers, so
//! the national simulation can hold 19 million of them in a few hundred megabytes.

use chrono::NaiveDate;

use crate::{Disability, Person, Relation, Schooling, Sex};

/// One member as the rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub relation: Relation,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub death_date: Option<NaiveDate>,
    pub schooling: Schooling,
    pub disability: Disability,
    pub father_deceased: bool,
    pub public_employee: bool,
    pub pensioner: bool,
    pub family_allowance: bool,
}

impl From<&Person> for Member {
    fn from(p: &Person) -> Member {
        Member {
            relation: p.relation,
            sex: p.sex,
            birth_date: p.birth_date,
            death_date: p.death_date,
            schooling: p.schooling,
            disability: p.disability,
            father_deceased: p.father_deceased,
            public_employee: p.checks.public_employee.is_some(),
            pensioner: p.checks.pensioner.is_some(),
            family_allowance: p.checks.family_allowance.is_some(),
        }
    }
}
