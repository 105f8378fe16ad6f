//! Errors of the services. No HTTP here: the web layer maps each variant to a status and a
//! problem type, by its stable [`Error::code`].

use serde::Serialize;

/// One invalid field of a request: where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON-pointer-like path of the field, e.g. `email` or `attributes/employee_number`.
    pub field: String,
    /// Why the value was refused.
    pub reason: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// Errors returned by services and stores.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request is well-formed but its values break the rules.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The thing asked for does not exist (or the caller may not know it exists).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule or the current state forbids the change.
    #[error("{message}")]
    Conflict {
        /// Which rule, e.g. `username`, `email`, `attribute:badge`.
        constraint: String,
        /// A sentence for the caller.
        message: String,
    },
    /// No credentials, or credentials that are not valid.
    #[error("authentication required")]
    Unauthenticated,
    /// Valid credentials without the right to do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Too much work queued (the password hashing pool is full): try again shortly.
    #[error("busy, try again shortly")]
    Busy,
    /// The database cannot be reached or timed out.
    #[error("storage unavailable")]
    Unavailable(String),
    /// A bug or corrupted data; the detail goes to the log, never to the client.
    #[error("internal error")]
    Internal(String),
}

impl Error {
    /// A stable code for logs, metrics and problem types.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation",
            Self::NotFound(_) => "not-found",
            Self::Conflict { .. } => "conflict",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::Busy => "busy",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// A validation error for one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, reason)])
    }

    /// A conflict on a named constraint.
    pub fn conflict(constraint: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict { constraint: constraint.into(), message: message.into() }
    }

    /// An internal error with its detail (logged, not shown).
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }
}

impl From<portcullis_crypto::envelope::EnvelopeError> for Error {
    fn from(error: portcullis_crypto::envelope::EnvelopeError) -> Self {
        Self::internal(format!("envelope: {error}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Self::internal(format!("json: {error}"))
    }
}

/// Results of services and stores.
pub type Result<T, E = Error> = std::result::Result<T, E>;
