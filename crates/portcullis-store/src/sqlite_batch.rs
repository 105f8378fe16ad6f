//! Group commit of refresh token rotations on SQLite. SQLite has one writer, and under
//! concurrent refreshes the rotations, one statement after the other, were the limit
//! (BENCHMARKS.md). Rotations waiting at the same time go
//! into one multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING digest`: a successor that
//! collides with another one of the same parent — earlier, or earlier in the same batch — is
//! simply not inserted, which is exactly the reuse detection (RFC 9700 §4.14.2).

use std::collections::HashSet;
use std::sync::Arc;

use portcullis_core::Error;
use portcullis_core::model::session::RefreshTokenRecord;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::convert::map_sqlite;
use crate::lite;
use crate::slots::Slots;

/// At most this many rotations share one statement (SQLite binds at most 32,766 values).
const MAX_BATCH: usize = 128;

/// One rotation waiting for its batch: the successor, and where its answer goes.
type Pending = (RefreshTokenRecord, oneshot::Sender<Result<bool, Error>>);

/// The sending side; the task ends when it is dropped.
pub(crate) struct RotationBatcher {
    queue: mpsc::Sender<Pending>,
}

impl RotationBatcher {
    pub(crate) fn start(writer: Arc<Slots>) -> Self {
        let (queue, receiver) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(writer, receiver));
        Self { queue }
    }

    /// Inserts `successor` unless one of the same parent exists: true if inserted.
    pub(crate) async fn rotate(&self, successor: RefreshTokenRecord) -> Result<bool, Error> {
        let (answer, wait) = oneshot::channel();
        self.queue.send((successor, answer)).await.map_err(|_| Error::Unavailable("the store is closing".into()))?;
        wait.await.map_err(|_| Error::Unavailable("the store is closing".into()))?
    }
}

async fn run(writer: Arc<Slots>, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut conn = match writer.get().await {
            Ok(conn) => conn,
            Err(error) => {
                for (_, answer) in batch.drain(..) {
                    let _ = answer.send(Err(error.clone()));
                }
                continue;
            }
        };
        match insert(&mut conn, &batch).await {
            Ok(inserted) => {
                for (token, answer) in batch.drain(..) {
                    let _ = answer.send(Ok(inserted.contains(&token.digest)));
                }
            }
            // One bad row (a grant deleted meanwhile) fails the whole statement: then each
            // goes alone, and only its own error reaches its caller.
            Err(_) => {
                for (token, answer) in batch.drain(..) {
                    let result = crate::convert::inserted_unless_conflict(
                        insert_refresh!(lite, &mut *conn, &token).map_err(map_sqlite),
                    );
                    let _ = answer.send(result);
                }
            }
        }
    }
}

async fn insert(writer: &mut Connection, batch: &[Pending]) -> Result<HashSet<Vec<u8>>, Error> {
    let mut query =
        lite::QueryBuilder::new("INSERT INTO refresh_tokens (digest, grant_id, parent, created_at, expires_at) ");
    query.push_values(batch, |mut row, (token, _)| {
        row.push_bind(&token.digest)
            .push_bind(&token.grant_id)
            .push_bind(&token.parent)
            .push_bind(crate::convert::micros(token.created_at))
            .push_bind(crate::convert::micros(token.expires_at));
    });
    query.push(" ON CONFLICT DO NOTHING RETURNING digest");
    let rows: Vec<(Vec<u8>,)> = query.build_query_as().fetch_all(writer).await.map_err(map_sqlite)?;
    Ok(rows.into_iter().map(|(digest,)| digest).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use time::macros::datetime;

    use super::*;
    use crate::slots::Options;

    fn token(digest: u8, parent: Option<u8>, grant: &str) -> RefreshTokenRecord {
        RefreshTokenRecord {
            digest: vec![digest],
            grant_id: grant.to_owned(),
            parent: parent.map(|p| vec![p]),
            created_at: datetime!(2026-01-01 0:00 UTC),
            expires_at: datetime!(2026-01-02 0:00 UTC),
        }
    }

    /// The table's uniqueness as the migration has it; a CHECK stands in for a row the
    /// database refuses (a grant deleted meanwhile).
    async fn table() -> (tempfile::TempDir, Arc<Slots>) {
        let dir = tempfile::tempdir().unwrap();
        let options = Options { path: dir.path().join("batch.db"), read_only: false };
        let pool = Slots::open(options, 1, Duration::from_secs(5)).unwrap();
        lite::query(
            "CREATE TABLE refresh_tokens (digest BLOB PRIMARY KEY, grant_id TEXT NOT NULL CHECK (grant_id <> 'gone'), \
             parent BLOB, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, \
             CONSTRAINT refresh_tokens_parent_unique UNIQUE (parent))",
        )
        .execute(&mut pool.get().await.unwrap())
        .await
        .unwrap();
        (dir, pool)
    }

    #[tokio::test]
    async fn a_second_successor_of_one_parent_is_refused_even_in_the_same_batch() {
        let (_dir, pool) = table().await;
        let (a, _) = oneshot::channel();
        let (b, _) = oneshot::channel();
        let (c, _) = oneshot::channel();
        let batch = vec![(token(1, Some(9), "g"), a), (token(2, Some(9), "g"), b), (token(3, Some(8), "g"), c)];
        let inserted = insert(&mut pool.get().await.unwrap(), &batch).await.unwrap();
        assert_eq!(inserted, HashSet::from([vec![1], vec![3]]));
        let batcher = RotationBatcher::start(Arc::clone(&pool));
        assert_eq!(batcher.rotate(token(4, Some(9), "g")).await, Ok(false), "a replay of parent 9");
        assert_eq!(batcher.rotate(token(5, Some(1), "g")).await, Ok(true));
    }

    #[tokio::test]
    async fn one_refused_row_fails_only_its_own_rotation() {
        let (_dir, pool) = table().await;
        let batcher = RotationBatcher::start(Arc::clone(&pool));
        let (good, gone, other) = tokio::join!(
            batcher.rotate(token(1, Some(7), "g")),
            batcher.rotate(token(2, Some(8), "gone")),
            batcher.rotate(token(3, Some(9), "g")),
        );
        assert_eq!((good, other), (Ok(true), Ok(true)));
        assert!(gone.is_err());
        let (count,): (i64,) = lite::query_as("SELECT COUNT(*) FROM refresh_tokens")
            .fetch_one(&mut pool.get().await.unwrap())
            .await
            .unwrap();
        assert_eq!(count, 2);
    }
}
