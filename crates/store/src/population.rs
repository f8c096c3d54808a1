//! The whole registry in a compact, columnar form for national computations (simulation,
//! payroll preparation): read once, evaluated many times. 5.2 M households and 19 M members
//! take about 0.6 GB.

use std::ops::Range;

use chrono::NaiveDate;
use sanad_domain::snapshot::Member;
use sanad_domain::{Geography, RegionCode, Score};

use crate::{Scope, StoreError};

#[derive(Debug, Clone)]
pub struct PopHousehold {
    /// The RSU id as a number (12 digits).
    pub id: u64,
    pub region: RegionCode,
    /// Index into `Geography::provinces`.
    pub province: u16,
    pub members: Range<u32>,
    pub scores: Range<u32>,
}

#[derive(Debug, Default)]
pub struct Population {
    pub households: Vec<PopHousehold>,
    pub members: Vec<Member>,
    /// Score records (value, valid from), grouped by household, by date.
    pub scores: Vec<(Score, NaiveDate)>,
}

impl Population {
    pub fn members_of(&self, h: &PopHousehold) -> &[Member] {
        &self.members[h.members.start as usize..h.members.end as usize]
    }

    /// The score in force on `date`: the last record valid from that date or before.
    pub fn score_at(&self, h: &PopHousehold, date: NaiveDate) -> Option<(Score, NaiveDate)> {
        self.scores[h.scores.start as usize..h.scores.end as usize].iter().rev().find(|(_, from)| *from <= date).copied()
    }
}

/// SQL for the three reads; rows may come in any order.
pub mod sql {
    use crate::Scope;

    pub fn households(scope: &Scope) -> String {
        format!("SELECT rsu_id, region, province FROM households h WHERE {}", scope.sql("h.region"))
    }

    const MEMBER_COLUMNS: &str = "p.household_id, p.position, p.relation, p.sex, p.birth_date, p.death_date, p.schooling, p.disability, \
        p.father_deceased, p.public_employee_date IS NOT NULL AS public_employee, p.pensioner_date IS NOT NULL AS pensioner, \
        p.family_allowance_date IS NOT NULL AS family_allowance";

    pub fn members(scope: &Scope) -> String {
        match scope {
            Scope::National => format!("SELECT {MEMBER_COLUMNS} FROM persons p WHERE p.household_id IS NOT NULL"),
            _ => format!("SELECT {MEMBER_COLUMNS} FROM persons p JOIN households h ON h.rsu_id = p.household_id WHERE {}", scope.sql("h.region")),
        }
    }

    pub fn scores(scope: &Scope) -> String {
        match scope {
            Scope::National => "SELECT household_id, value_millionths, valid_from FROM score_history".into(),
            _ => format!(
                "SELECT s.household_id, s.value_millionths, s.valid_from FROM score_history s JOIN households h ON h.rsu_id = s.household_id WHERE {}",
                scope.sql("h.region")
            ),
        }
    }
}

/// Assembles a population from rows in any order.
#[derive(Default)]
pub struct Builder {
    households: Vec<(u64, RegionCode, u16)>,
    members: Vec<(u32, u32, Member)>,
    scores: Vec<(u32, Score, NaiveDate)>,
    sorted: bool,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Builder {
    pub fn household(&mut self, rsu_id: &str, region: &str, province: &str) -> Result<(), StoreError> {
        let geo = Geography::get();
        let p = geo.provinces.iter().position(|p| p.code == province).ok_or_else(|| corrupt(format!("unknown province {province}")))?;
        self.households.push((rsu_id.parse().map_err(corrupt)?, RegionCode::parse(region).map_err(corrupt)?, p as u16));
        Ok(())
    }

    fn index(&mut self, rsu_id: &str) -> Result<Option<u32>, StoreError> {
        if !self.sorted {
            self.households.sort_unstable_by_key(|h| h.0);
            self.sorted = true;
        }
        let id: u64 = rsu_id.parse().map_err(corrupt)?;
        Ok(self.households.binary_search_by_key(&id, |h| h.0).ok().map(|i| i as u32))
    }

    /// A member of a household read before; members of households outside the read are skipped.
    pub fn member(&mut self, rsu_id: &str, position: i64, m: Member) -> Result<(), StoreError> {
        if let Some(i) = self.index(rsu_id)? {
            self.members.push((i, position as u32, m));
        }
        Ok(())
    }

    pub fn score(&mut self, rsu_id: &str, value: i64, valid_from: NaiveDate) -> Result<(), StoreError> {
        if let Some(i) = self.index(rsu_id)? {
            self.scores.push((i, Score::from_millionths(value), valid_from));
        }
        Ok(())
    }

    pub fn finish(mut self) -> Population {
        self.index("0").ok();
        self.members.sort_unstable_by_key(|m| (m.0, m.1));
        self.scores.sort_unstable_by_key(|s| (s.0, s.2));
        let mut pop = Population {
            households: Vec::with_capacity(self.households.len()),
            members: Vec::with_capacity(self.members.len()),
            scores: Vec::with_capacity(self.scores.len()),
        };
        let (mut mi, mut si) = (0, 0);
        for (i, &(id, region, province)) in self.households.iter().enumerate() {
            let (m0, s0) = (pop.members.len() as u32, pop.scores.len() as u32);
            while mi < self.members.len() && self.members[mi].0 == i as u32 {
                pop.members.push(self.members[mi].2);
                mi += 1;
            }
            while si < self.scores.len() && self.scores[si].0 == i as u32 {
                pop.scores.push((self.scores[si].1, self.scores[si].2));
                si += 1;
            }
            pop.households.push(PopHousehold { id, region, province, members: m0..pop.members.len() as u32, scores: s0..pop.scores.len() as u32 });
        }
        pop
    }
}

/// Whether a scope has anything to read (an empty region list reads nothing).
pub fn is_empty(scope: &Scope) -> bool {
    matches!(scope, Scope::Regions(r) if r.is_empty())
}

/// Read a population through any sqlx pool whose rows decode Sanad's column types
/// (both backends), streaming the rows so memory holds only the compact result.
pub async fn load<DB>(pool: &sqlx::Pool<DB>, scope: &Scope, progress: &(dyn Fn(u64) + Send + Sync)) -> Result<Population, StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Row: crate::rows::decode::SanadRow,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    use crate::rows::decode::{pop_member, SanadRow};
    use futures_util::TryStreamExt;
    use sqlx::AssertSqlSafe;

    let db = |e: sqlx::Error| StoreError::Database(e.to_string());
    let mut b = Builder::default();
    if is_empty(scope) {
        return Ok(b.finish());
    }
    let mut read = 0u64;
    let tick = |read: &mut u64| {
        *read += 1;
        if *read % 100_000 == 0 {
            progress(*read);
        }
    };
    let mut rows = sqlx::query::<DB>(AssertSqlSafe(sql::households(scope))).fetch(pool);
    while let Some(r) = rows.try_next().await.map_err(db)? {
        b.household(&r.text("rsu_id").map_err(db)?, &r.text("region").map_err(db)?, &r.text("province").map_err(db)?)?;
        tick(&mut read);
    }
    drop(rows);
    let mut rows = sqlx::query::<DB>(AssertSqlSafe(sql::members(scope))).fetch(pool);
    while let Some(r) = rows.try_next().await.map_err(db)? {
        let (hh, pos, m) = pop_member(&r).map_err(db)?;
        b.member(&hh, pos, m)?;
        tick(&mut read);
    }
    drop(rows);
    let mut rows = sqlx::query::<DB>(AssertSqlSafe(sql::scores(scope))).fetch(pool);
    while let Some(r) = rows.try_next().await.map_err(db)? {
        b.score(&r.text("household_id").map_err(db)?, r.int("value_millionths").map_err(db)?, r.date("valid_from").map_err(db)?)?;
        tick(&mut read);
    }
    drop(rows);
    progress(read);
    Ok(b.finish())
}
