//! The two backends of Portcullis's store traits: SQLite (the embedded default) and
//! PostgreSQL (for several stateless nodes).
//!
//! The SQL is written once per repository in [`repo`] as a macro and instantiated for each
//! engine's concrete types (`$1`-style parameters run on both); what differs between the
//! engines — connection set-up, error codes, JSON functions — lives in [`sqlite`] and
//! [`postgres`] and nowhere else. No `sqlx::Any`.

#[macro_use]
mod migrations;
#[macro_use]
mod repo;
mod conn;
mod convert;
mod lite;
mod pgsql;
pub mod postgres;
mod slots;
pub mod sqlite;
mod sqlite_batch;

use std::sync::Arc;

use portcullis_core::Error;
use portcullis_core::store::Store;

pub use migrations::MIGRATIONS;

/// Opens the store named by `url`: `sqlite://PATH` (created if missing) or
/// `postgres://…`/`postgresql://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, Error> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(url).await?))
    } else {
        Err(Error::invalid("database_url", "must start with sqlite:// or postgres://"))
    }
}
