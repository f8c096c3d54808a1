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

/// SQL for the range reads. Each query's rows come back as one text value (`agg` joins lines):
/// one round trip per tens of thousands of rows instead of a driver hand-off per row, which
/// dominated a national load. Every query stays within a key range `(after, upto]`, so that
/// several ranges can be read at once; households in keyset-ordered chunks within it. Dates go
/// as `day` writes them (see `Dialect`).
pub mod sql {
    use super::Dialect;
    use crate::Scope;

    /// A household `rsu_id|region|province` of `households h` (see `Builder::household_lines`).
    pub const HOUSEHOLD_LINE: &str = "concat_ws('|', h.rsu_id, h.region, h.province)";

    /// Households with `$1 < rsu_id <= $3`, at most `$2`.
    pub fn households(scope: &Scope, d: &Dialect) -> String {
        format!(
            "SELECT max(t.k) AS last, count(*) AS n, {} AS lines FROM (SELECT h.rsu_id AS k, \
             {HOUSEHOLD_LINE} AS line FROM households h WHERE h.rsu_id > $1 AND h.rsu_id <= $3 \
             AND {} ORDER BY h.rsu_id LIMIT $2) t",
            d.lines("t.line"),
            scope.sql("h")
        )
    }

    /// Households in `($1, $2]`, every scope (a page of the payroll).
    pub fn households_between(d: &Dialect) -> String {
        d.count_lines(&format!(
            "SELECT {HOUSEHOLD_LINE} AS line FROM households h \
             WHERE h.rsu_id > $1 AND h.rsu_id <= $2"
        ))
    }

    /// Members (see `member_line`) with `$1 < idcs <= $2`.
    pub fn members(scope: &Scope, d: &Dialect) -> String {
        members_where(
            scope,
            d,
            "p.household_id IS NOT NULL AND p.idcs > $1 AND p.idcs <= $2",
        )
    }

    /// Members (see `member_line`) of the households in `($1, $2]`.
    pub fn members_between(scope: &Scope, d: &Dialect) -> String {
        members_where(scope, d, "p.household_id > $1 AND p.household_id <= $2")
    }

    fn members_where(scope: &Scope, d: &Dialect, condition: &str) -> String {
        d.count_lines(&format!(
            "SELECT {} AS line FROM persons p{} WHERE {condition}",
            super::member_line(d),
            scope_join(scope)
        ))
    }

    /// Members' join to their households when a scope narrows the read.
    fn scope_join(scope: &Scope) -> String {
        match scope {
            Scope::National => String::new(),
            _ => format!(
                " JOIN households h ON h.rsu_id = p.household_id AND {}",
                scope.sql("h")
            ),
        }
    }

    /// Scores `(household|value|valid_from|computed_on)` of households in `($1, $2]`.
    pub fn scores(d: &Dialect) -> String {
        d.count_lines(&format!(
            "SELECT {} AS line FROM score_history s \
             WHERE s.household_id > $1 AND s.household_id <= $2",
            score_line(d, "s.household_id")
        ))
    }

    /// A score record `household|value|valid_from|computed_on` of `score_history s`, with the
    /// household as `household` (see `parse_score`).
    pub fn score_line(d: &Dialect, household: &str) -> String {
        format!(
            "concat_ws('|', {household}, s.value_millionths, {}, {})",
            d.day("s.valid_from"),
            d.day("s.computed_on")
        )
    }

    /// The smallest and largest key of a table, to split it into ranges. Two subqueries: SQLite
    /// reads a `min` or a `max` alone from the index's ends, but both in one query scan it.
    pub fn key_bounds(table: &str, key: &str) -> String {
        format!(
            "SELECT (SELECT min({key}) FROM {table}) AS lo, (SELECT max({key}) FROM {table}) AS hi"
        )
    }
}

/// `parts` contiguous key ranges `(after, upto]` that together hold every key up to `hi`.
/// Keys that are digit strings of one length (RSU ids, IDCS) are split evenly by value; any
/// other keys make one range. Whatever the split, no key is in two ranges or in none.
pub fn key_ranges(lo: &str, hi: &str, parts: u64) -> Vec<(String, String)> {
    let numeric = |k: &str| {
        (k.len() == hi.len() && !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
            .then(|| k.parse::<u64>().ok())
            .flatten()
    };
    let (Some(a), Some(b)) = (numeric(lo), numeric(hi)) else {
        return vec![(String::new(), hi.to_owned())];
    };
    let width = hi.len();
    let mut bounds: Vec<String> = (1..parts)
        .map(|i| a + ((b - a) as u128 * i as u128 / parts as u128) as u64)
        .map(|v| format!("{v:0width$}"))
        .collect();
    bounds.dedup();
    bounds.push(hi.to_owned());
    let mut after = String::new();
    let mut ranges = Vec::with_capacity(bounds.len());
    for upto in bounds {
        if upto > after {
            ranges.push((std::mem::replace(&mut after, upto.clone()), upto));
        }
    }
    ranges
}

/// Assembles a population from rows in any order: members and scores find their household
/// at the end, or as they come once `households_complete` says every household has been read.
#[derive(Default)]
pub struct Builder {
    households: Vec<(u64, RegionCode, u16)>,
    /// Households are sorted and closed: members are matched to them as they come.
    complete: bool,
    /// (household, position, member): the household's index, or its id plus `PENDING` while
    /// households are still coming.
    members: Vec<(u64, u32, Member)>,
    /// (household, value, valid from, computed on).
    scores: Vec<(u64, Score, NaiveDate, NaiveDate)>,
}

/// Members reserved per household once the households are read (3.6 on average nationally).
const MEMBERS_RESERVED: usize = 5;

/// Added to the id of a member's household while households are still coming (RSU ids have
/// 12 digits, household indices fit in 32 bits).
const PENDING: u64 = 1 << 32;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn id(rsu_id: &str) -> Result<u64, StoreError> {
    rsu_id.parse().map_err(corrupt)
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
        if self.complete {
            return Err(corrupt(format!(
                "household {rsu_id} read after its members"
            )));
        }
        self.households.push((
            id(rsu_id)?,
            RegionCode::parse(region).map_err(corrupt)?,
            p as u16,
        ));
        Ok(())
    }

    /// Every household has been read: members read from now on are matched as they come, on
    /// the reading side of a load rather than after it.
    pub fn households_complete(&mut self) {
        if !self.complete {
            self.households.sort_unstable_by_key(|h| h.0);
            self.complete = true;
            // Room for the members at once: growing 19 M of them by doubling copied them over
            // and over. Reserved pages that stay unused are never touched, so cost nothing.
            let room =
                (self.households.len() * MEMBERS_RESERVED).saturating_sub(self.members.len());
            self.members.reserve(room);
        }
    }

    /// A member; members of households outside the read are skipped.
    pub fn member(&mut self, rsu_id: &str, position: i64, m: Member) -> Result<(), StoreError> {
        let id = id(rsu_id)?;
        let key = if self.complete {
            match self.households.binary_search_by_key(&id, |h| h.0) {
                Ok(i) => i as u64,
                Err(_) => return Ok(()),
            }
        } else {
            id + PENDING
        };
        self.members.push((key, position as u32, m));
        Ok(())
    }

    /// A score record; of two valid from one date, the one computed later is in force (as in
    /// `ScoreHistory`).
    pub fn score(
        &mut self,
        rsu_id: &str,
        value: i64,
        valid_from: NaiveDate,
        computed_on: NaiveDate,
    ) -> Result<(), StoreError> {
        let value = Score::from_millionths(value);
        self.scores
            .push((id(rsu_id)?, value, valid_from, computed_on));
        Ok(())
    }

    /// Households as `sql::HOUSEHOLD_LINE` writes them, a line each.
    pub fn household_lines(&mut self, text: &str) -> Result<(), StoreError> {
        for line in lines_of(text) {
            let mut it = fields(line);
            let mut f = || field(&mut it, line);
            self.household(f()?, f()?, f()?)?;
        }
        Ok(())
    }

    /// Score records as `sql::score_line` writes them, a line each.
    pub fn score_lines(&mut self, text: &str) -> Result<(), StoreError> {
        for line in lines_of(text) {
            let (h, v, from, on) = parse_score(line)?;
            self.score(h, v, from, on)?;
        }
        Ok(())
    }

    /// Members as `member_line` writes them, a line each.
    pub fn member_lines(&mut self, text: &str) -> Result<(), StoreError> {
        for line in lines_of(text) {
            let (h, pos, m) = parse_member(line)?;
            self.member(h, pos, m)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Population {
        self.households_complete();
        let (households, members, scores) = (&self.households, &self.members, &self.scores);
        let index_of = |id: u64| {
            (households.binary_search_by_key(&id, |h| h.0)).map_or(u32::MAX, |i| i as u32)
        };
        let n = households.len();
        // Members and scores are grouped at once, on two threads: this is the tail of a load,
        // when nothing else is left to run.
        let ((m_starts, members), (s_starts, scores)) = std::thread::scope(|t| {
            let scores = t.spawn(|| {
                // The whole record is the key, so the order never depends on the order rows
                // arrived in.
                let groups: Vec<u32> = scores.iter().map(|s| index_of(s.0)).collect();
                let (starts, order) = group_order(&groups, n, |i| {
                    let s = &scores[i];
                    (s.2, s.3, s.1)
                });
                let scores = order.iter().map(|&i| &scores[i as usize]);
                (starts, scores.map(|s| (s.1, s.2)).collect::<Vec<_>>())
            });
            let groups: Vec<u32> = (members.iter())
                .map(|m| m.0.checked_sub(PENDING).map_or(m.0 as u32, index_of))
                .collect();
            let (starts, order) = group_order(&groups, n, |i| members[i].1);
            let members = order.iter().map(|&i| members[i as usize].2).collect();
            let scores = scores
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            ((starts, members), scores)
        });
        Population {
            households: (households.iter().enumerate())
                .map(|(i, &(id, region, province))| PopHousehold {
                    id,
                    region,
                    province,
                    members: m_starts[i]..m_starts[i + 1],
                    scores: s_starts[i]..s_starts[i + 1],
                })
                .collect(),
            members,
            scores,
        }
    }
}

/// Items grouped by household (`groups[i]` is item i's, `u32::MAX` for none: left out), in
/// `key` order within each: their indices, and where each household's start (`households + 1`
/// offsets). A counting sort: linear, where sorting 19 M members took seconds.
fn group_order<K: Ord>(
    groups: &[u32],
    households: usize,
    key: impl Fn(usize) -> K,
) -> (Vec<u32>, Vec<u32>) {
    let mut starts = vec![0u32; households + 1];
    for &g in groups.iter().filter(|&&g| g != u32::MAX) {
        starts[g as usize + 1] += 1;
    }
    for g in 0..households {
        starts[g + 1] += starts[g];
    }
    let mut next = starts.clone();
    let mut order = vec![0u32; starts[households] as usize];
    for (i, &g) in groups.iter().enumerate().filter(|(_, g)| **g != u32::MAX) {
        order[next[g as usize] as usize] = i as u32;
        next[g as usize] += 1;
    }
    for g in 0..households {
        order[starts[g] as usize..starts[g + 1] as usize]
            .sort_unstable_by_key(|&i| key(i as usize));
    }
    (starts, order)
}

/// Rows per chunk of a population read.
const CHUNK: i64 = 50_000;

/// The `|`-separated fields of a line.
fn fields(line: &str) -> impl Iterator<Item = &str> {
    fields_by(line, b'|')
}

/// The fields of a line separated by the ASCII byte `sep`. A plain byte loop: fields are a
/// few characters long, where `str::split`'s search costs more to set up than to run (a tenth
/// of a national load).
pub(crate) fn fields_by(line: &str, sep: u8) -> impl Iterator<Item = &str> {
    debug_assert!(
        sep.is_ascii(),
        "a field separator within a character would split it"
    );
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.bytes().position(|b| b == sep) {
            Some(i) => {
                rest = Some(&s[i + 1..]);
                Some(&s[..i])
            }
            None => rest.take(),
        }
    })
}

fn field<'a>(it: &mut impl Iterator<Item = &'a str>, line: &str) -> Result<&'a str, StoreError> {
    it.next()
        .ok_or_else(|| corrupt(format!("short population line '{line}'")))
}

/// A date as `Dialect::day` writes it: `YYYY-MM-DD`, or a number of days since 1970-01-01.
/// Read by hand: chrono's general parser took a tenth of a national load.
pub(crate) fn date(s: &str) -> Result<NaiveDate, StoreError> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' {
        return (s.parse::<i32>().ok())
            .and_then(|n| NaiveDate::from_num_days_from_ce_opt(n.checked_add(EPOCH_CE)?))
            .ok_or_else(|| corrupt(format!("bad date '{s}'")));
    }
    let num = |r: Range<usize>| {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    (b.len() == 10 && b[4] == b'-' && b[7] == b'-')
        .then(|| NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?))
        .flatten()
        .ok_or_else(|| corrupt(format!("bad date '{s}'")))
}

/// 1970-01-01 as a day of the common era (chrono counts 0001-01-01 as day 1).
const EPOCH_CE: i32 = 719_163;

/// A score line `household|value|valid_from|computed_on` (see `sql::score_line`).
pub(crate) fn parse_score(line: &str) -> Result<(&str, i64, NaiveDate, NaiveDate), StoreError> {
    let mut it = fields(line);
    let mut f = || field(&mut it, line);
    let (h, v, from, on) = (f()?, f()?, f()?, f()?);
    Ok((h, v.parse().map_err(corrupt)?, date(from)?, date(on)?))
}

fn parse_member(line: &str) -> Result<(&str, i64, Member), StoreError> {
    use sanad_domain::{Disability, Relation, Schooling, Sex};
    let mut it = fields(line);
    let mut f = || field(&mut it, line);
    let household = f()?;
    let position = f()?.parse().map_err(corrupt)?;
    let relation = Relation::parse(f()?).map_err(corrupt)?;
    let sex = Sex::parse(f()?).map_err(corrupt)?;
    let birth_date = date(f()?)?;
    let death = f()?;
    let death_date = if death.is_empty() {
        None
    } else {
        Some(date(death)?)
    };
    let schooling = Schooling::parse(f()?).map_err(corrupt)?;
    let disability = Disability::parse(f()?).map_err(corrupt)?;
    let flags: u8 = f()?.parse().map_err(corrupt)?;
    let flag = |bit: u8| flags & bit != 0;
    let (father_deceased, public_employee, pensioner, family_allowance) =
        (flag(1), flag(2), flag(4), flag(8));
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

/// Key ranges of a national read, and how many are read at once (the database works on two
/// while Sanad parses a third, which keeps both cores of a small server busy).
const HOUSEHOLD_PARTS: u64 = 64;
/// Members are read a range at a time with no keyset, so their ranges are smaller: about
/// 36,000 members each in a national registry.
const MEMBER_PARTS: u64 = 512;
const IN_FLIGHT: usize = 3;

/// How a backend reads members fastest: by ranges of IDCS (SQLite stores them in that order)
/// or of households (PostgreSQL keeps rows in the order households were written, so an IDCS
/// order would visit the table at random).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembersBy {
    Idcs,
    Household,
}

/// What differs between the backends in a population read, chosen from the driver.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// The string aggregate joining lines, with `{}` for the expression.
    agg: &'static str,
    /// Dates as numbers of days since 1970-01-01 rather than `YYYY-MM-DD`: PostgreSQL formats
    /// a date at several times the cost of an integer (a sixth of its work in a national load);
    /// SQLite stores dates as that text already.
    day_numbers: bool,
    members_by: MembersBy,
}

impl Dialect {
    pub fn of<DB: sqlx::Database>() -> Dialect {
        if crate::generic::is_postgres::<DB>() {
            Dialect {
                agg: "string_agg({}, chr(10))",
                day_numbers: true,
                members_by: MembersBy::Household,
            }
        } else {
            Dialect {
                agg: "group_concat({}, char(10))",
                day_numbers: false,
                members_by: MembersBy::Idcs,
            }
        }
    }

    /// The text of every row's `expr` joined into one value, a line each.
    pub fn lines(&self, expr: &str) -> String {
        self.agg.replace("{}", expr)
    }

    /// How many rows the query `inner` (with a text column `line`) finds, and their lines.
    pub fn count_lines(&self, inner: &str) -> String {
        format!(
            "SELECT count(*) AS n, {} AS lines FROM ({inner}) t",
            self.lines("t.line")
        )
    }

    /// The date column `col` as a population line carries it (read back by `date`).
    pub fn day(&self, col: &str) -> String {
        if self.day_numbers {
            format!("({col} - DATE '1970-01-01')")
        } else {
            col.to_owned()
        }
    }
}

/// One chunk of a range read: its rows' lines and the lines of each query run over the
/// chunk's households (`between`: their scores).
struct Chunk {
    rows: u64,
    lines: String,
    between: Vec<String>,
}

/// Read a population through any sqlx pool whose rows decode Sanad's column types (both
/// backends). Households are read as key ranges, several at once, with their scores; then
/// members, as the backend's `Dialect` says.
pub async fn load<DB>(
    pool: &sqlx::Pool<DB>,
    scope: &Scope,
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
    use futures_util::{StreamExt, TryStreamExt};

    if scope.is_empty() {
        return Ok(Builder::default().finish());
    }
    // Rows are parsed on their own thread, so that reading never waits for parsing.
    let (parts, parsed) = std::sync::mpsc::channel::<Part>();
    let parser = tokio::task::spawn_blocking(move || parse_parts(parsed));
    let d = Dialect::of::<DB>();
    let (hh_sql, scores_sql) = (sql::households(scope, &d), [sql::scores(&d)]);
    let (table, key, member_sql) = match d.members_by {
        MembersBy::Idcs => ("persons", "idcs", sql::members(scope, &d)),
        MembersBy::Household => ("households", "rsu_id", sql::members_between(scope, &d)),
    };
    let (hh_read, member_read) = (Read::Keyset(&hh_sql, &scores_sql), Read::Whole(&member_sql));
    let hh_ranges = key_ranges_of(pool, "households", "rsu_id", HOUSEHOLD_PARTS).await?;
    let member_ranges = key_ranges_of(pool, table, key, MEMBER_PARTS).await?;
    // One stream of ranges, households first: the first members are read while the last
    // households are, so that neither core waits at the turn. Members that come before every
    // household has are matched at the end.
    let mut households_left = hh_ranges.len();
    let ranges = (hh_ranges.into_iter().map(|r| (true, r)))
        .chain(member_ranges.into_iter().map(|r| (false, r)));
    let mut chunks =
        futures_util::stream::iter(ranges)
            .map(|(households, (after, upto))| {
                let how = if households { &hh_read } else { &member_read };
                async move {
                    Ok::<_, StoreError>((households, read_range(pool, how, after, upto).await?))
                }
            })
            .buffer_unordered(IN_FLIGHT);
    let mut read = 0u64;
    let send = |part: Part| parts.send(part).is_ok();
    let mut open = households_left > 0 || send(Part::HouseholdsDone);
    while open {
        let Some((households, range)) = chunks.try_next().await? else {
            break;
        };
        for c in range {
            read += c.rows;
            open &= send(if households {
                Part::Households(c)
            } else {
                Part::Members(c)
            });
            progress(read);
        }
        if households {
            households_left -= 1;
            if households_left == 0 {
                open &= send(Part::HouseholdsDone);
            }
        }
    }
    // A closed channel means the parser stopped on a bad row: its error is returned here.
    drop(chunks);
    drop(parts);
    parser
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?
}

/// What the reading side hands the parser.
enum Part {
    /// Households, with their scores (`Chunk::between`).
    Households(Chunk),
    /// Every household has been read.
    HouseholdsDone,
    Members(Chunk),
}

/// Chunks of households and of members, parsed into a population.
fn parse_parts(parts: std::sync::mpsc::Receiver<Part>) -> Result<Population, StoreError> {
    let mut b = Builder::default();
    for part in parts {
        match part {
            Part::Households(c) => {
                b.household_lines(&c.lines)?;
                for scores in &c.between {
                    b.score_lines(scores)?;
                }
            }
            Part::HouseholdsDone => b.households_complete(),
            Part::Members(c) => b.member_lines(&c.lines)?,
        }
    }
    Ok(b.finish())
}

/// The lines of an aggregated text (none for an empty one).
fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').filter(|l| !l.is_empty())
}

/// How a key range is read: in chunks of `CHUNK` keys, each with the lines of queries over its
/// households' range (its scores); or whole, in one query over `(after, upto]`.
enum Read<'a> {
    Keyset(&'a str, &'a [String]),
    Whole(&'a str),
}

/// `parts` ranges covering every key of `table`.
async fn key_ranges_of<DB>(
    pool: &sqlx::Pool<DB>,
    table: &str,
    key: &str,
    parts: u64,
) -> Result<Vec<(String, String)>, StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Row: crate::rows::decode::SanadRow,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    use crate::rows::decode::SanadRow;
    let db = |e: sqlx::Error| StoreError::Database(e.to_string());
    let r = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql::key_bounds(table, key)))
        .fetch_one(pool)
        .await
        .map_err(db)?;
    Ok(
        match (r.opt_text("lo").map_err(db)?, r.opt_text("hi").map_err(db)?) {
            (Some(lo), Some(hi)) => key_ranges(&lo, &hi, parts),
            _ => Vec::new(),
        },
    )
}

/// Every chunk of a key range `(after, upto]` (see `Read`), in key order.
async fn read_range<DB>(
    pool: &sqlx::Pool<DB>,
    how: &Read<'_>,
    mut after: String,
    upto: String,
) -> Result<Vec<Chunk>, StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Row: crate::rows::decode::SanadRow,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let (chunk_sql, between) = match how {
        Read::Keyset(chunk_sql, between) => (*chunk_sql, *between),
        Read::Whole(q) => {
            let (rows, lines) = lines_between(pool, q, &after, &upto).await?;
            let chunk = Chunk {
                rows,
                lines,
                between: Vec::new(),
            };
            return Ok(if rows == 0 { Vec::new() } else { vec![chunk] });
        }
    };
    use crate::rows::decode::SanadRow;
    use sqlx::AssertSqlSafe;

    let db = |e: sqlx::Error| StoreError::Database(e.to_string());
    let mut chunks = Vec::new();
    loop {
        let r = sqlx::query::<DB>(AssertSqlSafe(chunk_sql.to_owned()))
            .bind(after.clone())
            .bind(CHUNK)
            .bind(upto.clone())
            .fetch_one(pool)
            .await
            .map_err(db)?;
        let n = r.int("n").map_err(db)?;
        if n == 0 {
            return Ok(chunks);
        }
        let last = r.text("last").map_err(db)?;
        let mut texts = Vec::with_capacity(between.len());
        for q in between {
            texts.push(lines_between(pool, q, &after, &last).await?.1);
        }
        chunks.push(Chunk {
            rows: n as u64,
            lines: r.text("lines").map_err(db)?,
            between: texts,
        });
        after = last;
    }
}

/// How many rows `q` finds over the households `(after, upto]`, and their aggregated lines.
async fn lines_between<DB>(
    pool: &sqlx::Pool<DB>,
    q: &str,
    after: &str,
    upto: &str,
) -> Result<(u64, String), StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Row: crate::rows::decode::SanadRow,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    use crate::rows::decode::SanadRow;
    let db = |e: sqlx::Error| StoreError::Database(e.to_string());
    let r = sqlx::query::<DB>(sqlx::AssertSqlSafe(q.to_owned()))
        .bind(after.to_owned())
        .bind(upto.to_owned())
        .fetch_one(pool)
        .await
        .map_err(db)?;
    let n = r.int("n").map_err(db)? as u64;
    Ok((n, r.opt_text("lines").map_err(db)?.unwrap_or_default()))
}

/// The households with `after < rsu_id <= upto` (every scope: the payroll is national), with
/// their members and scores: one aggregated query each, for a page of the streamed payroll.
pub async fn load_between<DB>(
    pool: &sqlx::Pool<DB>,
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
    let d = Dialect::of::<DB>();
    let read = |q: String| async move {
        Ok::<_, StoreError>(lines_between(pool, &q, after, upto).await?.1)
    };
    let mut b = Builder::default();
    b.household_lines(&read(sql::households_between(&d)).await?)?;
    b.score_lines(&read(sql::scores(&d)).await?)?;
    b.member_lines(&read(sql::members_between(&Scope::National, &d)).await?)?;
    Ok(b.finish())
}

/// One member as a `|`-separated text line (the population's members queries): one value per
/// row crosses the driver instead of twelve. `concat_ws` builds it in one step (a chain of `||`
/// allocates a string per piece, which made this the costliest part of a national load), and
/// the four flags travel as the bits of one number.
fn member_line(d: &Dialect) -> String {
    let bit = |c: &str, v: u8| format!("CASE WHEN {c} THEN {v} ELSE 0 END");
    let flags = [
        bit("p.father_deceased", 1),
        bit("p.public_employee_date IS NOT NULL", 2),
        bit("p.pensioner_date IS NOT NULL", 4),
        bit("p.family_allowance_date IS NOT NULL", 8),
    ]
    .join(" + ");
    // `concat_ws` skips nulls: an empty death date keeps the fields in place.
    format!(
        "concat_ws('|', p.household_id, p.position, p.relation, p.sex, {}, \
         coalesce(CAST({} AS TEXT), ''), p.schooling, p.disability, {flags})",
        d.day("p.birth_date"),
        d.day("p.death_date")
    )
}

#[cfg(test)]
mod tests {
    use super::{date, fields, group_order, key_ranges};

    /// The range holding `key`, by the read's own test `after < key <= upto`.
    fn holders<'a>(ranges: &'a [(String, String)], key: &str) -> Vec<&'a (String, String)> {
        ranges
            .iter()
            .filter(|(a, u)| a.as_str() < key && key <= u.as_str())
            .collect()
    }

    #[test]
    fn digit_keys_split_evenly_and_every_key_is_in_exactly_one_range() {
        let ranges = key_ranges("1000000000", "1999999999", 4);
        assert_eq!(ranges.len(), 4);
        assert_eq!(ranges[0], (String::new(), "1249999999".to_owned()));
        assert_eq!(ranges[3].1, "1999999999");
        for key in [
            "1000000000",
            "1249999999",
            "1250000000",
            "1500000001",
            "1999999999",
        ] {
            assert_eq!(holders(&ranges, key).len(), 1, "{key}");
        }
        assert!(holders(&ranges, "2000000000").is_empty());
    }

    #[test]
    fn other_keys_make_one_range_and_narrow_spans_no_empty_ones() {
        assert_eq!(
            key_ranges("A1", "Z9", 8),
            vec![(String::new(), "Z9".to_owned())]
        );
        let one = key_ranges("100004870220", "100004870220", 64);
        assert_eq!(one, vec![(String::new(), "100004870220".to_owned())]);
        let few = key_ranges("100", "103", 64);
        assert_eq!(few.len(), 4);
        for key in ["100", "101", "102", "103"] {
            assert_eq!(holders(&few, key).len(), 1, "{key}");
        }
    }

    #[test]
    fn fields_split_as_str_split_does() {
        for line in [
            "",
            "a",
            "|",
            "a||b|",
            "100000000001|3|child|F|19000||none",
            "|x",
        ] {
            let ours: Vec<&str> = fields(line).collect();
            assert_eq!(ours, line.split('|').collect::<Vec<_>>(), "{line:?}");
        }
    }

    #[test]
    fn dates_are_read_exactly_and_bad_ones_named() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(date("2024-02-29").unwrap(), d("2024-02-29"));
        assert_eq!(date("0999-12-31").unwrap(), d("0999-12-31"));
        // PostgreSQL sends days since 1970-01-01 (`Dialect::day`).
        assert_eq!(date("0").unwrap(), d("1970-01-01"));
        assert_eq!(date("19782").unwrap(), d("2024-02-29"));
        assert_eq!(date("-1").unwrap(), d("1969-12-31"));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "2024/01/01",
            "",
            "2024-01-0x",
            "19782x",
            "99999999999",
        ] {
            let e = date(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")), "{e}");
        }
    }

    #[test]
    fn items_are_grouped_by_household_and_ordered_within_each() {
        let items = [
            (2, 'c'),
            (0, 'b'),
            (2, 'a'),
            (u32::MAX, 'x'),
            (0, 'a'),
            (1, 'z'),
        ];
        let groups: Vec<u32> = items.iter().map(|t| t.0).collect();
        let (starts, order) = group_order(&groups, 4, |i| items[i].1);
        assert_eq!(starts, vec![0, 2, 3, 5, 5]);
        let grouped: Vec<_> = order.iter().map(|&i| items[i as usize]).collect();
        assert_eq!(grouped, [(0, 'a'), (0, 'b'), (1, 'z'), (2, 'a'), (2, 'c')]);
    }
}
