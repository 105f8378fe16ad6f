//! Extractors: each turns one part of an untrusted request into a validated value or a
//! problem response. Handlers never see a rejection of axum's own shape.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use portcullis_core::model::JsonError;
use portcullis_core::service::{Principal, RequestContext};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::WebError;

/// A JSON body, read within the body limit and decoded strictly (unknown fields refused).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(parts_content_type: Option<&header::HeaderValue>) -> bool {
    parts_content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || (m.starts_with("application/") && m.ends_with("+json")))
}

/// Decodes JSON, telling malformed syntax (`malformed-json`) from well-formed JSON with wrong
/// values (`validation`, naming the field). The rule itself is core's.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WebError> {
    portcullis_core::model::decode_json_bytes(bytes).map_err(|error| match error {
        JsonError::Malformed(detail) => {
            WebError::new(StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON", detail)
        }
        JsonError::Invalid(field) => portcullis_core::Error::Validation(vec![field]).into(),
    })
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = WebError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers().get(header::CONTENT_TYPE)) {
            return Err(WebError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| match rejection {
            BytesRejection::FailedToBufferBody(failure) if failure.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                WebError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload-too-large",
                    "Payload too large",
                    format!("the body may be at most {} bytes", crate::MAX_JSON_BODY),
                )
            }
            other => WebError::new(StatusCode::BAD_REQUEST, "unreadable-body", "Unreadable body", other.body_text()),
        })?;
        decode_json(&bytes).map(ApiJson)
    }
}

/// Query parameters, decoded strictly.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state).await.map(|Query(value)| ApiQuery(value)).map_err(
            |rejection: QueryRejection| {
                WebError::new(
                    StatusCode::BAD_REQUEST,
                    "validation",
                    "The request has invalid values",
                    rejection.body_text(),
                )
            },
        )
    }
}

/// Path parameters (ids that must parse).
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(value)| ApiPath(value)).map_err(
            |rejection: PathRejection| {
                WebError::new(
                    StatusCode::BAD_REQUEST,
                    "validation",
                    "The request has invalid values",
                    rejection.body_text(),
                )
            },
        )
    }
}

/// The caller of the admin API, authenticated by `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned())
            .ok_or(portcullis_core::Error::Unauthenticated)?;
        Ok(Admin(state.services.authenticate(&bearer, request_context(parts, &state.trusted_proxies)).await?))
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy — then the nearest
/// address in `X-Forwarded-For` (read from the right) that is not a trusted proxy itself. A
/// header that does not parse is not believed. Throttling and the audit log key on this, so a
/// proxy must be trusted for them to tell its clients apart, and only a trusted one may name
/// them (anyone can send the header).
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else { return peer };
    let Ok(chain) = header.split(',').map(|hop| hop.trim().parse::<IpAddr>()).collect::<Result<Vec<_>, _>>() else {
        return peer;
    };
    chain.iter().rev().find(|hop| !is_trusted(hop)).or(chain.first()).copied().unwrap_or(peer)
}

/// Where a request came from (client address and request id), for the audit log and throttling.
pub fn request_context(parts: &Parts, trusted: &[ipnet::IpNet]) -> RequestContext {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    RequestContext {
        ip: peer.map(|peer| client_address(peer, forwarded, trusted).to_string()),
        request_id: parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned),
        device: None,
    }
}

/// The [`RequestContext`] of a request, as an extractor.
#[derive(Debug, Clone)]
pub struct Context(pub RequestContext);

impl FromRequestParts<AppState> for Context {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let mut context = request_context(parts, &state.trusted_proxies);
        context.device = crate::cookies::read(&parts.headers, &state.cookies.device());
        Ok(Context(context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("net"), "192.0.2.1/32".parse().expect("net")];
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // Untrusted peer: its header is ignored (anyone can send one).
        assert_eq!(client_address(ip("198.51.100.7"), Some("203.0.113.9"), &trusted), ip("198.51.100.7"));
        // Trusted peer: the nearest untrusted hop, read from the right.
        assert_eq!(
            client_address(ip("10.1.1.1"), Some("203.0.113.9, 198.51.100.3, 192.0.2.1"), &trusted),
            ip("198.51.100.3")
        );
        assert_eq!(client_address(ip("10.1.1.1"), Some("203.0.113.9"), &trusted), ip("203.0.113.9"));
        // Only proxies in the chain: the first one named.
        assert_eq!(client_address(ip("10.1.1.1"), Some("10.2.2.2, 10.3.3.3"), &trusted), ip("10.2.2.2"));
        // No header, or one that does not parse: the peer.
        assert_eq!(client_address(ip("10.1.1.1"), None, &trusted), ip("10.1.1.1"));
        assert_eq!(client_address(ip("10.1.1.1"), Some("203.0.113.9, junk"), &trusted), ip("10.1.1.1"));
        assert_eq!(client_address(ip("10.1.1.1"), Some("203.0.113.9"), &[]), ip("10.1.1.1"), "nothing trusted");
    }
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn code_of(bytes: &[u8]) -> (StatusCode, String) {
        let error = decode_json::<Body>(bytes).expect_err("must fail");
        let status = error.status();
        (status, format!("{error:?}"))
    }

    #[test]
    fn malformed_wrong_type_unknown_and_trailing() {
        assert_eq!(code_of(b"{").0, StatusCode::BAD_REQUEST);
        assert!(code_of(b"{").1.contains("malformed-json"));
        let (_, wrong) = code_of(br#"{"name": 5}"#);
        assert!(wrong.contains("validation") && wrong.contains("name"), "{wrong}");
        let (_, nested) = code_of(br#"{"name": "x", "inner": {"count": -1}}"#);
        assert!(nested.contains("inner/count"), "{nested}");
        assert!(code_of(br#"{"name": "x", "extra": 1}"#).1.contains("unknown field"));
        assert!(code_of(br#"{"name": "x"} {"#).1.contains("malformed-json"));
        assert!(code_of(b"{\"name\": \"\xff\"}").1.contains("UTF-8"));
        assert!(decode_json::<Body>(br#"{"name": "x"}"#).is_ok());
    }
}
