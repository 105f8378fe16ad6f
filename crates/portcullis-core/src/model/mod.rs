//! The directory's data: what the services accept, keep and return.

pub mod audit;
pub mod client;
pub mod group;
pub mod page;
pub mod role;
pub mod schema;
pub mod tenant;
pub mod token;
pub mod user;

use serde::de::DeserializeOwned;

use crate::error::{Error, FieldError, Result};

/// Reads `T` from untrusted JSON, naming the offending field in the error.
pub fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string().replace('.', "/");
        let field = if path == "." || path.is_empty() { String::new() } else { path };
        Error::Validation(vec![FieldError::new(field, error.into_inner().to_string())])
    })
}
