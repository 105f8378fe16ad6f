//! The connection under a PostgreSQL [`portcullis_core::store::StoreTx`] (SQLite keeps its own
//! connections, `slots.rs`): a transaction for writes, a plain pooled connection for reads.
//! Reads run in autocommit, each statement on its own snapshot — what PostgreSQL's default
//! READ COMMITTED gives inside a transaction anyway — which spares every read two round trips
//! (`BEGIN`, `COMMIT`) to the connection.

use std::ops::{Deref, DerefMut};

use sqlx::Database;
use sqlx::pool::PoolConnection;

/// A write transaction or a read connection.
pub enum Conn<DB: Database> {
    Tx(sqlx::Transaction<'static, DB>),
    Plain(PoolConnection<DB>),
}

impl<DB: Database> Conn<DB> {
    /// Commits a transaction; a read connection has nothing to commit.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Tx(tx) => tx.commit().await,
            Self::Plain(_) => Ok(()),
        }
    }
}

impl<DB: Database> Deref for Conn<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Self::Tx(tx) => tx,
            Self::Plain(connection) => connection,
        }
    }
}

impl<DB: Database> DerefMut for Conn<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Self::Tx(tx) => tx,
            Self::Plain(connection) => connection,
        }
    }
}
