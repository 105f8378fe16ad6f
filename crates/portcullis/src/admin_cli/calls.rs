//! From a parsed command to one admin API call.

use std::io::Read;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::args::*;

/// The path segment of whoever receives a role: `users/{id}` or `groups/{id}`.
fn assignee(user: Option<String>, group: Option<String>) -> anyhow::Result<String> {
    match (user, group) {
        (Some(user), _) => Ok(format!("users/{user}")),
        (None, Some(group)) => Ok(format!("groups/{group}")),
        (None, None) => bail!("give --user or --group"),
    }
}

/// One API call and how to show its answer.
pub(super) struct Call {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) query: Vec<(&'static str, String)>,
    pub(super) body: Option<Body>,
    pub(super) columns: &'static [&'static str],
    /// Print this field of the answer as it is (a `.`-separated path), instead of a table.
    pub(super) text: Option<&'static str>,
}

pub(super) enum Body {
    Json(Value),
    Ndjson(Vec<u8>),
}

impl Call {
    pub(super) fn new(method: Method, path: String, columns: &'static [&'static str]) -> Self {
        Self { method, path, query: Vec::new(), body: None, columns, text: None }
    }
    pub(super) fn json(mut self, value: Value) -> Self {
        self.body = Some(Body::Json(value));
        self
    }
    pub(super) fn text(mut self, field: &'static str) -> Self {
        self.text = Some(field);
        self
    }
    pub(super) fn param(mut self, name: &'static str, value: Option<String>) -> Self {
        if let Some(value) = value {
            self.query.push((name, value));
        }
        self
    }
    pub(super) fn paging(self, paging: Paging) -> Self {
        self.param("limit", paging.limit.map(|l| l.to_string())).param("cursor", paging.cursor)
    }
}

const TENANT_COLUMNS: &[&str] = &["name", "display_name", "profile", "created_at"];
const USER_COLUMNS: &[&str] = &["id", "username", "email", "status", "created_at"];
const GROUP_COLUMNS: &[&str] = &["id", "name", "parent_id", "description"];
const ROLE_COLUMNS: &[&str] = &["id", "name", "composites", "description"];
const ASSIGNMENT_COLUMNS: &[&str] = &["role_id", "role_name", "expires_at"];
const CLIENT_COLUMNS: &[&str] = &["client_id", "client_name", "grant_types", "token_endpoint_auth_method"];
const TOKEN_COLUMNS: &[&str] = &["id", "name", "tenant", "access", "created_at", "revoked_at"];
const REGISTRATION_TOKEN_COLUMNS: &[&str] = &["id", "name", "uses_left", "created_at", "expires_at", "revoked_at"];
const AUDIT_COLUMNS: &[&str] = &["seq", "at", "actor", "action", "target_type", "target_id"];
const SCHEMA_COLUMNS: &[&str] = &["name", "type", "required", "unique", "sensitive", "pattern", "purpose"];

fn parse_json(text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).context("--data is not valid JSON")
}

fn read_stdin_line(what: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the {what} from standard input"))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

fn opt(map: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), Value::String(value));
    }
}

pub(super) fn call_for(resource: Resource) -> anyhow::Result<Call> {
    use Method as M;
    Ok(match resource {
        Resource::Tenants(cmd) => match cmd {
            TenantCmd::List(p) => Call::new(M::GET, "/tenants".into(), TENANT_COLUMNS).paging(p),
            TenantCmd::Get { name } => Call::new(M::GET, format!("/tenants/{name}"), TENANT_COLUMNS),
            TenantCmd::Create { name, display_name, profile } => {
                let mut body = Map::new();
                body.insert("name".into(), json!(name));
                opt(&mut body, "display_name", display_name);
                opt(&mut body, "profile", profile);
                Call::new(M::POST, "/tenants".into(), TENANT_COLUMNS).json(Value::Object(body))
            }
            TenantCmd::Update { name, display_name, profile } => {
                let mut body = Map::new();
                opt(&mut body, "display_name", display_name);
                opt(&mut body, "profile", profile);
                Call::new(M::PATCH, format!("/tenants/{name}"), TENANT_COLUMNS).json(Value::Object(body))
            }
            TenantCmd::Delete { name } => Call::new(M::DELETE, format!("/tenants/{name}"), &[]),
        },
        Resource::Users(cmd) => match cmd {
            UserCmd::List { tenant, username, email, status, attribute, paging } => {
                Call::new(M::GET, format!("/tenants/{tenant}/users"), USER_COLUMNS)
                    .param("username", username)
                    .param("email", email)
                    .param("status", status)
                    .param("attribute", attribute)
                    .paging(paging)
            }
            UserCmd::Get { tenant, id } => Call::new(M::GET, format!("/tenants/{tenant}/users/{id}"), USER_COLUMNS),
            UserCmd::Create { tenant, username, email, password_stdin, data } => {
                let mut body = match data {
                    Some(text) => match parse_json(&text)? {
                        Value::Object(map) => map,
                        _ => bail!("--data must be a JSON object"),
                    },
                    None => Map::new(),
                };
                opt(&mut body, "username", username);
                opt(&mut body, "email", email);
                if password_stdin {
                    body.insert("password".into(), json!(read_stdin_line("password")?));
                }
                Call::new(M::POST, format!("/tenants/{tenant}/users"), USER_COLUMNS).json(Value::Object(body))
            }
            UserCmd::Update { tenant, id, data } => {
                Call::new(M::PATCH, format!("/tenants/{tenant}/users/{id}"), USER_COLUMNS).json(parse_json(&data)?)
            }
            UserCmd::Delete { tenant, id } => Call::new(M::DELETE, format!("/tenants/{tenant}/users/{id}"), &[]),
            UserCmd::SetPassword { tenant, id } => {
                let password = read_stdin_line("password")?;
                Call::new(M::PUT, format!("/tenants/{tenant}/users/{id}/password"), &[])
                    .json(json!({"password": password}))
            }
            UserCmd::Disable { tenant, id } => {
                Call::new(M::POST, format!("/tenants/{tenant}/users/{id}/disable"), USER_COLUMNS)
            }
            UserCmd::Enable { tenant, id } => {
                Call::new(M::POST, format!("/tenants/{tenant}/users/{id}/enable"), USER_COLUMNS)
            }
            UserCmd::Effective { tenant, id } => {
                Call::new(M::GET, format!("/tenants/{tenant}/users/{id}/effective"), &[])
            }
            UserCmd::Sessions { tenant, id } => Call::new(
                M::GET,
                format!("/tenants/{tenant}/users/{id}/sessions"),
                &["id", "auth_time", "amr", "created_at", "expires_at"],
            ),
            UserCmd::SignOut { tenant, id, session } => match session {
                Some(sid) => Call::new(M::DELETE, format!("/tenants/{tenant}/users/{id}/sessions/{sid}"), &[]),
                None => Call::new(M::DELETE, format!("/tenants/{tenant}/users/{id}/sessions"), &[]),
            },
            UserCmd::Credentials { tenant, id } => Call::new(
                M::GET,
                format!("/tenants/{tenant}/users/{id}/credentials"),
                &["id", "kind", "name", "last_used_at", "remaining"],
            ),
            UserCmd::RemoveCredential { tenant, id, credential } => {
                Call::new(M::DELETE, format!("/tenants/{tenant}/users/{id}/credentials/{credential}"), &[])
            }
            UserCmd::ResetMfa { tenant, id, require_enrolment } => {
                Call::new(M::POST, format!("/tenants/{tenant}/users/{id}/mfa:reset"), &[])
                    .json(json!({"require_enrolment": require_enrolment}))
            }
            UserCmd::BindCertificate { tenant, id, subject_dn } => {
                Call::new(M::POST, format!("/tenants/{tenant}/users/{id}/certificates"), &["id", "kind", "name"])
                    .json(json!({"subject_dn": subject_dn}))
            }
            UserCmd::Require { tenant, id, requirement, lift } => Call::new(
                if lift { M::DELETE } else { M::PUT },
                format!("/tenants/{tenant}/users/{id}/requirements/{requirement}"),
                &[],
            ),
            UserCmd::Import { tenant, file } => {
                let bytes = if file == "-" {
                    let mut bytes = Vec::new();
                    std::io::stdin().read_to_end(&mut bytes)?;
                    bytes
                } else {
                    std::fs::read(&file).with_context(|| format!("cannot read {file}"))?
                };
                let mut call = Call::new(M::POST, format!("/tenants/{tenant}/users:import"), &[]);
                call.body = Some(Body::Ndjson(bytes));
                call
            }
        },
        Resource::Groups(cmd) => match cmd {
            GroupCmd::List { tenant, paging } => {
                Call::new(M::GET, format!("/tenants/{tenant}/groups"), GROUP_COLUMNS).paging(paging)
            }
            GroupCmd::Get { tenant, id } => Call::new(M::GET, format!("/tenants/{tenant}/groups/{id}"), GROUP_COLUMNS),
            GroupCmd::Create { tenant, name, description, parent } => {
                let mut body = Map::new();
                body.insert("name".into(), json!(name));
                opt(&mut body, "description", description);
                opt(&mut body, "parent_id", parent);
                Call::new(M::POST, format!("/tenants/{tenant}/groups"), GROUP_COLUMNS).json(Value::Object(body))
            }
            GroupCmd::Update { tenant, id, data } => {
                Call::new(M::PATCH, format!("/tenants/{tenant}/groups/{id}"), GROUP_COLUMNS).json(parse_json(&data)?)
            }
            GroupCmd::Delete { tenant, id } => Call::new(M::DELETE, format!("/tenants/{tenant}/groups/{id}"), &[]),
            GroupCmd::Members { tenant, id, paging } => {
                Call::new(M::GET, format!("/tenants/{tenant}/groups/{id}/members"), USER_COLUMNS).paging(paging)
            }
            GroupCmd::AddMember { tenant, id, user } => {
                Call::new(M::PUT, format!("/tenants/{tenant}/groups/{id}/members/{user}"), &[])
            }
            GroupCmd::RemoveMember { tenant, id, user } => {
                Call::new(M::DELETE, format!("/tenants/{tenant}/groups/{id}/members/{user}"), &[])
            }
        },
        Resource::Roles(cmd) => match cmd {
            RoleCmd::List { tenant, paging } => {
                Call::new(M::GET, format!("/tenants/{tenant}/roles"), ROLE_COLUMNS).paging(paging)
            }
            RoleCmd::Get { tenant, id } => Call::new(M::GET, format!("/tenants/{tenant}/roles/{id}"), ROLE_COLUMNS),
            RoleCmd::Create { tenant, name, description, composites } => {
                let mut body = Map::new();
                body.insert("name".into(), json!(name));
                body.insert("composites".into(), json!(composites));
                opt(&mut body, "description", description);
                Call::new(M::POST, format!("/tenants/{tenant}/roles"), ROLE_COLUMNS).json(Value::Object(body))
            }
            RoleCmd::Update { tenant, id, data } => {
                Call::new(M::PATCH, format!("/tenants/{tenant}/roles/{id}"), ROLE_COLUMNS).json(parse_json(&data)?)
            }
            RoleCmd::Delete { tenant, id } => Call::new(M::DELETE, format!("/tenants/{tenant}/roles/{id}"), &[]),
            RoleCmd::Assign { tenant, role, user, group, expires_at } => {
                let owner = assignee(user, group)?;
                let mut body = Map::new();
                opt(&mut body, "expires_at", expires_at);
                Call::new(M::PUT, format!("/tenants/{tenant}/{owner}/roles/{role}"), ASSIGNMENT_COLUMNS)
                    .json(Value::Object(body))
            }
            RoleCmd::Unassign { tenant, role, user, group } => {
                let owner = assignee(user, group)?;
                Call::new(M::DELETE, format!("/tenants/{tenant}/{owner}/roles/{role}"), &[])
            }
        },
        Resource::Schema(cmd) => match cmd {
            SchemaCmd::Get { tenant } => Call::new(M::GET, format!("/tenants/{tenant}/schema"), SCHEMA_COLUMNS),
            SchemaCmd::Put { tenant, name, kind, required, unique, sensitive, pattern, purpose, description } => {
                let mut body = Map::new();
                body.insert("name".into(), json!(name));
                body.insert("type".into(), json!(kind));
                body.insert("required".into(), json!(required));
                body.insert("unique".into(), json!(unique));
                body.insert("sensitive".into(), json!(sensitive));
                opt(&mut body, "pattern", pattern);
                opt(&mut body, "purpose", purpose);
                opt(&mut body, "description", description);
                Call::new(M::PUT, format!("/tenants/{tenant}/schema/attributes/{name}"), SCHEMA_COLUMNS)
                    .json(Value::Object(body))
            }
            SchemaCmd::Delete { tenant, name } => {
                Call::new(M::DELETE, format!("/tenants/{tenant}/schema/attributes/{name}"), &[])
            }
        },
        Resource::Clients(cmd) => match cmd {
            ClientCmd::List { tenant, paging } => {
                Call::new(M::GET, format!("/tenants/{tenant}/clients"), CLIENT_COLUMNS).paging(paging)
            }
            ClientCmd::Get { tenant, client_id } => {
                Call::new(M::GET, format!("/tenants/{tenant}/clients/{client_id}"), CLIENT_COLUMNS)
            }
            ClientCmd::Create { tenant, name, redirect_uris, grant_types, auth_method, data } => {
                let mut body = match data {
                    Some(text) => match parse_json(&text)? {
                        Value::Object(map) => map,
                        _ => bail!("--data must be a JSON object"),
                    },
                    None => Map::new(),
                };
                opt(&mut body, "client_name", name);
                opt(&mut body, "token_endpoint_auth_method", auth_method);
                if !redirect_uris.is_empty() {
                    body.insert("redirect_uris".into(), json!(redirect_uris));
                }
                if !grant_types.is_empty() {
                    body.insert("grant_types".into(), json!(grant_types));
                }
                Call::new(M::POST, format!("/tenants/{tenant}/clients"), &[]).json(Value::Object(body))
            }
            ClientCmd::Update { tenant, client_id, data } => {
                Call::new(M::PATCH, format!("/tenants/{tenant}/clients/{client_id}"), &[]).json(parse_json(&data)?)
            }
            ClientCmd::Delete { tenant, client_id } => {
                Call::new(M::DELETE, format!("/tenants/{tenant}/clients/{client_id}"), &[])
            }
            ClientCmd::RotateSecret { tenant, client_id } => {
                Call::new(M::POST, format!("/tenants/{tenant}/clients/{client_id}/secret"), &[])
            }
            ClientCmd::RegistrationTokens { tenant } => {
                Call::new(M::GET, format!("/tenants/{tenant}/registration-tokens"), REGISTRATION_TOKEN_COLUMNS)
            }
            ClientCmd::CreateRegistrationToken { tenant, name, max_uses, expires_at } => {
                let mut body = Map::new();
                body.insert("name".into(), json!(name));
                if let Some(max_uses) = max_uses {
                    body.insert("max_uses".into(), json!(max_uses));
                }
                opt(&mut body, "expires_at", expires_at);
                Call::new(M::POST, format!("/tenants/{tenant}/registration-tokens"), &[]).json(Value::Object(body))
            }
            ClientCmd::RevokeRegistrationToken { tenant, id } => {
                Call::new(M::DELETE, format!("/tenants/{tenant}/registration-tokens/{id}"), &[])
            }
            ClientCmd::Scopes { tenant } => {
                Call::new(M::GET, format!("/tenants/{tenant}/scopes"), &["name", "description", "claims"])
            }
            ClientCmd::PutScope { tenant, name, description, claims } => {
                Call::new(M::PUT, format!("/tenants/{tenant}/scopes/{name}"), &[])
                    .json(json!({"description": description, "claims": claims}))
            }
            ClientCmd::DeleteScope { tenant, name } => {
                Call::new(M::DELETE, format!("/tenants/{tenant}/scopes/{name}"), &[])
            }
        },
        Resource::Tokens(cmd) => match cmd {
            TokenCmd::List(p) => Call::new(M::GET, "/tokens".into(), TOKEN_COLUMNS).paging(p),
            TokenCmd::Create { name, access, tenant, expires_at } => {
                let mut body = Map::new();
                body.insert("name".into(), json!(name));
                body.insert("access".into(), json!(access));
                opt(&mut body, "tenant", tenant);
                opt(&mut body, "expires_at", expires_at);
                Call::new(M::POST, "/tokens".into(), &["id", "name", "tenant", "access", "secret"])
                    .json(Value::Object(body))
            }
            TokenCmd::Revoke { id } => Call::new(M::DELETE, format!("/tokens/{id}"), &[]),
        },
        Resource::Authz(cmd) => super::authz::call_for(cmd)?,
        Resource::Audit(AuditCmd::List { tenant, action, actor, paging }) => {
            Call::new(M::GET, format!("/tenants/{tenant}/audit"), AUDIT_COLUMNS)
                .param("action", action)
                .param("actor", actor)
                .paging(paging)
        }
    })
}
