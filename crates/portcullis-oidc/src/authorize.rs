//! The authorization endpoint (RFC 6749 §3.1, §4.1; OIDC Core §3.1.2). Validation follows the
//! order the specifications require: until the client and its redirect URI are known good, an
//! error is shown to the user and never sent anywhere (RFC 6749 §4.1.2.1); after that, every
//! error goes back to the client with `state` and `iss` (RFC 9207).

use portcullis_core::Services;
use portcullis_core::model::client::{ClientRecord, GrantType, canonical_response_type};
use portcullis_core::model::scope::ScopeDefinition;
use portcullis_core::model::session::{AuthorizationRequest, FlowRecord, SessionRecord};
use portcullis_core::service::{CodeRequest, RequestContext};
use serde_json::Value;
use time::Duration;

use crate::error::OAuthError;
use crate::params::Params;
use crate::scopes;
use crate::token::resource_ok;

/// Grants last as long as their refresh tokens may (default 90 days).
const DEFAULT_GRANT_LIFETIME: u32 = 90 * 24 * 3600;

/// How an authorization response reaches the client (OAuth 2.0 Multiple Response Type
/// Encoding Practices §2.1; OAuth 2.0 Form Post Response Mode §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the redirect URI's query: the default of `code`, never with tokens.
    Query,
    /// In the redirect URI's fragment: the default of `code id_token`.
    Fragment,
    /// Posted by the browser to the redirect URI from a self-submitting form.
    FormPost,
}

/// The response modes offered, for `response_mode` and discovery.
pub const RESPONSE_MODES: &[&str] = &["query", "fragment", "form_post"];

impl ResponseMode {
    /// The mode of `request`: the one asked for, or its response type's default.
    pub fn of(request: &AuthorizationRequest) -> Self {
        match request.response_mode.as_deref() {
            Some("form_post") => Self::FormPost,
            Some("fragment") => Self::Fragment,
            Some("query") => Self::Query,
            _ if request.response_type.is_some() => Self::Fragment,
            _ => Self::Query,
        }
    }
}

/// A response to the client's redirect URI (RFC 6749 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    pub redirect_uri: String,
    pub params: Vec<(&'static str, String)>,
    pub mode: ResponseMode,
}

impl AuthorizationResponse {
    /// The URL to redirect the browser to, for the query and fragment modes: the redirect URI
    /// with the parameters added to its query (RFC 6749 §3.1.2: keeping the query it already
    /// has) or as its fragment (redirect URIs have none).
    pub fn location(&self) -> String {
        let mut url = self.redirect_uri.clone();
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.params {
            serializer.append_pair(name, value);
        }
        url.push(match self.mode {
            ResponseMode::Fragment => '#',
            ResponseMode::Query | ResponseMode::FormPost if url.contains('?') => '&',
            ResponseMode::Query | ResponseMode::FormPost => '?',
        });
        url.push_str(&serializer.finish());
        url
    }

    fn error(request: &AuthorizationRequest, issuer: &str, error: &OAuthError) -> Self {
        let mut params =
            vec![("error", error.error.to_owned()), ("error_description", error.error_description.clone())];
        if let Some(state) = &request.state {
            params.push(("state", state.clone()));
        }
        params.push(("iss", issuer.to_owned()));
        Self { redirect_uri: request.redirect_uri.clone(), params, mode: ResponseMode::of(request) }
    }
}

/// Why an authorization request stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show the user an error page, never
    /// redirect (RFC 6749 §4.1.2.1).
    Page(OAuthError),
    /// Tell the client, at its validated redirect URI.
    Redirect(AuthorizationResponse),
}

impl From<portcullis_core::Error> for AuthorizeError {
    fn from(error: portcullis_core::Error) -> Self {
        Self::Page(error.into())
    }
}

/// What happens next for a valid request.
#[derive(Debug, Clone)]
pub enum Next {
    /// The user must log in (no session, `prompt=login`, or `max_age` passed).
    Login,
    /// The user is known but the session is weaker than the request or the tenant's policy
    /// needs (`acr_values=2`): a flow asks for the missing factor.
    StepUp,
    /// The user is known but has not consented to all of the scope.
    Consent,
    /// Everything is settled: redirect with a code.
    Done(AuthorizationResponse),
}

/// RFC 8252 §7.3: a loopback redirect URI matches on any port; every other one exactly
/// (RFC 9700 §4.1.3).
pub(crate) fn redirect_matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    let loopback = |text: &str| -> Option<(String, String)> {
        let rest = text.strip_prefix("http://")?;
        let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority,
        };
        matches!(host, "127.0.0.1" | "[::1]").then(|| (host.to_owned(), path.to_owned()))
    };
    matches!((loopback(registered), loopback(presented)), (Some(a), Some(b)) if a == b)
}

/// RFC 7636 §4.2: 43–128 characters of `[A-Za-z0-9-._~]`.
fn pkce_text_ok(text: &str) -> bool {
    (43..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

const PROMPTS: &[&str] = &["none", "login", "consent", "select_account"];

/// The prefix of the `request_uri` of a pushed request (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Validates an authorization request (query of a GET or form of a POST, OIDC Core §3.1.2.1).
pub async fn validate(
    services: &Services,
    tenant: &str,
    issuer: &str,
    params: &Params,
) -> Result<(ClientRecord, AuthorizationRequest), AuthorizeError> {
    let page = AuthorizeError::Page;
    let client_id = params
        .single("client_id")
        .map_err(page)?
        .ok_or_else(|| page(OAuthError::invalid_request("client_id is missing")))?;
    let client = match services.client(tenant, client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return Err(page(OAuthError::invalid_request("the client is not registered"))),
        Err(portcullis_core::Error::NotFound(_)) => return Err(page(OAuthError::unknown_issuer())),
        Err(other) => return Err(other.into()),
    };
    // RFC 9126 §4: a pushed request replaces every other parameter; it was validated when
    // pushed, and is used once.
    if let Some(uri) = params.single("request_uri").map_err(page)? {
        let id = uri.strip_prefix(REQUEST_URI_PREFIX).unwrap_or_default();
        return match services.take_pushed_request(tenant, &client.client_id, id).await? {
            Some(request) => Ok((client, request)),
            None => Err(page(OAuthError::new("invalid_request_uri", 400, "request_uri is unknown, used or expired"))),
        };
    }
    let presented = params.single("redirect_uri").map_err(page)?;
    let redirect_uri = match presented {
        Some(uri) => client
            .metadata
            .redirect_uris
            .iter()
            .find(|r| redirect_matches(r.as_str(), uri))
            .map(|_| uri.to_owned())
            .ok_or_else(|| page(OAuthError::invalid_request("redirect_uri is not registered for this client")))?,
        // RFC 6749 §3.1.2.3: may be omitted only when exactly one is registered; OIDC always
        // requires it.
        None if client.metadata.redirect_uris.len() == 1
            && !params.0.iter().any(|(k, v)| k == "scope" && v.split(' ').any(|s| s == "openid")) =>
        {
            client.metadata.redirect_uris[0].as_str().to_owned()
        }
        None => return Err(page(OAuthError::invalid_request("redirect_uri is missing"))),
    };
    let custom = services.custom_scopes(tenant).await?;
    let mut request = blank(&client, redirect_uri, params);
    if client.metadata.require_pushed_authorization_requests {
        let error = OAuthError::invalid_request("this client must push its authorization requests (RFC 9126 §6)");
        return Err(AuthorizeError::Redirect(AuthorizationResponse::error(&request, issuer, &error)));
    }
    match checked(&client, params, &mut request, &custom) {
        Ok(()) => Ok((client, request)),
        Err(error) => Err(AuthorizeError::Redirect(AuthorizationResponse::error(&request, issuer, &error))),
    }
}

/// A request of `client` to `redirect_uri` with only its `state` read yet.
fn blank(client: &ClientRecord, redirect_uri: String, params: &Params) -> AuthorizationRequest {
    AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        state: params.single("state").ok().flatten().map(str::to_owned),
        ..Default::default()
    }
}

/// The checks after the client and redirect URI are trusted, on their own (for fuzzing and
/// unit tests): the request as validated, or the error that goes back to the client.
pub fn check_request(
    client: &ClientRecord,
    redirect_uri: &str,
    params: &Params,
    custom: &[ScopeDefinition],
) -> Result<AuthorizationRequest, OAuthError> {
    let mut request = blank(client, redirect_uri.to_owned(), params);
    checked(client, params, &mut request, custom)?;
    Ok(request)
}

/// The checks whose failures go back to the client (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).
fn checked(
    client: &ClientRecord,
    params: &Params,
    request: &mut AuthorizationRequest,
    custom: &[ScopeDefinition],
) -> Result<(), OAuthError> {
    params.no_repeats(&["resource"])?;
    if params.single("request")?.is_some() {
        return Err(OAuthError::new("request_not_supported", 400, "request objects are not supported"));
    }
    if params.single("request_uri")?.is_some() {
        return Err(OAuthError::invalid_request("request_uri cannot be pushed or nested (RFC 9126 §2.1)"));
    }
    // The mode first: every later error is delivered in it.
    match params.single("response_mode")? {
        None => {}
        Some(mode) if RESPONSE_MODES.contains(&mode) => request.response_mode = Some(mode.to_owned()),
        Some(other) => return Err(OAuthError::invalid_request(format!("response_mode {other} is not supported"))),
    }
    let response_type =
        params.single("response_type")?.ok_or_else(|| OAuthError::invalid_request("response_type is missing"))?;
    let Some(response_type) = canonical_response_type(response_type) else {
        return Err(OAuthError::new(
            "unsupported_response_type",
            400,
            format!("response_type {response_type} is not offered; use code (or code id_token)"),
        ));
    };
    if response_type != "code" {
        request.response_type = Some(response_type.clone());
    }
    if !client.metadata.grant_types.contains(&GrantType::AuthorizationCode)
        || !client.metadata.response_types.contains(&response_type)
    {
        return Err(OAuthError::new(
            "unauthorized_client",
            400,
            format!("the client is not registered for response_type {response_type}"),
        ));
    }
    // Multiple Response Type Encoding Practices §2.1: never tokens in a query.
    if request.response_type.is_some() && request.response_mode.as_deref() == Some("query") {
        return Err(OAuthError::invalid_request(
            "response_mode query cannot carry an ID token; use fragment or form_post",
        ));
    }
    let scope = params.single("scope")?.unwrap_or_default();
    for token in scope.split(' ').filter(|t| !t.is_empty()) {
        if !portcullis_core::model::client::scope_token_ok(token) {
            return Err(OAuthError::invalid_scope("scope must be scope tokens separated by spaces"));
        }
        if !scopes::allowed(client, token, custom) {
            return Err(OAuthError::invalid_scope(format!("the client may not request the scope {token}")));
        }
        if !request.scope.iter().any(|s| s == token) {
            request.scope.push(token.to_owned());
        }
    }
    request.nonce = params.single("nonce")?.map(str::to_owned);
    // OIDC Core §3.3.2.11: a front-channel ID token needs `openid` and a nonce.
    if request.response_type.is_some() {
        if !request.scope.iter().any(|s| s == "openid") {
            return Err(OAuthError::invalid_request("response_type code id_token needs the openid scope"));
        }
        if request.nonce.is_none() {
            return Err(OAuthError::invalid_request("nonce is required with response_type code id_token"));
        }
    }
    match (params.single("code_challenge")?, params.single("code_challenge_method")?) {
        (Some(challenge), Some("S256")) if pkce_text_ok(challenge) => {
            request.code_challenge = Some(challenge.to_owned())
        }
        (Some(_), Some("S256")) => {
            return Err(OAuthError::invalid_request("code_challenge is malformed (RFC 7636 §4.2)"));
        }
        (Some(_), None | Some("plain")) => {
            return Err(OAuthError::invalid_request("code_challenge_method must be S256 (RFC 9700 §2.1.1)"));
        }
        (Some(_), Some(other)) => {
            return Err(OAuthError::invalid_request(format!("unknown code_challenge_method {other}")));
        }
        (None, Some(_)) => return Err(OAuthError::invalid_request("code_challenge_method without code_challenge")),
        (None, None) if client.metadata.require_pkce => {
            return Err(OAuthError::invalid_request("this client must use PKCE: send code_challenge with S256"));
        }
        (None, None) => {}
    }
    if let Some(prompt) = params.single("prompt")? {
        for value in prompt.split(' ') {
            if !PROMPTS.contains(&value) {
                return Err(OAuthError::invalid_request(format!("unknown prompt value {value}")));
            }
            request.prompt.push(value.to_owned());
        }
        if request.prompt.len() > 1 && request.prompt.iter().any(|p| p == "none") {
            return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
        }
    }
    if let Some(max_age) = params.single("max_age")? {
        request.max_age = Some(
            max_age
                .parse::<u32>()
                .map(i64::from)
                .map_err(|_| OAuthError::invalid_request("max_age must be a number of seconds"))?,
        );
    }
    request.login_hint = params.single("login_hint")?.map(|h| h.chars().take(256).collect());
    request.ui_locales = params.single("ui_locales")?.map(str::to_owned);
    request.acr_values = params.single("acr_values")?.map(str::to_owned);
    request.id_token_hint = params.single("id_token_hint")?.map(str::to_owned);
    if let Some(claims) = params.single("claims")? {
        let parsed: Value = serde_json::from_str(claims)
            .map_err(|_| OAuthError::invalid_request("claims must be a JSON object (OIDC Core §5.5)"))?;
        if !parsed.is_object() {
            return Err(OAuthError::invalid_request("claims must be a JSON object (OIDC Core §5.5)"));
        }
        request.claims = Some(parsed);
    }
    for resource in params.all("resource") {
        resource_ok(resource, client)?;
        if !request.resource.iter().any(|r| r == resource) {
            request.resource.push(resource.to_owned());
        }
    }
    Ok(())
}

/// Decides the next step for a valid request, given the browser's SSO session (OIDC Core
/// §3.1.2.3): `prompt`, `max_age`, `id_token_hint` and remembered consent.
pub async fn decide(
    services: &Services,
    tenant: &str,
    issuer: &str,
    client: &ClientRecord,
    request: &AuthorizationRequest,
    session: Option<&SessionRecord>,
) -> Result<Next, AuthorizeError> {
    let fail = |error: OAuthError| AuthorizeError::Redirect(AuthorizationResponse::error(request, issuer, &error));
    let none = request.prompt.iter().any(|p| p == "none");
    let now = services.now();
    let fresh_login = request.prompt.iter().any(|p| p == "login" || p == "select_account");
    // OIDC Core §3.1.2.1; `max_age=0` means "log in again now", like `prompt=login`.
    let too_old =
        |s: &SessionRecord| request.max_age.is_some_and(|age| age == 0 || (now - s.auth_time).whole_seconds() > age);
    // OIDC Core §3.1.2.1: a session of another user than the hinted one does not count.
    let mut other_user = false;
    if let Some(hint) = request.id_token_hint.as_deref() {
        let claims =
            crate::id_token::hint_claims(services, tenant, issuer, hint).await.map_err(AuthorizeError::Page)?;
        let Some(subject) = claims.as_ref().and_then(|c| c.get("sub")).and_then(Value::as_str) else {
            return Err(fail(OAuthError::invalid_request("id_token_hint is not an ID token this issuer made")));
        };
        other_user = session.is_some_and(|s| s.user_id.to_string() != subject);
    }
    let Some(session) = session.filter(|s| !fresh_login && !too_old(s) && !other_user) else {
        return if none {
            Err(fail(OAuthError::new("login_required", 400, "the user is not logged in (prompt=none)")))
        } else {
            Ok(Next::Login)
        };
    };
    if !services.session_suffices(tenant, client, request, session).await? {
        return if none {
            Err(fail(OAuthError::new("interaction_required", 400, "a further factor is needed (prompt=none)")))
        } else {
            Ok(Next::StepUp)
        };
    }
    let consented = client.metadata.first_party
        || (!request.prompt.iter().any(|p| p == "consent")
            && services.consent_covers(tenant, session.user_id, &client.client_id, &request.scope).await?);
    if !consented {
        return if none {
            Err(fail(OAuthError::new("consent_required", 400, "the user has not consented (prompt=none)")))
        } else {
            Ok(Next::Consent)
        };
    }
    Ok(Next::Done(complete(services, tenant, issuer, client, request, None, session, false).await?))
}

/// Ends a request in a code: from a finished flow (`flow`) or straight from the session.
#[allow(clippy::too_many_arguments)]
pub async fn complete(
    services: &Services,
    tenant: &str,
    issuer: &str,
    client: &ClientRecord,
    request: &AuthorizationRequest,
    flow: Option<&FlowRecord>,
    session: &SessionRecord,
    remember_consent: bool,
) -> Result<AuthorizationResponse, AuthorizeError> {
    let scope = request.scope.join(" ");
    let standalone;
    let flow = match flow {
        Some(flow) => flow,
        None => {
            standalone = FlowRecord {
                id: String::new(),
                tenant_id: session.tenant_id,
                kind: portcullis_core::model::session::FlowKind::Login,
                browser_digest: Vec::new(),
                request: request.clone(),
                user_id: Some(session.user_id),
                session_id: Some(session.id.clone()),
                failures: 0,
                state: portcullis_core::model::session::FlowState::default(),
                created_at: session.created_at,
                expires_at: session.expires_at,
            };
            &standalone
        }
    };
    let code_request = CodeRequest { flow, session, scope: &scope, remember_consent, lifetime: grant_lifetime(client) };
    let code = services.issue_code(tenant, code_request, &RequestContext::default()).await?;
    with_code(services, tenant, issuer, client, request, session, code).await
}

/// The response that ends a request in `code`, already issued (with the ID token a hybrid
/// response type asks for).
pub async fn with_code(
    services: &Services,
    tenant: &str,
    issuer: &str,
    client: &ClientRecord,
    request: &AuthorizationRequest,
    session: &SessionRecord,
    code: String,
) -> Result<AuthorizationResponse, AuthorizeError> {
    let id_token = match request.response_type {
        Some(_) => Some(
            crate::id_token::front_channel(services, tenant, issuer, client, request, session, &code)
                .await
                .map_err(AuthorizeError::Page)?,
        ),
        None => None,
    };
    let mut params = vec![("code", code)];
    if let Some(id_token) = id_token {
        params.push(("id_token", id_token));
    }
    if let Some(state) = &request.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", issuer.to_owned()));
    Ok(AuthorizationResponse { redirect_uri: request.redirect_uri.clone(), params, mode: ResponseMode::of(request) })
}

/// How long a grant of `client` may last: its refresh tokens' absolute lifetime.
pub fn grant_lifetime(client: &ClientRecord) -> Duration {
    Duration::seconds(i64::from(client.metadata.refresh_token_absolute_lifetime.unwrap_or(DEFAULT_GRANT_LIFETIME)))
}

/// The user refused consent (OIDC Core §3.1.2.6 `access_denied`).
pub fn denied(request: &AuthorizationRequest, issuer: &str) -> AuthorizationResponse {
    AuthorizationResponse::error(request, issuer, &OAuthError::new("access_denied", 400, "the user denied the request"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_on_any_port_only() {
        assert!(redirect_matches("http://127.0.0.1/cb", "http://127.0.0.1:53121/cb"));
        assert!(redirect_matches("http://[::1]:80/cb", "http://[::1]:9/cb"));
        assert!(!redirect_matches("http://127.0.0.1/cb", "http://127.0.0.1:5/other"));
        assert!(!redirect_matches("https://app.example/cb", "https://app.example/cb/"));
        assert!(!redirect_matches("https://app.example/cb", "https://APP.example/cb"));
        assert!(
            !redirect_matches("http://localhost/cb", "http://localhost:8/cb"),
            "localhost is not exempt (RFC 8252 §8.3)"
        );
    }

    #[test]
    fn responses_keep_the_redirect_query() {
        let response = AuthorizationResponse {
            redirect_uri: "https://app.example/cb?tenant=a".into(),
            params: vec![("code", "x y".into()), ("iss", "https://id.example/t/acme".into())],
            mode: ResponseMode::Query,
        };
        assert_eq!(
            response.location(),
            "https://app.example/cb?tenant=a&code=x+y&iss=https%3A%2F%2Fid.example%2Ft%2Facme"
        );
        let fragment = AuthorizationResponse { mode: ResponseMode::Fragment, ..response };
        assert_eq!(
            fragment.location(),
            "https://app.example/cb?tenant=a#code=x+y&iss=https%3A%2F%2Fid.example%2Ft%2Facme"
        );
    }
}
