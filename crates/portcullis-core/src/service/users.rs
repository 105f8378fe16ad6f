//! Users: create, read, update (JSON merge patch), delete, list, passwords, status.

use std::sync::Arc;

use portcullis_crypto::envelope::Key;
use portcullis_crypto::password::{self, Verification, check_password_rules};
use portcullis_types::UserId;
use serde_json::{Value, json};

use super::audit::Change;
use super::claims::login_key;
use super::schema::CompiledSchema;
use super::user_codec::{self, Base, PreparedUser};
use super::{Principal, Services};
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::model::from_json;
use crate::model::page::{Page, decode_cursor, into_page, page_size};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::model::user::{SetPassword, User, UserDocument, UserFilter, UserRecord, UserStatus};
use crate::store::StoreTx;

/// Query parameters of `GET …/users`.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub username: Option<String>,
    pub email: Option<String>,
    pub status: Option<UserStatus>,
    /// `name:value` of a non-sensitive custom attribute.
    pub attribute: Option<String>,
}

impl Services {
    pub(crate) fn tenant_key(&self, tenant: &TenantRecord) -> Result<Key> {
        self.keys.tenant_key(tenant.id, &tenant.wrapped_key)
    }

    /// The tenant's compiled schema: from the cache for reads (`cached`), from the
    /// transaction for writes.
    pub(crate) async fn schema_of(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        cached: bool,
    ) -> Result<Arc<CompiledSchema>> {
        let now = self.clock.now();
        if cached && let Some(schema) = self.caches.schema(tenant.name.as_str(), now) {
            return Ok(schema);
        }
        let schema = Arc::new(CompiledSchema::new(tx.schema_get(tenant.id).await?)?);
        if cached {
            self.caches.put_schema(tenant.name.as_str(), schema.clone(), now);
        }
        Ok(schema)
    }

    async fn user_key(&self, tx: &mut Box<dyn StoreTx>, tenant_key: &Key, record: &UserRecord) -> Result<Option<Key>> {
        match tx.user_key_get(record.id).await? {
            Some(wrapped) => Ok(Some(KeyRing::user_key(tenant_key, record.id, &wrapped)?)),
            None => Ok(None),
        }
    }

    /// The stored hash for a new password: argon2id on the bounded pool, or an imported hash
    /// checked for format and bounds. At most one of the two may be given.
    pub(crate) async fn password_to_store(
        &self,
        plain: Option<String>,
        imported: Option<password::ImportedHash>,
    ) -> Result<Option<String>> {
        match (plain, imported) {
            (Some(_), Some(_)) => {
                Err(Error::invalid("password_hash", "give either password or password_hash, not both"))
            }
            (Some(plain), None) => {
                check_password_rules(&plain).map_err(|e| Error::invalid("password", e.to_string()))?;
                let hash = self.hash_pool.run(move || password::hash_password(&plain)).await?;
                hash.map(Some).map_err(Error::internal)
            }
            (None, Some(imported)) => {
                imported.into_stored().map(Some).map_err(|e| Error::invalid("password_hash", e.to_string()))
            }
            (None, None) => Ok(None),
        }
    }

    /// Writes a prepared user: the row, a new data key, unique values, and the password.
    pub(crate) async fn store_new_user(
        &self,
        tx: &mut Box<dyn StoreTx>,
        prepared: &PreparedUser,
        password_hash: Option<&str>,
    ) -> Result<()> {
        tx.user_insert(&prepared.record).await?;
        if let Some(wrapped) = &prepared.new_wrapped_key {
            tx.user_key_put(prepared.record.id, wrapped).await?;
        }
        if !prepared.unique_values.is_empty() {
            tx.unique_values_replace(prepared.record.tenant_id, prepared.record.id, &prepared.unique_values).await?;
        }
        if let Some(hash) = password_hash {
            tx.password_set(prepared.record.id, hash, prepared.record.created_at).await?;
        }
        Ok(())
    }

    /// `POST …/users`.
    pub async fn create_user(&self, who: &Principal, tenant: &str, mut doc: UserDocument) -> Result<User> {
        who.require(Some(tenant), Access::Write)?;
        if let Some(plain) = &doc.password {
            let words = [
                Some(&doc.username),
                doc.email.as_ref(),
                doc.name.as_ref(),
                doc.given_name.as_ref(),
                doc.family_name.as_ref(),
            ];
            let inputs = words.into_iter().flatten().cloned().collect();
            self.check_tenant_password(who, tenant, plain, inputs).await?;
        }
        let hash = self.password_to_store(doc.password.take(), doc.password_hash.take()).await?;
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let schema = self.schema_of(&mut tx, &tenant_record, false).await?;
        let tenant_key = self.tenant_key(&tenant_record)?;
        let base = Base::New { id: UserId::new(), tenant: tenant_record.id, now: self.clock.now() };
        let prepared = user_codec::prepare(&schema, &tenant_key, &doc, base)?;
        self.store_new_user(&mut tx, &prepared, hash.as_deref()).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "user.create",
                tenant: Some(tenant),
                target_type: "user",
                target_id: Some(prepared.record.id.to_string()),
                before: None,
                after: Some(user_codec::masked(&schema, &prepared.view)?),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(prepared.view)
    }

    pub(crate) async fn load_user(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        id: UserId,
        cached: bool,
        read: Option<UserRecord>,
    ) -> Result<(UserRecord, User, Arc<CompiledSchema>, Key, Option<Key>)> {
        let record = match read {
            Some(record) => record,
            None => tx.user_get(tenant.id, id).await?.ok_or(Error::NotFound("user"))?,
        };
        let schema = self.schema_of(tx, tenant, cached).await?;
        let tenant_key = self.tenant_key(tenant)?;
        // Only sealed attributes need the user's data key; readers of the rest skip a query.
        let user_key =
            if record.sealed.is_some() || !cached { self.user_key(tx, &tenant_key, &record).await? } else { None };
        let user = user_codec::open(&schema, &record, user_key.as_ref())?;
        Ok((record, user, schema, tenant_key, user_key))
    }

    /// `GET …/users/{id}`.
    pub async fn get_user(&self, who: &Principal, tenant: &str, id: UserId) -> Result<User> {
        let mut tx = self.store.read().await?;
        let tenant = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        Ok(self.load_user(&mut tx, &tenant, id, true, None).await?.1)
    }

    /// `PATCH …/users/{id}`: a JSON merge patch (RFC 7396) of the user document. Passwords
    /// change through `PUT …/password` only.
    pub async fn update_user(&self, who: &Principal, tenant: &str, id: UserId, patch: Value) -> Result<User> {
        let Value::Object(changes) = &patch else {
            return Err(Error::invalid("", "a merge patch must be a JSON object"));
        };
        for field in ["password", "password_hash", "id", "created_at", "updated_at"] {
            if changes.contains_key(field) {
                return Err(Error::invalid(field, "cannot be changed by PATCH"));
            }
        }
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let (record, current, schema, tenant_key, user_key) =
            self.load_user(&mut tx, &tenant_record, id, false, None).await?;
        let mut document = user_codec::document_value(&current)?;
        user_codec::merge_patch(&mut document, &patch);
        let doc: UserDocument = from_json(document)?;
        let base = Base::Existing { record: &record, user_key, now: self.clock.now() };
        let prepared = user_codec::prepare(&schema, &tenant_key, &doc, base)?;
        tx.user_update(&prepared.record).await?;
        if let Some(wrapped) = &prepared.new_wrapped_key {
            tx.user_key_put(id, wrapped).await?;
        }
        tx.unique_values_replace(tenant_record.id, id, &prepared.unique_values).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "user.update",
                tenant: Some(tenant),
                target_type: "user",
                target_id: Some(id.to_string()),
                before: Some(user_codec::masked(&schema, &current)?),
                after: Some(user_codec::masked(&schema, &prepared.view)?),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(prepared.view)
    }

    /// `DELETE …/users/{id}`: deletes the user and destroys their data key (crypto-shredding).
    pub async fn delete_user(&self, who: &Principal, tenant: &str, id: UserId) -> Result<()> {
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let (_, current, schema, _, _) = self.load_user(&mut tx, &tenant_record, id, false, None).await?;
        tx.user_delete(tenant_record.id, id).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "user.delete",
                tenant: Some(tenant),
                target_type: "user",
                target_id: Some(id.to_string()),
                before: Some(user_codec::masked(&schema, &current)?),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// `GET …/users`, filtered and paginated by id.
    pub async fn list_users(
        &self,
        who: &Principal,
        tenant: &str,
        query: UserQuery,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<User>> {
        let limit = page_size(limit)?;
        let after = decode_cursor(cursor)?;
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let schema = self.schema_of(&mut tx, &tenant_record, true).await?;
        let attribute = match query.attribute {
            None => None,
            Some(pair) => {
                let (name, value) =
                    pair.split_once(':').ok_or_else(|| Error::invalid("attribute", "must be name:value"))?;
                match schema.get(name) {
                    Some(d) if !d.sensitive => Some((name.to_owned(), value.to_owned())),
                    Some(_) => return Err(Error::invalid("attribute", "sensitive attributes cannot be searched")),
                    None => return Err(Error::invalid("attribute", "is not in the tenant's user schema")),
                }
            }
        };
        let filter = UserFilter {
            username_key: query.username.as_deref().map(login_key),
            email_key: query.email.as_deref().map(login_key),
            status: query.status,
            attribute,
        };
        let records = tx.user_list(tenant_record.id, &filter, after.as_deref(), limit + 1).await?;
        let tenant_key = self.tenant_key(&tenant_record)?;
        let mut users = Vec::with_capacity(records.len());
        for record in &records {
            let user_key = match record.sealed {
                Some(_) => self.user_key(&mut tx, &tenant_key, record).await?,
                None => None,
            };
            users.push(user_codec::open(&schema, record, user_key.as_ref())?);
        }
        Ok(into_page(users, limit, |u: &User| u.id.to_string()))
    }

    /// `PUT …/users/{id}/password`.
    pub async fn set_password(&self, who: &Principal, tenant: &str, id: UserId, body: SetPassword) -> Result<()> {
        who.require(Some(tenant), Access::Write)?;
        if body.password.is_none() && body.password_hash.is_none() {
            return Err(Error::invalid("password", "give password or password_hash"));
        }
        let imported = body.password_hash.is_some();
        if let Some(plain) = &body.password {
            let user = {
                let mut tx = self.store.read().await?;
                let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
                tx.user_get(record.id, id).await?.ok_or(Error::NotFound("user"))?
            };
            let words = [
                Some(&user.username),
                user.email.as_ref(),
                user.claims.name.as_ref(),
                user.claims.family_name.as_ref(),
            ];
            let inputs = words.into_iter().flatten().cloned().collect();
            self.check_tenant_password(who, tenant, plain, inputs).await?;
        }
        let hash = self.password_to_store(body.password, body.password_hash).await?;
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        tx.user_get(tenant_record.id, id).await?.ok_or(Error::NotFound("user"))?;
        if let Some(hash) = hash {
            tx.password_set(id, &hash, self.clock.now()).await?;
        }
        self.record(
            &mut tx,
            who,
            Change {
                action: "user.password.set",
                tenant: Some(tenant),
                target_type: "user",
                target_id: Some(id.to_string()),
                before: None,
                after: Some(json!({"imported_hash": imported})),
            },
        )
        .await?;
        tx.commit().await
    }

    /// `POST …/users/{id}/disable` and `…/enable`.
    pub async fn set_user_status(&self, who: &Principal, tenant: &str, id: UserId, status: UserStatus) -> Result<User> {
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let (mut record, mut user, _, _, _) = self.load_user(&mut tx, &tenant_record, id, false, None).await?;
        if record.status == status {
            return Ok(user);
        }
        let before = record.status;
        record.status = status;
        record.updated_at = self.clock.now();
        tx.user_update(&record).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: if status == UserStatus::Disabled { "user.disable" } else { "user.enable" },
                tenant: Some(tenant),
                target_type: "user",
                target_id: Some(id.to_string()),
                before: Some(json!({"status": before})),
                after: Some(json!({"status": status})),
            },
        )
        .await?;
        tx.commit().await?;
        user.status = status;
        user.updated_at = record.updated_at;
        Ok(user)
    }

    /// Checks a new password against the policy of the tenant named `tenant`.
    async fn check_tenant_password(
        &self,
        who: &Principal,
        tenant: &str,
        plain: &str,
        inputs: Vec<String>,
    ) -> Result<()> {
        let record = {
            let mut tx = self.store.read().await?;
            self.tenant_for(&mut tx, who, tenant, Access::Read).await?
        };
        self.check_new_password(&record, plain, inputs).await
    }

    /// Checks a password for a login (username or e-mail) of an active user. Unknown users,
    /// users without a password, inactive users and wrong passwords all answer `None` after
    /// the same argon2id work (DESIGN §6). A match on an old or imported format is re-hashed.
    pub async fn check_password(&self, tenant: &str, login: &str, password: String) -> Result<Option<UserId>> {
        let mut tx = self.store.read().await?;
        let tenant_record = self.cached_tenant(&mut tx, tenant).await?;
        let found = tx.user_by_login_with_password(tenant_record.id, &login_key(login)).await?;
        drop(tx);
        let Some((user, Some(stored))) = found else {
            self.hash_pool.run(move || password::verify_dummy(&password)).await?;
            return Ok(None);
        };
        let candidate = password.clone();
        let verification = self
            .hash_pool
            .run(move || password::verify_password(&stored, &candidate))
            .await?
            .map_err(Error::internal)?;
        let Verification::Match { needs_rehash } = verification else {
            return Ok(None);
        };
        if user.status != UserStatus::Active {
            return Ok(None);
        }
        if needs_rehash {
            let hash =
                self.hash_pool.run(move || password::hash_password(&password)).await?.map_err(Error::internal)?;
            let mut tx = self.store.write().await?;
            tx.password_set(user.id, &hash, self.clock.now()).await?;
            tx.commit().await?;
        }
        Ok(Some(user.id))
    }
}
