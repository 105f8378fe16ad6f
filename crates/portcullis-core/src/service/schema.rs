//! The user schema: its administration and the validation of custom attributes against it.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::audit::Change;
use super::{Principal, Services};
use crate::error::{Error, FieldError, Result};
use crate::model::schema::{AttributeDefinition, AttributeType, UserSchema};
use crate::model::token::Access;

const MAX_STRING_CHARS: usize = 2048;
const MAX_PATTERN_LEN: usize = 512;

/// A tenant's schema with its patterns compiled, ready to check many users.
pub(crate) struct CompiledSchema {
    definitions: Vec<AttributeDefinition>,
    patterns: HashMap<String, Regex>,
}

fn compile_pattern(pattern: &str) -> std::result::Result<Regex, String> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(format!("must be at most {MAX_PATTERN_LEN} characters"));
    }
    // Anchored, so that `[0-9]+` means "only digits", as schema authors expect.
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("is not a valid regular expression: {e}"))
}

impl CompiledSchema {
    pub(crate) fn new(definitions: Vec<AttributeDefinition>) -> Result<Self> {
        let mut patterns = HashMap::new();
        for definition in &definitions {
            if let Some(pattern) = &definition.pattern {
                let regex = compile_pattern(pattern).map_err(Error::internal)?;
                patterns.insert(definition.name.to_string(), regex);
            }
        }
        Ok(Self { definitions, patterns })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&AttributeDefinition> {
        self.definitions.iter().find(|d| d.name.as_str() == name)
    }

    /// Checks custom attributes; `null` values count as absent.
    pub(crate) fn check(&self, attributes: &Map<String, Value>, errors: &mut Vec<FieldError>) {
        for (name, value) in attributes {
            let field = format!("attributes/{name}");
            let Some(definition) = self.get(name) else {
                errors.push(FieldError::new(field, "is not in the tenant's user schema"));
                continue;
            };
            if value.is_null() {
                continue;
            }
            if let Err(reason) = check_value(definition.kind, value) {
                errors.push(FieldError::new(field, reason));
            } else if let (Some(regex), Some(text)) = (self.patterns.get(name), value.as_str())
                && !regex.is_match(text)
            {
                errors.push(FieldError::new(field, "does not match the attribute's pattern"));
            }
        }
        for definition in self.definitions.iter().filter(|d| d.required) {
            let present = attributes.get(definition.name.as_str()).is_some_and(|v| !v.is_null());
            if !present {
                errors.push(FieldError::new(format!("attributes/{}", definition.name), "is required"));
            }
        }
    }

    /// The definitions, for splitting sensitive from plain values.
    pub(crate) fn definitions(&self) -> &[AttributeDefinition] {
        &self.definitions
    }
}

fn check_value(kind: AttributeType, value: &Value) -> std::result::Result<(), &'static str> {
    let ok = match kind {
        AttributeType::String => {
            value.as_str().is_some_and(|s| s.chars().count() <= MAX_STRING_CHARS && !s.contains('\0'))
        }
        AttributeType::Integer => value.as_i64().is_some(),
        AttributeType::Number => value.as_f64().is_some_and(f64::is_finite),
        AttributeType::Boolean => value.is_boolean(),
        AttributeType::Date => value
            .as_str()
            .is_some_and(|s| time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).is_ok()),
        AttributeType::Datetime => value
            .as_str()
            .is_some_and(|s| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()),
    };
    if ok {
        return Ok(());
    }
    Err(match kind {
        AttributeType::String => "must be a string of at most 2048 characters",
        AttributeType::Integer => "must be a whole number",
        AttributeType::Number => "must be a number",
        AttributeType::Boolean => "must be true or false",
        AttributeType::Date => "must be a date, YYYY-MM-DD",
        AttributeType::Datetime => "must be an RFC 3339 date and time",
    })
}

/// The text under which a unique attribute's value is indexed (plain values as their JSON).
pub(crate) fn unique_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Services {
    /// `GET …/schema`.
    pub async fn get_schema(&self, who: &Principal, tenant: &str) -> Result<UserSchema> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        Ok(UserSchema { attributes: tx.schema_get(record.id).await? })
    }

    /// `PUT …/schema/attributes/{name}`: creates or replaces one attribute. `unique` and
    /// `sensitive` are fixed once the attribute exists: changing them would need every user
    /// rewritten (delete the attribute and create it again instead).
    pub async fn put_schema_attribute(
        &self,
        who: &Principal,
        tenant: &str,
        definition: AttributeDefinition,
    ) -> Result<AttributeDefinition> {
        if let Some(pattern) = &definition.pattern {
            if definition.kind != AttributeType::String {
                return Err(Error::invalid("pattern", "applies to string attributes only"));
            }
            compile_pattern(pattern).map_err(|reason| Error::invalid("pattern", reason))?;
        }
        for (field, text) in [("purpose", &definition.purpose), ("description", &definition.description)] {
            if text.as_ref().is_some_and(|t| t.chars().count() > 1000) {
                return Err(Error::invalid(field, "must be at most 1000 characters"));
            }
        }
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let existing = tx.schema_get(record.id).await?;
        let before = existing.iter().find(|d| d.name == definition.name).cloned();
        if let Some(before) = &before {
            if before.unique != definition.unique || before.sensitive != definition.sensitive {
                return Err(Error::conflict(
                    "attribute_immutable",
                    "unique and sensitive cannot change on an existing attribute; delete it and create it again",
                ));
            }
        } else if existing.len() >= 200 {
            return Err(Error::conflict("schema_size", "a tenant's schema holds at most 200 attributes"));
        }
        tx.schema_put(record.id, &definition).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "schema.attribute.put",
                tenant: Some(tenant),
                target_type: "schema_attribute",
                target_id: Some(definition.name.to_string()),
                before: before.map(|b| json!(b)),
                after: Some(json!(definition)),
            },
        )
        .await?;
        tx.commit().await?;
        self.changed("schema.attribute.put", Some(tenant), None);
        Ok(definition)
    }

    /// `DELETE …/schema/attributes/{name}`: removes the attribute and every user's value of it.
    pub async fn delete_schema_attribute(&self, who: &Principal, tenant: &str, name: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let existing = tx.schema_get(record.id).await?;
        let before = existing.into_iter().find(|d| d.name.as_str() == name).ok_or(Error::NotFound("attribute"))?;
        tx.schema_delete(record.id, name).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "schema.attribute.delete",
                tenant: Some(tenant),
                target_type: "schema_attribute",
                target_id: Some(name.to_owned()),
                before: Some(json!(before)),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        self.changed("schema.attribute.delete", Some(tenant), None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_types::AttributeName;

    fn definition(name: &str, kind: AttributeType) -> AttributeDefinition {
        AttributeDefinition {
            name: AttributeName::parse(name).expect("valid"),
            kind,
            required: false,
            unique: false,
            pattern: None,
            sensitive: false,
            purpose: None,
            description: None,
        }
    }

    #[test]
    fn values_are_checked_by_type_pattern_and_presence() {
        let mut badge = definition("badge", AttributeType::String);
        badge.pattern = Some("[0-9]{4}".into());
        badge.required = true;
        let schema = CompiledSchema::new(vec![
            badge,
            definition("level", AttributeType::Integer),
            definition("hired", AttributeType::Date),
        ])
        .expect("compiles");
        let check = |value: Value| {
            let mut errors = Vec::new();
            schema.check(value.as_object().expect("object"), &mut errors);
            errors.into_iter().map(|e| e.field).collect::<Vec<_>>()
        };
        assert!(check(json!({"badge": "1234", "level": 3, "hired": "2024-02-29"})).is_empty());
        assert_eq!(check(json!({"badge": "12345"})), ["attributes/badge"]);
        assert_eq!(check(json!({"badge": "1234", "level": 1.5})), ["attributes/level"]);
        assert_eq!(check(json!({"badge": "1234", "hired": "2023-02-29"})), ["attributes/hired"]);
        assert_eq!(check(json!({"level": 1})), ["attributes/badge"]);
        assert_eq!(check(json!({"badge": "1234", "x": 1})), ["attributes/x"]);
        assert_eq!(check(json!({"badge": null})), ["attributes/badge"]);
    }

    #[test]
    fn patterns_are_anchored_and_bounded() {
        let regex = compile_pattern("[a-z]+").expect("compiles");
        assert!(regex.is_match("abc") && !regex.is_match("abc1"));
        assert!(compile_pattern("(").is_err());
        assert!(compile_pattern(&"a".repeat(600)).is_err());
    }
}
