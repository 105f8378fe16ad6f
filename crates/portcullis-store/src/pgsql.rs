//! sqlx's query API for PostgreSQL under the names the repositories use; `lite.rs` gives SQLite
//! the same names.

use sqlx::Postgres;

pub(crate) use sqlx::Row as RowTrait;
pub(crate) use sqlx::{query, query_as};

pub(crate) type Error = sqlx::Error;
pub(crate) type Row = sqlx::postgres::PgRow;
pub(crate) type QueryBuilder<'args> = sqlx::QueryBuilder<'args, Postgres>;

/// Begins a transaction on the pool.
pub(crate) async fn begin(pool: &sqlx::PgPool) -> Result<sqlx::Transaction<'static, Postgres>, Error> {
    pool.begin().await
}

/// A row with these values already exists (a UNIQUE or PRIMARY KEY constraint).
pub(crate) fn is_unique_violation(error: &Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// An error the database reported (as opposed to one of the connection or of decoding).
pub(crate) fn is_database_error(error: &Error) -> bool {
    matches!(error, sqlx::Error::Database(_))
}
