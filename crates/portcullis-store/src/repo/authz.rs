//! Relationship-based authorization: models, tuples and the change log.

macro_rules! authz_repo {
    ($Tx:ident, $sql:ident) => {
        #[async_trait::async_trait]
        impl portcullis_core::store::AuthzRepo for $Tx {
            async fn authz_model_get(&mut self, tenant: portcullis_types::TenantId) -> Result<Option<portcullis_core::model::authz::AuthzModelRecord>, portcullis_core::Error> {
                let row: Option<(String, String, String, i64, i64)> = $sql::query_as("SELECT model, policies, settings, revision, updated_at FROM authz_models WHERE tenant_id = $1")
                    .bind(tenant.to_string())
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row.map(|(model, policies, settings, revision, updated_at)| portcullis_core::model::authz::AuthzModelRecord {
                    model,
                    policies,
                    settings,
                    revision,
                    updated_at: $crate::convert::instant(updated_at),
                }))
            }

            async fn authz_tenants(&mut self) -> Result<Vec<portcullis_types::TenantId>, portcullis_core::Error> {
                let rows: Vec<(String,)> = $sql::query_as("SELECT tenant_id FROM authz_models ORDER BY tenant_id")
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(|(id,)| $crate::convert::id(id)).collect()
            }

            async fn authz_model_put(&mut self, tenant: portcullis_types::TenantId, model: &str, at: time::OffsetDateTime) -> Result<i64, portcullis_core::Error> {
                let (revision,): (i64,) = $sql::query_as("INSERT INTO authz_models (tenant_id, model, revision, updated_at) VALUES ($1, $2, 1, $3) ON CONFLICT (tenant_id) DO UPDATE SET model = excluded.model, revision = authz_models.revision + 1, updated_at = excluded.updated_at RETURNING revision")
                    .bind(tenant.to_string()).bind(model).bind($crate::convert::micros(at))
                    .fetch_one(&mut *self.0).await.map_err(map_err)?;
                Ok(revision)
            }

            async fn authz_policies_put(&mut self, tenant: portcullis_types::TenantId, policies: &str, at: time::OffsetDateTime) -> Result<i64, portcullis_core::Error> {
                let (revision,): (i64,) = $sql::query_as("INSERT INTO authz_models (tenant_id, model, policies, revision, updated_at) VALUES ($1, '{\"types\":{}}', $2, 1, $3) ON CONFLICT (tenant_id) DO UPDATE SET policies = excluded.policies, revision = authz_models.revision + 1, updated_at = excluded.updated_at RETURNING revision")
                    .bind(tenant.to_string()).bind(policies).bind($crate::convert::micros(at))
                    .fetch_one(&mut *self.0).await.map_err(map_err)?;
                Ok(revision)
            }

            async fn authz_settings_put(&mut self, tenant: portcullis_types::TenantId, settings: &str, at: time::OffsetDateTime) -> Result<i64, portcullis_core::Error> {
                let (revision,): (i64,) = $sql::query_as("INSERT INTO authz_models (tenant_id, model, settings, revision, updated_at) VALUES ($1, '{\"types\":{}}', $2, 1, $3) ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings, revision = authz_models.revision + 1, updated_at = excluded.updated_at RETURNING revision")
                    .bind(tenant.to_string()).bind(settings).bind($crate::convert::micros(at))
                    .fetch_one(&mut *self.0).await.map_err(map_err)?;
                Ok(revision)
            }

            async fn authz_revision_next(&mut self, tenant: portcullis_types::TenantId) -> Result<Option<i64>, portcullis_core::Error> {
                let row: Option<(i64,)> = $sql::query_as("UPDATE authz_models SET revision = revision + 1 WHERE tenant_id = $1 RETURNING revision")
                    .bind(tenant.to_string())
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row.map(|(revision,)| revision))
            }

            async fn authz_tuple_insert(&mut self, tenant: portcullis_types::TenantId, t: &portcullis_core::model::authz::StoredTuple, revision: i64) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("INSERT INTO authz_tuples (tenant_id, object, relation, subject, revision) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
                    .bind(tenant.to_string()).bind(&t.object).bind(&t.relation).bind(&t.subject).bind(revision)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn authz_tuple_delete(&mut self, tenant: portcullis_types::TenantId, t: &portcullis_core::model::authz::StoredTuple) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM authz_tuples WHERE tenant_id = $1 AND object = $2 AND relation = $3 AND subject = $4")
                    .bind(tenant.to_string()).bind(&t.object).bind(&t.relation).bind(&t.subject)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn authz_tuple_exists(&mut self, tenant: portcullis_types::TenantId, t: &portcullis_core::model::authz::StoredTuple) -> Result<bool, portcullis_core::Error> {
                let row: Option<(i64,)> = $sql::query_as("SELECT revision FROM authz_tuples WHERE tenant_id = $1 AND object = $2 AND relation = $3 AND subject = $4")
                    .bind(tenant.to_string()).bind(&t.object).bind(&t.relation).bind(&t.subject)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row.is_some())
            }

            async fn authz_changes_append(&mut self, tenant: portcullis_types::TenantId, revision: i64, changes: &[(portcullis_core::model::authz::AuthzOperation, String)], at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                // A few hundred rows per statement, under either engine's limit on bound values.
                for (chunk_index, chunk) in changes.chunks(200).enumerate() {
                    let mut query = $sql::QueryBuilder::new("INSERT INTO authz_changes (tenant_id, revision, position, operation, tuple, created_at) ");
                    query.push_values(chunk.iter().enumerate(), |mut row, (i, (operation, tuple))| {
                        let position = i32::try_from(chunk_index * 200 + i).unwrap_or(i32::MAX);
                        row.push_bind(tenant.to_string()).push_bind(revision).push_bind(position)
                            .push_bind(operation.as_str()).push_bind(tuple.clone()).push_bind($crate::convert::micros(at));
                    });
                    query.build().execute(&mut *self.0).await.map_err(map_err)?;
                }
                Ok(())
            }

            async fn authz_tuples(&mut self, tenant: portcullis_types::TenantId, f: &portcullis_core::model::authz::TupleFilter, after: Option<&portcullis_core::model::authz::StoredTuple>, limit: u32) -> Result<Vec<portcullis_core::model::authz::StoredTuple>, portcullis_core::Error> {
                let mut query = $sql::QueryBuilder::new("SELECT object, relation, subject FROM authz_tuples WHERE tenant_id = ");
                query.push_bind(tenant.to_string());
                if let Some(object) = &f.object {
                    query.push(" AND object = ").push_bind(object.clone());
                }
                if let Some(relation) = &f.relation {
                    query.push(" AND relation = ").push_bind(relation.clone());
                }
                if let Some(subject) = &f.subject {
                    query.push(" AND subject = ").push_bind(subject.clone());
                }
                if let Some(after) = after {
                    query.push(" AND (object, relation, subject) > (").push_bind(after.object.clone()).push(", ")
                        .push_bind(after.relation.clone()).push(", ").push_bind(after.subject.clone()).push(")");
                }
                query.push(" ORDER BY object, relation, subject LIMIT ").push_bind(i64::from(limit));
                let rows: Vec<(String, String, String)> = query.build_query_as().fetch_all(&mut *self.0).await.map_err(map_err)?;
                Ok(rows.into_iter().map(|(object, relation, subject)| portcullis_core::model::authz::StoredTuple { object, relation, subject }).collect())
            }

            async fn authz_changes_after(&mut self, tenant: portcullis_types::TenantId, after_revision: i64, limit: u32) -> Result<Vec<portcullis_core::model::authz::AuthzChange>, portcullis_core::Error> {
                let rows: Vec<(i64, String, String)> = $sql::query_as("SELECT revision, operation, tuple FROM authz_changes WHERE tenant_id = $1 AND revision > $2 ORDER BY revision, position LIMIT $3")
                    .bind(tenant.to_string()).bind(after_revision).bind(i64::from(limit))
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.into_iter().map(|(revision, operation, tuple)| {
                    let operation = portcullis_core::model::authz::AuthzOperation::parse(&operation)
                        .ok_or_else(|| portcullis_core::Error::internal(format!("stored authz operation {operation}")))?;
                    Ok(portcullis_core::model::authz::AuthzChange { revision, operation, tuple })
                }).collect()
            }
        }
    };
}
