//! SQLite connections kept by the store: up to N per set, opened when first needed, then kept,
//! the one used last handed out first. Statements run on the thread that holds the connection
//! (`lite.rs`); a connection goes back to its set when dropped, rolled back first if it was
//! left inside a transaction.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis_core::Error;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::convert::map_sqlite;

/// How each connection of a set is opened.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) path: PathBuf,
    /// Readers open the file read-only; the writer creates it if missing.
    pub(crate) read_only: bool,
}

impl Options {
    fn connect(&self) -> Result<Connection, rusqlite::Error> {
        let access = if self.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
        let conn = Connection::open_with_flags(&self.path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        // Waits this long for another process's writer (the CLI run beside a server), on the
        // calling thread since statements run there; the server's own writers queue
        // in-process, asynchronously, for the writer's single slot, and never wait here.
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        if !self.read_only {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // After a burst, a WAL that was fully checkpointed and restarted is cut back to
            // this size instead of keeping its largest size on disk.
            conn.pragma_update(None, "journal_size_limit", 64 << 20)?;
        }
        conn.set_prepared_statement_cache_capacity(128);
        Ok(conn)
    }
}

/// Up to `size` connections opened with the same options.
pub(crate) struct Slots {
    options: Options,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    size: u32,
    wait: Duration,
}

impl Slots {
    /// Opens one connection now (so that a wrong path or a locked file is an error at start).
    pub(crate) fn open(options: Options, size: u32, wait: Duration) -> Result<Arc<Self>, Error> {
        let first = options.connect().map_err(map_sqlite)?;
        Ok(Arc::new(Self {
            options,
            idle: Mutex::new(vec![first]),
            permits: Arc::new(Semaphore::new(size as usize)),
            size,
            wait,
        }))
    }

    /// A connection, waiting at most the configured time for one to come back.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<Held, Error> {
        let permit = match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(Error::Unavailable("the store is closing".into())),
            Err(_) => {
                return Err(Error::Unavailable(format!(
                    "no database connection came free within {} s",
                    self.wait.as_secs()
                )));
            }
        };
        let kept = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        // With a permit there is an idle connection or room for one more.
        let conn = match kept {
            Some(conn) => conn,
            None => self.options.connect().map_err(map_sqlite)?,
        };
        Ok(Held { conn: Some(conn), home: Arc::clone(self), _permit: permit })
    }

    /// (connections open, connections idle).
    pub(crate) fn status(&self) -> (u32, u32) {
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len() as u32;
        let in_use = self.size - self.permits.available_permits() as u32;
        (idle + in_use, idle)
    }

    /// Refuses new users and closes the idle connections; one in use closes when it is dropped.
    pub(crate) fn close(&self) {
        self.permits.close();
        drop(std::mem::take(&mut *self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())));
    }
}

/// A connection taken from its [`Slots`]; back there when dropped. A transaction begun on it
/// and not committed is rolled back first.
pub(crate) struct Held {
    conn: Option<Connection>,
    home: Arc<Slots>,
    _permit: OwnedSemaphorePermit,
}

impl Held {
    /// Begins a transaction with `statement` (`BEGIN IMMEDIATE` for a writer).
    pub(crate) fn begin(&mut self, statement: &str) -> Result<(), rusqlite::Error> {
        self.execute_batch(statement)
    }

    /// Commits the transaction begun on this connection, if any (at once; the future is ready).
    pub(crate) fn commit(self) -> std::future::Ready<Result<(), rusqlite::Error>> {
        std::future::ready(if self.is_autocommit() { Ok(()) } else { self.execute_batch("COMMIT") })
    }
}

impl std::ops::Deref for Held {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Only `Drop` takes the connection out.
        self.conn.as_ref().unwrap_or_else(|| unreachable!("a held connection is present until dropped"))
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().unwrap_or_else(|| unreachable!("a held connection is present until dropped"))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // Left inside a transaction (dropped before commit, or its commit failed): rolled back,
        // or, if even that fails, closed rather than handed to the next user mid-transaction.
        if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            return;
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

    use super::*;
    use crate::lite;

    /// A set of connections to a new file with one table, `t`.
    async fn slots(size: u32, wait: Duration) -> (tempfile::TempDir, Arc<Slots>) {
        let dir = tempfile::tempdir().unwrap();
        let options = Options { path: dir.path().join("slots.db"), read_only: false };
        let slots = Slots::open(options, size, wait).unwrap();
        let mut conn = slots.get().await.unwrap();
        lite::query("CREATE TABLE t (n INTEGER NOT NULL)").execute(&mut conn).await.unwrap();
        drop(conn);
        (dir, slots)
    }

    async fn count(slots: &Arc<Slots>) -> i64 {
        let (n,): (i64,) =
            lite::query_as("SELECT COUNT(*) FROM t").fetch_one(&mut slots.get().await.unwrap()).await.unwrap();
        n
    }

    #[tokio::test]
    async fn a_transaction_dropped_without_commit_is_rolled_back_and_its_connection_reused() {
        let (_dir, slots) = slots(1, Duration::from_secs(5)).await;
        let mut conn = slots.get().await.unwrap();
        conn.begin("BEGIN IMMEDIATE").unwrap();
        lite::query("INSERT INTO t (n) VALUES (1)").execute(&mut conn).await.unwrap();
        drop(conn);
        assert_eq!(count(&slots).await, 0);
        // The same (only) connection begins again: it is not left inside the old transaction.
        let mut conn = slots.get().await.unwrap();
        conn.begin("BEGIN IMMEDIATE").unwrap();
        lite::query("INSERT INTO t (n) VALUES (2)").execute(&mut conn).await.unwrap();
        conn.commit().await.unwrap();
        assert_eq!(count(&slots).await, 1);
        assert_eq!(slots.status(), (1, 1));
    }

    #[tokio::test]
    async fn a_transaction_whose_statement_failed_is_rolled_back_when_dropped() {
        let (_dir, slots) = slots(1, Duration::from_secs(5)).await;
        let mut conn = slots.get().await.unwrap();
        conn.begin("BEGIN IMMEDIATE").unwrap();
        lite::query("INSERT INTO t (n) VALUES (1)").execute(&mut conn).await.unwrap();
        assert!(lite::query("INSERT INTO t (n) VALUES (NULL)").execute(&mut conn).await.is_err());
        drop(conn);
        assert_eq!(count(&slots).await, 0, "the first insert went with its transaction");
    }

    #[tokio::test]
    async fn a_caller_waits_for_a_free_connection_only_as_long_as_configured() {
        let (_dir, slots) = slots(2, Duration::from_millis(50)).await;
        let first = slots.get().await.unwrap();
        let second = slots.get().await.unwrap();
        assert_eq!(slots.status(), (2, 0));
        assert!(matches!(slots.get().await, Err(Error::Unavailable(_))));
        drop(first);
        let third = slots.get().await.unwrap();
        drop((second, third));
        assert_eq!(slots.status(), (2, 2));
    }

    #[tokio::test]
    async fn a_closed_set_refuses_new_users() {
        let (_dir, slots) = slots(2, Duration::from_secs(5)).await;
        let held = slots.get().await.unwrap();
        slots.close();
        assert!(matches!(slots.get().await, Err(Error::Unavailable(_))));
        drop(held);
        assert_eq!(slots.status().1, 0, "a connection in use when closed is not kept");
    }
}
