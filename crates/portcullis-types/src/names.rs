use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must be between {min} and {max} characters")]
    Length { min: usize, max: usize },
    #[error("{0}")]
    Characters(&'static str),
}

/// The public handle of a tenant: it appears in URLs (`/t/{tenant}`) and so is a DNS-label-like
/// slug: 1–63 characters of `a-z`, `0-9` and `-`, starting with a letter, not ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TenantName(String);

impl TenantName {
    /// Parses a tenant name.
    pub fn parse(value: &str) -> Result<Self, NameError> {
        if value.is_empty() || value.len() > 63 {
            return Err(NameError::Length { min: 1, max: 63 });
        }
        let bytes = value.as_bytes();
        let valid_chars = bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if !valid_chars || !bytes[0].is_ascii_lowercase() || value.ends_with('-') {
            return Err(NameError::Characters(
                "use lower-case letters, digits and '-', starting with a letter and not ending with '-'",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TenantName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for TenantName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"))
            .into()
    }
}
impl utoipa::ToSchema for TenantName {}

/// The name of a custom user attribute in a tenant's user schema: 1–64 characters of ASCII
/// letters, digits and `_`, starting with a letter. The restriction keeps names safe inside
/// JSON paths, SCIM filters and LDAP attribute descriptions alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AttributeName(String);

impl AttributeName {
    /// Parses an attribute name.
    pub fn parse(value: &str) -> Result<Self, NameError> {
        if value.is_empty() || value.len() > 64 {
            return Err(NameError::Length { min: 1, max: 64 });
        }
        let bytes = value.as_bytes();
        if !bytes[0].is_ascii_alphabetic() || !bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') {
            return Err(NameError::Characters("use ASCII letters, digits and '_', starting with a letter"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttributeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AttributeName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for AttributeName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[A-Za-z][A-Za-z0-9_]{0,63}$"))
            .into()
    }
}
impl utoipa::ToSchema for AttributeName {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names() {
        for ok in ["admin", "acme-corp", "a", "a1"] {
            assert!(TenantName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Admin", "1abc", "abc-", "a_b", "a b", "ä", &"a".repeat(64)] {
            assert!(TenantName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attribute_names() {
        assert!(AttributeName::parse("employee_number").is_ok());
        for bad in ["", "_x", "a.b", "a-b", "$.x", "a\"b"] {
            assert!(AttributeName::parse(bad).is_err(), "{bad}");
        }
    }
}
