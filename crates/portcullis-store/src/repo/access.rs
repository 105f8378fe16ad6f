//! Groups, roles and admin tokens.

macro_rules! group_repo {
    ($Tx:ident, $sql:ident) => {
        fn group_from_row(row: &$sql::Row) -> Result<portcullis_core::model::group::Group, portcullis_core::Error> {
            use $sql::RowTrait as _;
            let parent: Option<String> = row.try_get("parent_id").map_err(map_err)?;
            Ok(portcullis_core::model::group::Group {
                id: $crate::convert::id(&row.try_get::<String, _>("id").map_err(map_err)?)?,
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                name: row.try_get("name").map_err(map_err)?,
                description: row.try_get("description").map_err(map_err)?,
                parent_id: parent.as_deref().map($crate::convert::id).transpose()?,
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                updated_at: $crate::convert::instant(row.try_get("updated_at").map_err(map_err)?),
            })
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::GroupRepo for $Tx {
            async fn group_insert(&mut self, g: &portcullis_core::model::group::Group) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO directory_groups (id, tenant_id, name, description, parent_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(g.id.to_string()).bind(g.tenant_id.to_string()).bind(&g.name).bind(&g.description)
                    .bind(g.parent_id.map(|p| p.to_string()))
                    .bind($crate::convert::micros(g.created_at)).bind($crate::convert::micros(g.updated_at))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn group_get(&mut self, tenant: portcullis_types::TenantId, id: portcullis_types::GroupId) -> Result<Option<portcullis_core::model::group::Group>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM directory_groups WHERE id = $1 AND tenant_id = $2")
                    .bind(id.to_string()).bind(tenant.to_string())
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(group_from_row).transpose()
            }

            async fn group_list(&mut self, tenant: portcullis_types::TenantId, after: Option<&str>, limit: u32) -> Result<Vec<portcullis_core::model::group::Group>, portcullis_core::Error> {
                let rows = $sql::query("SELECT * FROM directory_groups WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3")
                    .bind(tenant.to_string()).bind(after.unwrap_or("")).bind(i64::from(limit))
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(group_from_row).collect()
            }

            async fn group_update(&mut self, g: &portcullis_core::model::group::Group) -> Result<(), portcullis_core::Error> {
                $sql::query("UPDATE directory_groups SET name = $1, description = $2, parent_id = $3, updated_at = $4 WHERE id = $5 AND tenant_id = $6")
                    .bind(&g.name).bind(&g.description).bind(g.parent_id.map(|p| p.to_string()))
                    .bind($crate::convert::micros(g.updated_at)).bind(g.id.to_string()).bind(g.tenant_id.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn group_delete(&mut self, tenant: portcullis_types::TenantId, id: portcullis_types::GroupId) -> Result<bool, portcullis_core::Error> {
                $sql::query("UPDATE directory_groups SET parent_id = (SELECT parent_id FROM directory_groups WHERE id = $1) WHERE parent_id = $1")
                    .bind(id.to_string()).execute(&mut *self.0).await.map_err(map_err)?;
                let done = $sql::query("DELETE FROM directory_groups WHERE id = $1 AND tenant_id = $2")
                    .bind(id.to_string()).bind(tenant.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn group_ancestors(&mut self, id: portcullis_types::GroupId) -> Result<Vec<portcullis_types::GroupId>, portcullis_core::Error> {
                let rows: Vec<(String, i64)> = $sql::query_as(
                    "WITH RECURSIVE up(id, depth) AS (
                        SELECT parent_id, CAST(1 AS BIGINT) FROM directory_groups WHERE id = $1 AND parent_id IS NOT NULL
                        UNION ALL
                        SELECT g.parent_id, up.depth + 1 FROM directory_groups g JOIN up ON g.id = up.id
                        WHERE g.parent_id IS NOT NULL AND up.depth < 1000
                    ) SELECT id, depth FROM up ORDER BY depth")
                    .bind(id.to_string()).fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(|(id, _)| $crate::convert::id(id)).collect()
            }

            async fn group_member_add(&mut self, group: portcullis_types::GroupId, user: portcullis_types::UserId) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(group.to_string()).bind(user.to_string()).execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn group_member_remove(&mut self, group: portcullis_types::GroupId, user: portcullis_types::UserId) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                    .bind(group.to_string()).bind(user.to_string()).execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn group_members(&mut self, group: portcullis_types::GroupId, after: Option<&str>, limit: u32) -> Result<Vec<portcullis_core::model::user::UserRecord>, portcullis_core::Error> {
                let rows = $sql::query("SELECT u.* FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3")
                    .bind(group.to_string()).bind(after.unwrap_or("")).bind(i64::from(limit))
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(user_from_row).collect()
            }
        }
    };
}

macro_rules! role_repo {
    ($Tx:ident, $sql:ident) => {
        fn role_from_row(row: &$sql::Row) -> Result<portcullis_core::model::role::Role, portcullis_core::Error> {
            use $sql::RowTrait as _;
            Ok(portcullis_core::model::role::Role {
                id: $crate::convert::id(&row.try_get::<String, _>("id").map_err(map_err)?)?,
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                name: row.try_get("name").map_err(map_err)?,
                client_id: row.try_get("client_id").map_err(map_err)?,
                description: row.try_get("description").map_err(map_err)?,
                composites: Vec::new(),
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                updated_at: $crate::convert::instant(row.try_get("updated_at").map_err(map_err)?),
            })
        }

        impl $Tx {
            async fn write_composites(&mut self, role: &portcullis_core::model::role::Role) -> Result<(), portcullis_core::Error> {
                $sql::query("DELETE FROM role_composites WHERE role_id = $1")
                    .bind(role.id.to_string()).execute(&mut *self.0).await.map_err(map_err)?;
                for child in &role.composites {
                    $sql::query("INSERT INTO role_composites (role_id, child_id) VALUES ($1, $2)")
                        .bind(role.id.to_string()).bind(child.to_string())
                        .execute(&mut *self.0).await.map_err(map_err)?;
                }
                Ok(())
            }

            async fn assignments(&mut self, sql: &str, owner: String, now: time::OffsetDateTime) -> Result<Vec<portcullis_core::model::role::RoleAssignment>, portcullis_core::Error> {
                let rows: Vec<(String, String, Option<i64>)> = $sql::query_as(sql)
                    .bind(owner).bind($crate::convert::micros(now))
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.into_iter().map(|(id, name, expires)| Ok(portcullis_core::model::role::RoleAssignment {
                    role_id: $crate::convert::id(&id)?,
                    role_name: name,
                    expires_at: $crate::convert::opt_instant(expires),
                })).collect()
            }
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::RoleRepo for $Tx {
            async fn role_insert(&mut self, r: &portcullis_core::model::role::Role) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO roles (id, tenant_id, name, description, created_at, updated_at, client_id) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(r.id.to_string()).bind(r.tenant_id.to_string()).bind(&r.name).bind(&r.description)
                    .bind($crate::convert::micros(r.created_at)).bind($crate::convert::micros(r.updated_at)).bind(&r.client_id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                self.write_composites(r).await
            }

            async fn role_get(&mut self, tenant: portcullis_types::TenantId, id: portcullis_types::RoleId) -> Result<Option<portcullis_core::model::role::Role>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM roles WHERE id = $1 AND tenant_id = $2")
                    .bind(id.to_string()).bind(tenant.to_string())
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                let Some(row) = row else { return Ok(None) };
                let mut role = role_from_row(&row)?;
                let children: Vec<(String,)> = $sql::query_as("SELECT child_id FROM role_composites WHERE role_id = $1 ORDER BY child_id")
                    .bind(id.to_string()).fetch_all(&mut *self.0).await.map_err(map_err)?;
                role.composites = children.iter().map(|(c,)| $crate::convert::id(c)).collect::<Result<_, _>>()?;
                Ok(Some(role))
            }

            async fn role_list(&mut self, tenant: portcullis_types::TenantId, after: Option<&str>, limit: u32) -> Result<Vec<portcullis_core::model::role::Role>, portcullis_core::Error> {
                let rows = $sql::query("SELECT * FROM roles WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3")
                    .bind(tenant.to_string()).bind(after.unwrap_or("")).bind(i64::from(limit))
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                let mut roles = rows.iter().map(role_from_row).collect::<Result<Vec<_>, _>>()?;
                let (Some(first), Some(last)) = (roles.first(), roles.last()) else { return Ok(roles) };
                let links: Vec<(String, String)> = $sql::query_as("SELECT c.role_id, c.child_id FROM role_composites c JOIN roles r ON r.id = c.role_id WHERE r.tenant_id = $1 AND c.role_id >= $2 AND c.role_id <= $3 ORDER BY c.child_id")
                    .bind(tenant.to_string()).bind(first.id.to_string()).bind(last.id.to_string())
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                for (parent, child) in links {
                    let parent: portcullis_types::RoleId = $crate::convert::id(&parent)?;
                    if let Some(role) = roles.iter_mut().find(|r| r.id == parent) {
                        role.composites.push($crate::convert::id(&child)?);
                    }
                }
                Ok(roles)
            }

            async fn role_update(&mut self, r: &portcullis_core::model::role::Role) -> Result<(), portcullis_core::Error> {
                $sql::query("UPDATE roles SET name = $1, description = $2, updated_at = $3 WHERE id = $4 AND tenant_id = $5")
                    .bind(&r.name).bind(&r.description).bind($crate::convert::micros(r.updated_at))
                    .bind(r.id.to_string()).bind(r.tenant_id.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                self.write_composites(r).await
            }

            async fn roles_of_client_delete(&mut self, tenant: portcullis_types::TenantId, client_id: &str) -> Result<u64, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM roles WHERE tenant_id = $1 AND client_id = $2")
                    .bind(tenant.to_string()).bind(client_id)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn role_delete(&mut self, tenant: portcullis_types::TenantId, id: portcullis_types::RoleId) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM roles WHERE id = $1 AND tenant_id = $2")
                    .bind(id.to_string()).bind(tenant.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn role_descendants(&mut self, id: portcullis_types::RoleId) -> Result<Vec<portcullis_types::RoleId>, portcullis_core::Error> {
                let rows: Vec<(String,)> = $sql::query_as(
                    "WITH RECURSIVE down(id) AS (
                        SELECT child_id FROM role_composites WHERE role_id = $1
                        UNION
                        SELECT c.child_id FROM role_composites c JOIN down ON c.role_id = down.id
                    ) SELECT id FROM down")
                    .bind(id.to_string()).fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(|(id,)| $crate::convert::id(id)).collect()
            }

            async fn user_role_assign(&mut self, user: portcullis_types::UserId, role: portcullis_types::RoleId, expires_at: Option<time::OffsetDateTime>) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO user_roles (user_id, role_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (user_id, role_id) DO UPDATE SET expires_at = excluded.expires_at")
                    .bind(user.to_string()).bind(role.to_string()).bind(expires_at.map($crate::convert::micros))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn user_role_unassign(&mut self, user: portcullis_types::UserId, role: portcullis_types::RoleId) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2")
                    .bind(user.to_string()).bind(role.to_string()).execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn group_role_assign(&mut self, group: portcullis_types::GroupId, role: portcullis_types::RoleId, expires_at: Option<time::OffsetDateTime>) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO group_roles (group_id, role_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (group_id, role_id) DO UPDATE SET expires_at = excluded.expires_at")
                    .bind(group.to_string()).bind(role.to_string()).bind(expires_at.map($crate::convert::micros))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn group_role_unassign(&mut self, group: portcullis_types::GroupId, role: portcullis_types::RoleId) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("DELETE FROM group_roles WHERE group_id = $1 AND role_id = $2")
                    .bind(group.to_string()).bind(role.to_string()).execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn user_roles(&mut self, user: portcullis_types::UserId, now: time::OffsetDateTime) -> Result<Vec<portcullis_core::model::role::RoleAssignment>, portcullis_core::Error> {
                self.assignments("SELECT r.id, r.name, a.expires_at FROM user_roles a JOIN roles r ON r.id = a.role_id WHERE a.user_id = $1 AND (a.expires_at IS NULL OR a.expires_at > $2) ORDER BY r.name", user.to_string(), now).await
            }

            async fn group_roles(&mut self, group: portcullis_types::GroupId, now: time::OffsetDateTime) -> Result<Vec<portcullis_core::model::role::RoleAssignment>, portcullis_core::Error> {
                self.assignments("SELECT r.id, r.name, a.expires_at FROM group_roles a JOIN roles r ON r.id = a.role_id WHERE a.group_id = $1 AND (a.expires_at IS NULL OR a.expires_at > $2) ORDER BY r.name", group.to_string(), now).await
            }

            async fn user_effective(&mut self, user: portcullis_types::UserId, now: time::OffsetDateTime) -> Result<portcullis_core::model::role::EffectiveAccess, portcullis_core::Error> {
                use portcullis_core::model::role::{EffectiveAccess, EffectiveGroup, EffectiveRole};
                // One query: the user's groups and their ancestors; roles granted directly or to
                // any of those groups, unexpired; then every role those include.
                let rows: Vec<(String, String, String, i64, Option<String>)> = $sql::query_as(
                    "WITH RECURSIVE
                        user_groups(group_id, direct, depth) AS (
                            SELECT group_id, CAST(1 AS BIGINT), CAST(0 AS BIGINT) FROM group_members WHERE user_id = $1
                            UNION ALL
                            SELECT g.parent_id, CAST(0 AS BIGINT), ug.depth + 1 FROM directory_groups g JOIN user_groups ug ON g.id = ug.group_id
                            WHERE g.parent_id IS NOT NULL AND ug.depth < 1000
                        ),
                        granted(role_id) AS (
                            SELECT role_id FROM user_roles WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2)
                            UNION
                            SELECT gr.role_id FROM group_roles gr JOIN user_groups ug ON gr.group_id = ug.group_id
                            WHERE gr.expires_at IS NULL OR gr.expires_at > $2
                        ),
                        all_roles(role_id) AS (
                            SELECT role_id FROM granted
                            UNION
                            SELECT c.child_id FROM role_composites c JOIN all_roles a ON c.role_id = a.role_id
                        )
                    SELECT 'group' AS kind, g.id, g.name, MAX(ug.direct) AS direct, CAST(NULL AS TEXT) AS client_id
                        FROM user_groups ug JOIN directory_groups g ON g.id = ug.group_id GROUP BY g.id, g.name
                    UNION ALL
                    SELECT 'role' AS kind, r.id, r.name, CAST(0 AS BIGINT), r.client_id FROM all_roles a JOIN roles r ON r.id = a.role_id
                    ORDER BY 1, 3")
                    .bind(user.to_string()).bind($crate::convert::micros(now))
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                let mut access = EffectiveAccess { groups: Vec::new(), roles: Vec::new() };
                for (kind, id, name, direct, client_id) in rows {
                    if kind == "group" {
                        access.groups.push(EffectiveGroup { id: $crate::convert::id(&id)?, name, direct: direct == 1 });
                    } else {
                        access.roles.push(EffectiveRole { id: $crate::convert::id(&id)?, name, client_id });
                    }
                }
                Ok(access)
            }
        }
    };
}

macro_rules! token_repo {
    ($Tx:ident, $sql:ident) => {
        fn token_from_row(row: &$sql::Row) -> Result<portcullis_core::model::token::TokenRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            let access: String = row.try_get("access").map_err(map_err)?;
            let tenant: Option<String> = row.try_get("tenant").map_err(map_err)?;
            Ok(portcullis_core::model::token::TokenRecord {
                id: $crate::convert::id(&row.try_get::<String, _>("id").map_err(map_err)?)?,
                name: row.try_get("name").map_err(map_err)?,
                digest: row.try_get("digest").map_err(map_err)?,
                tenant: tenant.as_deref().map(portcullis_types::TenantName::parse).transpose()
                    .map_err(|e| portcullis_core::Error::internal(format!("stored token tenant: {e}")))?,
                access: portcullis_core::model::token::Access::parse(&access)
                    .ok_or_else(|| portcullis_core::Error::internal(format!("stored access {access}")))?,
                created_by: row.try_get("created_by").map_err(map_err)?,
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                expires_at: $crate::convert::opt_instant(row.try_get("expires_at").map_err(map_err)?),
                revoked_at: $crate::convert::opt_instant(row.try_get("revoked_at").map_err(map_err)?),
            })
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::TokenRepo for $Tx {
            async fn token_insert(&mut self, t: &portcullis_core::model::token::TokenRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO admin_tokens (id, name, digest, tenant, access, created_by, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(t.id.to_string()).bind(&t.name).bind(&t.digest)
                    .bind(t.tenant.as_ref().map(|n| n.as_str().to_owned()))
                    .bind(t.access.as_str()).bind(&t.created_by)
                    .bind($crate::convert::micros(t.created_at))
                    .bind(t.expires_at.map($crate::convert::micros))
                    .bind(t.revoked_at.map($crate::convert::micros))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn token_by_digest(&mut self, digest: &[u8]) -> Result<Option<portcullis_core::model::token::TokenRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM admin_tokens WHERE digest = $1").bind(digest)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(token_from_row).transpose()
            }

            async fn token_get(&mut self, id: portcullis_types::TokenId) -> Result<Option<portcullis_core::model::token::TokenRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM admin_tokens WHERE id = $1").bind(id.to_string())
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(token_from_row).transpose()
            }

            async fn token_list(&mut self, tenant: Option<&str>, after: Option<&str>, limit: u32) -> Result<Vec<portcullis_core::model::token::TokenRecord>, portcullis_core::Error> {
                let mut query = $sql::QueryBuilder::new("SELECT * FROM admin_tokens WHERE id > ");
                query.push_bind(after.unwrap_or("").to_owned());
                if let Some(tenant) = tenant {
                    query.push(" AND tenant = ").push_bind(tenant.to_owned());
                }
                query.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
                let rows = query.build().fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(token_from_row).collect()
            }

            async fn token_revoke(&mut self, id: portcullis_types::TokenId, at: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("UPDATE admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind($crate::convert::micros(at)).bind(id.to_string())
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}
