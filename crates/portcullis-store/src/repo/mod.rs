//! The repositories' SQL, written once. Each macro implements one repository trait for a
//! backend's connection type `$Tx` (a newtype around a write transaction or a read connection),
//! running its statements through `$sql`, the engine's query module (`lite` for SQLite,
//! `pgsql` for PostgreSQL: the same names, `query`, `query_as`, `QueryBuilder`, `Row`). The
//! backend module that expands them provides `map_err`, `push_attribute_filter` and
//! `STRIP_ATTRIBUTE_SQL`, its engine's differences.

/// Inserts a refresh token on `$executor` — in a transaction, or alone as the atomic rotation
/// (`Store::rotate_refresh`); written once for both and for both engines.
macro_rules! insert_refresh {
    ($sql:ident, $executor:expr, $token:expr) => {
        $sql::query(
            "INSERT INTO refresh_tokens (digest, grant_id, parent, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&$token.digest)
        .bind(&$token.grant_id)
        .bind(&$token.parent)
        .bind($crate::convert::micros($token.created_at))
        .bind($crate::convert::micros($token.expires_at))
        .execute($executor)
        .await
    };
}

#[macro_use]
mod authz;
#[macro_use]
mod credentials;
#[macro_use]
mod directory;
#[macro_use]
mod access;
#[macro_use]
mod clients;
#[macro_use]
mod jobs;
#[macro_use]
mod keys;
#[macro_use]
mod sessions;
#[macro_use]
mod system;
#[macro_use]
mod throttle;

/// Implements every repository and [`portcullis_core::store::StoreTx`] for `$Tx`.
macro_rules! all_repos {
    ($Tx:ident, $sql:ident) => {
        tenant_repo!($Tx, $sql);
        user_repo!($Tx, $sql);
        schema_repo!($Tx, $sql);
        group_repo!($Tx, $sql);
        role_repo!($Tx, $sql);
        token_repo!($Tx, $sql);
        client_repo!($Tx, $sql);
        key_repo!($Tx, $sql);
        session_repo!($Tx, $sql);
        grant_repo!($Tx, $sql);
        job_repo!($Tx, $sql);
        audit_repo!($Tx, $sql);
        meta_repo!($Tx, $sql);
        authz_repo!($Tx, $sql);
        throttle_repo!($Tx, $sql);
        credential_repo!($Tx, $sql);

        #[async_trait::async_trait]
        impl portcullis_core::store::StoreTx for $Tx {
            async fn commit(self: Box<Self>) -> Result<(), portcullis_core::Error> {
                self.0.commit().await.map_err(map_err)
            }
        }
    };
}
