//! Conversions between stored columns and core types, shared by both engines.

use std::str::FromStr;

use portcullis_core::Error;
use portcullis_core::clock::{from_micros, to_micros};
use time::OffsetDateTime;

pub(crate) fn id<T: FromStr>(text: &str) -> Result<T, Error> {
    text.parse().map_err(|_| Error::internal(format!("stored id is not a UUID: {text}")))
}

pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    to_micros(at)
}

pub(crate) fn instant(micros: i64) -> OffsetDateTime {
    from_micros(micros)
}

pub(crate) fn opt_instant(micros: Option<i64>) -> Option<OffsetDateTime> {
    micros.map(from_micros)
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::internal(format!("stored JSON is invalid: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::internal(format!("JSON encoding failed: {e}")))
}

/// Maps an engine's constraint name (PostgreSQL) or failing columns (SQLite's message) to the
/// constraint name services report.
pub(crate) fn constraint_name(hint: &str) -> &'static str {
    const TABLE: &[(&str, &str)] = &[
        ("users_username_unique", "username"),
        ("users.username_key", "username"),
        ("users_email_unique", "email"),
        ("users.email_key", "email"),
        ("groups_name_unique", "group_name"),
        ("directory_groups.name", "group_name"),
        ("roles_name_unique", "role_name"),
        ("roles.name", "role_name"),
        ("tenants_name_unique", "tenant_name"),
        ("tenants.name", "tenant_name"),
        ("user_unique_values", "attribute"),
        ("oauth_clients", "client_id"),
        ("signing_keys", "signing_key"),
        ("device_authorizations", "user_code"),
        ("admin_tokens_digest_unique", "token"),
        ("admin_tokens.digest", "token"),
    ];
    TABLE.iter().find(|(needle, _)| hint.contains(needle)).map_or("unique", |(_, name)| name)
}

/// The caller-facing sentence for a violated uniqueness constraint.
pub(crate) fn conflict_message(constraint: &str) -> String {
    match constraint {
        "username" => "a user with this username already exists".to_owned(),
        "email" => "a user with this email already exists".to_owned(),
        "group_name" => "a group with this name already exists".to_owned(),
        "role_name" => "a role with this name already exists".to_owned(),
        "tenant_name" => "a tenant with this name already exists".to_owned(),
        "client_id" => "a client with this client_id already exists".to_owned(),
        other => format!("the value conflicts with an existing one ({other})"),
    }
}

/// The outcome of an INSERT that a uniqueness rule may refuse: false for that refusal.
pub(crate) fn inserted_unless_conflict<T>(result: Result<T, Error>) -> Result<bool, Error> {
    match result {
        Ok(_) => Ok(true),
        Err(Error::Conflict { .. }) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Maps a database error to a core error. `hint` extracts the engine's constraint text.
pub(crate) fn map_sqlx(error: sqlx::Error) -> Error {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let hint = db.constraint().map_or_else(|| db.message().to_owned(), str::to_owned);
            let name = constraint_name(&hint);
            Error::conflict(name, conflict_message(name))
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            Error::conflict("reference", "a referenced record does not exist")
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            Error::Unavailable(error.to_string())
        }
        sqlx::Error::Database(db) if is_busy(db.code().as_deref()) => Error::Unavailable(error.to_string()),
        _ => Error::internal(format!("database: {error}")),
    }
}

/// Maps a SQLite error (`lite.rs`) to a core error.
pub(crate) fn map_sqlite(error: rusqlite::Error) -> Error {
    match &error {
        rusqlite::Error::SqliteFailure(_, message) if crate::lite::is_unique_violation(&error) => {
            let name = constraint_name(message.as_deref().unwrap_or_default());
            Error::conflict(name, conflict_message(name))
        }
        rusqlite::Error::SqliteFailure(e, _) if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
            Error::conflict("reference", "a referenced record does not exist")
        }
        _ if crate::lite::is_busy(&error) => Error::Unavailable(error.to_string()),
        _ => Error::internal(format!("database: {error}")),
    }
}

/// SQLite's BUSY/LOCKED and PostgreSQL's serialization failure, deadlock, and connection
/// classes: the database is there but cannot answer now.
fn is_busy(code: Option<&str>) -> bool {
    matches!(code, Some("5" | "6" | "517" | "40001" | "40P01" | "57P01" | "57P03"))
        || code.is_some_and(|c| c.starts_with("08"))
}
