//! The JSON flow API (`{issuer}/flows/…`, issue 4 item 1): native apps and single-page apps
//! drive the same login flows as the hosted pages, without scraping HTML.
//!
//! - `POST {issuer}/flows/login` with the authorization request's parameters as a JSON object
//!   starts a flow and answers with it and a `flow_token`, which every later call sends in the
//!   `Portcullis-Flow-Token` header (the flow answers only its holder, as a page flow answers
//!   only its browser);
//! - `GET {issuer}/flows/{id}` shows the flow: its `step`, the `methods` that step accepts, and
//!   what they need (an authenticator's enrolment, the scopes to consent to);
//! - `POST {issuer}/flows/{id}` submits one method; the answer is the flow at its next step,
//!   ending at `complete` with `redirect_to`: the client's redirect URI with the authorization
//!   code, redeemed at the token endpoint as usual (with PKCE).
//!
//! Refusals are problem+json with a stable `code` (`invalid_credentials`, `invalid_code`,
//! `invalid_certificate`, `flow_expired`, `too_many_attempts`, `throttled`, …) and, where the
//! flow goes on, the flow.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use portcullis_core::model::auth_policy::{FirstFactor, SecondFactorKind};
use portcullis_core::model::client::ClientRecord;
use portcullis_core::model::session::{FlowRecord, FlowStep, SessionRecord};
use portcullis_core::service::certificates::{CertificateProblem, PresentedCertificate};
use portcullis_core::service::mail::CodePurpose;
use portcullis_core::service::signup::SignUp;
use portcullis_core::service::totp::TotpEnrolment;
use portcullis_core::service::{FlowProgress, LoginRefusal, SESSION_LIFETIME, SecondFactor};
use portcullis_crypto::secret::random_secret;
use portcullis_oidc::authorize::{self, AuthorizationResponse, AuthorizeError, ResponseMode};
use portcullis_oidc::{OAuthError, Params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::AppState;
use crate::error::PROBLEM_JSON;
use crate::extract::{ApiPath, Context, decode_json};

/// The header that carries a flow's token.
pub const FLOW_TOKEN_HEADER: &str = "portcullis-flow-token";

/// The flow API's part of the OpenAPI document: served from the issuer, not under `/admin/v1`.
#[derive(utoipa::OpenApi)]
#[openapi(modifiers(&AccessToken), paths(start, start_settings, show, submit), components(schemas(FlowView, FlowClient, FlowSubmission, TotpEnrolment)))]
struct FlowDoc;

struct AccessToken;

impl utoipa::Modify for AccessToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("An access token the issuer gave a first-party app for the user."))
            .build();
        components.add_security_scheme("access_token", SecurityScheme::Http(scheme));
    }
}

/// The flow API's operations, each with the server root as its server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    let mut doc = FlowDoc::openapi();
    for item in doc.paths.paths.values_mut() {
        item.servers = Some(vec![utoipa::openapi::server::Server::new("/")]);
    }
    doc
}

/// The routes of the flow API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/flows/login", post(start))
        .route("/t/{tenant}/flows/settings", post(start_settings))
        .route("/t/{tenant}/flows/{id}", get(show).post(submit))
}

/// The client a flow is for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlowClient {
    pub client_id: String,
    pub client_name: String,
}

/// A flow as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlowView {
    pub id: String,
    /// `login` or `settings`.
    pub kind: String,
    /// `authenticate`, `email_code`, `sms_code`, `second_factor`, `enrol_mfa` (a second
    /// factor must be enrolled first), `change_password`, `consent`, `settings`, or `complete`.
    pub step: String,
    /// What `POST {issuer}/flows/{id}` accepts as `method` at this step.
    pub methods: Vec<&'static str>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
    pub client: FlowClient,
    /// Only in the answer that starts the flow: send it as `Portcullis-Flow-Token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_token: Option<String>,
    /// At `enrol_mfa` and `settings`, when the tenant allows authenticator apps: what the app
    /// needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp: Option<TotpEnrolment>,
    /// At `authenticate`, when passkeys are on: the options for `navigator.credentials.get()`
    /// (a discoverable request: any passkey of the tenant's users may answer); at
    /// `second_factor`, a request for the user's own passkeys; at `enrol_mfa` and `settings`,
    /// the options for `navigator.credentials.create()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub passkey: Option<Value>,
    /// At `consent`: the scopes asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<String>>,
    /// Made by the step just taken and shown only now: the user's recovery codes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<String>,
    /// At `complete`: where to send the user agent (the client's redirect URI with the
    /// authorization response).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
}

/// One submission: the method and its fields.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum FlowSubmission {
    /// Username or e-mail and password.
    Password { identifier: String, password: String },
    /// The answer of `navigator.credentials.get()` (or the platform's passkey API) to the
    /// flow's `passkey` options, as JSON with base64url binary fields.
    Passkey {
        #[schema(value_type = Object)]
        credential: Value,
        /// At `enrol_mfa` and `settings`: a name for the passkey being registered.
        #[serde(default)]
        name: String,
    },
    /// At `enrol_mfa` and `settings`: text a code to this mobile number (international form), then send it
    /// as `code`.
    AddSms { number: String },
    /// Send a sign-in code (and link) to the account's e-mail address; the flow moves to
    /// `email_code` whether or not there is such an account.
    EmailCode { identifier: String },
    /// Send a password reset code; after it (and any second factor due) comes `change_password`.
    Recovery { identifier: String },
    /// Create an account (where the tenant lets visitors): with mail, a code goes to `email`
    /// and the flow moves to `email_code` — the same answer when the address has an account
    /// already (its owner gets a sign-in code instead); without mail, the account is made.
    Register {
        email: String,
        password: String,
        #[serde(default)]
        name: Option<String>,
    },
    /// Send a code by text message: at `second_factor` to the user's enrolled number (no
    /// `identifier`); at `authenticate`, when the tenant allows passwordless texts, to the
    /// number of the account `identifier` names (the flow moves to `sms_code` whether or not
    /// there is one).
    Sms {
        #[serde(default)]
        identifier: Option<String>,
    },
    /// The client certificate of this request's TLS connection (sent to the mutual-TLS
    /// listener, at `authenticate`).
    Certificate {},
    /// The code from the e-mail or the text message.
    Code { code: String },
    /// A six-digit code of an authenticator app.
    Totp { code: String },
    /// One of the user's recovery codes.
    RecoveryCode { code: String },
    /// The first code of the authenticator being enrolled, and an optional name for it.
    EnrolTotp {
        code: String,
        #[serde(default)]
        name: String,
    },
    /// A new password, when an administrator required one.
    NewPassword { password: String },
    /// `allow` or `deny` the scopes asked for.
    Consent { decision: String },
}

impl FlowSubmission {
    /// The `method` it was sent as.
    fn method(&self) -> &'static str {
        match self {
            Self::Password { .. } => "password",
            Self::Passkey { .. } => "passkey",
            Self::AddSms { .. } => "add_sms",
            Self::EmailCode { .. } => "email_code",
            Self::Recovery { .. } => "recovery",
            Self::Register { .. } => "register",
            Self::Sms { .. } => "sms",
            Self::Certificate {} => "certificate",
            Self::Code { .. } => "code",
            Self::Totp { .. } => "totp",
            Self::RecoveryCode { .. } => "recovery_code",
            Self::EnrolTotp { .. } => "enrol_totp",
            Self::NewPassword { .. } => "new_password",
            Self::Consent { .. } => "consent",
        }
    }
}

/// What the flow accepts at its step: the first factors the node and the tenant's policy
/// offer, the second factors its user has, or the one answer the step waits for.
async fn methods(
    state: &AppState,
    tenant: &str,
    flow: &FlowRecord,
    client: &ClientRecord,
) -> Result<Vec<&'static str>, Response> {
    let services = &state.services;
    Ok(match flow.step() {
        FlowStep::Authenticate => {
            let policy = services.login_policy(tenant).await.map_err(failure)?;
            let mut methods = Vec::new();
            let password = policy.allows_first_for(FirstFactor::Password, client);
            if password {
                methods.push("password");
            }
            if services.passkeys_enabled() && policy.allows_first_for(FirstFactor::Passkey, client) {
                methods.push("passkey");
            }
            if services.mail_enabled() && policy.allows_first_for(FirstFactor::EmailCode, client) {
                methods.push("email_code");
            }
            if services.mail_enabled() && password {
                methods.push("recovery");
            }
            if services.sms_enabled() && policy.allows_first_for(FirstFactor::Sms, client) {
                methods.push("sms");
            }
            if policy.self_registration {
                methods.push("register");
            }
            if state.certificate_url.is_some() && policy.allows_first_for(FirstFactor::Certificate, client) {
                methods.push("certificate");
            }
            methods
        }
        FlowStep::EmailCode | FlowStep::SmsCode => vec!["code"],
        FlowStep::SecondFactor => services.second_factor_methods(tenant, flow).await.map_err(failure)?,
        FlowStep::ChangePassword => vec!["new_password"],
        FlowStep::Consent => vec!["consent"],
        // Enrolling a second factor: in a settings flow, or in a login that needs one first.
        FlowStep::EnrolMfa | FlowStep::Settings => {
            let policy = services.login_policy(tenant).await.map_err(failure)?;
            let mut methods = Vec::new();
            if flow.state.totp_secret.is_some() && policy.allows_second(SecondFactorKind::Totp) {
                methods.push("enrol_totp");
            }
            if flow.state.webauthn_options.is_some() {
                methods.push("passkey");
            }
            if services.enrollable(&policy).contains(&SecondFactorKind::Sms) {
                methods.push("add_sms");
            }
            if flow.state.sms_code.is_some() {
                methods.push("code");
            }
            methods
        }
    })
}

fn step_name(step: FlowStep) -> String {
    serde_json::to_value(step).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// A refusal as problem+json with a stable `code`, and the flow when it goes on.
fn problem(status: StatusCode, code: &str, detail: &str, flow: Option<FlowView>) -> Response {
    let mut body = serde_json::json!({
        "type": format!("urn:portcullis:problem:{code}"),
        "title": detail,
        "status": status.as_u16(),
        "code": code,
    });
    if let (Some(flow), Value::Object(map)) = (flow, &mut body) {
        map.insert("flow".into(), serde_json::to_value(flow).unwrap_or(Value::Null));
    }
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

fn gone() -> Response {
    problem(StatusCode::GONE, "flow_expired", "The flow has expired, ended, or is not yours; start again", None)
}

fn failure(error: portcullis_core::Error) -> Response {
    match error {
        portcullis_core::Error::NotFound(_) => gone(),
        other => crate::error::WebError::from(other).into_response(),
    }
}

fn oauth_problem(error: &OAuthError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    problem(status, error.error, &error.error_description, None)
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn view(state: &AppState, tenant: &str, flow: &FlowRecord, client: &ClientRecord) -> Result<FlowView, Response> {
    let step = flow.step();
    let totp = match step {
        FlowStep::EnrolMfa | FlowStep::Settings if flow.state.totp_secret.is_some() => {
            Some(state.services.totp_enrolment(tenant, flow).await.map_err(failure)?)
        }
        _ => None,
    };
    let passkey = match step {
        FlowStep::EnrolMfa | FlowStep::Settings => flow.state.webauthn_options.clone(),
        _ => state.services.passkey_request(tenant, flow).await.map_err(failure)?,
    };
    Ok(FlowView {
        id: flow.id.clone(),
        kind: flow.kind.as_str().to_owned(),
        step: step_name(step),
        methods: methods(state, tenant, flow, client).await?,
        expires_at: flow.expires_at,
        client: FlowClient { client_id: client.client_id.clone(), client_name: client.metadata.client_name.clone() },
        flow_token: None,
        totp,
        passkey,
        scope: (step == FlowStep::Consent).then(|| flow.request.scope.clone()),
        recovery_codes: Vec::new(),
        redirect_to: None,
    })
}

/// The JSON body of `POST …/flows/login` as OAuth parameters (strings, or arrays of strings
/// for repeatable ones such as `resource`).
fn params_of(body: &Bytes) -> Result<Params, crate::error::WebError> {
    let object: serde_json::Map<String, Value> = decode_json(body)?;
    let mut pairs = Vec::new();
    for (name, value) in object {
        match value {
            Value::String(text) => pairs.push((name, text)),
            Value::Number(number) => pairs.push((name, number.to_string())),
            Value::Array(items) if items.iter().all(Value::is_string) => {
                pairs.extend(items.into_iter().filter_map(|v| v.as_str().map(|s| (name.clone(), s.to_owned()))));
            }
            _ => return Err(crate::error::WebError::invalid(name, "must be a string or an array of strings")),
        }
    }
    Ok(Params(pairs))
}

/// Start a login flow for an authorization request (OIDC Core §3.1.2.1 parameters as a JSON
/// object; `response_mode` query or fragment). The answer carries the `flow_token`.
#[utoipa::path(post, path = "/t/{tenant}/flows/login", tag = "flows", security(()), params(("tenant" = String, Path)), request_body(content = Object, description = "client_id, redirect_uri, response_type, scope, state, nonce, code_challenge, code_challenge_method, acr_values, max_age, login_hint, ui_locales, resource, request_uri…"), responses((status = 201, body = FlowView), (status = 400, description = "An OAuth error (`code`) as problem+json")))]
pub(crate) async fn start(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !is_json {
        return oauth_problem(&OAuthError::invalid_request("send the authorization request as application/json"));
    }
    let params = match params_of(&body) {
        Ok(params) => params,
        Err(error) => return error.into_response(),
    };
    let issuer = state.issuer(&tenant);
    let (client, request) = match authorize::validate(&state.services, &tenant, &issuer, &params).await {
        Ok(valid) => valid,
        Err(AuthorizeError::Page(error)) => return oauth_problem(&error),
        Err(AuthorizeError::Redirect(response)) => {
            let field = |name: &str| response.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
            let code = field("error").unwrap_or_else(|| "invalid_request".to_owned());
            let detail = field("error_description").unwrap_or_default();
            let status =
                if code == "server_error" { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::BAD_REQUEST };
            return problem(status, &code, &detail, None);
        }
    };
    if ResponseMode::of(&request) == ResponseMode::FormPost {
        return oauth_problem(&OAuthError::invalid_request(
            "the flow API answers with a URL: use response_mode query or fragment",
        ));
    }
    if request.prompt.iter().any(|p| p == "none") {
        return oauth_problem(&OAuthError::new("login_required", 400, "a flow API login always asks the user"));
    }
    let token = random_secret("pcf_");
    let flow = match state.services.start_login_flow(&tenant, &token, &client, request, None, false).await {
        Ok(flow) => flow,
        Err(error) => return failure(error),
    };
    match view(&state, &tenant, &flow, &client).await {
        Ok(mut shown) => {
            shown.flow_token = Some(token);
            let mut response = no_store((StatusCode::CREATED, axum::Json(shown)).into_response());
            if let Ok(location) = HeaderValue::from_str(&format!("/t/{tenant}/flows/{}", flow.id)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(response) => response,
    }
}

/// Start a settings flow: the signed-in user of a first-party app adds a second factor (an
/// authenticator app, a passkey, a mobile number). The app authenticates as the user with the
/// access token it holds (`Authorization: Bearer`); third-party clients may not, whatever their
/// scope. The answer carries the `flow_token`, the authenticator's enrolment (`totp`) and, with
/// passkeys on, the options for `navigator.credentials.create()` (`passkey`).
#[utoipa::path(post, path = "/t/{tenant}/flows/settings", tag = "flows", security(("access_token" = [])), params(("tenant" = String, Path)), responses((status = 201, body = FlowView), (status = 401, description = "No valid access token (`WWW-Authenticate: Bearer`)"), (status = 403, description = "`first_party_only`: the token's client is not first-party")))]
pub(crate) async fn start_settings(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
) -> Response {
    let issuer = state.issuer(&tenant);
    let token = crate::issuer::bearer(&headers);
    let grant = match portcullis_oidc::bearer_grant(&state.services, &tenant, &issuer, token.as_deref()).await {
        Ok(grant) => grant,
        Err(error) => return crate::issuer::bearer_refused(&error),
    };
    let client = match state.services.client(&tenant, &grant.client_id).await {
        Ok(Some(client)) if client.metadata.first_party => client,
        Ok(_) => {
            return problem(
                StatusCode::FORBIDDEN,
                "first_party_only",
                "only first-party clients may change a user's second factors",
                None,
            );
        }
        Err(error) => return failure(error),
    };
    let secret = random_secret("pcf_");
    let started = state
        .services
        .start_settings(&tenant, &secret, grant.user_id, grant.session_id.clone(), Some(client.client_id.clone()))
        .await;
    let flow = match started {
        Ok(flow) => flow,
        Err(error) => return failure(error),
    };
    match view(&state, &tenant, &flow, &client).await {
        Ok(mut shown) => {
            shown.flow_token = Some(secret);
            let mut response = no_store((StatusCode::CREATED, axum::Json(shown)).into_response());
            if let Ok(location) = HeaderValue::from_str(&format!("/t/{tenant}/flows/{}", flow.id)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(response) => response,
    }
}

/// The flow `id` held by the caller's token, with its client.
async fn held(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    id: &str,
) -> Result<(FlowRecord, ClientRecord), Response> {
    let token = headers.get(FLOW_TOKEN_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if token.is_empty() {
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "flow_token_missing",
            "send the flow's Portcullis-Flow-Token",
            None,
        ));
    }
    let flow = match state.services.login_flow(tenant, id, token).await {
        Ok(flow) => flow,
        Err(error) => return Err(failure(error)),
    };
    match state.services.client(tenant, &flow.request.client_id).await {
        Ok(Some(client)) => Ok((flow, client)),
        Ok(None) => Err(gone()),
        Err(error) => Err(failure(error)),
    }
}

/// The flow now: its step and the methods that step accepts.
#[utoipa::path(get, path = "/t/{tenant}/flows/{id}", tag = "flows", security(()), params(("tenant" = String, Path), ("id" = String, Path), ("Portcullis-Flow-Token" = String, Header)), responses((status = 200, body = FlowView), (status = 401, description = "No flow token"), (status = 410, description = "`flow_expired`: expired, ended, or another's")))]
pub(crate) async fn show(
    State(state): State<AppState>,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (flow, client) = match held(&state, &tenant, &headers, &id).await {
        Ok(held) => held,
        Err(response) => return response,
    };
    match view(&state, &tenant, &flow, &client).await {
        Ok(shown) => no_store(axum::Json(shown).into_response()),
        Err(response) => response,
    }
}

/// Submit one method at the flow's step; the answer is the flow at its next step, ending at
/// `complete` with `redirect_to`.
#[utoipa::path(post, path = "/t/{tenant}/flows/{id}", tag = "flows", security(()), params(("tenant" = String, Path), ("id" = String, Path), ("Portcullis-Flow-Token" = String, Header)), request_body = FlowSubmission, responses((status = 200, body = FlowView), (status = 400, description = "`invalid_credentials`, `invalid_code`, `invalid_passkey`, `invalid_certificate` (the title says why: `expired`, `revoked`, `unknown_ca`, `unmapped`, `no_certificate`, `invalid`), `invalid_method`, `invalid_value`, with the flow"), (status = 401, description = "No flow token"), (status = 410, description = "`flow_expired` or `too_many_attempts`"), (status = 429, description = "`throttled`, with Retry-After")))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    Context(context): Context,
    headers: HeaderMap,
    presented: Option<axum::Extension<PresentedCertificate>>,
    body: Bytes,
) -> Response {
    let (flow, client) = match held(&state, &tenant, &headers, &id).await {
        Ok(held) => held,
        Err(response) => return response,
    };
    let submission: FlowSubmission = match decode_json(&body) {
        Ok(submission) => submission,
        Err(error) => return error.into_response(),
    };
    let services = &state.services;
    let accepted = match methods(&state, &tenant, &flow, &client).await {
        Ok(accepted) => accepted,
        Err(response) => return response,
    };
    if !accepted.contains(&submission.method()) {
        let shown = view(&state, &tenant, &flow, &client).await.ok();
        return problem(StatusCode::BAD_REQUEST, "invalid_method", "the flow does not accept this method now", shown);
    }
    let submission_kind = submission.method();
    let flow_step = flow.step();
    let enrolling = matches!(flow_step, FlowStep::EnrolMfa | FlowStep::Settings);
    // A step that completes authentication for a request needing no consent ends in its code.
    let at_once = crate::browser::code_at_once(&flow, &client);
    let outcome = match submission {
        FlowSubmission::Password { identifier, password } => {
            if identifier.is_empty() || password.is_empty() {
                let shown = view(&state, &tenant, &flow, &client).await.ok();
                return problem(
                    StatusCode::BAD_REQUEST,
                    "invalid_credentials",
                    "give an identifier and a password",
                    shown,
                );
            }
            services.login_with_password(&tenant, &flow, &identifier, password, &context, at_once).await
        }
        FlowSubmission::Passkey { credential, name } if enrolling => {
            services.confirm_passkey(&tenant, &flow, &credential.to_string(), &name, &context).await
        }
        FlowSubmission::Passkey { credential, .. } => {
            services.login_with_passkey(&tenant, &flow, &credential.to_string(), &context, at_once).await
        }
        FlowSubmission::AddSms { number } => services
            .send_sms_enrolment(&tenant, &flow, &number, &context)
            .await
            .map(|sent| sent.map(FlowProgress::next)),
        FlowSubmission::Code { code } if enrolling => services.confirm_sms(&tenant, &flow, &code, &context).await,
        FlowSubmission::EmailCode { identifier } | FlowSubmission::Recovery { identifier } => {
            let purpose =
                if matches!(submission_kind, "recovery") { CodePurpose::Recovery } else { CodePurpose::Login };
            let link = format!("{}/login/link", state.issuer(&tenant));
            services.send_email_code(&tenant, &flow, &identifier, purpose, &link, &context).await
        }
        FlowSubmission::Register { email, password, name } => {
            let link = format!("{}/login/link", state.issuer(&tenant));
            services.sign_up(&tenant, &flow, SignUp { email, password, name }, &link, &context).await
        }
        FlowSubmission::Sms { identifier } => {
            let identifier = identifier.filter(|_| flow.step() == FlowStep::Authenticate);
            if flow.step() == FlowStep::Authenticate && identifier.as_deref().is_none_or(|i| i.trim().is_empty()) {
                let shown = view(&state, &tenant, &flow, &client).await.ok();
                return problem(
                    StatusCode::BAD_REQUEST,
                    "invalid_value",
                    "identifier: give a username or an e-mail address",
                    shown,
                );
            }
            services.send_sms_code(&tenant, &flow, identifier.as_deref(), &context).await
        }
        FlowSubmission::Certificate {} => {
            let presented = presented
                .map(|axum::Extension(p)| p)
                .unwrap_or(PresentedCertificate { der: Vec::new(), problem: Some(CertificateProblem::Missing) });
            services.login_with_certificate(&tenant, &flow, &presented, &context, at_once).await
        }
        FlowSubmission::Code { code } if flow.step() == FlowStep::SmsCode => {
            services.submit_sms_code(&tenant, &flow, &code, false, &context, at_once).await
        }
        FlowSubmission::Code { code } => {
            services.submit_email_code(&tenant, &flow, Some(&code), None, &context, at_once).await
        }
        FlowSubmission::Totp { code } => {
            services.submit_second_factor(&tenant, &flow, SecondFactor::Totp(code), false, &context, at_once).await
        }
        FlowSubmission::RecoveryCode { code } => {
            services
                .submit_second_factor(&tenant, &flow, SecondFactor::RecoveryCode(code), false, &context, at_once)
                .await
        }
        FlowSubmission::EnrolTotp { code, name } => services.confirm_totp(&tenant, &flow, &code, &name, &context).await,
        FlowSubmission::NewPassword { password } => {
            services.submit_new_password(&tenant, &flow, password, &context).await.map(Ok)
        }
        FlowSubmission::Consent { decision } => return consent(&state, &tenant, flow, &client, &decision).await,
    };
    let progress = match outcome {
        Ok(Ok(progress)) => progress,
        Ok(Err(refusal)) => {
            // The flow as it is now: its failures counted, a spent passkey challenge replaced.
            let token = headers.get(FLOW_TOKEN_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
            let now = state.services.login_flow(&tenant, &flow.id, token).await.unwrap_or(flow);
            return refused(&state, &tenant, &now, &client, refusal).await;
        }
        Err(portcullis_core::Error::Validation(errors)) => {
            let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; ");
            let shown = view(&state, &tenant, &flow, &client).await.ok();
            return problem(StatusCode::BAD_REQUEST, "invalid_value", &detail, shown);
        }
        Err(error) => return failure(error),
    };
    let settings_done = flow_step == FlowStep::Settings && submission_kind != "add_sms";
    advanced(&state, &tenant, &client, progress, settings_done).await
}

async fn refused(
    state: &AppState,
    tenant: &str,
    flow: &FlowRecord,
    client: &ClientRecord,
    refusal: LoginRefusal,
) -> Response {
    match refusal {
        LoginRefusal::Throttled { retry_after } => {
            let mut response = problem(StatusCode::TOO_MANY_REQUESTS, "throttled", "too many attempts: wait", None);
            if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        LoginRefusal::FlowEnded => {
            problem(StatusCode::GONE, "too_many_attempts", "too many wrong attempts: the flow has ended", None)
        }
        LoginRefusal::InvalidCertificate(reason) => {
            let shown = view(state, tenant, flow, client).await.ok();
            problem(StatusCode::BAD_REQUEST, "invalid_certificate", reason.as_str(), shown)
        }
        LoginRefusal::InvalidCredentials | LoginRefusal::InvalidCode | LoginRefusal::InvalidPasskey => {
            let (code, detail) = match refusal {
                LoginRefusal::InvalidCredentials => ("invalid_credentials", "the identifier or password is wrong"),
                LoginRefusal::InvalidPasskey => {
                    ("invalid_passkey", "the passkey answer does not verify, or the passkey is unknown")
                }
                _ => ("invalid_code", "the code is wrong, expired or already used"),
            };
            let shown = view(state, tenant, flow, client).await.ok();
            problem(StatusCode::BAD_REQUEST, code, detail, shown)
        }
    }
}

/// The answer to a step that went through: the flow at its next step — consent, or complete
/// with the redirect — with the session cookie for a new session (a single-page app on the
/// issuer's site keeps the SSO session).
async fn advanced(
    state: &AppState,
    tenant: &str,
    client: &ClientRecord,
    progress: FlowProgress,
    settings_done: bool,
) -> Response {
    let FlowProgress { flow, session, cookie_secret, recovery_codes, ended_sessions, code, .. } = progress;
    for (ended, grants) in ended_sessions {
        crate::browser::notify(state.clone(), tenant.to_owned(), state.issuer(tenant), ended, grants);
    }
    let mut shown = match view(state, tenant, &flow, client).await {
        Ok(shown) => shown,
        Err(response) => return response,
    };
    shown.recovery_codes = recovery_codes;
    // A settings flow ends with the factor it added (its record is gone by now).
    if settings_done {
        shown.step = "complete".to_owned();
        shown.methods = Vec::new();
        shown.totp = None;
        shown.passkey = None;
    }
    if let Some(session) = &session {
        let ended = match code {
            Some(code) => Some(with_code(state, tenant, &flow, client, session, code).await),
            None => match crate::browser::needs_consent(state, tenant, &flow, client, session).await {
                Ok(true) => None,
                Ok(false) => Some(finish(state, tenant, &flow, client, session, false).await),
                Err(error) => return failure(error),
            },
        };
        match ended {
            Some(Ok(location)) => {
                shown.step = "complete".to_owned();
                shown.methods = Vec::new();
                shown.scope = None;
                shown.passkey = None;
                shown.redirect_to = Some(location);
            }
            Some(Err(response)) => return response,
            None => {}
        }
    }
    let mut response = no_store(axum::Json(shown).into_response());
    if let Some(secret) = cookie_secret {
        let cookie = state.cookies.set(&state.cookies.session(tenant), &secret, SESSION_LIFETIME.whole_seconds());
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Ends the OAuth request of an authenticated flow: the redirect with the code.
async fn finish(
    state: &AppState,
    tenant: &str,
    flow: &FlowRecord,
    client: &ClientRecord,
    session: &SessionRecord,
    remember_consent: bool,
) -> Result<String, Response> {
    let issuer = state.issuer(tenant);
    let done = authorize::complete(
        &state.services,
        tenant,
        &issuer,
        client,
        &flow.request,
        Some(flow),
        session,
        remember_consent,
    )
    .await;
    located(done).map_err(|error| oauth_problem(&error))
}

/// Ends the OAuth request of a flow that a step already ended in `code`: the redirect.
async fn with_code(
    state: &AppState,
    tenant: &str,
    flow: &FlowRecord,
    client: &ClientRecord,
    session: &SessionRecord,
    code: String,
) -> Result<String, Response> {
    let issuer = state.issuer(tenant);
    let done = authorize::with_code(&state.services, tenant, &issuer, client, &flow.request, session, code).await;
    located(done).map_err(|error| oauth_problem(&error))
}

/// Where an ended request sends the user agent (its answer, or an error the client gets by
/// redirect), or the error to answer here instead.
fn located(done: Result<AuthorizationResponse, AuthorizeError>) -> Result<String, OAuthError> {
    match done {
        Ok(response) | Err(AuthorizeError::Redirect(response)) => Ok(response.location()),
        Err(AuthorizeError::Page(error)) => Err(error),
    }
}

async fn consent(state: &AppState, tenant: &str, flow: FlowRecord, client: &ClientRecord, decision: &str) -> Response {
    if flow.step() != FlowStep::Consent {
        let shown = view(state, tenant, &flow, client).await.ok();
        return problem(StatusCode::BAD_REQUEST, "invalid_method", "the flow is not at consent", shown);
    }
    let session_id = flow.session_id.clone().unwrap_or_default();
    let session = match state.services.session(tenant, &session_id).await {
        Ok(Some(session)) if session.live(state.services.now()) => session,
        Ok(_) => return gone(),
        Err(error) => return failure(error),
    };
    let location = match decision {
        "allow" => match finish(state, tenant, &flow, client, &session, true).await {
            Ok(location) => location,
            Err(response) => return response,
        },
        "deny" => authorize::denied(&flow.request, &state.issuer(tenant)).location(),
        _ => {
            let shown = view(state, tenant, &flow, client).await.ok();
            return problem(StatusCode::BAD_REQUEST, "invalid_value", "decision must be allow or deny", shown);
        }
    };
    let mut shown = match view(state, tenant, &flow, client).await {
        Ok(shown) => shown,
        Err(response) => return response,
    };
    shown.step = "complete".to_owned();
    shown.methods = Vec::new();
    shown.scope = None;
    shown.redirect_to = Some(location);
    no_store(axum::Json(shown).into_response())
}
