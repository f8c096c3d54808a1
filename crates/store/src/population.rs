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

    /// A household of this population by its RSU id (households are in id order).
    pub fn find(&self, id: u64) -> Option<&PopHousehold> {
        self.households
            .binary_search_by_key(&id, |h| h.id)
            .ok()
            .map(|i| &self.households[i])
    }

    /// The score in force on `date`: the last record valid from that date or before.
    pub fn score_at(&self, h: &PopHousehold, date: NaiveDate) -> Option<(Score, NaiveDate)> {
        self.scores[h.scores.start as usize..h.scores.end as usize]
            .iter()
            .rev()
            .find(|(_, from)| *from <= date)
            .copied()
    }
}

/// SQL for the chunked reads. Rows are read in keyset-ordered chunks and each chunk comes back
/// as one text value (`agg` joins lines): one round trip per 50,000 rows instead of a driver
/// hand-off per row, which dominated a national load.
pub mod sql {
    use crate::Scope;

    /// Households `(rsu_id|region|province)` with `rsu_id > $1`, at most `$2`.
    pub fn households(scope: &Scope, agg: &str) -> String {
        chunk(
            &format!(
                "SELECT h.rsu_id AS k, h.rsu_id || '|' || h.region || '|' || h.province AS line FROM households h \
                 WHERE h.rsu_id > $1 AND {} ORDER BY h.rsu_id LIMIT $2",
                scope.sql("h")
            ),
            agg,
        )
    }

    /// Members `(household|position|relation|sex|birth|death|schooling|disability|orphan|pe|pn|fa)`
    /// with `idcs > $1`, at most `$2`.
    pub fn members(scope: &Scope, agg: &str) -> String {
        let join = match scope {
            Scope::National => String::new(),
            _ => format!(
                " JOIN households h ON h.rsu_id = p.household_id AND {}",
                scope.sql("h")
            ),
        };
        let line = super::member_line();
        chunk(
            &format!(
                "SELECT p.idcs AS k, {line} AS line FROM persons p{join} WHERE p.household_id IS NOT NULL AND p.idcs > $1 ORDER BY p.idcs LIMIT $2"
            ),
            agg,
        )
    }

    /// Scores `(household|value|valid_from)` of households in `($1, $2]`.
    pub fn scores(agg: &str) -> String {
        let line = "s.household_id || '|' || CAST(s.value_millionths AS TEXT) || '|' || CAST(s.valid_from AS TEXT)";
        format!(
            "SELECT count(*) AS n, {} AS lines FROM (SELECT {line} AS line FROM score_history s WHERE s.household_id > $1 AND s.household_id <= $2) t",
            agg.replace("{}", "t.line")
        )
    }

    fn chunk(inner: &str, agg: &str) -> String {
        format!(
            "SELECT max(t.k) AS last, count(*) AS n, {} AS lines FROM ({inner}) t",
            agg.replace("{}", "t.line")
        )
    }
}

/// Assembles a population from rows in any order.
#[derive(Default)]
pub struct Builder {
    households: Vec<(u64, RegionCode, u16)>,
    members: Vec<(u32, u32, Member)>,
    scores: Vec<(u32, Score, NaiveDate)>,
    pending_scores: Vec<(u64, Score, NaiveDate)>,
    sorted: bool,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Builder {
    pub fn household(
        &mut self,
        rsu_id: &str,
        region: &str,
        province: &str,
    ) -> Result<(), StoreError> {
        let geo = Geography::get();
        let p = geo
            .provinces
            .iter()
            .position(|p| p.code == province)
            .ok_or_else(|| corrupt(format!("unknown province {province}")))?;
        self.households.push((
            rsu_id.parse().map_err(corrupt)?,
            RegionCode::parse(region).map_err(corrupt)?,
            p as u16,
        ));
        self.sorted = false;
        Ok(())
    }

    fn index(&mut self, rsu_id: &str) -> Result<Option<u32>, StoreError> {
        if !self.sorted {
            self.households.sort_unstable_by_key(|h| h.0);
            self.sorted = true;
        }
        let id: u64 = rsu_id.parse().map_err(corrupt)?;
        Ok(self
            .households
            .binary_search_by_key(&id, |h| h.0)
            .ok()
            .map(|i| i as u32))
    }

    /// A member of a household read before; members of households outside the read are skipped.
    pub fn member(&mut self, rsu_id: &str, position: i64, m: Member) -> Result<(), StoreError> {
        if let Some(i) = self.index(rsu_id)? {
            self.members.push((i, position as u32, m));
        }
        Ok(())
    }

    pub fn score(
        &mut self,
        rsu_id: &str,
        value: i64,
        valid_from: NaiveDate,
    ) -> Result<(), StoreError> {
        if let Some(i) = self.index(rsu_id)? {
            self.scores
                .push((i, Score::from_millionths(value), valid_from));
        }
        Ok(())
    }

    /// A score read while households are still arriving; matched to its household at the end.
    pub fn score_pending(
        &mut self,
        rsu_id: &str,
        value: i64,
        valid_from: NaiveDate,
    ) -> Result<(), StoreError> {
        self.pending_scores.push((
            rsu_id.parse().map_err(corrupt)?,
            Score::from_millionths(value),
            valid_from,
        ));
        Ok(())
    }

    pub fn finish(mut self) -> Population {
        self.index("0").ok();
        for (id, v, d) in std::mem::take(&mut self.pending_scores) {
            if let Ok(i) = self.households.binary_search_by_key(&id, |h| h.0) {
                self.scores.push((i as u32, v, d));
            }
        }
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
            pop.households.push(PopHousehold {
                id,
                region,
                province,
                members: m0..pop.members.len() as u32,
                scores: s0..pop.scores.len() as u32,
            });
        }
        pop
    }
}

/// Rows per chunk of a population read.
const CHUNK: i64 = 50_000;

fn field<'a>(it: &mut impl Iterator<Item = &'a str>, line: &str) -> Result<&'a str, StoreError> {
    it.next()
        .ok_or_else(|| corrupt(format!("short population line '{line}'")))
}

fn parse_member(line: &str) -> Result<(&str, i64, Member), StoreError> {
    use sanad_domain::{Disability, Relation, Schooling, Sex};
    let mut it = line.split('|');
    let mut f = || field(&mut it, line);
    let household = f()?;
    let position = f()?.parse().map_err(corrupt)?;
    let relation = Relation::parse(f()?).map_err(corrupt)?;
    let sex = Sex::parse(f()?).map_err(corrupt)?;
    let birth_date = f()?.parse().map_err(corrupt)?;
    let death = f()?;
    let death_date = if death.is_empty() {
        None
    } else {
        Some(death.parse().map_err(corrupt)?)
    };
    let schooling = Schooling::parse(f()?).map_err(corrupt)?;
    let disability = Disability::parse(f()?).map_err(corrupt)?;
    let mut flag = || f().map(|v| v == "1");
    let (father_deceased, public_employee, pensioner, family_allowance) =
        (flag()?, flag()?, flag()?, flag()?);
    let m = Member {
        relation,
        sex,
        birth_date,
        death_date,
        schooling,
        disability,
        father_deceased,
        public_employee,
        pensioner,
        family_allowance,
    };
    Ok((household, position, m))
}

/// Read a population through any sqlx pool whose rows decode Sanad's column types (both
/// backends). `agg` is the backend's string aggregate with `{}` for the expression, e.g.
/// `group_concat({}, char(10))` or `string_agg({}, chr(10))`.
pub async fn load<DB>(
    pool: &sqlx::Pool<DB>,
    scope: &Scope,
    agg: &str,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Population, StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Row: crate::rows::decode::SanadRow,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    use crate::rows::decode::SanadRow;
    use sqlx::AssertSqlSafe;

    let db = |e: sqlx::Error| StoreError::Database(e.to_string());
    let mut b = Builder::default();
    if scope.is_empty() {
        return Ok(b.finish());
    }
    let mut read = 0u64;
    // Households, and the scores of each chunk's range of households.
    let (hh_sql, score_sql) = (sql::households(scope, agg), sql::scores(agg));
    let mut after = String::new();
    loop {
        let r = sqlx::query::<DB>(AssertSqlSafe(hh_sql.clone()))
            .bind(after.clone())
            .bind(CHUNK)
            .fetch_one(pool)
            .await
            .map_err(db)?;
        let n = r.int("n").map_err(db)?;
        if n == 0 {
            break;
        }
        for line in r.text("lines").map_err(db)?.split('\n') {
            let mut it = line.split('|');
            b.household(
                field(&mut it, line)?,
                field(&mut it, line)?,
                field(&mut it, line)?,
            )?;
        }
        let last = r.text("last").map_err(db)?;
        let s = sqlx::query::<DB>(AssertSqlSafe(score_sql.clone()))
            .bind(after.clone())
            .bind(last.clone())
            .fetch_one(pool)
            .await
            .map_err(db)?;
        if s.int("n").map_err(db)? > 0 {
            for line in s.text("lines").map_err(db)?.split('\n') {
                let mut it = line.split('|');
                let (h, v, d) = (
                    field(&mut it, line)?,
                    field(&mut it, line)?,
                    field(&mut it, line)?,
                );
                b.score_pending(h, v.parse().map_err(corrupt)?, d.parse().map_err(corrupt)?)?;
            }
        }
        read += n as u64;
        progress(read);
        after = last;
    }
    let member_sql = sql::members(scope, agg);
    after.clear();
    loop {
        let r = sqlx::query::<DB>(AssertSqlSafe(member_sql.clone()))
            .bind(after.clone())
            .bind(CHUNK)
            .fetch_one(pool)
            .await
            .map_err(db)?;
        let n = r.int("n").map_err(db)?;
        if n == 0 {
            break;
        }
        for line in r.text("lines").map_err(db)?.split('\n') {
            let (h, pos, m) = parse_member(line)?;
            b.member(h, pos, m)?;
        }
        read += n as u64;
        progress(read);
        after = r.text("last").map_err(db)?;
    }
    Ok(b.finish())
}

/// The households with `after < rsu_id <= upto` (every scope: the payroll is national), with
/// their members and scores: one aggregated query each, for a page of the streamed payroll.
pub async fn load_between<DB>(
    pool: &sqlx::Pool<DB>,
    agg: &str,
    after: &str,
    upto: &str,
) -> Result<Population, StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Row: crate::rows::decode::SanadRow,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    use crate::rows::decode::SanadRow;
    use sqlx::AssertSqlSafe;

    let db = |e: sqlx::Error| StoreError::Database(e.to_string());
    let lines = |inner: String| {
        format!(
            "SELECT count(*) AS n, {} AS lines FROM ({inner}) t",
            agg.replace("{}", "t.line")
        )
    };
    let read = |q: String| async move {
        let r = sqlx::query::<DB>(AssertSqlSafe(q))
            .bind(after.to_owned())
            .bind(upto.to_owned())
            .fetch_one(pool)
            .await
            .map_err(db)?;
        if r.int("n").map_err(db)? == 0 {
            return Ok::<_, StoreError>(String::new());
        }
        r.text("lines").map_err(db)
    };
    let mut b = Builder::default();
    let households = read(lines(
        "SELECT h.rsu_id || '|' || h.region || '|' || h.province AS line FROM households h \
         WHERE h.rsu_id > $1 AND h.rsu_id <= $2"
            .into(),
    ))
    .await?;
    for line in households.split('\n').filter(|l| !l.is_empty()) {
        let mut it = line.split('|');
        b.household(
            field(&mut it, line)?,
            field(&mut it, line)?,
            field(&mut it, line)?,
        )?;
    }
    let scores = read(sql::scores(agg)).await?;
    for line in scores.split('\n').filter(|l| !l.is_empty()) {
        let mut it = line.split('|');
        let (h, v, d) = (
            field(&mut it, line)?,
            field(&mut it, line)?,
            field(&mut it, line)?,
        );
        b.score(h, v.parse().map_err(corrupt)?, d.parse().map_err(corrupt)?)?;
    }
    // The members query's line, over the household range instead of a keyset.
    let line = member_line();
    let members = read(lines(format!(
        "SELECT {line} AS line FROM persons p WHERE p.household_id > $1 AND p.household_id <= $2"
    )))
    .await?;
    for line in members.split('\n').filter(|l| !l.is_empty()) {
        let (h, pos, m) = parse_member(line)?;
        b.member(h, pos, m)?;
    }
    Ok(b.finish())
}

/// One member as a `|`-separated text line (the population's members queries): one value per
/// row crosses the driver instead of twelve.
fn member_line() -> String {
    let flag = |c: &str| format!("CASE WHEN {c} THEN '1' ELSE '0' END");
    [
        "p.household_id".to_owned(),
        "CAST(p.position AS TEXT)".into(),
        "p.relation".into(),
        "p.sex".into(),
        "CAST(p.birth_date AS TEXT)".into(),
        "coalesce(CAST(p.death_date AS TEXT), '')".into(),
        "p.schooling".into(),
        "p.disability".into(),
        flag("p.father_deceased"),
        flag("p.public_employee_date IS NOT NULL"),
        flag("p.pensioner_date IS NOT NULL"),
        flag("p.family_allowance_date IS NOT NULL"),
    ]
    .join(" || '|' || ")
}
