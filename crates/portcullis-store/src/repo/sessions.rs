//! Browser sessions, login flows, consents, OAuth grants and refresh tokens.

macro_rules! session_repo {
    ($Tx:ident, $sql:ident) => {
        fn session_from_row(row: &$sql::Row) -> Result<portcullis_core::model::session::SessionRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            Ok(portcullis_core::model::session::SessionRecord {
                id: row.try_get("id").map_err(map_err)?,
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                user_id: $crate::convert::id(&row.try_get::<String, _>("user_id").map_err(map_err)?)?,
                secret_digest: row.try_get("secret_digest").map_err(map_err)?,
                auth_time: $crate::convert::instant(row.try_get("auth_time").map_err(map_err)?),
                amr: $crate::convert::json(&row.try_get::<String, _>("amr").map_err(map_err)?)?,
                acr: row.try_get("acr").map_err(map_err)?,
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                expires_at: $crate::convert::instant(row.try_get("expires_at").map_err(map_err)?),
                revoked_at: $crate::convert::opt_instant(row.try_get("revoked_at").map_err(map_err)?),
            })
        }

        fn flow_from_row(row: &$sql::Row) -> Result<portcullis_core::model::session::FlowRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            let kind: String = row.try_get("kind").map_err(map_err)?;
            let user: Option<String> = row.try_get("user_id").map_err(map_err)?;
            let failures: i32 = row.try_get("failures").map_err(map_err)?;
            Ok(portcullis_core::model::session::FlowRecord {
                id: row.try_get("id").map_err(map_err)?,
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                kind: portcullis_core::model::session::FlowKind::parse(&kind)
                    .ok_or_else(|| portcullis_core::Error::internal(format!("stored flow kind {kind}")))?,
                browser_digest: row.try_get("browser_digest").map_err(map_err)?,
                request: $crate::convert::json(&row.try_get::<String, _>("request").map_err(map_err)?)?,
                user_id: user.as_deref().map($crate::convert::id).transpose()?,
                session_id: row.try_get("session_id").map_err(map_err)?,
                failures: u32::try_from(failures).unwrap_or(0),
                state: $crate::convert::json(&row.try_get::<String, _>("state").map_err(map_err)?)?,
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                expires_at: $crate::convert::instant(row.try_get("expires_at").map_err(map_err)?),
            })
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::SessionRepo for $Tx {
            async fn session_insert(&mut self, s: &portcullis_core::model::session::SessionRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO sso_sessions (id, tenant_id, user_id, secret_digest, auth_time, amr, acr, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(&s.id).bind(s.tenant_id.to_string()).bind(s.user_id.to_string()).bind(&s.secret_digest)
                    .bind($crate::convert::micros(s.auth_time)).bind($crate::convert::to_json(&s.amr)?).bind(&s.acr)
                    .bind($crate::convert::micros(s.created_at)).bind($crate::convert::micros(s.expires_at))
                    .bind(s.revoked_at.map($crate::convert::micros))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn session_by_digest(&mut self, digest: &[u8]) -> Result<Option<portcullis_core::model::session::SessionRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM sso_sessions WHERE secret_digest = $1").bind(digest)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(session_from_row).transpose()
            }

            async fn session_get(&mut self, tenant: portcullis_types::TenantId, id: &str) -> Result<Option<portcullis_core::model::session::SessionRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM sso_sessions WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.to_string()).bind(id)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(session_from_row).transpose()
            }

            async fn sessions_of_user(&mut self, tenant: portcullis_types::TenantId, user: portcullis_types::UserId) -> Result<Vec<portcullis_core::model::session::SessionRecord>, portcullis_core::Error> {
                let rows = $sql::query("SELECT * FROM sso_sessions WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at DESC LIMIT 1000")
                    .bind(tenant.to_string()).bind(user.to_string())
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(session_from_row).collect()
            }

            async fn session_revoke(&mut self, tenant: portcullis_types::TenantId, id: &str, at: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("UPDATE sso_sessions SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL")
                    .bind($crate::convert::micros(at)).bind(tenant.to_string()).bind(id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn session_reauthenticated(&mut self, s: &portcullis_core::model::session::SessionRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("UPDATE sso_sessions SET auth_time = $1, amr = $2, acr = $3 WHERE tenant_id = $4 AND id = $5")
                    .bind($crate::convert::micros(s.auth_time)).bind($crate::convert::to_json(&s.amr)?).bind(&s.acr)
                    .bind(s.tenant_id.to_string()).bind(&s.id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn flow_insert(&mut self, f: &portcullis_core::model::session::FlowRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO flows (id, tenant_id, kind, browser_digest, request, user_id, session_id, failures, created_at, expires_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                    .bind(&f.id).bind(f.tenant_id.to_string()).bind(f.kind.as_str()).bind(&f.browser_digest)
                    .bind($crate::convert::to_json(&f.request)?).bind(f.user_id.map(|u| u.to_string())).bind(&f.session_id)
                    .bind(i32::try_from(f.failures).unwrap_or(i32::MAX))
                    .bind($crate::convert::micros(f.created_at)).bind($crate::convert::micros(f.expires_at))
                    .bind($crate::convert::to_json(&f.state)?)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn flow_get(&mut self, tenant: portcullis_types::TenantId, id: &str) -> Result<Option<portcullis_core::model::session::FlowRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM flows WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.to_string()).bind(id)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(flow_from_row).transpose()
            }

            async fn flow_claim(&mut self, tenant: portcullis_types::TenantId, id: &str) -> Result<Option<portcullis_core::model::session::FlowRecord>, portcullis_core::Error> {
                let row = $sql::query("UPDATE flows SET state = state WHERE tenant_id = $1 AND id = $2 RETURNING *")
                    .bind(tenant.to_string()).bind(id)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(flow_from_row).transpose()
            }

            async fn flow_update(&mut self, f: &portcullis_core::model::session::FlowRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("UPDATE flows SET user_id = $1, session_id = $2, failures = $3, state = $4 WHERE tenant_id = $5 AND id = $6")
                    .bind(f.user_id.map(|u| u.to_string())).bind(&f.session_id)
                    .bind(i32::try_from(f.failures).unwrap_or(i32::MAX)).bind($crate::convert::to_json(&f.state)?)
                    .bind(f.tenant_id.to_string()).bind(&f.id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn flow_delete(&mut self, tenant: portcullis_types::TenantId, id: &str) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM flows WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.to_string()).bind(id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn consent_get(&mut self, user: portcullis_types::UserId, client_id: &str) -> Result<Option<String>, portcullis_core::Error> {
                use $sql::RowTrait as _;
                let row = $sql::query("SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2")
                    .bind(user.to_string()).bind(client_id)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.map(|r| r.try_get("scope").map_err(map_err)).transpose()
            }

            async fn consent_put(&mut self, tenant: portcullis_types::TenantId, user: portcullis_types::UserId, client_id: &str, scope: &str, at: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO consents (user_id, client_id, tenant_id, scope, granted_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at")
                    .bind(user.to_string()).bind(client_id).bind(tenant.to_string()).bind(scope).bind($crate::convert::micros(at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }
        }
    };
}

macro_rules! grant_repo {
    ($Tx:ident, $sql:ident) => {
        fn grant_from_row(row: &$sql::Row) -> Result<portcullis_core::model::session::GrantRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            Ok(portcullis_core::model::session::GrantRecord {
                id: row.try_get("id").map_err(map_err)?,
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                client_id: row.try_get("client_id").map_err(map_err)?,
                user_id: $crate::convert::id(&row.try_get::<String, _>("user_id").map_err(map_err)?)?,
                session_id: row.try_get("session_id").map_err(map_err)?,
                scope: row.try_get("scope").map_err(map_err)?,
                details: $crate::convert::json(&row.try_get::<String, _>("details").map_err(map_err)?)?,
                code_digest: row.try_get("code_digest").map_err(map_err)?,
                code_expires_at: $crate::convert::opt_instant(row.try_get("code_expires_at").map_err(map_err)?),
                code_used_at: $crate::convert::opt_instant(row.try_get("code_used_at").map_err(map_err)?),
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                expires_at: $crate::convert::instant(row.try_get("expires_at").map_err(map_err)?),
                revoked_at: $crate::convert::opt_instant(row.try_get("revoked_at").map_err(map_err)?),
            })
        }

        fn refresh_from_row(row: &$sql::Row) -> Result<portcullis_core::model::session::RefreshTokenRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            Ok(portcullis_core::model::session::RefreshTokenRecord {
                digest: row.try_get("digest").map_err(map_err)?,
                grant_id: row.try_get("grant_id").map_err(map_err)?,
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                expires_at: $crate::convert::instant(row.try_get("expires_at").map_err(map_err)?),
                parent: row.try_get("parent").map_err(map_err)?,
            })
        }

        fn pushed_from_row(row: &$sql::Row) -> Result<portcullis_core::model::session::PushedRequest, portcullis_core::Error> {
            use $sql::RowTrait as _;
            Ok(portcullis_core::model::session::PushedRequest {
                id: row.try_get("id").map_err(map_err)?,
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                client_id: row.try_get("client_id").map_err(map_err)?,
                request: $crate::convert::json(&row.try_get::<String, _>("request").map_err(map_err)?)?,
                expires_at: $crate::convert::instant(row.try_get("expires_at").map_err(map_err)?),
            })
        }

        fn device_from_row(row: &$sql::Row) -> Result<portcullis_core::model::session::DeviceRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            let status: String = row.try_get("status").map_err(map_err)?;
            let user: Option<String> = row.try_get("user_id").map_err(map_err)?;
            let interval: i32 = row.try_get("poll_interval").map_err(map_err)?;
            Ok(portcullis_core::model::session::DeviceRecord {
                device_digest: row.try_get("device_digest").map_err(map_err)?,
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                client_id: row.try_get("client_id").map_err(map_err)?,
                user_code: row.try_get("user_code").map_err(map_err)?,
                request: $crate::convert::json(&row.try_get::<String, _>("request").map_err(map_err)?)?,
                status: portcullis_core::model::session::DeviceStatus::parse(&status)
                    .ok_or_else(|| portcullis_core::Error::internal(format!("stored device status {status}")))?,
                user_id: user.as_deref().map($crate::convert::id).transpose()?,
                grant_id: row.try_get("grant_id").map_err(map_err)?,
                poll_interval: u32::try_from(interval).unwrap_or(5),
                last_polled_at: $crate::convert::opt_instant(row.try_get("last_polled_at").map_err(map_err)?),
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                expires_at: $crate::convert::instant(row.try_get("expires_at").map_err(map_err)?),
            })
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::GrantRepo for $Tx {
            async fn grant_insert(&mut self, g: &portcullis_core::model::session::GrantRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO oauth_grants (id, tenant_id, client_id, user_id, session_id, scope, details, code_digest, code_expires_at, code_used_at, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
                    .bind(&g.id).bind(g.tenant_id.to_string()).bind(&g.client_id).bind(g.user_id.to_string()).bind(&g.session_id)
                    .bind(&g.scope).bind($crate::convert::to_json(&g.details)?).bind(&g.code_digest)
                    .bind(g.code_expires_at.map($crate::convert::micros)).bind(g.code_used_at.map($crate::convert::micros))
                    .bind($crate::convert::micros(g.created_at)).bind($crate::convert::micros(g.expires_at))
                    .bind(g.revoked_at.map($crate::convert::micros))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn grant_get(&mut self, tenant: portcullis_types::TenantId, id: &str) -> Result<Option<portcullis_core::model::session::GrantRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM oauth_grants WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.to_string()).bind(id)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(grant_from_row).transpose()
            }

            async fn grant_by_code(&mut self, tenant: portcullis_types::TenantId, code_digest: &[u8]) -> Result<Option<portcullis_core::model::session::GrantRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM oauth_grants WHERE tenant_id = $1 AND code_digest = $2")
                    .bind(tenant.to_string()).bind(code_digest)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(grant_from_row).transpose()
            }

            async fn grant_use_code(&mut self, id: &str, at: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("UPDATE oauth_grants SET code_used_at = $1 WHERE id = $2 AND code_used_at IS NULL")
                    .bind($crate::convert::micros(at)).bind(id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn grant_revoke(&mut self, id: &str, at: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind($crate::convert::micros(at)).bind(id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn grants_of_session(&mut self, tenant: portcullis_types::TenantId, session: &str) -> Result<Vec<portcullis_core::model::session::GrantRecord>, portcullis_core::Error> {
                let rows = $sql::query("SELECT * FROM oauth_grants WHERE tenant_id = $1 AND session_id = $2 AND revoked_at IS NULL ORDER BY id")
                    .bind(tenant.to_string()).bind(session)
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(grant_from_row).collect()
            }

            async fn refresh_insert(&mut self, t: &portcullis_core::model::session::RefreshTokenRecord) -> Result<(), portcullis_core::Error> {
                insert_refresh!($sql, &mut *self.0, t).map_err(map_err)?;
                Ok(())
            }

            async fn refresh_with_grant(&mut self, digest: &[u8]) -> Result<Option<(portcullis_core::model::session::RefreshTokenRecord, portcullis_core::model::session::GrantRecord, portcullis_core::model::user::UserRecord)>, portcullis_core::Error> {
                use $sql::RowTrait as _;
                let row = $sql::query("SELECT r.digest AS r_digest, r.parent AS r_parent, r.created_at AS r_created_at, r.expires_at AS r_expires_at, g.*, \
                        u.id AS u_id, u.tenant_id AS u_tenant_id, u.username AS u_username, u.username_key AS u_username_key, u.email AS u_email, \
                        u.email_key AS u_email_key, u.email_verified AS u_email_verified, u.status AS u_status, u.claims AS u_claims, \
                        u.attributes AS u_attributes, u.sealed AS u_sealed, u.created_at AS u_created_at, u.updated_at AS u_updated_at \
                    FROM refresh_tokens r JOIN oauth_grants g ON g.id = r.grant_id JOIN users u ON u.id = g.user_id WHERE r.digest = $1")
                    .bind(digest)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                let Some(row) = row else { return Ok(None) };
                let grant = grant_from_row(&row)?;
                let token = portcullis_core::model::session::RefreshTokenRecord {
                    digest: row.try_get("r_digest").map_err(map_err)?,
                    grant_id: grant.id.clone(),
                    created_at: $crate::convert::instant(row.try_get("r_created_at").map_err(map_err)?),
                    expires_at: $crate::convert::instant(row.try_get("r_expires_at").map_err(map_err)?),
                    parent: row.try_get("r_parent").map_err(map_err)?,
                };
                Ok(Some((token, grant, user_from_prefixed_row(&row, "u_")?)))
            }

            async fn refresh_get(&mut self, digest: &[u8]) -> Result<Option<portcullis_core::model::session::RefreshTokenRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM refresh_tokens WHERE digest = $1").bind(digest)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(refresh_from_row).transpose()
            }

            async fn pushed_insert(&mut self, p: &portcullis_core::model::session::PushedRequest) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO pushed_requests (id, tenant_id, client_id, request, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&p.id).bind(p.tenant_id.to_string()).bind(&p.client_id)
                    .bind($crate::convert::to_json(&p.request)?).bind($crate::convert::micros(p.expires_at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn pushed_take(&mut self, tenant: portcullis_types::TenantId, id: &str) -> Result<Option<portcullis_core::model::session::PushedRequest>, portcullis_core::Error> {
                let row = $sql::query("DELETE FROM pushed_requests WHERE tenant_id = $1 AND id = $2 RETURNING *")
                    .bind(tenant.to_string()).bind(id)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(pushed_from_row).transpose()
            }

            async fn device_insert(&mut self, d: &portcullis_core::model::session::DeviceRecord, now: time::OffsetDateTime) -> Result<(), portcullis_core::Error> {
                $sql::query("DELETE FROM device_authorizations WHERE tenant_id = $1 AND user_code = $2 AND expires_at <= $3")
                    .bind(d.tenant_id.to_string()).bind(&d.user_code).bind($crate::convert::micros(now))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                $sql::query("INSERT INTO device_authorizations (device_digest, tenant_id, client_id, user_code, request, status, user_id, grant_id, poll_interval, last_polled_at, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                    .bind(&d.device_digest).bind(d.tenant_id.to_string()).bind(&d.client_id).bind(&d.user_code)
                    .bind($crate::convert::to_json(&d.request)?).bind(d.status.as_str()).bind(d.user_id.map(|u| u.to_string()))
                    .bind(&d.grant_id).bind(i32::try_from(d.poll_interval).unwrap_or(i32::MAX))
                    .bind(d.last_polled_at.map($crate::convert::micros))
                    .bind($crate::convert::micros(d.created_at)).bind($crate::convert::micros(d.expires_at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn device_by_digest(&mut self, digest: &[u8]) -> Result<Option<portcullis_core::model::session::DeviceRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM device_authorizations WHERE device_digest = $1").bind(digest)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(device_from_row).transpose()
            }

            async fn device_by_user_code(&mut self, tenant: portcullis_types::TenantId, user_code: &str) -> Result<Option<portcullis_core::model::session::DeviceRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM device_authorizations WHERE tenant_id = $1 AND user_code = $2")
                    .bind(tenant.to_string()).bind(user_code)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(device_from_row).transpose()
            }

            async fn device_update(&mut self, d: &portcullis_core::model::session::DeviceRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("UPDATE device_authorizations SET status = $1, user_id = $2, grant_id = $3, poll_interval = $4, last_polled_at = $5 WHERE device_digest = $6")
                    .bind(d.status.as_str()).bind(d.user_id.map(|u| u.to_string())).bind(&d.grant_id)
                    .bind(i32::try_from(d.poll_interval).unwrap_or(i32::MAX)).bind(d.last_polled_at.map($crate::convert::micros))
                    .bind(&d.device_digest)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn device_consume(&mut self, digest: &[u8]) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("UPDATE device_authorizations SET status = 'consumed' WHERE device_digest = $1 AND status = 'approved'")
                    .bind(digest)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}
