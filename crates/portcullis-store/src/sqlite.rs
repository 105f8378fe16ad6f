//! The SQLite backend: WAL, foreign keys, a busy timeout, one writer connection (SQLite
//! allows one writer at a time; queueing in-process is cheaper than retrying on BUSY), a
//! pool of readers, and WAL checkpoints in the background rather than in the writer's commits.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use portcullis_core::Error;
use portcullis_core::store::{Store, StoreTx};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite};

use crate::conn::Conn;

pub(crate) use crate::convert::map_sqlx as map_err;

/// Removes one key from every user's plain attributes (`$2` is a JSON path).
const STRIP_ATTRIBUTE_SQL: &str = "UPDATE users SET attributes = json_remove(attributes, $2) WHERE tenant_id = $1";

fn attribute_path(name: &str) -> String {
    // Attribute names are `[A-Za-z][A-Za-z0-9_]*` (AttributeName), safe inside a quoted path.
    format!("$.\"{name}\"")
}

/// Compares a plain attribute as text; JSON booleans read as `true`/`false` as on PostgreSQL.
fn push_attribute_filter(query: &mut QueryBuilder<'_, Sqlite>, name: &str, value: &str) {
    let path = attribute_path(name);
    query
        .push(" AND (CASE json_type(attributes, ")
        .push_bind(path.clone())
        .push(") WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(attributes, ")
        .push_bind(path)
        .push(") AS TEXT) END) = ")
        .push_bind(value.to_owned());
}

/// A write transaction or a read connection on SQLite.
pub struct SqliteTx(Conn<Sqlite>);

all_repos!(SqliteTx, Sqlite);

/// How often the background task copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The SQLite store.
pub struct SqliteStore {
    readers: SqlitePool,
    writer: SqlitePool,
    checkpoints: SqlitePool,
    checkpointer: tokio::task::JoinHandle<()>,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpointer.abort();
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database file named by a `sqlite://PATH` URL.
    pub async fn open(url: &str) -> Result<Self, Error> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(Error::invalid(
                "database_url",
                "in-memory SQLite is not supported: readers and the writer need one shared file",
            ));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::invalid("database_url", e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // A commit that crosses the auto-checkpoint threshold would copy the WAL into the
            // database and fsync it before answering; the checkpointer task does that instead.
            .pragma("wal_autocheckpoint", "0")
            // Once fully checkpointed and restarted, a grown WAL is cut back to this size.
            .pragma("journal_size_limit", "67108864");
        // No ping before handing out a connection: it is a file in this process, not a socket
        // that can die, and each ping is a round trip to the connection's thread (BENCHMARKS.md).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        let checkpoints =
            SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await.map_err(map_err)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await
            .map_err(map_err)?;
        let checkpointer = tokio::spawn(checkpoint_loop(checkpoints.clone()));
        Ok(Self { readers, writer, checkpoints, checkpointer })
    }
}

/// Copies committed WAL frames into the database file every [`CHECKPOINT_EVERY`], on a
/// connection of its own: a PASSIVE checkpoint runs alongside the writer and the readers and
/// never waits for them (what readers still use is copied on a later round).
async fn checkpoint_loop(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            tracing::warn!(%error, "WAL checkpoint failed; the next round retries");
        }
    }
}

async fn migrate_pool(up_to: i64, pool: &SqlitePool) -> Result<usize, Error> {
    run_migrations!(pool, Sqlite, sqlite, map_err, up_to)
}

#[async_trait]
impl Store for SqliteStore {
    fn engine(&self) -> &'static str {
        "sqlite"
    }

    async fn read(&self) -> Result<Box<dyn StoreTx>, Error> {
        Ok(Box::new(SqliteTx(Conn::Plain(self.readers.acquire().await.map_err(map_err)?))))
    }

    async fn write(&self) -> Result<Box<dyn StoreTx>, Error> {
        // IMMEDIATE takes the write lock at once, so a transaction never fails half-way when
        // upgrading from read to write.
        Ok(Box::new(SqliteTx(Conn::Tx(self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?))))
    }

    async fn rotate_refresh(
        &self,
        successor: &portcullis_core::model::session::RefreshTokenRecord,
    ) -> Result<bool, Error> {
        crate::convert::inserted_unless_conflict(insert_refresh!(&self.writer, successor))
    }

    async fn migrate_up_to(&self, version: i64) -> Result<usize, Error> {
        migrate_pool(version, &self.writer).await
    }

    async fn ready(&self) -> Result<bool, Error> {
        migrations_done!(&self.readers, map_err)
    }

    fn pool_status(&self) -> (u32, u32) {
        let size = self.readers.size() + self.writer.size();
        let idle = (self.readers.num_idle() + self.writer.num_idle()) as u32;
        (size, idle)
    }

    async fn close(&self) {
        self.checkpointer.abort();
        self.readers.close().await;
        self.writer.close().await;
        // The last connection to close checkpoints what is left.
        self.checkpoints.close().await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Commits never checkpoint (`wal_autocheckpoint = 0`), so only the background task can
    /// bring committed rows into the database file.
    #[tokio::test]
    async fn the_background_task_checkpoints_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint.db");
        let store = SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap();
        sqlx::query("CREATE TABLE filler (data BLOB NOT NULL)").execute(&store.writer).await.unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        for _ in 0..100 {
            sqlx::query("INSERT INTO filler (data) VALUES (zeroblob(8192))").execute(&store.writer).await.unwrap();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut size = before;
        while size < before + 100 * 8192 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            size = std::fs::metadata(&path).unwrap().len();
        }
        assert!(size >= before + 100 * 8192, "the database file stayed at {size} bytes (was {before})");
        store.close().await;
    }
}
