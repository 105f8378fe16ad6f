//! Second factors, recovery codes, authentication policies and users' requirements.

macro_rules! credential_repo {
    ($Tx:ident, $sql:ident) => {
        fn credential_from_row(row: &$sql::Row) -> Result<portcullis_core::model::credential::CredentialRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            let kind: String = row.try_get("kind").map_err(map_err)?;
            Ok(portcullis_core::model::credential::CredentialRecord {
                id: row.try_get("id").map_err(map_err)?,
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                user_id: $crate::convert::id(&row.try_get::<String, _>("user_id").map_err(map_err)?)?,
                kind: portcullis_core::model::credential::CredentialKind::parse(&kind)
                    .ok_or_else(|| portcullis_core::Error::internal(format!("stored credential kind {kind}")))?,
                name: row.try_get("name").map_err(map_err)?,
                secret: row.try_get("secret").map_err(map_err)?,
                lookup: row.try_get("lookup").map_err(map_err)?,
                data: row.try_get("data").map_err(map_err)?,
                counter: row.try_get("counter").map_err(map_err)?,
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                last_used_at: $crate::convert::opt_instant(row.try_get("last_used_at").map_err(map_err)?),
            })
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::CredentialRepo for $Tx {
            async fn credential_insert(&mut self, c: &portcullis_core::model::credential::CredentialRecord) -> Result<(), portcullis_core::Error> {
                let inserted = $sql::query("INSERT INTO credentials (id, tenant_id, user_id, kind, name, secret, lookup, data, counter, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                    .bind(&c.id).bind(c.tenant_id.to_string()).bind(c.user_id.to_string()).bind(c.kind.as_str())
                    .bind(&c.name).bind(&c.secret).bind(&c.lookup).bind(&c.data).bind(c.counter)
                    .bind($crate::convert::micros(c.created_at)).bind(c.last_used_at.map($crate::convert::micros))
                    .execute(&mut *self.0).await;
                inserted.map_err(map_err)?;
                Ok(())
            }

            async fn credentials_of_user(&mut self, tenant: portcullis_types::TenantId, user: portcullis_types::UserId) -> Result<Vec<portcullis_core::model::credential::CredentialRecord>, portcullis_core::Error> {
                let rows = $sql::query("SELECT * FROM credentials WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id")
                    .bind(tenant.to_string()).bind(user.to_string())
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(credential_from_row).collect()
            }

            async fn credential_by_lookup(&mut self, lookup: &[u8]) -> Result<Option<portcullis_core::model::credential::CredentialRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM credentials WHERE lookup = $1")
                    .bind(lookup)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(credential_from_row).transpose()
            }

            async fn credential_used(&mut self, id: &str, data: Option<&str>, at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("UPDATE credentials SET data = COALESCE($1, data), last_used_at = $2 WHERE id = $3")
                    .bind(data).bind($crate::convert::micros(at)).bind(id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn credential_delete(&mut self, tenant: portcullis_types::TenantId, user: portcullis_types::UserId, id: &str) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM credentials WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
                    .bind(tenant.to_string()).bind(user.to_string()).bind(id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn credentials_delete_all(&mut self, tenant: portcullis_types::TenantId, user: portcullis_types::UserId) -> Result<u64, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM credentials WHERE tenant_id = $1 AND user_id = $2")
                    .bind(tenant.to_string()).bind(user.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn credential_advance(&mut self, id: &str, step: i64, at: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("UPDATE credentials SET counter = $1, last_used_at = $2 WHERE id = $3 AND counter < $1")
                    .bind(step).bind($crate::convert::micros(at)).bind(id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn recovery_codes_insert(&mut self, credential: &str, digests: &[Vec<u8>]) -> Result<(), portcullis_core::Error> {
                for digest in digests {
                    $sql::query("INSERT INTO recovery_codes (credential_id, digest) VALUES ($1, $2)")
                        .bind(credential).bind(digest)
                        .execute(&mut *self.0).await.map_err(map_err)?;
                }
                Ok(())
            }

            async fn recovery_code_spend(&mut self, credential: &str, digest: &[u8], at: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("UPDATE recovery_codes SET used_at = $1 WHERE credential_id = $2 AND digest = $3 AND used_at IS NULL")
                    .bind($crate::convert::micros(at)).bind(credential).bind(digest)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                $sql::query("UPDATE credentials SET last_used_at = $1 WHERE id = $2")
                    .bind($crate::convert::micros(at)).bind(credential)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(true)
            }

            async fn recovery_codes_remaining(&mut self, credential: &str) -> Result<u32, portcullis_core::Error> {
                let (count,): (i64,) = $sql::query_as("SELECT COUNT(*) FROM recovery_codes WHERE credential_id = $1 AND used_at IS NULL")
                    .bind(credential)
                    .fetch_one(&mut *self.0).await.map_err(map_err)?;
                Ok(u32::try_from(count).unwrap_or(0))
            }

            async fn auth_policy_get(&mut self, tenant: portcullis_types::TenantId) -> Result<Option<String>, portcullis_core::Error> {
                let row: Option<(String,)> = $sql::query_as("SELECT policy FROM auth_policies WHERE tenant_id = $1")
                    .bind(tenant.to_string())
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row.map(|(policy,)| policy))
            }

            async fn auth_policy_put(&mut self, tenant: portcullis_types::TenantId, policy: &str, at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO auth_policies (tenant_id, policy, updated_at) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at")
                    .bind(tenant.to_string()).bind(policy).bind($crate::convert::micros(at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn device_remember(&mut self, tenant: portcullis_types::TenantId, user: portcullis_types::UserId, digest: &[u8], at: time::OffsetDateTime, expires_at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO remembered_devices (tenant_id, user_id, digest, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, digest) DO UPDATE SET expires_at = excluded.expires_at")
                    .bind(tenant.to_string()).bind(user.to_string()).bind(digest)
                    .bind($crate::convert::micros(at)).bind($crate::convert::micros(expires_at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn device_remembered(&mut self, user: portcullis_types::UserId, digest: &[u8], now: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let row: Option<(i64,)> = $sql::query_as("SELECT expires_at FROM remembered_devices WHERE user_id = $1 AND digest = $2 AND expires_at > $3")
                    .bind(user.to_string()).bind(digest).bind($crate::convert::micros(now))
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row.is_some())
            }

            async fn devices_forget(&mut self, user: portcullis_types::UserId) -> Result<u64, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM remembered_devices WHERE user_id = $1")
                    .bind(user.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn email_template_get(&mut self, tenant: portcullis_types::TenantId, purpose: &str, language: &str) -> Result<Option<(String, String)>, portcullis_core::Error> {
                let row: Option<(String, String)> = $sql::query_as("SELECT subject, body FROM email_templates WHERE tenant_id = $1 AND purpose = $2 AND language = $3")
                    .bind(tenant.to_string()).bind(purpose).bind(language)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row)
            }

            async fn email_template_put(&mut self, tenant: portcullis_types::TenantId, purpose: &str, language: &str, subject: &str, body: &str, at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO email_templates (tenant_id, purpose, language, subject, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, purpose, language) DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at")
                    .bind(tenant.to_string()).bind(purpose).bind(language).bind(subject).bind(body).bind($crate::convert::micros(at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn email_template_delete(&mut self, tenant: portcullis_types::TenantId, purpose: &str, language: &str) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM email_templates WHERE tenant_id = $1 AND purpose = $2 AND language = $3")
                    .bind(tenant.to_string()).bind(purpose).bind(language)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn requirements_of_user(&mut self, user: portcullis_types::UserId) -> Result<Vec<portcullis_core::model::credential::Requirement>, portcullis_core::Error> {
                let rows: Vec<(String,)> = $sql::query_as("SELECT requirement FROM user_requirements WHERE user_id = $1 ORDER BY requirement")
                    .bind(user.to_string())
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                Ok(rows.iter().filter_map(|(r,)| portcullis_core::model::credential::Requirement::parse(r)).collect())
            }

            async fn requirement_put(&mut self, user: portcullis_types::UserId, requirement: portcullis_core::model::credential::Requirement, at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO user_requirements (user_id, requirement, created_at) VALUES ($1, $2, $3) ON CONFLICT (user_id, requirement) DO NOTHING")
                    .bind(user.to_string()).bind(requirement.as_str()).bind($crate::convert::micros(at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn requirement_delete(&mut self, user: portcullis_types::UserId, requirement: portcullis_core::model::credential::Requirement) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM user_requirements WHERE user_id = $1 AND requirement = $2")
                    .bind(user.to_string()).bind(requirement.as_str())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}
