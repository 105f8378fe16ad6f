//! The per-tenant user schema: which custom attributes users may carry, of what type, with
//! which constraints, and which are sensitive (sealed at rest, masked in audit events).

use portcullis_types::AttributeName;
use serde::{Deserialize, Serialize};

/// The type of a custom attribute's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    /// Text, at most 2048 characters.
    String,
    /// A whole number (64-bit).
    Integer,
    /// A finite number.
    Number,
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// An instant, RFC 3339.
    Datetime,
}

impl AttributeType {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Datetime => "datetime",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "string" => Some(Self::String),
            "integer" => Some(Self::Integer),
            "number" => Some(Self::Number),
            "boolean" => Some(Self::Boolean),
            "date" => Some(Self::Date),
            "datetime" => Some(Self::Datetime),
            _ => None,
        }
    }
}

/// One custom attribute of the user schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeDefinition {
    pub name: AttributeName,
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// Every write must carry a value.
    #[serde(default)]
    pub required: bool,
    /// No two users of the tenant may share a value. Fixed once the attribute exists.
    #[serde(default)]
    pub unique: bool,
    /// A regular expression (Rust `regex` syntax, anchored) a string value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Sealed at rest under the user's data key and masked in the audit log. Fixed once the
    /// attribute exists.
    #[serde(default)]
    pub sensitive: bool,
    /// Why the attribute is collected (GDPR Art. 5(1)(b) purpose limitation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The whole schema of a tenant: `GET …/schema`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserSchema {
    pub attributes: Vec<AttributeDefinition>,
}
