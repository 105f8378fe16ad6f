//! The audit log and installation metadata.

macro_rules! audit_repo {
    ($Tx:ident, $sql:ident) => {
        fn audit_from_row(row: &$sql::Row) -> Result<portcullis_core::model::audit::AuditRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            Ok(portcullis_core::model::audit::AuditRecord {
                seq: row.try_get("seq").map_err(map_err)?,
                id: row.try_get("id").map_err(map_err)?,
                at_micros: row.try_get("at").map_err(map_err)?,
                tenant: row.try_get("tenant").map_err(map_err)?,
                actor: row.try_get("actor").map_err(map_err)?,
                ip: row.try_get("ip").map_err(map_err)?,
                request_id: row.try_get("request_id").map_err(map_err)?,
                action: row.try_get("action").map_err(map_err)?,
                target_type: row.try_get("target_type").map_err(map_err)?,
                target_id: row.try_get("target_id").map_err(map_err)?,
                before: row.try_get("before_state").map_err(map_err)?,
                after: row.try_get("after_state").map_err(map_err)?,
                prev_hash: row.try_get("prev_hash").map_err(map_err)?,
                hash: row.try_get("hash").map_err(map_err)?,
            })
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::AuditRepo for $Tx {
            async fn audit_next(&mut self) -> Result<(i64, Vec<u8>), portcullis_core::Error> {
                // The UPDATE takes the head's row lock (PostgreSQL) or runs under the single
                // writer (SQLite): appends queue here until this transaction ends.
                let row: (i64, Vec<u8>) = $sql::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                    .fetch_one(&mut *self.0).await.map_err(map_err)?;
                Ok(row)
            }

            async fn audit_changes(&mut self, after: i64, limit: u32) -> Result<Vec<portcullis_core::cache::ChangeEvent>, portcullis_core::Error> {
                let rows: Vec<(i64, String, Option<String>, Option<String>)> = $sql::query_as("SELECT seq, action, tenant, target_id FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(after).bind(i64::from(limit))
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                Ok(rows.into_iter().map(|(seq, action, tenant, target_id)| portcullis_core::cache::ChangeEvent { seq, action, tenant, target_id }).collect())
            }

            async fn audit_head(&mut self) -> Result<(i64, Vec<u8>), portcullis_core::Error> {
                let row: (i64, Vec<u8>) = $sql::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                    .fetch_one(&mut *self.0).await.map_err(map_err)?;
                Ok(row)
            }

            async fn audit_append(&mut self, e: &portcullis_core::model::audit::AuditRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO audit_events (seq, id, at, tenant, actor, ip, request_id, action, target_type, target_id, before_state, after_state, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
                    .bind(e.seq).bind(&e.id).bind(e.at_micros).bind(&e.tenant).bind(&e.actor).bind(&e.ip)
                    .bind(&e.request_id).bind(&e.action).bind(&e.target_type).bind(&e.target_id)
                    .bind(&e.before).bind(&e.after).bind(&e.prev_hash).bind(&e.hash)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                $sql::query("UPDATE audit_head SET hash = $1 WHERE id = 1 AND seq = $2")
                    .bind(&e.hash).bind(e.seq)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn audit_list(&mut self, f: &portcullis_core::model::audit::AuditFilter, after: Option<i64>, descending: bool, limit: u32) -> Result<Vec<portcullis_core::model::audit::AuditRecord>, portcullis_core::Error> {
                let mut query = $sql::QueryBuilder::new("SELECT * FROM audit_events WHERE 1 = 1");
                if let Some(tenant) = &f.tenant {
                    query.push(" AND tenant = ").push_bind(tenant.clone());
                }
                if let Some(action) = &f.action {
                    query.push(" AND action = ").push_bind(action.clone());
                }
                if let Some(actor) = &f.actor {
                    query.push(" AND actor = ").push_bind(actor.clone());
                }
                if let Some(target) = &f.target_id {
                    query.push(" AND target_id = ").push_bind(target.clone());
                }
                if let Some(since) = f.since_micros {
                    query.push(" AND at >= ").push_bind(since);
                }
                if let Some(until) = f.until_micros {
                    query.push(" AND at < ").push_bind(until);
                }
                if let Some(after) = after {
                    query.push(if descending { " AND seq < " } else { " AND seq > " }).push_bind(after);
                }
                query.push(if descending { " ORDER BY seq DESC LIMIT " } else { " ORDER BY seq LIMIT " });
                query.push_bind(i64::from(limit));
                let rows = query.build().fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(audit_from_row).collect()
            }
        }
    };
}

macro_rules! meta_repo {
    ($Tx:ident, $sql:ident) => {
        #[async_trait::async_trait]
        impl portcullis_core::store::MetaRepo for $Tx {
            async fn meta_get(&mut self, key: &str) -> Result<Option<String>, portcullis_core::Error> {
                let row: Option<(String,)> = $sql::query_as("SELECT value FROM meta WHERE key = $1")
                    .bind(key).fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row.map(|(v,)| v))
            }

            async fn meta_put(&mut self, key: &str, value: &str) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                    .bind(key).bind(value).execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }
        }
    };
}
