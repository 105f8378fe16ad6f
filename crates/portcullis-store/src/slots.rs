//! SQLite connections kept by the store itself instead of a sqlx pool. Each SQLite connection
//! runs on a thread of its own, and a sqlx pool pings every connection it gets back — a round
//! trip to that thread, three per password login — to learn whether a connection to a server
//! went stale, which a connection to a local file never does. Here a connection goes back to
//! its slot at once; commands to a connection run in the order they were sent, so whatever a
//! dropped future left running finishes before the next user's first statement.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Sqlite, TransactionManager};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

type Manager = <Sqlite as sqlx::Database>::TransactionManager;

/// Up to `size` connections opened with the same options: opened when first needed, then
/// kept, the one used last handed out first.
pub(crate) struct Slots {
    options: SqliteConnectOptions,
    idle: Mutex<Vec<SqliteConnection>>,
    permits: Arc<Semaphore>,
    size: u32,
    wait: Duration,
}

impl Slots {
    /// Opens one connection now (so that a wrong path or a locked file is an error at start).
    pub(crate) async fn open(
        options: SqliteConnectOptions,
        size: u32,
        wait: Duration,
    ) -> Result<Arc<Self>, sqlx::Error> {
        let first = options.connect().await?;
        Ok(Arc::new(Self {
            options,
            idle: Mutex::new(vec![first]),
            permits: Arc::new(Semaphore::new(size as usize)),
            size,
            wait,
        }))
    }

    /// A connection, waiting at most the configured time for one to come back.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<Held, sqlx::Error> {
        let permit = match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(sqlx::Error::PoolClosed),
            Err(_) => return Err(sqlx::Error::PoolTimedOut),
        };
        let kept = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        // With a permit there is an idle connection or room for one more.
        let conn = match kept {
            Some(conn) => conn,
            None => self.options.connect().await?,
        };
        Ok(Held { conn: Some(conn), home: Arc::clone(self), in_tx: false, _permit: permit })
    }

    /// (connections open, connections idle).
    pub(crate) fn status(&self) -> (u32, u32) {
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len() as u32;
        let in_use = self.size - self.permits.available_permits() as u32;
        (idle + in_use, idle)
    }

    /// Refuses new users and closes the idle connections; one in use closes when it is dropped.
    pub(crate) async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        for conn in idle {
            let _ = conn.close().await;
        }
    }
}

/// A connection taken from its [`Slots`]; back there when dropped. A transaction begun on it
/// and not committed is rolled back first.
pub(crate) struct Held {
    conn: Option<SqliteConnection>,
    home: Arc<Slots>,
    in_tx: bool,
    _permit: OwnedSemaphorePermit,
}

impl Held {
    /// Begins a transaction with `statement` (`BEGIN IMMEDIATE` for a writer).
    pub(crate) async fn begin(&mut self, statement: &'static str) -> Result<(), sqlx::Error> {
        // Marked first: if this future is dropped after the command was sent, the rollback
        // sent on drop still follows it.
        self.in_tx = true;
        let result = Manager::begin(self, Some(statement.into())).await;
        if result.is_err() {
            self.in_tx = false;
        }
        result
    }

    /// Commits the transaction begun on this connection, if any.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        if self.in_tx {
            Manager::commit(&mut self).await?;
            self.in_tx = false;
        }
        Ok(())
    }
}

impl std::ops::Deref for Held {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        // Only `Drop` takes the connection out.
        self.conn.as_ref().unwrap_or_else(|| unreachable!("a held connection is present until dropped"))
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().unwrap_or_else(|| unreachable!("a held connection is present until dropped"))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else { return };
        if self.in_tx {
            // Queued behind whatever was sent before; the worker skips it if a commit it
            // could not acknowledge went through.
            Manager::start_rollback(&mut conn);
        }
        if self.home.permits.is_closed() {
            return;
        }
        self.home.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(conn);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::str::FromStr;

    use super::*;

    async fn slots(size: u32, wait: Duration) -> (tempfile::TempDir, Arc<Slots>) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("slots.db").display());
        let options = SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true);
        let slots = Slots::open(options, size, wait).await.unwrap();
        let mut conn = slots.get().await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)").execute(&mut *conn).await.unwrap();
        (dir, slots)
    }

    async fn count(slots: &Arc<Slots>) -> i64 {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM t").fetch_one(&mut *slots.get().await.unwrap()).await.unwrap();
        n
    }

    #[tokio::test]
    async fn a_transaction_dropped_without_commit_is_rolled_back_and_its_connection_reused() {
        let (_dir, slots) = slots(1, Duration::from_secs(5)).await;
        let mut conn = slots.get().await.unwrap();
        conn.begin("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO t (n) VALUES (1)").execute(&mut *conn).await.unwrap();
        drop(conn);
        assert_eq!(count(&slots).await, 0);
        // The same (only) connection begins again: it is not left inside the old transaction.
        let mut conn = slots.get().await.unwrap();
        conn.begin("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO t (n) VALUES (2)").execute(&mut *conn).await.unwrap();
        conn.commit().await.unwrap();
        assert_eq!(count(&slots).await, 1);
        assert_eq!(slots.status(), (1, 1));
    }

    #[tokio::test]
    async fn a_statement_whose_future_was_dropped_finishes_before_the_next_user_of_its_connection() {
        let (_dir, slots) = slots(1, Duration::from_secs(5)).await;
        let mut conn = slots.get().await.unwrap();
        conn.begin("BEGIN IMMEDIATE").await.unwrap();
        {
            let insert = sqlx::query("INSERT INTO t (n) VALUES (1)").execute(&mut *conn);
            // Polled once (the command is sent), then abandoned.
            let _ = tokio::time::timeout(Duration::ZERO, insert).await;
        }
        drop(conn);
        let mut conn = slots.get().await.unwrap();
        conn.begin("BEGIN IMMEDIATE").await.unwrap();
        conn.commit().await.unwrap();
        assert_eq!(count(&slots).await, 0, "the abandoned insert was rolled back with its transaction");
    }

    #[tokio::test]
    async fn a_caller_waits_for_a_free_connection_only_as_long_as_configured() {
        let (_dir, slots) = slots(2, Duration::from_millis(50)).await;
        let first = slots.get().await.unwrap();
        let second = slots.get().await.unwrap();
        assert_eq!(slots.status(), (2, 0));
        assert!(matches!(slots.get().await, Err(sqlx::Error::PoolTimedOut)));
        drop(first);
        let third = slots.get().await.unwrap();
        drop((second, third));
        assert_eq!(slots.status(), (2, 2));
    }

    #[tokio::test]
    async fn a_closed_set_refuses_new_users() {
        let (_dir, slots) = slots(2, Duration::from_secs(5)).await;
        let held = slots.get().await.unwrap();
        slots.close().await;
        assert!(matches!(slots.get().await, Err(sqlx::Error::PoolClosed)));
        drop(held);
        assert_eq!(slots.status().1, 0, "a connection in use when closed is not kept");
    }
}
