//! Password-login throttling counters.

macro_rules! throttle_repo {
    ($Tx:ident, $sql:ident) => {
        #[async_trait::async_trait]
        impl portcullis_core::store::ThrottleRepo for $Tx {
            async fn attempts_get(&mut self, tenant: portcullis_types::TenantId, keys: &[Vec<u8>]) -> Result<Vec<portcullis_core::store::AttemptRecord>, portcullis_core::Error> {
                let mut query = $sql::QueryBuilder::new("SELECT key_digest, failures, window_start, blocked_until FROM login_attempts WHERE tenant_id = ");
                query.push_bind(tenant.to_string()).push(" AND key_digest IN (");
                let mut separated = query.separated(", ");
                for key in keys {
                    separated.push_bind(key.clone());
                }
                query.push(")");
                let rows: Vec<(Vec<u8>, i64, i64, Option<i64>)> = query.build_query_as().fetch_all(&mut *self.0).await.map_err(map_err)?;
                Ok(rows.into_iter().map(|(key, failures, window_start, blocked_until)| portcullis_core::store::AttemptRecord {
                    key,
                    failures,
                    window_start: $crate::convert::instant(window_start),
                    blocked_until: $crate::convert::opt_instant(blocked_until),
                }).collect())
            }

            async fn attempt_fail(&mut self, tenant: portcullis_types::TenantId, key: &[u8], now: time::OffsetDateTime, window_after: time::OffsetDateTime) -> Result<i64, portcullis_core::Error> {
                let (failures,): (i64,) = $sql::query_as(
                    "INSERT INTO login_attempts (tenant_id, key_digest, failures, window_start) VALUES ($1, $2, 1, $3)
                     ON CONFLICT (tenant_id, key_digest) DO UPDATE SET
                        failures = CASE WHEN login_attempts.window_start <= $4 THEN 1 ELSE login_attempts.failures + 1 END,
                        window_start = CASE WHEN login_attempts.window_start <= $4 THEN $3 ELSE login_attempts.window_start END
                     RETURNING failures")
                    .bind(tenant.to_string()).bind(key).bind($crate::convert::micros(now)).bind($crate::convert::micros(window_after))
                    .fetch_one(&mut *self.0).await.map_err(map_err)?;
                Ok(failures)
            }

            async fn attempt_block(&mut self, tenant: portcullis_types::TenantId, key: &[u8], until: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("UPDATE login_attempts SET blocked_until = $3 WHERE tenant_id = $1 AND key_digest = $2")
                    .bind(tenant.to_string()).bind(key).bind($crate::convert::micros(until))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn attempt_clear(&mut self, tenant: portcullis_types::TenantId, key: &[u8]) -> Result<(), portcullis_core::Error> {
                $sql::query("DELETE FROM login_attempts WHERE tenant_id = $1 AND key_digest = $2")
                    .bind(tenant.to_string()).bind(key)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn known_source_put(&mut self, tenant: portcullis_types::TenantId, key: &[u8], at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO login_known_sources (tenant_id, key_digest, last_success) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, key_digest) DO UPDATE SET last_success = excluded.last_success")
                    .bind(tenant.to_string()).bind(key).bind($crate::convert::micros(at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn known_source_exists(&mut self, tenant: portcullis_types::TenantId, key: &[u8]) -> Result<bool, portcullis_core::Error> {
                let row: Option<(i64,)> = $sql::query_as("SELECT last_success FROM login_known_sources WHERE tenant_id = $1 AND key_digest = $2")
                    .bind(tenant.to_string()).bind(key)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row.is_some())
            }
        }
    };
}
