//! The PostgreSQL backend: one pool; concurrency is PostgreSQL's.

use std::time::Duration;

use async_trait::async_trait;
use portcullis_core::Error;
use portcullis_core::store::{Store, StoreTx};
use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::conn::Conn;
use crate::pgsql;
use crate::pgsql::QueryBuilder;

pub(crate) use crate::convert::map_sqlx as map_err;

/// Removes one key from every user's plain attributes (`$2` is the key).
const STRIP_ATTRIBUTE_SQL: &str =
    "UPDATE users SET attributes = (attributes::jsonb - CAST($2 AS TEXT))::text WHERE tenant_id = $1";

fn attribute_path(name: &str) -> String {
    name.to_owned()
}

/// Compares a plain attribute as text (`->>` renders booleans as `true`/`false`).
fn push_attribute_filter(query: &mut QueryBuilder<'_>, name: &str, value: &str) {
    query
        .push(" AND (attributes::jsonb ->> CAST(")
        .push_bind(name.to_owned())
        .push(" AS TEXT)) = ")
        .push_bind(value.to_owned());
}

/// A write transaction or a read connection on PostgreSQL.
pub struct PgTx(Conn<Postgres>);

all_repos!(PgTx, pgsql);

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database named by a `postgres://` URL.
    pub async fn open(url: &str) -> Result<Self, Error> {
        let options: PgConnectOptions =
            url.parse().map_err(|e: sqlx::Error| Error::invalid("database_url", e.to_string()))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        Ok(Self { pool })
    }
}

async fn migrate_pool(up_to: i64, pool: &PgPool) -> Result<usize, Error> {
    run_migrations!(pgsql, pool, postgres, map_err, up_to)
}

#[async_trait]
impl Store for PgStore {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    async fn read(&self) -> Result<Box<dyn StoreTx>, Error> {
        Ok(Box::new(PgTx(Conn::Plain(self.pool.acquire().await.map_err(map_err)?))))
    }

    async fn write(&self) -> Result<Box<dyn StoreTx>, Error> {
        Ok(Box::new(PgTx(Conn::Tx(self.pool.begin().await.map_err(map_err)?))))
    }

    async fn write_once(&self) -> Result<Box<dyn StoreTx>, Error> {
        Ok(Box::new(PgTx(Conn::Plain(self.pool.acquire().await.map_err(map_err)?))))
    }

    async fn rotate_refresh(
        &self,
        successor: &portcullis_core::model::session::RefreshTokenRecord,
    ) -> Result<bool, Error> {
        crate::convert::inserted_unless_conflict(insert_refresh!(pgsql, &self.pool, successor).map_err(map_err))
    }

    async fn migrate_up_to(&self, version: i64) -> Result<usize, Error> {
        migrate_pool(version, &self.pool).await
    }

    async fn ready(&self) -> Result<bool, Error> {
        migrations_done!(pgsql, &self.pool, map_err)
    }

    fn pool_status(&self) -> (u32, u32) {
        (self.pool.size(), self.pool.num_idle() as u32)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
