//! OAuth 2.0 / OpenID Connect clients.

macro_rules! client_repo {
    ($Tx:ident, $sql:ident) => {
        fn client_from_row(row: &$sql::Row) -> Result<portcullis_core::model::client::ClientRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            Ok(portcullis_core::model::client::ClientRecord {
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                client_id: row.try_get("client_id").map_err(map_err)?,
                secret_digest: row.try_get("secret_digest").map_err(map_err)?,
                registration_digest: row.try_get("registration_digest").map_err(map_err)?,
                metadata: $crate::convert::json(&row.try_get::<String, _>("metadata").map_err(map_err)?)?,
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                updated_at: $crate::convert::instant(row.try_get("updated_at").map_err(map_err)?),
            })
        }

        fn registration_token_from_row(row: &$sql::Row) -> Result<portcullis_core::model::client::RegistrationTokenRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            let uses: Option<i64> = row.try_get("uses_left").map_err(map_err)?;
            Ok(portcullis_core::model::client::RegistrationTokenRecord {
                id: row.try_get("id").map_err(map_err)?,
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                name: row.try_get("name").map_err(map_err)?,
                digest: row.try_get("digest").map_err(map_err)?,
                uses_left: uses.map(|u| u32::try_from(u).unwrap_or(0)),
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                expires_at: $crate::convert::opt_instant(row.try_get("expires_at").map_err(map_err)?),
                revoked_at: $crate::convert::opt_instant(row.try_get("revoked_at").map_err(map_err)?),
            })
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::ClientRepo for $Tx {
            async fn client_insert(&mut self, c: &portcullis_core::model::client::ClientRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO oauth_clients (tenant_id, client_id, secret_digest, metadata, created_at, updated_at, registration_digest) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(c.tenant_id.to_string()).bind(&c.client_id).bind(&c.secret_digest)
                    .bind($crate::convert::to_json(&c.metadata)?)
                    .bind($crate::convert::micros(c.created_at)).bind($crate::convert::micros(c.updated_at))
                    .bind(&c.registration_digest)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn client_get(&mut self, tenant: portcullis_types::TenantId, client_id: &str) -> Result<Option<portcullis_core::model::client::ClientRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM oauth_clients WHERE tenant_id = $1 AND client_id = $2")
                    .bind(tenant.to_string()).bind(client_id)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(client_from_row).transpose()
            }

            async fn client_list(&mut self, tenant: portcullis_types::TenantId, after: Option<&str>, limit: u32) -> Result<Vec<portcullis_core::model::client::ClientRecord>, portcullis_core::Error> {
                let rows = $sql::query("SELECT * FROM oauth_clients WHERE tenant_id = $1 AND client_id > $2 ORDER BY client_id LIMIT $3")
                    .bind(tenant.to_string()).bind(after.unwrap_or("")).bind(i64::from(limit))
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(client_from_row).collect()
            }

            async fn client_update(&mut self, c: &portcullis_core::model::client::ClientRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("UPDATE oauth_clients SET secret_digest = $1, metadata = $2, updated_at = $3, registration_digest = $6 WHERE tenant_id = $4 AND client_id = $5")
                    .bind(&c.secret_digest).bind($crate::convert::to_json(&c.metadata)?)
                    .bind($crate::convert::micros(c.updated_at)).bind(c.tenant_id.to_string()).bind(&c.client_id)
                    .bind(&c.registration_digest)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn client_assertion_record(&mut self, tenant: portcullis_types::TenantId, client_id: &str, jti: &str, expires_at: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("INSERT INTO client_assertions (tenant_id, client_id, jti, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                    .bind(tenant.to_string()).bind(client_id).bind(jti).bind($crate::convert::micros(expires_at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn registration_token_insert(&mut self, t: &portcullis_core::model::client::RegistrationTokenRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO registration_tokens (id, tenant_id, name, digest, uses_left, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(&t.id).bind(t.tenant_id.to_string()).bind(&t.name).bind(&t.digest)
                    .bind(t.uses_left.map(|u| i64::from(u))).bind($crate::convert::micros(t.created_at))
                    .bind(t.expires_at.map($crate::convert::micros)).bind(t.revoked_at.map($crate::convert::micros))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn registration_token_by_digest(&mut self, digest: &[u8]) -> Result<Option<portcullis_core::model::client::RegistrationTokenRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM registration_tokens WHERE digest = $1").bind(digest)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(registration_token_from_row).transpose()
            }

            async fn registration_token_list(&mut self, tenant: portcullis_types::TenantId) -> Result<Vec<portcullis_core::model::client::RegistrationTokenRecord>, portcullis_core::Error> {
                let rows = $sql::query("SELECT * FROM registration_tokens WHERE tenant_id = $1 ORDER BY created_at, id")
                    .bind(tenant.to_string())
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(registration_token_from_row).collect()
            }

            async fn registration_token_revoke(&mut self, tenant: portcullis_types::TenantId, id: &str, at: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("UPDATE registration_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL")
                    .bind($crate::convert::micros(at)).bind(tenant.to_string()).bind(id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn registration_token_use(&mut self, id: &str) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("UPDATE registration_tokens SET uses_left = uses_left - 1 WHERE id = $1 AND (uses_left IS NULL OR uses_left > 0)")
                    .bind(id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn scope_put(&mut self, tenant: portcullis_types::TenantId, scope: &portcullis_core::model::scope::ScopeDefinition) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO oauth_scopes (tenant_id, name, description, claims, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, name) DO UPDATE SET description = excluded.description, claims = excluded.claims, updated_at = excluded.updated_at")
                    .bind(tenant.to_string()).bind(&scope.name).bind(&scope.description).bind($crate::convert::to_json(&scope.claims)?)
                    .bind($crate::convert::micros(scope.created_at)).bind($crate::convert::micros(scope.updated_at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn scope_list(&mut self, tenant: portcullis_types::TenantId) -> Result<Vec<portcullis_core::model::scope::ScopeDefinition>, portcullis_core::Error> {
                use $sql::RowTrait as _;
                let rows = $sql::query("SELECT * FROM oauth_scopes WHERE tenant_id = $1 ORDER BY name")
                    .bind(tenant.to_string())
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(|row| Ok(portcullis_core::model::scope::ScopeDefinition {
                    name: row.try_get("name").map_err(map_err)?,
                    description: row.try_get("description").map_err(map_err)?,
                    claims: $crate::convert::json(&row.try_get::<String, _>("claims").map_err(map_err)?)?,
                    created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                    updated_at: $crate::convert::instant(row.try_get("updated_at").map_err(map_err)?),
                })).collect()
            }

            async fn scope_delete(&mut self, tenant: portcullis_types::TenantId, name: &str) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM oauth_scopes WHERE tenant_id = $1 AND name = $2")
                    .bind(tenant.to_string()).bind(name)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn client_delete(&mut self, tenant: portcullis_types::TenantId, client_id: &str) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM oauth_clients WHERE tenant_id = $1 AND client_id = $2")
                    .bind(tenant.to_string()).bind(client_id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}
