//! Roles, composites and assignments.

use portcullis_types::{GroupId, RoleId, UserId};
use serde_json::json;

use super::audit::Change;
use super::groups::{check_description, check_name};
use super::{Principal, Services};
use crate::error::{Error, Result};
use crate::model::page::{Page, decode_cursor, into_page, page_size};
use crate::model::role::{AssignRole, EffectiveAccess, NewRole, Role, RoleAssignment, RoleChanges};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::store::StoreTx;

/// Who receives a role.
#[derive(Debug, Clone, Copy)]
pub enum Assignee {
    User(UserId),
    Group(GroupId),
}

impl Services {
    async fn role_in(&self, tx: &mut Box<dyn StoreTx>, tenant: &TenantRecord, id: RoleId) -> Result<Role> {
        tx.role_get(tenant.id, id).await?.ok_or(Error::NotFound("role"))
    }

    /// Checks that every composite exists in the tenant and that none includes `role`
    /// (which would make a cycle).
    async fn check_composites(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        role: Option<RoleId>,
        composites: &mut Vec<RoleId>,
    ) -> Result<()> {
        composites.sort();
        composites.dedup();
        if composites.len() > 100 {
            return Err(Error::invalid("composites", "at most 100 roles"));
        }
        for composite in composites.iter() {
            if tx.role_get(tenant.id, *composite).await?.is_none() {
                return Err(Error::invalid("composites", format!("no role {composite} in this tenant")));
            }
            if let Some(role) = role
                && (*composite == role || tx.role_descendants(*composite).await?.contains(&role))
            {
                return Err(Error::invalid("composites", "a role cannot include itself, directly or through others"));
            }
        }
        Ok(())
    }

    /// `POST …/roles`.
    pub async fn create_role(&self, who: &Principal, tenant: &str, new: NewRole) -> Result<Role> {
        check_name("name", &new.name)?;
        check_description(new.description.as_ref())?;
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let mut composites = new.composites;
        self.check_composites(&mut tx, &tenant_record, None, &mut composites).await?;
        if let Some(client_id) = &new.client_id
            && tx.client_get(tenant_record.id, client_id).await?.is_none()
        {
            return Err(Error::invalid("client_id", "no such client in this tenant"));
        }
        let now = self.clock.now();
        let role = Role {
            id: RoleId::new(),
            tenant_id: tenant_record.id,
            name: new.name,
            client_id: new.client_id,
            description: new.description,
            composites,
            created_at: now,
            updated_at: now,
        };
        tx.role_insert(&role).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "role.create",
                tenant: Some(tenant),
                target_type: "role",
                target_id: Some(role.id.to_string()),
                before: None,
                after: Some(json!(role)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(role)
    }

    /// `GET …/roles/{id}`.
    pub async fn get_role(&self, who: &Principal, tenant: &str, id: RoleId) -> Result<Role> {
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        self.role_in(&mut tx, &tenant_record, id).await
    }

    /// `GET …/roles`.
    pub async fn list_roles(
        &self,
        who: &Principal,
        tenant: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Role>> {
        let limit = page_size(limit)?;
        let after = decode_cursor(cursor)?;
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let roles = tx.role_list(tenant_record.id, after.as_deref(), limit + 1).await?;
        Ok(into_page(roles, limit, |r: &Role| r.id.to_string()))
    }

    /// `PATCH …/roles/{id}`.
    pub async fn update_role(&self, who: &Principal, tenant: &str, id: RoleId, changes: RoleChanges) -> Result<Role> {
        if let Some(name) = &changes.name {
            check_name("name", name)?;
        }
        if let Some(description) = &changes.description {
            check_description(description.as_ref())?;
        }
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let mut role = self.role_in(&mut tx, &tenant_record, id).await?;
        let before = json!(role);
        if let Some(mut composites) = changes.composites {
            self.check_composites(&mut tx, &tenant_record, Some(id), &mut composites).await?;
            role.composites = composites;
        }
        if let Some(name) = changes.name {
            role.name = name;
        }
        if let Some(description) = changes.description {
            role.description = description;
        }
        role.updated_at = self.clock.now();
        tx.role_update(&role).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "role.update",
                tenant: Some(tenant),
                target_type: "role",
                target_id: Some(id.to_string()),
                before: Some(before),
                after: Some(json!(role)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(role)
    }

    /// `DELETE …/roles/{id}`: also removes it from composites and assignments.
    pub async fn delete_role(&self, who: &Principal, tenant: &str, id: RoleId) -> Result<()> {
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let role = self.role_in(&mut tx, &tenant_record, id).await?;
        tx.role_delete(tenant_record.id, id).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "role.delete",
                tenant: Some(tenant),
                target_type: "role",
                target_id: Some(id.to_string()),
                before: Some(json!(role)),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// `PUT …/users/{id}/roles/{role}` and `PUT …/groups/{id}/roles/{role}`: assigns, or
    /// changes the expiry of an existing assignment.
    pub async fn assign_role(
        &self,
        who: &Principal,
        tenant: &str,
        to: Assignee,
        role: RoleId,
        body: AssignRole,
    ) -> Result<RoleAssignment> {
        let now = self.clock.now();
        if body.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::invalid("expires_at", "must be in the future"));
        }
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let role_record = self.role_in(&mut tx, &tenant_record, role).await?;
        let (target_type, target_id) = match to {
            Assignee::User(user) => {
                tx.user_get(tenant_record.id, user).await?.ok_or(Error::NotFound("user"))?;
                tx.user_role_assign(user, role, body.expires_at).await?;
                ("user", user.to_string())
            }
            Assignee::Group(group) => {
                tx.group_get(tenant_record.id, group).await?.ok_or(Error::NotFound("group"))?;
                tx.group_role_assign(group, role, body.expires_at).await?;
                ("group", group.to_string())
            }
        };
        let assignment = RoleAssignment { role_id: role, role_name: role_record.name, expires_at: body.expires_at };
        self.record(
            &mut tx,
            who,
            Change {
                action: "role.assign",
                tenant: Some(tenant),
                target_type,
                target_id: Some(target_id),
                before: None,
                after: Some(json!(assignment)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(assignment)
    }

    /// `DELETE …/users/{id}/roles/{role}` and `DELETE …/groups/{id}/roles/{role}`.
    pub async fn unassign_role(&self, who: &Principal, tenant: &str, from: Assignee, role: RoleId) -> Result<()> {
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        self.role_in(&mut tx, &tenant_record, role).await?;
        let (removed, target_type, target_id) = match from {
            Assignee::User(user) => {
                tx.user_get(tenant_record.id, user).await?.ok_or(Error::NotFound("user"))?;
                (tx.user_role_unassign(user, role).await?, "user", user.to_string())
            }
            Assignee::Group(group) => {
                tx.group_get(tenant_record.id, group).await?.ok_or(Error::NotFound("group"))?;
                (tx.group_role_unassign(group, role).await?, "group", group.to_string())
            }
        };
        if !removed {
            return Err(Error::NotFound("role assignment"));
        }
        self.record(
            &mut tx,
            who,
            Change {
                action: "role.unassign",
                tenant: Some(tenant),
                target_type,
                target_id: Some(target_id),
                before: Some(json!({"role_id": role})),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// `GET …/users/{id}/roles` and `GET …/groups/{id}/roles`: direct, unexpired assignments.
    pub async fn list_assignments(&self, who: &Principal, tenant: &str, of: Assignee) -> Result<Vec<RoleAssignment>> {
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let now = self.clock.now();
        match of {
            Assignee::User(user) => {
                tx.user_get(tenant_record.id, user).await?.ok_or(Error::NotFound("user"))?;
                tx.user_roles(user, now).await
            }
            Assignee::Group(group) => {
                tx.group_get(tenant_record.id, group).await?.ok_or(Error::NotFound("group"))?;
                tx.group_roles(group, now).await
            }
        }
    }

    /// `GET …/users/{id}/effective`: every group and role the user holds, in one query.
    pub async fn effective_access(&self, who: &Principal, tenant: &str, user: UserId) -> Result<EffectiveAccess> {
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        tx.user_get(tenant_record.id, user).await?.ok_or(Error::NotFound("user"))?;
        tx.user_effective(user, self.clock.now()).await
    }
}
