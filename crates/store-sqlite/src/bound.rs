//! Bulk inserts through one prepared statement per table, bound and stepped on the writer's
//! own connection handle. A national load writes 29 M rows: sent as SQL literals, SQLite
//! spent most of its time parsing them; here each statement is parsed once per batch and
//! every row only binds its values and steps.
//!
//! The only unsafe code of Sanad: calls into SQLite's C API on a handle that sqlx has
//! locked for us (`LockedSqliteHandle`), so no other thread uses it meanwhile.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int};
use std::ptr::{self, NonNull};

use chrono::NaiveDate;
use libsqlite3_sys as ffi;

/// One value bound to the next parameter of a row.
pub(crate) trait Bind {
    fn bind(&self, row: &mut Row<'_>);
}

impl Bind for str {
    fn bind(&self, row: &mut Row<'_>) {
        row.text(self)
    }
}
impl Bind for String {
    fn bind(&self, row: &mut Row<'_>) {
        row.text(self)
    }
}
impl<T: Bind + ?Sized> Bind for &T {
    fn bind(&self, row: &mut Row<'_>) {
        (**self).bind(row)
    }
}
impl Bind for i64 {
    fn bind(&self, row: &mut Row<'_>) {
        row.int(*self)
    }
}
impl Bind for i32 {
    fn bind(&self, row: &mut Row<'_>) {
        row.int(i64::from(*self))
    }
}
impl Bind for bool {
    fn bind(&self, row: &mut Row<'_>) {
        row.int(i64::from(*self))
    }
}
impl Bind for NaiveDate {
    /// `YYYY-MM-DD`, as sqlx stores a date.
    fn bind(&self, row: &mut Row<'_>) {
        let mut buf = [0u8; 10];
        match sanad_store::rows::iso_date(*self, &mut buf) {
            Some(text) => row.text_copied(text),
            None => row.text_copied(&self.format("%Y-%m-%d").to_string()),
        }
    }
}
impl<T: Bind> Bind for Option<T> {
    fn bind(&self, row: &mut Row<'_>) {
        match self {
            Some(v) => v.bind(row),
            None => row.null(),
        }
    }
}

/// A prepared INSERT, finalized on drop.
pub(crate) struct Insert {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
}

/// The parameters of the row being bound; the first error is kept, with its parameter, and
/// reported instead of a step.
pub(crate) struct Row<'a> {
    insert: &'a mut Insert,
    next: c_int,
    failed: Option<(c_int, c_int)>,
}

impl Insert {
    /// Prepare `sql` on `db`, which the caller holds locked for as long as this lives.
    pub(crate) fn prepare(db: NonNull<ffi::sqlite3>, sql: &str) -> Result<Insert, String> {
        let mut stmt = ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| "statement too long".to_owned())?;
        // SAFETY: `db` is a live handle locked by the caller; `sql` is valid for `len` bytes.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT as _,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        match NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => Ok(Insert { db, stmt }),
            _ => Err(message(db)),
        }
    }

    /// Insert one row: `values` in the statement's column order.
    pub(crate) fn row(&mut self, values: &[&dyn Bind]) -> Result<(), String> {
        let mut row = Row {
            insert: self,
            next: 1,
            failed: None,
        };
        for v in values {
            v.bind(&mut row);
        }
        let failed = row.failed;
        let stmt = self.stmt.as_ptr();
        // SAFETY: `stmt` is a live prepared statement of the locked handle. Texts borrowed
        // from `values` (SQLITE_STATIC) live until this function returns, and the bindings
        // are cleared before it does, so no pointer to them outlives the step.
        let rc = unsafe {
            let rc = match failed {
                None => ffi::sqlite3_step(stmt),
                Some(_) => ffi::SQLITE_OK,
            };
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
            rc
        };
        match failed {
            Some((parameter, code)) => Err(format!("value {parameter}: {}", explain(code))),
            None if rc == ffi::SQLITE_DONE => Ok(()),
            None => Err(message(self.db)),
        }
    }
}

impl Row<'_> {
    fn check(&mut self, rc: c_int) {
        if rc != ffi::SQLITE_OK && self.failed.is_none() {
            self.failed = Some((self.next, rc));
        }
        self.next += 1;
    }

    /// A text that lives as long as the row's values: SQLite reads it in place.
    fn text(&mut self, v: &str) {
        self.text_as(v, ffi::SQLITE_STATIC())
    }

    /// A text that dies before the step (a date formatted on the stack): SQLite copies it.
    fn text_copied(&mut self, v: &str) {
        self.text_as(v, ffi::SQLITE_TRANSIENT())
    }

    fn text_as(&mut self, v: &str, lifetime: ffi::sqlite3_destructor_type) {
        let stmt = self.insert.stmt.as_ptr();
        let Ok(len) = c_int::try_from(v.len()) else {
            return self.check(ffi::SQLITE_TOOBIG);
        };
        // SAFETY: a live statement; `v` is valid for `len` bytes, for as long as `lifetime`
        // says (see `Insert::row`).
        let rc =
            unsafe { ffi::sqlite3_bind_text(stmt, self.next, v.as_ptr().cast(), len, lifetime) };
        self.check(rc)
    }

    fn int(&mut self, v: i64) {
        // SAFETY: a live statement.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.insert.stmt.as_ptr(), self.next, v) };
        self.check(rc)
    }

    fn null(&mut self) {
        // SAFETY: a live statement.
        let rc = unsafe { ffi::sqlite3_bind_null(self.insert.stmt.as_ptr(), self.next) };
        self.check(rc)
    }
}

impl Drop for Insert {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on this handle and is finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// The handle's last error message.
fn message(db: NonNull<ffi::sqlite3>) -> String {
    // SAFETY: a live handle; SQLite returns a NUL-terminated string it owns, copied at once.
    unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }
        .to_string_lossy()
        .into_owned()
}

/// SQLite's English text for a result code.
fn explain(code: c_int) -> String {
    // SAFETY: SQLite returns a static NUL-terminated string for any code.
    unsafe { CStr::from_ptr(ffi::sqlite3_errstr(code)) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows bound and stepped read back as sqlx wrote them, whatever their texts hold; a
    /// refused row names SQLite's reason and leaves the statement ready for the next.
    #[tokio::test]
    async fn bound_rows_read_back_whole() {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, d TEXT, x TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        let odd = "it's \"quoted\", NUL \0 inside, عربي".to_owned();
        let date = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
        let refused = {
            let mut locked = conn.lock_handle().await.unwrap();
            let mut insert =
                Insert::prepare(locked.as_raw_handle(), "INSERT INTO t VALUES (?, ?, ?, ?)")
                    .unwrap();
            insert
                .row(&[&"a".to_owned(), &7i64, &date, &Some(odd.clone())])
                .unwrap();
            insert
                .row(&[&"b".to_owned(), &true, &None::<NaiveDate>, &None::<String>])
                .unwrap();
            let refused = insert.row(&[&"a".to_owned(), &1i32, &date, &None::<String>]);
            insert
                .row(&[&"c".to_owned(), &-1i64, &date, &None::<String>])
                .unwrap();
            refused
        };
        assert!(refused.unwrap_err().contains("UNIQUE"));
        let rows: Vec<(String, i64, Option<NaiveDate>, Option<String>)> =
            sqlx::query_as("SELECT k, n, d, x FROM t ORDER BY k")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        assert_eq!(
            rows,
            [
                ("a".into(), 7, Some(date), Some(odd)),
                ("b".into(), 1, None, None),
                ("c".into(), -1, Some(date), None),
            ]
        );
    }
}
