//! Between what the API says of a user ([`UserDocument`], [`User`]) and what is stored
//! ([`UserRecord`]): validation, the split of sensitive attributes into the sealed part, unique
//! value indexes, and the masked snapshot the audit log keeps.

use portcullis_crypto::envelope::Key;
use portcullis_crypto::secret::blind_index;
use portcullis_types::{TenantId, UserId};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::claims::{check_claims, check_email, check_username, login_key};
use super::schema::{CompiledSchema, unique_text};
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::model::user::{User, UserDocument, UserRecord, UserStatus};

/// What a masked sensitive value reads as in audit events.
pub(crate) const MASK: &str = "[redacted]";

/// A user ready to store.
pub(crate) struct PreparedUser {
    pub record: UserRecord,
    /// A new wrapped data key to store, when the user had none and now needs one.
    pub new_wrapped_key: Option<Vec<u8>>,
    pub unique_values: Vec<(String, String)>,
    pub view: User,
}

/// The user being written: new, or an existing one with their data key (if any).
pub(crate) enum Base<'a> {
    New { id: UserId, tenant: TenantId, now: OffsetDateTime },
    Existing { record: &'a UserRecord, user_key: Option<Key>, now: OffsetDateTime },
}

/// Validates `doc` against the standard rules and the tenant's schema, and builds the record.
pub(crate) fn prepare(
    schema: &CompiledSchema,
    tenant_key: &Key,
    doc: &UserDocument,
    base: Base<'_>,
) -> Result<PreparedUser> {
    let mut errors = Vec::new();
    check_username(&doc.username, &mut errors);
    if let Some(email) = &doc.email {
        check_email(email, &mut errors);
    }
    if doc.email.is_none() && doc.email_verified {
        errors.push(crate::error::FieldError::new("email_verified", "needs an email"));
    }
    let claims = doc.claims();
    check_claims(&claims, &mut errors);
    schema.check(&doc.attributes, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }

    let mut plain = Map::new();
    let mut sensitive = Map::new();
    let mut unique_values = Vec::new();
    for (name, value) in doc.attributes.iter().filter(|(_, v)| !v.is_null()) {
        let Some(definition) = schema.get(name) else { continue };
        if definition.unique {
            let text = unique_text(value);
            let indexed =
                if definition.sensitive { hex::encode(blind_index(tenant_key.bytes(), name, &text)) } else { text };
            unique_values.push((name.clone(), indexed));
        }
        if definition.sensitive {
            sensitive.insert(name.clone(), value.clone());
        } else {
            plain.insert(name.clone(), value.clone());
        }
    }

    let (id, tenant_id, created_at, now, existing_key) = match base {
        Base::New { id, tenant, now } => (id, tenant, now, now, None),
        Base::Existing { record, user_key, now } => (record.id, record.tenant_id, record.created_at, now, user_key),
    };
    let mut new_wrapped_key = None;
    let sealed = if sensitive.is_empty() {
        None
    } else {
        let key = match existing_key {
            Some(key) => key,
            None => {
                let (key, wrapped) = KeyRing::new_user_key(tenant_key, id)?;
                new_wrapped_key = Some(wrapped);
                key
            }
        };
        let text = serde_json::to_vec(&sensitive)?;
        Some(key.seal(&KeyRing::user_data_aad(id), &text)?)
    };

    let status = doc.status.unwrap_or(UserStatus::Active);
    let record = UserRecord {
        id,
        tenant_id,
        username: doc.username.clone(),
        username_key: login_key(&doc.username),
        email: doc.email.clone(),
        email_key: doc.email.as_deref().map(login_key),
        email_verified: doc.email_verified,
        status,
        claims,
        attributes: plain.clone(),
        sealed,
        created_at,
        updated_at: now,
    };
    let mut all = plain;
    all.extend(sensitive);
    let view = view_of(&record, all);
    Ok(PreparedUser { record, new_wrapped_key, unique_values, view })
}

fn view_of(record: &UserRecord, attributes: Map<String, Value>) -> User {
    User {
        id: record.id,
        username: record.username.clone(),
        email: record.email.clone(),
        email_verified: record.email_verified,
        claims: record.claims.clone(),
        attributes,
        status: record.status,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

/// Opens the sealed part of a stored user, keeping only attributes still in the schema.
pub(crate) fn open(schema: &CompiledSchema, record: &UserRecord, user_key: Option<&Key>) -> Result<User> {
    let mut attributes = record.attributes.clone();
    if let Some(sealed) = &record.sealed {
        let key = user_key.ok_or_else(|| Error::internal(format!("user {} has sealed data but no key", record.id)))?;
        let plain = key.open(&KeyRing::user_data_aad(record.id), sealed)?;
        let sensitive: Map<String, Value> = serde_json::from_slice(&plain)?;
        for (name, value) in sensitive {
            if schema.get(&name).is_some_and(|d| d.sensitive) {
                attributes.insert(name, value);
            }
        }
    }
    attributes.retain(|name, _| schema.get(name).is_some());
    Ok(view_of(record, attributes))
}

/// The view of a user that the audit log keeps: sensitive values masked.
pub(crate) fn masked(schema: &CompiledSchema, user: &User) -> Result<Value> {
    let mut value = serde_json::to_value(user)?;
    if let Some(attributes) = value.get_mut("attributes").and_then(Value::as_object_mut) {
        for definition in schema.definitions().iter().filter(|d| d.sensitive) {
            if let Some(v) = attributes.get_mut(definition.name.as_str()) {
                *v = Value::String(MASK.to_owned());
            }
        }
    }
    Ok(value)
}

/// The document form of a user, on which a JSON merge patch is applied.
pub(crate) fn document_value(user: &User) -> Result<Value> {
    let mut value = serde_json::to_value(user)?;
    if let Some(object) = value.as_object_mut() {
        for derived in ["id", "created_at", "updated_at"] {
            object.remove(derived);
        }
    }
    Ok(value)
}

/// RFC 7396 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(object) = target {
        for (key, change) in changes {
            if change.is_null() {
                object.remove(key);
            } else {
                merge_patch(object.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396_examples() {
        // RFC 7396 §3's example.
        let mut target = json!({"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"}, "tags": ["example", "sample"], "content": "This will be unchanged"});
        let patch = json!({"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": null}, "tags": ["example"]});
        merge_patch(&mut target, &patch);
        assert_eq!(
            target,
            json!({"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"], "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"})
        );
    }
}
