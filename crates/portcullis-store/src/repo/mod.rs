//! The repositories' SQL, written once. Each macro implements one repository trait for a
//! backend's connection type `$Tx` (a newtype around a write transaction or a read connection).
//! The backend module that expands them provides `map_err`, `push_attribute_filter` and
//! `STRIP_ATTRIBUTE_SQL`, its engine's differences.

/// Inserts a refresh token on `$executor` — in a transaction, or alone as the atomic rotation
/// (`Store::rotate_refresh`); written once for both and for both engines.
macro_rules! insert_refresh {
    ($executor:expr, $token:expr) => {
        sqlx::query(
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
    ($Tx:ident, $Db:ty) => {
        tenant_repo!($Tx, $Db);
        user_repo!($Tx, $Db);
        schema_repo!($Tx, $Db);
        group_repo!($Tx, $Db);
        role_repo!($Tx, $Db);
        token_repo!($Tx, $Db);
        client_repo!($Tx, $Db);
        key_repo!($Tx, $Db);
        session_repo!($Tx, $Db);
        grant_repo!($Tx, $Db);
        job_repo!($Tx, $Db);
        audit_repo!($Tx, $Db);
        meta_repo!($Tx, $Db);
        authz_repo!($Tx, $Db);
        throttle_repo!($Tx, $Db);
        credential_repo!($Tx, $Db);

        #[async_trait::async_trait]
        impl portcullis_core::store::StoreTx for $Tx {
            async fn commit(self: Box<Self>) -> Result<(), portcullis_core::Error> {
                self.0.commit().await.map_err(map_err)
            }
        }
    };
}
