//! Tenants: create, list, get, update, delete.

use portcullis_types::TenantId;
use serde_json::Value;

use super::audit::Change;
use super::{Principal, Services};
use crate::error::{Error, Result};
use crate::model::page::{Page, decode_cursor, into_page, page_size};
use crate::model::tenant::{NewTenant, Tenant, TenantChanges, TenantProfile, TenantRecord};
use crate::model::token::Access;

/// The tenant Portcullis administers itself from; it cannot be deleted.
pub const ADMIN_TENANT: &str = "admin";

fn check_display_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(Error::invalid("display_name", "must be 1 to 200 characters without control characters"));
    }
    Ok(())
}

impl Services {
    /// `POST /admin/v1/tenants`.
    pub async fn create_tenant(&self, who: &Principal, new: NewTenant) -> Result<Tenant> {
        who.require(None, Access::Write)?;
        let display_name = new.display_name.unwrap_or_else(|| new.name.to_string());
        check_display_name(&display_name)?;
        let now = self.clock.now();
        let id = TenantId::new();
        let (_, wrapped_key) = self.keys.new_tenant_key(id)?;
        let record = TenantRecord {
            id,
            name: new.name,
            display_name,
            profile: new.profile.unwrap_or(TenantProfile::Workforce),
            wrapped_key,
            created_at: now,
            updated_at: now,
        };
        let tenant = Tenant::from(&record);
        let mut tx = self.store.write().await?;
        tx.tenant_insert(&record).await?;
        self.ensure_signing_keys(&mut tx, &record).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "tenant.create",
                tenant: Some(record.name.as_str()),
                target_type: "tenant",
                target_id: Some(id.to_string()),
                before: None,
                after: Some(serde_json::to_value(&tenant)?),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(tenant)
    }

    /// `GET /admin/v1/tenants`: all tenants for a global token, its own for a scoped one.
    pub async fn list_tenants(
        &self,
        who: &Principal,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Tenant>> {
        let limit = page_size(limit)?;
        let after = decode_cursor(cursor)?;
        let mut tx = self.store.read().await?;
        let records = match who.tenant() {
            None => {
                who.require(None, Access::Read)?;
                tx.tenant_list(after.as_deref(), limit + 1).await?
            }
            Some(own) => {
                let own = tx.tenant_by_name(own.as_str()).await?;
                own.into_iter().filter(|t| after.as_deref() < Some(t.name.as_str())).collect()
            }
        };
        let tenants = records.iter().map(Tenant::from).collect();
        Ok(into_page(tenants, limit, |t: &Tenant| t.name.to_string()))
    }

    /// `GET /admin/v1/tenants/{tenant}`.
    pub async fn get_tenant(&self, who: &Principal, name: &str) -> Result<Tenant> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, name, Access::Read).await?;
        Ok(Tenant::from(&record))
    }

    /// `PATCH /admin/v1/tenants/{tenant}`.
    pub async fn update_tenant(&self, who: &Principal, name: &str, changes: TenantChanges) -> Result<Tenant> {
        if let Some(display_name) = &changes.display_name {
            check_display_name(display_name)?;
        }
        let mut tx = self.store.write().await?;
        let mut record = self.tenant_for(&mut tx, who, name, Access::Write).await?;
        let before = serde_json::to_value(Tenant::from(&record))?;
        if let Some(display_name) = changes.display_name {
            record.display_name = display_name;
        }
        if let Some(profile) = changes.profile {
            record.profile = profile;
        }
        record.updated_at = self.clock.now();
        tx.tenant_update(&record).await?;
        let tenant = Tenant::from(&record);
        self.record(
            &mut tx,
            who,
            Change {
                action: "tenant.update",
                tenant: Some(name),
                target_type: "tenant",
                target_id: Some(record.id.to_string()),
                before: Some(before),
                after: Some(serde_json::to_value(&tenant)?),
            },
        )
        .await?;
        tx.commit().await?;
        self.changed("tenant.update", Some(name), Some(record.id.to_string()));
        Ok(tenant)
    }

    /// `DELETE /admin/v1/tenants/{tenant}`: deletes the tenant and everything in it. Needs a
    /// global write token; the `admin` tenant cannot be deleted.
    pub async fn delete_tenant(&self, who: &Principal, name: &str) -> Result<()> {
        who.require(None, Access::Write)?;
        if name == ADMIN_TENANT {
            return Err(Error::conflict("admin_tenant", "the admin tenant cannot be deleted"));
        }
        let mut tx = self.store.write().await?;
        let record = tx.tenant_by_name(name).await?.ok_or(Error::NotFound("tenant"))?;
        tx.tenant_delete(record.id).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "tenant.delete",
                tenant: Some(name),
                target_type: "tenant",
                target_id: Some(record.id.to_string()),
                before: Some(serde_json::to_value(Tenant::from(&record))?),
                after: None::<Value>,
            },
        )
        .await?;
        tx.commit().await?;
        self.changed("tenant.delete", Some(name), Some(record.id.to_string()));
        self.authz.forget(record.id);
        Ok(())
    }
}
