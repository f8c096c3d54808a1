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

impl Member {
    /// Feed the member's canonical form to `h`: its codes as text, its dates as days since
    /// 0001-01-01 (little-endian `i32`), its flags as one byte. A hash of it stored today stays
    /// comparable with one computed by a later build, so a past decision's snapshot is recognised.
    pub fn write_to(&self, h: &mut crate::fnv::Fnv) {
        use chrono::Datelike;
        use std::hash::Hasher;
        let day = |d: NaiveDate| d.num_days_from_ce().to_le_bytes();
        for code in [
            self.relation.as_str(),
            self.sex.as_str(),
            self.schooling.as_str(),
            self.disability.as_str(),
        ] {
            h.write(code.as_bytes());
            h.write(b"|");
        }
        h.write(&day(self.birth_date));
        h.write(&self.death_date.map_or([0xff; 4], day));
        let flags = u8::from(self.father_deceased)
            | u8::from(self.public_employee) << 1
            | u8::from(self.pensioner) << 2
            | u8::from(self.family_allowance) << 3;
        h.write(&[flags, b'\n']);
    }
}
