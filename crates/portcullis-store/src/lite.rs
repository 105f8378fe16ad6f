//! SQLite statements run on the calling thread, behind the few names of sqlx's query API that
//! the repositories use (`query`, `query_as`, `QueryBuilder`, `try_get`), so that their SQL stays
//! written once for both engines (`pgsql.rs` gives PostgreSQL the same names).
//!
//! sqlx runs each SQLite connection on a thread of its own and every statement is a round trip
//! to it; a statement on a local file takes microseconds, and under load those hand-offs cost
//! more than the statements (BENCHMARKS.md, tenth session). Here a statement runs where it is
//! awaited; the futures are ready at once. Parameters are sqlx's `$N` (or `?N`): bound by number,
//! so one may appear several times and in any order; a builder's are anonymous `?`, in order.

use std::fmt::{Display, Write as _};
use std::future::{Ready, ready};
use std::marker::PhantomData;
use std::sync::Arc;

use rusqlite::types::{FromSql, FromSqlError, ToSql, Value, ValueRef};
use rusqlite::{Connection, ErrorCode, Statement};

pub(crate) type Error = rusqlite::Error;

/// The connection that statements run on; every connection type here dereferences to it.
/// Mutable only so that a future holding it stays `Send` (a `Connection` is not `Sync`).
pub(crate) type Executor<'c> = &'c mut Connection;

type Arg<'q> = Box<dyn ToSql + Send + 'q>;

/// A statement with its arguments, `sqlx::query`'s counterpart.
pub(crate) fn query(sql: &str) -> Query<'_> {
    Query { sql, args: Vec::new() }
}

/// A statement whose rows decode into a tuple, `sqlx::query_as`'s counterpart.
pub(crate) fn query_as<O: FromRow>(sql: &str) -> QueryAs<'_, O> {
    QueryAs { query: query(sql), out: PhantomData }
}

/// What a statement changed.
pub(crate) struct Done {
    rows_affected: u64,
}

impl Done {
    pub(crate) fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

pub(crate) struct Query<'q> {
    sql: &'q str,
    args: Vec<Arg<'q>>,
}

impl<'q> Query<'q> {
    pub(crate) fn bind<T: ToSql + Send + 'q>(mut self, value: T) -> Self {
        self.args.push(Box::new(value));
        self
    }

    /// Runs the statement to its end (rows it returns are skipped).
    pub(crate) fn execute(self, conn: Executor<'_>) -> Ready<Result<Done, Error>> {
        let ran = self.each_until(conn, usize::MAX, |_| Ok(()));
        ready(ran.map(|()| Done { rows_affected: conn.changes() }))
    }

    pub(crate) fn fetch_all(self, conn: Executor<'_>) -> Ready<Result<Vec<Row>, Error>> {
        ready(self.rows(conn, usize::MAX))
    }

    pub(crate) fn fetch_optional(self, conn: Executor<'_>) -> Ready<Result<Option<Row>, Error>> {
        ready(self.rows(conn, 1).map(|rows| rows.into_iter().next()))
    }

    /// Up to `limit` rows as owned values.
    fn rows(self, conn: Executor<'_>, limit: usize) -> Result<Vec<Row>, Error> {
        let mut columns: Option<Arc<[String]>> = None;
        let mut out = Vec::new();
        self.each_until(conn, limit, |row| {
            let names = columns.get_or_insert_with(|| {
                let statement = row.as_ref();
                (0..statement.column_count())
                    .map(|i| statement.column_name(i).map_or_else(|_| String::new(), str::to_owned))
                    .collect()
            });
            let values = (0..names.len()).map(|i| row.get_ref(i).map(Value::from)).collect::<Result<_, _>>()?;
            out.push(Row { columns: Arc::clone(names), values });
            Ok(())
        })?;
        Ok(out)
    }

    /// Prepares (from the connection's cache), binds, and steps through at most `limit` rows.
    fn each_until(
        self,
        conn: Executor<'_>,
        limit: usize,
        mut on_row: impl FnMut(&rusqlite::Row<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut statement = conn.prepare_cached(self.sql)?;
        bind(&mut statement, &self.args)?;
        let mut rows = statement.raw_query();
        let mut seen = 0;
        while seen < limit {
            let Some(row) = rows.next()? else { break };
            on_row(row)?;
            seen += 1;
        }
        Ok(())
    }
}

/// Binds `args[N-1]` to each parameter named `$N` or `?N`, and the next argument to each `?`.
fn bind(statement: &mut Statement<'_>, args: &[Arg<'_>]) -> Result<(), Error> {
    for index in 1..=statement.parameter_count() {
        let position = match statement.parameter_name(index) {
            None => index,
            Some(name) => name
                .strip_prefix(['$', '?'])
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n >= 1)
                .ok_or_else(|| Error::InvalidParameterName(name.to_owned()))?,
        };
        let arg = args.get(position - 1).ok_or(Error::InvalidParameterCount(position, args.len()))?;
        statement.raw_bind_parameter(index, &**arg)?;
    }
    Ok(())
}

pub(crate) struct QueryAs<'q, O> {
    query: Query<'q>,
    out: PhantomData<fn() -> O>,
}

impl<'q, O: FromRow> QueryAs<'q, O> {
    pub(crate) fn bind<T: ToSql + Send + 'q>(mut self, value: T) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub(crate) fn fetch_all(self, conn: Executor<'_>) -> Ready<Result<Vec<O>, Error>> {
        ready(self.decode(conn, usize::MAX))
    }

    pub(crate) fn fetch_optional(self, conn: Executor<'_>) -> Ready<Result<Option<O>, Error>> {
        ready(self.decode(conn, 1).map(|rows| rows.into_iter().next()))
    }

    pub(crate) fn fetch_one(self, conn: Executor<'_>) -> Ready<Result<O, Error>> {
        ready(self.decode(conn, 1).and_then(|rows| rows.into_iter().next().ok_or(Error::QueryReturnedNoRows)))
    }

    fn decode(self, conn: Executor<'_>, limit: usize) -> Result<Vec<O>, Error> {
        let mut out = Vec::new();
        self.query.each_until(conn, limit, |row| {
            out.push(O::from_row(row)?);
            Ok(())
        })?;
        Ok(out)
    }
}

/// A tuple decoded from a row's columns in order.
pub(crate) trait FromRow: Sized {
    fn from_row(row: &rusqlite::Row<'_>) -> Result<Self, Error>;
}

macro_rules! tuple_from_row {
    ($($T:ident $i:tt),+) => {
        impl<$($T: FromSql),+> FromRow for ($($T,)+) {
            fn from_row(row: &rusqlite::Row<'_>) -> Result<Self, Error> {
                Ok(($(row.get::<_, $T>($i)?,)+))
            }
        }
    };
}

tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);

/// A row read out of its statement.
#[derive(Debug)]
pub(crate) struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// Reading a column by name, as `sqlx::Row::try_get` does.
pub(crate) trait RowTrait {
    fn try_get<T: FromSql, I: AsRef<str>>(&self, column: I) -> Result<T, Error>;
}

impl RowTrait for Row {
    fn try_get<T: FromSql, I: AsRef<str>>(&self, column: I) -> Result<T, Error> {
        let name = column.as_ref();
        let index =
            self.columns.iter().position(|c| c == name).ok_or_else(|| Error::InvalidColumnName(name.to_owned()))?;
        let value = ValueRef::from(&self.values[index]);
        T::column_result(value).map_err(|e| match e {
            FromSqlError::InvalidType => Error::InvalidColumnType(index, name.to_owned(), value.data_type()),
            other => Error::FromSqlConversionFailure(index, value.data_type(), Box::new(other)),
        })
    }
}

/// A statement assembled piece by piece, `sqlx::QueryBuilder`'s counterpart.
pub(crate) struct QueryBuilder<'args> {
    sql: String,
    args: Vec<Arg<'args>>,
}

impl<'args> QueryBuilder<'args> {
    pub(crate) fn new(init: impl Into<String>) -> Self {
        Self { sql: init.into(), args: Vec::new() }
    }

    pub(crate) fn push(&mut self, sql: impl Display) -> &mut Self {
        let _ = write!(self.sql, "{sql}");
        self
    }

    /// Appends an anonymous `?`: SQLite numbers those in order, and looking up a parameter's
    /// name is a scan of all names, which for the thousands of a multi-row insert would make
    /// binding quadratic.
    pub(crate) fn push_bind<T: ToSql + Send + 'args>(&mut self, value: T) -> &mut Self {
        self.args.push(Box::new(value));
        self.sql.push('?');
        self
    }

    /// Pushes that put `separator` between each other.
    pub(crate) fn separated(&mut self, separator: &'static str) -> Separated<'_, 'args> {
        Separated { builder: self, separator, first: true }
    }

    /// `VALUES (…), (…)` with one parenthesised tuple per item.
    pub(crate) fn push_values<I: IntoIterator>(
        &mut self,
        tuples: I,
        mut push: impl FnMut(Separated<'_, 'args>, I::Item),
    ) -> &mut Self {
        self.push("VALUES ");
        for (i, tuple) in tuples.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push("(");
            push(self.separated(", "), tuple);
            self.push(")");
        }
        self
    }

    pub(crate) fn build(&mut self) -> Query<'_> {
        Query { sql: &self.sql, args: std::mem::take(&mut self.args) }
    }

    pub(crate) fn build_query_as<O: FromRow>(&mut self) -> QueryAs<'_, O> {
        QueryAs { query: self.build(), out: PhantomData }
    }
}

pub(crate) struct Separated<'b, 'args> {
    builder: &'b mut QueryBuilder<'args>,
    separator: &'static str,
    first: bool,
}

impl<'args> Separated<'_, 'args> {
    pub(crate) fn push_bind<T: ToSql + Send + 'args>(&mut self, value: T) -> &mut Self {
        if !std::mem::take(&mut self.first) {
            self.builder.push(self.separator);
        }
        self.builder.push_bind(value);
        self
    }
}

/// A transaction on a borrowed connection, rolled back when dropped uncommitted.
pub(crate) struct Transaction<'c> {
    conn: &'c mut Connection,
}

/// Begins an immediate (write-locking) transaction, `Pool::begin`'s counterpart.
pub(crate) fn begin(conn: &mut Connection) -> Ready<Result<Transaction<'_>, Error>> {
    ready(conn.execute_batch("BEGIN IMMEDIATE").map(|()| Transaction { conn }))
}

impl Transaction<'_> {
    pub(crate) fn commit(self) -> Ready<Result<(), Error>> {
        ready(self.conn.execute_batch("COMMIT"))
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl std::ops::DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        // Still inside it: never committed, or the commit failed.
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A row with these values already exists (a UNIQUE or PRIMARY KEY constraint).
pub(crate) fn is_unique_violation(error: &Error) -> bool {
    matches!(
        error,
        Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// An error the database reported (as opposed to one of the connection or of decoding).
pub(crate) fn is_database_error(error: &Error) -> bool {
    matches!(error, Error::SqliteFailure(..))
}

/// The database is there but locked by another process's writer for longer than the wait.
pub(crate) fn is_busy(error: &Error) -> bool {
    matches!(error, Error::SqliteFailure(e, _) if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, data BLOB)").unwrap();
        conn
    }

    #[tokio::test]
    async fn parameters_bind_by_number_in_any_order_and_more_than_once() {
        let mut conn = table();
        query("INSERT INTO t (name, id, data) VALUES ($2, $1, $3)")
            .bind(7_i64)
            .bind("seven")
            .bind(vec![1_u8, 2])
            .execute(&mut conn)
            .await
            .unwrap();
        let row: Option<(i64, String)> = query_as("SELECT id, name FROM t WHERE id = $1 AND id < $1 + 1 AND name = $2")
            .bind(7_i64)
            .bind("seven")
            .fetch_optional(&mut conn)
            .await
            .unwrap();
        assert_eq!(row, Some((7, "seven".to_owned())));
        let done = query("UPDATE t SET data = NULL WHERE id = $1").bind(7_i64).execute(&mut conn).await.unwrap();
        assert_eq!(done.rows_affected(), 1);
    }

    #[tokio::test]
    async fn a_missing_argument_or_a_misnamed_parameter_is_an_error() {
        let mut conn = table();
        let missing = query("SELECT * FROM t WHERE id = $2").bind(1_i64).fetch_all(&mut conn).await;
        assert!(matches!(missing, Err(Error::InvalidParameterCount(2, 1))), "{missing:?}");
        let named = query("SELECT * FROM t WHERE id = :id").bind(1_i64).fetch_all(&mut conn).await;
        assert!(matches!(named, Err(Error::InvalidParameterName(_))), "{named:?}");
    }

    #[tokio::test]
    async fn rows_are_read_by_column_name_with_typed_errors() {
        let mut conn = table();
        query("INSERT INTO t (id, name) VALUES (1, 'one')").execute(&mut conn).await.unwrap();
        let row = query("SELECT * FROM t").fetch_optional(&mut conn).await.unwrap().unwrap();
        assert_eq!(row.try_get::<String, _>("name").unwrap(), "one");
        assert_eq!(row.try_get::<Option<Vec<u8>>, _>("data").unwrap(), None);
        assert!(matches!(row.try_get::<i64, _>("name"), Err(Error::InvalidColumnType(1, _, _))));
        assert!(matches!(row.try_get::<i64, _>("nope"), Err(Error::InvalidColumnName(_))));
        let none: Option<(i64,)> = query_as("SELECT id FROM t WHERE id = 2").fetch_optional(&mut conn).await.unwrap();
        assert_eq!(none, None);
        let one = query_as::<(i64,)>("SELECT id FROM t WHERE id = 2").fetch_one(&mut conn).await;
        assert!(matches!(one, Err(Error::QueryReturnedNoRows)));
    }

    #[tokio::test]
    async fn a_builder_numbers_its_binds_across_values_and_separated_lists() {
        let mut conn = table();
        let mut insert = QueryBuilder::new("INSERT INTO t (id, name) ");
        insert.push_values([(1_i64, "a"), (2, "b"), (3, "c")], |mut row, (id, name)| {
            row.push_bind(id).push_bind(name);
        });
        assert_eq!(insert.sql, "INSERT INTO t (id, name) VALUES (?, ?), (?, ?), (?, ?)");
        insert.build().execute(&mut conn).await.unwrap();
        let mut select = QueryBuilder::new("SELECT name FROM t WHERE id IN (");
        let mut ids = select.separated(", ");
        ids.push_bind(1_i64);
        ids.push_bind(3_i64);
        select.push(") AND name <> ").push_bind("zz").push(" ORDER BY id");
        let names: Vec<(String,)> = select.build_query_as().fetch_all(&mut conn).await.unwrap();
        assert_eq!(names, vec![("a".to_owned(),), ("c".to_owned(),)]);
    }

    #[tokio::test]
    async fn a_unique_violation_is_told_apart_and_a_dropped_transaction_rolls_back() {
        let mut conn = table();
        query("INSERT INTO t (id, name) VALUES (1, 'one')").execute(&mut conn).await.unwrap();
        let again = query("INSERT INTO t (id, name) VALUES (2, 'one')").execute(&mut conn).await.err().unwrap();
        assert!(is_unique_violation(&again) && is_database_error(&again) && !is_busy(&again));
        {
            let mut tx = begin(&mut conn).await.unwrap();
            query("INSERT INTO t (id, name) VALUES (2, 'two')").execute(&mut tx).await.unwrap();
        }
        assert!(conn.is_autocommit());
        let mut tx = begin(&mut conn).await.unwrap();
        query("INSERT INTO t (id, name) VALUES (3, 'three')").execute(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let ids: Vec<(i64,)> = query_as("SELECT id FROM t ORDER BY id").fetch_all(&mut conn).await.unwrap();
        assert_eq!(ids, vec![(1,), (3,)]);
    }
}
