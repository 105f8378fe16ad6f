//! Tenants, users and the user schema.

macro_rules! tenant_repo {
    ($Tx:ident, $sql:ident) => {
        fn tenant_from_row(row: &$sql::Row) -> Result<portcullis_core::model::tenant::TenantRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            use portcullis_core::model::tenant::{TenantProfile, TenantRecord};
            let name: String = row.try_get("name").map_err(map_err)?;
            let profile: String = row.try_get("profile").map_err(map_err)?;
            Ok(TenantRecord {
                id: $crate::convert::id(&row.try_get::<String, _>("id").map_err(map_err)?)?,
                name: portcullis_types::TenantName::parse(&name).map_err(|e| portcullis_core::Error::internal(format!("stored tenant name {name}: {e}")))?,
                display_name: row.try_get("display_name").map_err(map_err)?,
                profile: TenantProfile::parse(&profile).ok_or_else(|| portcullis_core::Error::internal(format!("stored profile {profile}")))?,
                wrapped_key: row.try_get("wrapped_key").map_err(map_err)?,
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                updated_at: $crate::convert::instant(row.try_get("updated_at").map_err(map_err)?),
            })
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::TenantRepo for $Tx {
            async fn tenant_insert(&mut self, t: &portcullis_core::model::tenant::TenantRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO tenants (id, name, display_name, profile, wrapped_key, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(t.id.to_string())
                    .bind(t.name.as_str())
                    .bind(&t.display_name)
                    .bind(t.profile.as_str())
                    .bind(&t.wrapped_key)
                    .bind($crate::convert::micros(t.created_at))
                    .bind($crate::convert::micros(t.updated_at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn tenant_by_name(&mut self, name: &str) -> Result<Option<portcullis_core::model::tenant::TenantRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM tenants WHERE name = $1").bind(name)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(tenant_from_row).transpose()
            }

            async fn tenant_list(&mut self, after: Option<&str>, limit: u32) -> Result<Vec<portcullis_core::model::tenant::TenantRecord>, portcullis_core::Error> {
                let rows = $sql::query("SELECT * FROM tenants WHERE name > $1 ORDER BY name LIMIT $2")
                    .bind(after.unwrap_or(""))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(tenant_from_row).collect()
            }

            async fn tenant_update(&mut self, t: &portcullis_core::model::tenant::TenantRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("UPDATE tenants SET display_name = $1, profile = $2, updated_at = $3 WHERE id = $4")
                    .bind(&t.display_name)
                    .bind(t.profile.as_str())
                    .bind($crate::convert::micros(t.updated_at))
                    .bind(t.id.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn tenant_delete(&mut self, id: portcullis_types::TenantId) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM tenants WHERE id = $1").bind(id.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

macro_rules! user_repo {
    ($Tx:ident, $sql:ident) => {
        fn user_from_row(row: &$sql::Row) -> Result<portcullis_core::model::user::UserRecord, portcullis_core::Error> {
            user_from_prefixed_row(row, "")
        }

        /// A user from columns named `{prefix}{column}`, for queries that join users to
        /// another table.
        fn user_from_prefixed_row(row: &$sql::Row, prefix: &str) -> Result<portcullis_core::model::user::UserRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            use portcullis_core::model::user::{UserRecord, UserStatus};
            let column = |name: &str| format!("{prefix}{name}");
            let status: String = row.try_get(column("status").as_str()).map_err(map_err)?;
            Ok(UserRecord {
                id: $crate::convert::id(&row.try_get::<String, _>(column("id").as_str()).map_err(map_err)?)?,
                tenant_id: $crate::convert::id(&row.try_get::<String, _>(column("tenant_id").as_str()).map_err(map_err)?)?,
                username: row.try_get(column("username").as_str()).map_err(map_err)?,
                username_key: row.try_get(column("username_key").as_str()).map_err(map_err)?,
                email: row.try_get(column("email").as_str()).map_err(map_err)?,
                email_key: row.try_get(column("email_key").as_str()).map_err(map_err)?,
                email_verified: row.try_get(column("email_verified").as_str()).map_err(map_err)?,
                status: UserStatus::parse(&status).ok_or_else(|| portcullis_core::Error::internal(format!("stored status {status}")))?,
                claims: $crate::convert::json(&row.try_get::<String, _>(column("claims").as_str()).map_err(map_err)?)?,
                attributes: $crate::convert::json(&row.try_get::<String, _>(column("attributes").as_str()).map_err(map_err)?)?,
                sealed: row.try_get(column("sealed").as_str()).map_err(map_err)?,
                created_at: $crate::convert::instant(row.try_get(column("created_at").as_str()).map_err(map_err)?),
                updated_at: $crate::convert::instant(row.try_get(column("updated_at").as_str()).map_err(map_err)?),
            })
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::UserRepo for $Tx {
            async fn user_insert(&mut self, u: &portcullis_core::model::user::UserRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO users (id, tenant_id, username, username_key, email, email_key, email_verified, status, claims, attributes, sealed, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
                    .bind(u.id.to_string())
                    .bind(u.tenant_id.to_string())
                    .bind(&u.username)
                    .bind(&u.username_key)
                    .bind(&u.email)
                    .bind(&u.email_key)
                    .bind(u.email_verified)
                    .bind(u.status.as_str())
                    .bind($crate::convert::to_json(&u.claims)?)
                    .bind($crate::convert::to_json(&u.attributes)?)
                    .bind(&u.sealed)
                    .bind($crate::convert::micros(u.created_at))
                    .bind($crate::convert::micros(u.updated_at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn user_insert_many(&mut self, users: &[portcullis_core::model::user::UserRecord]) -> Result<(), portcullis_core::Error> {
                // 13 parameters a row: 400 rows stay under both engines' parameter limits.
                for chunk in users.chunks(400) {
                    let mut rows = Vec::with_capacity(chunk.len());
                    for u in chunk {
                        rows.push((u, $crate::convert::to_json(&u.claims)?, $crate::convert::to_json(&u.attributes)?));
                    }
                    let mut query = $sql::QueryBuilder::new("INSERT INTO users (id, tenant_id, username, username_key, email, email_key, email_verified, status, claims, attributes, sealed, created_at, updated_at) ");
                    query.push_values(rows, |mut b, (u, claims, attributes)| {
                        b.push_bind(u.id.to_string())
                            .push_bind(u.tenant_id.to_string())
                            .push_bind(u.username.clone())
                            .push_bind(u.username_key.clone())
                            .push_bind(u.email.clone())
                            .push_bind(u.email_key.clone())
                            .push_bind(u.email_verified)
                            .push_bind(u.status.as_str())
                            .push_bind(claims)
                            .push_bind(attributes)
                            .push_bind(u.sealed.clone())
                            .push_bind($crate::convert::micros(u.created_at))
                            .push_bind($crate::convert::micros(u.updated_at));
                    });
                    query.build().execute(&mut *self.0).await.map_err(map_err)?;
                }
                Ok(())
            }

            async fn password_insert_many(&mut self, passwords: &[(portcullis_types::UserId, String)], at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                for chunk in passwords.chunks(1000) {
                    let mut query = $sql::QueryBuilder::new("INSERT INTO passwords (user_id, hash, updated_at) ");
                    query.push_values(chunk, |mut b, (user, hash)| {
                        b.push_bind(user.to_string()).push_bind(hash.clone()).push_bind($crate::convert::micros(at));
                    });
                    query.build().execute(&mut *self.0).await.map_err(map_err)?;
                }
                Ok(())
            }

            async fn user_get(&mut self, tenant: portcullis_types::TenantId, id: portcullis_types::UserId) -> Result<Option<portcullis_core::model::user::UserRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM users WHERE id = $1 AND tenant_id = $2")
                    .bind(id.to_string()).bind(tenant.to_string())
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(user_from_row).transpose()
            }

            async fn user_by_login(&mut self, tenant: portcullis_types::TenantId, key: &str) -> Result<Option<portcullis_core::model::user::UserRecord>, portcullis_core::Error> {
                // A username match wins over an e-mail match of another user.
                let row = $sql::query("SELECT * FROM users WHERE tenant_id = $1 AND (username_key = $2 OR email_key = $2) ORDER BY CASE WHEN username_key = $2 THEN 0 ELSE 1 END LIMIT 1")
                    .bind(tenant.to_string()).bind(key)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(user_from_row).transpose()
            }

            async fn user_by_login_with_password(&mut self, tenant: portcullis_types::TenantId, key: &str) -> Result<Option<(portcullis_core::model::user::UserRecord, Option<String>)>, portcullis_core::Error> {
                use $sql::RowTrait as _;
                let row = $sql::query("SELECT users.*, passwords.hash AS password_hash FROM users LEFT JOIN passwords ON passwords.user_id = users.id WHERE users.tenant_id = $1 AND (users.username_key = $2 OR users.email_key = $2) ORDER BY CASE WHEN users.username_key = $2 THEN 0 ELSE 1 END LIMIT 1")
                    .bind(tenant.to_string()).bind(key)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(|r| Ok((user_from_row(r)?, r.try_get("password_hash").map_err(map_err)?))).transpose()
            }

            async fn user_update(&mut self, u: &portcullis_core::model::user::UserRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("UPDATE users SET username = $1, username_key = $2, email = $3, email_key = $4, email_verified = $5, status = $6, claims = $7, attributes = $8, sealed = $9, updated_at = $10 WHERE id = $11 AND tenant_id = $12")
                    .bind(&u.username)
                    .bind(&u.username_key)
                    .bind(&u.email)
                    .bind(&u.email_key)
                    .bind(u.email_verified)
                    .bind(u.status.as_str())
                    .bind($crate::convert::to_json(&u.claims)?)
                    .bind($crate::convert::to_json(&u.attributes)?)
                    .bind(&u.sealed)
                    .bind($crate::convert::micros(u.updated_at))
                    .bind(u.id.to_string())
                    .bind(u.tenant_id.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn user_delete(&mut self, tenant: portcullis_types::TenantId, id: portcullis_types::UserId) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM users WHERE id = $1 AND tenant_id = $2")
                    .bind(id.to_string()).bind(tenant.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn user_list(&mut self, tenant: portcullis_types::TenantId, filter: &portcullis_core::model::user::UserFilter, after: Option<&str>, limit: u32) -> Result<Vec<portcullis_core::model::user::UserRecord>, portcullis_core::Error> {
                let mut query = $sql::QueryBuilder::new("SELECT * FROM users WHERE tenant_id = ");
                query.push_bind(tenant.to_string());
                if let Some(after) = after {
                    query.push(" AND id > ").push_bind(after.to_owned());
                }
                if let Some(key) = &filter.username_key {
                    query.push(" AND username_key = ").push_bind(key.clone());
                }
                if let Some(key) = &filter.email_key {
                    query.push(" AND email_key = ").push_bind(key.clone());
                }
                if let Some(status) = filter.status {
                    query.push(" AND status = ").push_bind(status.as_str());
                }
                if let Some((name, value)) = &filter.attribute {
                    push_attribute_filter(&mut query, name, value);
                }
                query.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
                let rows = query.build().fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(user_from_row).collect()
            }

            async fn user_key_get(&mut self, user: portcullis_types::UserId) -> Result<Option<Vec<u8>>, portcullis_core::Error> {
                let row: Option<(Vec<u8>,)> = $sql::query_as("SELECT wrapped_key FROM user_keys WHERE user_id = $1")
                    .bind(user.to_string()).fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row.map(|(key,)| key))
            }

            async fn user_key_put(&mut self, user: portcullis_types::UserId, wrapped: &[u8]) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO user_keys (user_id, wrapped_key) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET wrapped_key = excluded.wrapped_key")
                    .bind(user.to_string()).bind(wrapped)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn unique_values_replace(&mut self, tenant: portcullis_types::TenantId, user: portcullis_types::UserId, values: &[(String, String)]) -> Result<(), portcullis_core::Error> {
                $sql::query("DELETE FROM user_unique_values WHERE user_id = $1")
                    .bind(user.to_string()).execute(&mut *self.0).await.map_err(map_err)?;
                for (attribute, value) in values {
                    let inserted = $sql::query("INSERT INTO user_unique_values (tenant_id, attribute, value, user_id) VALUES ($1, $2, $3, $4)")
                        .bind(tenant.to_string()).bind(attribute).bind(value).bind(user.to_string())
                        .execute(&mut *self.0).await;
                    match inserted {
                        Ok(_) => {}
                        Err(e) if $sql::is_unique_violation(&e) => {
                            return Err(portcullis_core::Error::conflict(
                                format!("attribute:{attribute}"),
                                format!("another user already has this value of {attribute}"),
                            ));
                        }
                        Err(e) => return Err(map_err(e)),
                    }
                }
                Ok(())
            }

            async fn password_get(&mut self, user: portcullis_types::UserId) -> Result<Option<String>, portcullis_core::Error> {
                let row: Option<(String,)> = $sql::query_as("SELECT hash FROM passwords WHERE user_id = $1")
                    .bind(user.to_string()).fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row.map(|(hash,)| hash))
            }

            async fn password_set(&mut self, user: portcullis_types::UserId, hash: &str, at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at")
                    .bind(user.to_string()).bind(hash).bind($crate::convert::micros(at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn password_policy_get(&mut self, tenant: portcullis_types::TenantId) -> Result<Option<String>, portcullis_core::Error> {
                let row: Option<(String,)> = $sql::query_as("SELECT policy FROM password_policies WHERE tenant_id = $1")
                    .bind(tenant.to_string())
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                Ok(row.map(|(policy,)| policy))
            }

            async fn password_policy_put(&mut self, tenant: portcullis_types::TenantId, policy: &str, at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO password_policies (tenant_id, policy, updated_at) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at")
                    .bind(tenant.to_string()).bind(policy).bind($crate::convert::micros(at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }
        }
    };
}

macro_rules! schema_repo {
    ($Tx:ident, $sql:ident) => {
        #[async_trait::async_trait]
        impl portcullis_core::store::SchemaRepo for $Tx {
            async fn schema_get(&mut self, tenant: portcullis_types::TenantId) -> Result<Vec<portcullis_core::model::schema::AttributeDefinition>, portcullis_core::Error> {
                let rows: Vec<(String,)> = $sql::query_as("SELECT definition FROM schema_attributes WHERE tenant_id = $1 ORDER BY position, name")
                    .bind(tenant.to_string()).fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(|(text,)| $crate::convert::json(text)).collect()
            }

            async fn schema_put(&mut self, tenant: portcullis_types::TenantId, a: &portcullis_core::model::schema::AttributeDefinition) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO schema_attributes (tenant_id, name, definition, position) VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM schema_attributes WHERE tenant_id = $1)) ON CONFLICT (tenant_id, name) DO UPDATE SET definition = excluded.definition")
                    .bind(tenant.to_string()).bind(a.name.as_str()).bind($crate::convert::to_json(a)?)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn schema_delete(&mut self, tenant: portcullis_types::TenantId, name: &str) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM schema_attributes WHERE tenant_id = $1 AND name = $2")
                    .bind(tenant.to_string()).bind(name).execute(&mut *self.0).await.map_err(map_err)?;
                $sql::query("DELETE FROM user_unique_values WHERE tenant_id = $1 AND attribute = $2")
                    .bind(tenant.to_string()).bind(name).execute(&mut *self.0).await.map_err(map_err)?;
                $sql::query(STRIP_ATTRIBUTE_SQL)
                    .bind(tenant.to_string()).bind(attribute_path(name)).execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}
