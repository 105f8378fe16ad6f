//! Groups and membership.

use portcullis_types::{GroupId, UserId};
use serde_json::json;

use super::audit::Change;
use super::{Principal, Services};
use crate::error::{Error, Result};
use crate::model::group::{Group, GroupChanges, NewGroup};
use crate::model::page::{Page, decode_cursor, into_page, page_size};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::model::user::User;
use crate::store::StoreTx;

pub(crate) fn check_name(field: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() || name.trim() != name || name.chars().count() > 255 || name.chars().any(char::is_control)
    {
        return Err(Error::invalid(
            field,
            "must be 1 to 255 characters, without control characters or surrounding spaces",
        ));
    }
    Ok(())
}

pub(crate) fn check_description(description: Option<&String>) -> Result<()> {
    if description.is_some_and(|d| d.chars().count() > 1000) {
        return Err(Error::invalid("description", "must be at most 1000 characters"));
    }
    Ok(())
}

impl Services {
    async fn group_in(&self, tx: &mut Box<dyn StoreTx>, tenant: &TenantRecord, id: GroupId) -> Result<Group> {
        tx.group_get(tenant.id, id).await?.ok_or(Error::NotFound("group"))
    }

    /// `POST …/groups`.
    pub async fn create_group(&self, who: &Principal, tenant: &str, new: NewGroup) -> Result<Group> {
        check_name("name", &new.name)?;
        check_description(new.description.as_ref())?;
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        if let Some(parent) = new.parent_id {
            tx.group_get(tenant_record.id, parent)
                .await?
                .ok_or_else(|| Error::invalid("parent_id", "no such group in this tenant"))?;
        }
        let now = self.clock.now();
        let group = Group {
            id: GroupId::new(),
            tenant_id: tenant_record.id,
            name: new.name,
            description: new.description,
            parent_id: new.parent_id,
            created_at: now,
            updated_at: now,
        };
        tx.group_insert(&group).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "group.create",
                tenant: Some(tenant),
                target_type: "group",
                target_id: Some(group.id.to_string()),
                before: None,
                after: Some(json!(group)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// `GET …/groups/{id}`.
    pub async fn get_group(&self, who: &Principal, tenant: &str, id: GroupId) -> Result<Group> {
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        self.group_in(&mut tx, &tenant_record, id).await
    }

    /// `GET …/groups`.
    pub async fn list_groups(
        &self,
        who: &Principal,
        tenant: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Group>> {
        let limit = page_size(limit)?;
        let after = decode_cursor(cursor)?;
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let groups = tx.group_list(tenant_record.id, after.as_deref(), limit + 1).await?;
        Ok(into_page(groups, limit, |g: &Group| g.id.to_string()))
    }

    /// `PATCH …/groups/{id}`. Moving a group under itself or one of its subgroups is refused.
    pub async fn update_group(
        &self,
        who: &Principal,
        tenant: &str,
        id: GroupId,
        changes: GroupChanges,
    ) -> Result<Group> {
        if let Some(name) = &changes.name {
            check_name("name", name)?;
        }
        if let Some(description) = &changes.description {
            check_description(description.as_ref())?;
        }
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let mut group = self.group_in(&mut tx, &tenant_record, id).await?;
        let before = json!(group);
        if let Some(Some(parent)) = changes.parent_id {
            self.group_in(&mut tx, &tenant_record, parent)
                .await
                .map_err(|_| Error::invalid("parent_id", "no such group in this tenant"))?;
            if parent == id || tx.group_ancestors(parent).await?.contains(&id) {
                return Err(Error::invalid("parent_id", "a group cannot be moved under itself or its subgroups"));
            }
        }
        if let Some(name) = changes.name {
            group.name = name;
        }
        if let Some(description) = changes.description {
            group.description = description;
        }
        if let Some(parent) = changes.parent_id {
            group.parent_id = parent;
        }
        group.updated_at = self.clock.now();
        tx.group_update(&group).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "group.update",
                tenant: Some(tenant),
                target_type: "group",
                target_id: Some(id.to_string()),
                before: Some(before),
                after: Some(json!(group)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// `DELETE …/groups/{id}`: subgroups move up to the deleted group's parent.
    pub async fn delete_group(&self, who: &Principal, tenant: &str, id: GroupId) -> Result<()> {
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let group = self.group_in(&mut tx, &tenant_record, id).await?;
        tx.group_delete(tenant_record.id, id).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "group.delete",
                tenant: Some(tenant),
                target_type: "group",
                target_id: Some(id.to_string()),
                before: Some(json!(group)),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// `PUT …/groups/{id}/members/{user}` (`add = true`) and `DELETE` (`add = false`).
    pub async fn set_group_member(
        &self,
        who: &Principal,
        tenant: &str,
        group: GroupId,
        user: UserId,
        add: bool,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        self.group_in(&mut tx, &tenant_record, group).await?;
        tx.user_get(tenant_record.id, user).await?.ok_or(Error::NotFound("user"))?;
        let changed =
            if add { tx.group_member_add(group, user).await? } else { tx.group_member_remove(group, user).await? };
        if !changed {
            return if add { Ok(()) } else { Err(Error::NotFound("membership")) };
        }
        self.record(
            &mut tx,
            who,
            Change {
                action: if add { "group.member.add" } else { "group.member.remove" },
                tenant: Some(tenant),
                target_type: "group",
                target_id: Some(group.to_string()),
                before: None,
                after: Some(json!({"user_id": user})),
            },
        )
        .await?;
        tx.commit().await
    }

    /// `GET …/groups/{id}/members`: direct members.
    pub async fn list_group_members(
        &self,
        who: &Principal,
        tenant: &str,
        group: GroupId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<User>> {
        let limit = page_size(limit)?;
        let after = decode_cursor(cursor)?;
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        self.group_in(&mut tx, &tenant_record, group).await?;
        let schema = self.schema_of(&mut tx, &tenant_record, true).await?;
        let records = tx.group_members(group, after.as_deref(), limit + 1).await?;
        // Member lists show plain attributes only: opening every member's sealed data for a
        // listing would widen who sees sensitive values for no need.
        let users = records
            .iter()
            .map(|r| {
                let mut plain = r.clone();
                plain.sealed = None;
                super::user_codec::open(&schema, &plain, None)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(into_page(users, limit, |u: &User| u.id.to_string()))
    }
}
