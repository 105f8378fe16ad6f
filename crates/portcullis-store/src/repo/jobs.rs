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

            async fn purge_expired(&mut self, now: time::OffsetDateTime, revoked_before: time::OffsetDateTime, limit: u64) -> Result<(u64, bool), portcullis_core::Error> {
                let now = $crate::convert::micros(now);
                let revoked_before = $crate::convert::micros(revoked_before);
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                // (table, its key, what makes a row go, the instant compared with). Neither
                // engine can limit a DELETE itself; the key picks the rows a SELECT limited.
                let purges: [(&str, &str, &str, i64); 12] = [
                    ("flows", "id", "expires_at <= $1", now),
                    ("pushed_requests", "id", "expires_at <= $1", now),
                    ("device_authorizations", "device_digest", "expires_at <= $1", now),
                    ("client_assertions", "tenant_id, client_id, jti", "expires_at <= $1", now),
                    ("refresh_tokens", "digest", "expires_at <= $1", now),
                    ("oauth_grants", "id", "expires_at <= $1 OR revoked_at <= $1", revoked_before),
                    ("sso_sessions", "id", "expires_at <= $1 OR revoked_at <= $1", revoked_before),
                    ("user_roles", "user_id, role_id", "expires_at <= $1", now),
                    ("group_roles", "group_id, role_id", "expires_at <= $1", now),
                    // A node further behind than this reloads the tuples instead of replaying.
                    ("authz_changes", "tenant_id, revision, position", "created_at <= $1", revoked_before),
                    // Counters whose window and block are over; sources unseen for the retention.
                    ("login_attempts", "tenant_id, key_digest", "window_start <= $1 AND (blocked_until IS NULL OR blocked_until <= $1)", now - 3_600_000_000),
                    ("login_known_sources", "tenant_id, key_digest", "last_success <= $1", revoked_before),
                ];
                let (mut removed_all, mut more) = (0, false);
                for (table, key, condition, at) in purges {
                    let sql = format!("DELETE FROM {table} WHERE ({key}) IN (SELECT {key} FROM {table} WHERE {condition} LIMIT $2)");
                    let removed = $sql::query(&sql).bind(at).bind(limit).execute(&mut *self.0).await.map_err(map_err)?.rows_affected();
                    removed_all += removed;
                    more |= removed >= limit.unsigned_abs();
                }
                Ok((removed_all, more))
            }
        }
    };
}
