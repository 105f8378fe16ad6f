//! Public endpoints under each tenant's issuer, `{public_url}/t/{tenant}`.

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use portcullis_core::service::RequestContext;
use portcullis_oidc::{OAuthError, Params, TokenRequest};

use crate::AppState;
use crate::error::WebError;
use crate::extract::{ApiPath, Context, request_context};

/// The routes under `/t/{tenant}` that speak JSON (the pages are in `browser`).
pub fn router() -> Router<AppState> {
    // CORS where a browser-based client calls us itself (RFC 9700 §2.6), on every answer of
    // the route, errors included.
    let open = || axum::middleware::map_response(cors_layer);
    Router::new()
        .route("/t/{tenant}/jwks", get(jwks).options(preflight).layer(open()))
        .route(
            "/t/{tenant}/.well-known/openid-configuration",
            get(openid_configuration).options(preflight).layer(open()),
        )
        .route(
            "/t/{tenant}/.well-known/oauth-authorization-server",
            get(oauth_metadata).options(preflight).layer(open()),
        )
        // RFC 8414 §3.1: the well-known path goes between the host and the issuer's path.
        .route(
            "/.well-known/oauth-authorization-server/t/{tenant}",
            get(oauth_metadata).options(preflight).layer(open()),
        )
        .route(
            "/.well-known/openid-configuration/t/{tenant}",
            get(openid_configuration).options(preflight).layer(open()),
        )
        .route("/t/{tenant}/token", post(token).options(preflight).layer(open()))
        .route("/t/{tenant}/introspect", post(introspect))
        .route("/t/{tenant}/revoke", post(revoke).options(preflight).layer(open()))
        .route("/t/{tenant}/par", post(par))
        .route("/t/{tenant}/device_authorization", post(device_authorization).options(preflight).layer(open()))
        .route("/t/{tenant}/userinfo", get(userinfo_get).post(userinfo_post).options(preflight).layer(open()))
}

/// CORS headers: any origin, never with cookies (these endpoints take none).
async fn cors_layer(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("WWW-Authenticate"));
    response
}

/// A CORS preflight (Fetch §3.2.2).
async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Authorization, Content-Type, DPoP"));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    response
}

/// A discovery document, if the tenant exists; cacheable for a minute. The document depends
/// only on the issuer, so each is serialised once per node.
async fn discovery(state: &AppState, tenant: &str, openid: bool) -> Result<Response, WebError> {
    state.services.tenant_exists(tenant).await?;
    let key = (tenant.to_owned(), openid);
    let cached = state.discovery.read().ok().and_then(|map| map.get(&key).cloned());
    let body = match cached {
        Some(body) => body,
        None => {
            let doc =
                portcullis_oidc::discovery::metadata(&state.issuer(tenant), openid, &crate::pages::i18n::OFFERED_TAGS);
            let body = Bytes::from(serde_json::to_vec(&doc).map_err(portcullis_core::Error::internal)?);
            if let Ok(mut map) = state.discovery.write() {
                // Tenants come and go; the map is only a cache, so clear it when it grows.
                if map.len() > 10_000 {
                    map.clear();
                }
                map.insert(key, body.clone());
            }
            body
        }
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    Ok(response)
}

/// OpenID Connect Discovery 1.0 §4.
async fn openid_configuration(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Response, WebError> {
    discovery(&state, &tenant, true).await
}

/// RFC 8414 §3.
async fn oauth_metadata(State(state): State<AppState>, ApiPath(tenant): ApiPath<String>) -> Result<Response, WebError> {
    discovery(&state, &tenant, false).await
}

/// The tenant's JWK Set (RFC 7517 §5): every key that may have signed a token still valid.
/// Browsers may fetch it (CORS), and caches may keep it for a minute: relying parties refetch
/// on an unknown `kid` anyway.
async fn jwks(State(state): State<AppState>, ApiPath(tenant): ApiPath<String>) -> Result<Response, WebError> {
    let set = state.services.jwks(&tenant).await?;
    let mut response = Json(set.as_ref()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    Ok(response)
}

/// Renders an OAuth error (RFC 6749 §5.2): JSON, never cached; `invalid_client` with a
/// `WWW-Authenticate` challenge.
fn oauth_error(error: OAuthError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, Json(&error)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"portcullis\""));
    }
    if status.is_server_error() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// An OAuth form POST (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1, RFC 9126 §2.1), with
/// the `Authorization` header and where it came from. Refused as an OAuth error.
pub(crate) struct OAuthForm(pub TokenRequest);

impl FromRequest<AppState> for OAuthForm {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let context = request_context(&parts, &state.trusted_proxies);
        let headers = parts.headers.clone();
        let body = Bytes::from_request(axum::extract::Request::from_parts(parts, body), state).await;
        read_form(&headers, context, body).map(OAuthForm).map_err(oauth_error)
    }
}

fn read_form(
    headers: &HeaderMap,
    context: RequestContext,
    body: Result<Bytes, BytesRejection>,
) -> Result<TokenRequest, OAuthError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form {
        return Err(OAuthError::invalid_request("send the request as application/x-www-form-urlencoded"));
    }
    let body = body.map_err(|_| OAuthError::invalid_request("the body could not be read or is too large"))?;
    if std::str::from_utf8(&body).is_err() {
        return Err(OAuthError::invalid_request("the body is not UTF-8"));
    }
    Ok(TokenRequest {
        params: Params::parse(&body),
        authorization: headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned),
        context,
    })
}

/// An OAuth endpoint's answer: the JSON body (never cached), or the error.
fn reply<T: serde::Serialize>(result: Result<T, OAuthError>, status: StatusCode) -> Response {
    match result {
        Ok(answer) => {
            let mut response = no_store(answer);
            *response.status_mut() = status;
            response
        }
        Err(error) => oauth_error(error),
    }
}

/// A JSON answer that must not be cached (RFC 6749 §5.1).
pub(crate) fn no_store<T: serde::Serialize>(body: T) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The token endpoint (RFC 6749 §3.2): the grant logic is `portcullis-oidc`'s.
async fn token(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    OAuthForm(request): OAuthForm,
) -> Response {
    reply(portcullis_oidc::token(&state.services, &tenant, &state.issuer(&tenant), &request).await, StatusCode::OK)
}

/// The introspection endpoint (RFC 7662 §2).
async fn introspect(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    OAuthForm(request): OAuthForm,
) -> Response {
    reply(portcullis_oidc::introspect(&state.services, &tenant, &state.issuer(&tenant), &request).await, StatusCode::OK)
}

/// The revocation endpoint (RFC 7009 §2): 200 with an empty body whether or not the token
/// was known (§2.2).
async fn revoke(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    OAuthForm(request): OAuthForm,
) -> Response {
    let done = portcullis_oidc::revoke(&state.services, &tenant, &state.issuer(&tenant), &request).await;
    reply(done.map(|()| serde_json::json!({})), StatusCode::OK)
}

/// The bearer token of the `Authorization` header (RFC 6750 §2.1).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// Renders a userinfo answer: the claims, or a `WWW-Authenticate: Bearer` challenge
/// (RFC 6750 §3).
async fn userinfo(state: &AppState, tenant: &str, token: Option<String>) -> Response {
    let answer = portcullis_oidc::userinfo(&state.services, tenant, &state.issuer(tenant), token.as_deref()).await;
    match answer {
        Ok(claims) => no_store(claims),
        Err(error) => bearer_refused(&error),
    }
}

/// A refused bearer token: its status with a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).
pub(crate) fn bearer_refused(error: &portcullis_oidc::BearerError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::UNAUTHORIZED);
    let challenge = if error.error == "invalid_request" && error.status == 401 {
        "Bearer realm=\"portcullis\"".to_owned()
    } else {
        format!("Bearer realm=\"portcullis\", error=\"{}\", error_description=\"{}\"", error.error, error.description)
    };
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// `GET {issuer}/userinfo` (OIDC Core §5.3.1).
async fn userinfo_get(State(state): State<AppState>, ApiPath(tenant): ApiPath<String>, headers: HeaderMap) -> Response {
    userinfo(&state, &tenant, bearer(&headers)).await
}

/// `POST {issuer}/userinfo`: the token in the header or, form-encoded, in the body
/// (RFC 6750 §2.2) — not both (§2).
async fn userinfo_post(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let in_header = bearer(&headers);
    let in_body = match body {
        Ok(body) if !body.is_empty() => match read_form(&headers, context, Ok(body)) {
            Ok(form) => form.params.single("access_token").ok().flatten().map(str::to_owned),
            Err(error) => return oauth_error(error),
        },
        _ => None,
    };
    if in_header.is_some() && in_body.is_some() {
        return oauth_error(OAuthError::invalid_request("send the access token once, not in the header and the body"));
    }
    userinfo(&state, &tenant, in_header.or(in_body)).await
}

/// The pushed authorization request endpoint (RFC 9126 §2): 201 with the `request_uri`.
async fn par(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    OAuthForm(request): OAuthForm,
) -> Response {
    reply(portcullis_oidc::push(&state.services, &tenant, &state.issuer(&tenant), &request).await, StatusCode::CREATED)
}

/// The device authorization endpoint (RFC 8628 §3.1).
async fn device_authorization(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    OAuthForm(request): OAuthForm,
) -> Response {
    let issuer = state.issuer(&tenant);
    reply(portcullis_oidc::device_authorization(&state.services, &tenant, &issuer, &request).await, StatusCode::OK)
}
