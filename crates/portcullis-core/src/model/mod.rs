//! The directory's data: what the services accept, keep and return.

pub mod audit;
pub mod auth_policy;
pub mod authz;
pub mod client;
pub mod credential;
pub mod group;
pub mod key;
pub mod page;
pub mod password_policy;
pub mod role;
pub mod schema;
pub mod scope;
pub mod session;
pub mod tenant;
pub mod token;
pub mod user;

use serde::de::DeserializeOwned;

use crate::error::{Error, FieldError, Result};

/// Reads `T` from untrusted JSON, naming the offending field in the error.
pub fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        Error::Validation(vec![json_field_error(&error.path().to_string(), &error.into_inner().to_string())])
    })
}

/// Why untrusted JSON bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON at all: bad syntax, bad UTF-8, trailing data.
    Malformed(String),
    /// Well-formed JSON with a wrong value: the field and why.
    Invalid(FieldError),
}

/// Decodes untrusted JSON bytes into `T` strictly: valid UTF-8, one value, nothing after it,
/// the offending field named.
pub fn decode_json_bytes<T: DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, JsonError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(JsonError::Malformed("the body is not valid UTF-8".to_owned()));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => JsonError::Invalid(json_field_error(&path, &inner.to_string())),
            _ => JsonError::Malformed(inner.to_string()),
        }
    })?;
    deserializer.end().map_err(|e| JsonError::Malformed(e.to_string()))?;
    Ok(value)
}

/// The field error for a JSON decoding failure at `path` (serde_path_to_error's `a.b[0]`),
/// with the field in the documented `a/b/0` form and without serde_json's "at line …".
pub fn json_field_error(path: &str, message: &str) -> FieldError {
    let field = if path == "." {
        String::new()
    } else {
        path.replace('[', "/").replace(']', "").replace('.', "/").trim_start_matches('/').to_owned()
    };
    let reason = match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => &message[..at],
        _ => message,
    };
    FieldError::new(field, reason)
}

#[cfg(test)]
mod tests {
    use super::json_field_error;

    #[test]
    fn json_paths_become_field_pointers() {
        let e = json_field_error("redirect_uris[0]", "bad uri at line 1 column 61");
        assert_eq!((e.field.as_str(), e.reason.as_str()), ("redirect_uris/0", "bad uri"));
        assert_eq!(json_field_error("address.country", "x").field, "address/country");
        assert_eq!(json_field_error("a[2].b", "x").field, "a/2/b");
        assert_eq!(json_field_error(".", "missing field `x`").field, "");
    }
}
