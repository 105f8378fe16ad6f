//! Leases and the housekeeping purge of expired rows.

macro_rules! job_repo {
    ($Tx:ident, $sql:ident) => {
        #[async_trait::async_trait]
        impl portcullis_core::store::JobRepo for $Tx {
            async fn lease_acquire(&mut self, name: &str, holder: &str, now: time::OffsetDateTime, until: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at WHERE leases.holder = excluded.holder OR leases.expires_at <= $4")
                    .bind(name).bind(holder).bind($crate::convert::micros(until)).bind($crate::convert::micros(now))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn purge_expired(&mut self, now: time::OffsetDateTime, revoked_before: time::OffsetDateTime) -> Result<u64, portcullis_core::Error> {
                let now = $crate::convert::micros(now);
                let revoked_before = $crate::convert::micros(revoked_before);
                let statements: [(&str, i64); 12] = [
                    ("DELETE FROM flows WHERE expires_at <= $1", now),
                    ("DELETE FROM pushed_requests WHERE expires_at <= $1", now),
                    ("DELETE FROM device_authorizations WHERE expires_at <= $1", now),
                    ("DELETE FROM client_assertions WHERE expires_at <= $1", now),
                    ("DELETE FROM refresh_tokens WHERE expires_at <= $1", now),
                    ("DELETE FROM oauth_grants WHERE expires_at <= $1 OR revoked_at <= $1", revoked_before),
                    ("DELETE FROM sso_sessions WHERE expires_at <= $1 OR revoked_at <= $1", revoked_before),
                    ("DELETE FROM user_roles WHERE expires_at <= $1", now),
                    ("DELETE FROM group_roles WHERE expires_at <= $1", now),
                    // A node further behind than this reloads the tuples instead of replaying.
                    ("DELETE FROM authz_changes WHERE created_at <= $1", revoked_before),
                    // Counters whose window and block are over; sources unseen for the retention.
                    ("DELETE FROM login_attempts WHERE window_start <= $1 AND (blocked_until IS NULL OR blocked_until <= $1)", now - 3_600_000_000),
                    ("DELETE FROM login_known_sources WHERE last_success <= $1", revoked_before),
                ];
                let mut removed = 0;
                for (sql, at) in statements {
                    removed += $sql::query(sql).bind(at).execute(&mut *self.0).await.map_err(map_err)?.rows_affected();
                }
                Ok(removed)
            }
        }
    };
}
