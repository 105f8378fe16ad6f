//! The one error type of the HTTP layer: every failure becomes RFC 9457 problem+json with a
//! stable `type` URI (`urn:portcullis:problem:{code}`), a title, the status, a detail for the
//! client's own mistakes, and the request id. Internal detail goes to the log only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::{Error, FieldError};
use serde::Serialize;

/// The media type of problem details (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:portcullis:problem:{code}`; stable, documented in the README.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For validation problems: each field and why it was refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For conflicts: the rule that was violated (`username`, `email`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: Option<String>,
    errors: Vec<FieldError>,
    constraint: Option<String>,
}

impl WebError {
    /// A problem with a status, a stable code, a title and a detail.
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, title, detail: Some(detail.into()), errors: Vec::new(), constraint: None }
    }

    /// A 400 naming one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::invalid(field, reason).into()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Error> for WebError {
    fn from(error: Error) -> Self {
        let code = error.code();
        let (status, title) = match &error {
            Error::Validation(_) => (StatusCode::BAD_REQUEST, "The request has invalid values"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
            Error::Conflict { .. } => (StatusCode::CONFLICT, "Conflict"),
            Error::Unauthenticated => (StatusCode::UNAUTHORIZED, "Authentication required"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden"),
            Error::Busy => (StatusCode::SERVICE_UNAVAILABLE, "Busy, try again shortly"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "Storage unavailable"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
        };
        let detail = match &error {
            Error::Validation(fields) => Some(
                fields
                    .iter()
                    .map(|f| if f.field.is_empty() { f.reason.clone() } else { format!("{}: {}", f.field, f.reason) })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Error::Unauthenticated => Some("send a valid admin API token as `Authorization: Bearer …`".to_owned()),
            Error::Unavailable(detail) => {
                tracing::error!(%detail, "storage unavailable");
                Some("the database did not answer; try again".to_owned())
            }
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Some("an internal error occurred; quote the request id when reporting it".to_owned())
            }
            other => Some(other.to_string()),
        };
        Self {
            status,
            code,
            title,
            detail,
            errors: match &error {
                Error::Validation(fields) => fields.clone(),
                _ => Vec::new(),
            },
            constraint: match error {
                Error::Conflict { constraint, .. } => Some(constraint),
                _ => None,
            },
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("urn:portcullis:problem:{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
            constraint: self.constraint,
            // Filled in by the request-id layer, which knows the id.
            request_id: None,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"portcullis-admin\""));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response.extensions_mut().insert(ProblemMarker);
        response
    }
}

/// Marks a response as a problem document, so the request-id layer can add the id to it.
#[derive(Debug, Clone, Copy)]
pub struct ProblemMarker;

/// The fallback for unknown paths.
pub async fn not_found() -> WebError {
    WebError::new(StatusCode::NOT_FOUND, "not-found", "Not found", "no such endpoint")
}

/// The fallback for a known path with a method it does not support.
pub async fn method_not_allowed() -> WebError {
    WebError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this endpoint does not support this method",
    )
}
