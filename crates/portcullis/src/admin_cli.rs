//! `portcullis admin …`: a client of the admin API for operators and scripts. Human-readable
//! tables by default, the API's JSON with `--json`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

/// Where and as whom to call, and how to print.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Base URL of the server
    #[arg(long, env = "PORTCULLIS_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Admin API token
    #[arg(long, env = "PORTCULLIS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Print the API's JSON instead of a table
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    resource: Resource,
}

#[derive(Debug, Subcommand)]
enum Resource {
    /// Tenants
    #[command(subcommand)]
    Tenants(TenantCmd),
    /// Users of a tenant
    #[command(subcommand)]
    Users(UserCmd),
    /// Groups of a tenant
    #[command(subcommand)]
    Groups(GroupCmd),
    /// Roles of a tenant and their assignments
    #[command(subcommand)]
    Roles(RoleCmd),
    /// The user schema of a tenant
    #[command(subcommand)]
    Schema(SchemaCmd),
    /// OAuth 2.0 / OpenID Connect clients of a tenant
    #[command(subcommand)]
    Clients(ClientCmd),
    /// Admin API tokens
    #[command(subcommand)]
    Tokens(TokenCmd),
    /// The audit log of a tenant
    #[command(subcommand)]
    Audit(AuditCmd),
}

#[derive(Debug, Args)]
struct Paging {
    #[arg(long)]
    limit: Option<u32>,
    #[arg(long)]
    cursor: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TenantCmd {
    List(Paging),
    Get {
        name: String,
    },
    Create {
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        /// workforce or customer
        #[arg(long)]
        profile: Option<String>,
    },
    Update {
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        profile: Option<String>,
    },
    Delete {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCmd {
    List {
        tenant: String,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        status: Option<String>,
        /// name:value of a custom attribute
        #[arg(long)]
        attribute: Option<String>,
        #[command(flatten)]
        paging: Paging,
    },
    Get {
        tenant: String,
        id: String,
    },
    /// Create a user from flags and/or a JSON document (`--data`)
    Create {
        tenant: String,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Read the initial password from standard input
        #[arg(long)]
        password_stdin: bool,
        /// The user document as JSON (fields as in the API)
        #[arg(long)]
        data: Option<String>,
    },
    /// Apply a JSON merge patch
    Update {
        tenant: String,
        id: String,
        #[arg(long)]
        data: String,
    },
    Delete {
        tenant: String,
        id: String,
    },
    /// Set the password, read from standard input
    SetPassword {
        tenant: String,
        id: String,
    },
    Disable {
        tenant: String,
        id: String,
    },
    Enable {
        tenant: String,
        id: String,
    },
    /// Every group and role the user holds
    Effective {
        tenant: String,
        id: String,
    },
    /// Bulk import from an NDJSON file (`-` for standard input)
    Import {
        tenant: String,
        file: String,
    },
}

#[derive(Debug, Subcommand)]
enum GroupCmd {
    List {
        tenant: String,
        #[command(flatten)]
        paging: Paging,
    },
    Get {
        tenant: String,
        id: String,
    },
    Create {
        tenant: String,
        name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        parent: Option<String>,
    },
    Update {
        tenant: String,
        id: String,
        #[arg(long)]
        data: String,
    },
    Delete {
        tenant: String,
        id: String,
    },
    Members {
        tenant: String,
        id: String,
        #[command(flatten)]
        paging: Paging,
    },
    AddMember {
        tenant: String,
        id: String,
        user: String,
    },
    RemoveMember {
        tenant: String,
        id: String,
        user: String,
    },
}

#[derive(Debug, Subcommand)]
enum RoleCmd {
    List {
        tenant: String,
        #[command(flatten)]
        paging: Paging,
    },
    Get {
        tenant: String,
        id: String,
    },
    Create {
        tenant: String,
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// Ids of roles this role includes
        #[arg(long = "composite")]
        composites: Vec<String>,
    },
    Update {
        tenant: String,
        id: String,
        #[arg(long)]
        data: String,
    },
    Delete {
        tenant: String,
        id: String,
    },
    /// Assign a role to a user or a group
    Assign {
        tenant: String,
        role: String,
        #[arg(long, conflicts_with = "group", required_unless_present = "group")]
        user: Option<String>,
        #[arg(long)]
        group: Option<String>,
        /// RFC 3339 time after which the assignment lapses
        #[arg(long)]
        expires_at: Option<String>,
    },
    Unassign {
        tenant: String,
        role: String,
        #[arg(long, conflicts_with = "group", required_unless_present = "group")]
        user: Option<String>,
        #[arg(long)]
        group: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum SchemaCmd {
    Get {
        tenant: String,
    },
    /// Create or replace an attribute
    Put {
        tenant: String,
        name: String,
        /// string, integer, number, boolean, date or datetime
        #[arg(long = "type")]
        kind: String,
        #[arg(long)]
        required: bool,
        #[arg(long)]
        unique: bool,
        #[arg(long)]
        sensitive: bool,
        #[arg(long)]
        pattern: Option<String>,
        #[arg(long)]
        purpose: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    Delete {
        tenant: String,
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum ClientCmd {
    List {
        tenant: String,
        #[command(flatten)]
        paging: Paging,
    },
    Get {
        tenant: String,
        client_id: String,
    },
    /// Register a client from flags and/or RFC 7591 metadata (`--data`)
    Create {
        tenant: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// client_secret_basic, client_secret_post, private_key_jwt or none
        #[arg(long)]
        auth_method: Option<String>,
        /// The metadata as JSON (RFC 7591 names)
        #[arg(long)]
        data: Option<String>,
    },
    /// Apply a JSON merge patch to the metadata
    Update {
        tenant: String,
        client_id: String,
        #[arg(long)]
        data: String,
    },
    Delete {
        tenant: String,
        client_id: String,
    },
    /// Replace the client secret (the new one is printed once)
    RotateSecret {
        tenant: String,
        client_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCmd {
    List(Paging),
    Create {
        name: String,
        /// read or write
        #[arg(long)]
        access: String,
        /// Limit the token to one tenant
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        expires_at: Option<String>,
    },
    Revoke {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCmd {
    List {
        tenant: String,
        #[arg(long)]
        action: Option<String>,
        #[arg(long)]
        actor: Option<String>,
        #[command(flatten)]
        paging: Paging,
    },
}

/// The path segment of whoever receives a role: `users/{id}` or `groups/{id}`.
fn assignee(user: Option<String>, group: Option<String>) -> anyhow::Result<String> {
    match (user, group) {
        (Some(user), _) => Ok(format!("users/{user}")),
        (None, Some(group)) => Ok(format!("groups/{group}")),
        (None, None) => bail!("give --user or --group"),
    }
}

/// One API call and how to show its answer.
struct Call {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Body>,
    columns: &'static [&'static str],
}

enum Body {
    Json(Value),
    Ndjson(Vec<u8>),
}

impl Call {
    fn new(method: Method, path: String, columns: &'static [&'static str]) -> Self {
        Self { method, path, query: Vec::new(), body: None, columns }
    }
    fn json(mut self, value: Value) -> Self {
        self.body = Some(Body::Json(value));
        self
    }
    fn param(mut self, name: &'static str, value: Option<String>) -> Self {
        if let Some(value) = value {
            self.query.push((name, value));
        }
        self
    }
    fn paging(self, paging: Paging) -> Self {
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

fn call_for(resource: Resource) -> anyhow::Result<Call> {
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
        Resource::Audit(AuditCmd::List { tenant, action, actor, paging }) => {
            Call::new(M::GET, format!("/tenants/{tenant}/audit"), AUDIT_COLUMNS)
                .param("action", action)
                .param("actor", actor)
                .paging(paging)
        }
    })
}

/// Runs `portcullis admin …`.
pub async fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let token = args.token.context("no admin token: set PORTCULLIS_TOKEN or pass --token")?;
    let call = call_for(args.resource)?;
    let client = reqwest::Client::builder().build()?;
    let url = format!("{}/admin/v1{}", args.url.trim_end_matches('/'), call.path);
    let mut request = client.request(call.method, &url).bearer_auth(token).query(&call.query);
    request = match call.body {
        Some(Body::Json(value)) => request.json(&value),
        Some(Body::Ndjson(bytes)) => request.header("content-type", "application/x-ndjson").body(bytes),
        None => request,
    };
    let response = request.send().await.with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let text = response.text().await?;
    let value: Option<Value> = serde_json::from_str(&text).ok();
    if !status.is_success() {
        let problem = value.unwrap_or(Value::Null);
        let title = problem.get("title").and_then(Value::as_str).unwrap_or("request failed");
        let detail = problem.get("detail").and_then(Value::as_str).unwrap_or(&text);
        eprintln!("error: {} {title}: {detail}", status.as_u16());
        if let Some(id) = problem.get("request_id").and_then(Value::as_str) {
            eprintln!("request id: {id}");
        }
        return Ok(ExitCode::FAILURE);
    }
    match value {
        None => println!("done"),
        Some(value) if args.json => println!("{}", serde_json::to_string_pretty(&value)?),
        Some(value) => print!("{}", render(&value, call.columns)),
    }
    Ok(ExitCode::SUCCESS)
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().map(|i| cell(Some(i))).collect::<Vec<_>>().join(","),
        Some(other) => other.to_string(),
    }
}

/// A table for lists, `key: value` lines for one object.
pub fn render(value: &Value, columns: &[&str]) -> String {
    let rows: Option<&Vec<Value>> = value
        .get("items")
        .or_else(|| value.get("attributes").filter(|_| columns.first() == Some(&"name")))
        .and_then(Value::as_array)
        .or_else(|| value.as_array());
    let mut out = String::new();
    match rows {
        Some(rows) if !columns.is_empty() => {
            let table: Vec<Vec<String>> =
                rows.iter().map(|row| columns.iter().map(|c| cell(row.get(*c))).collect()).collect();
            let widths: Vec<usize> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| table.iter().map(|r| r[i].chars().count()).chain([c.len()]).max().unwrap_or(0))
                .collect();
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_owned()
                    + "\n"
            };
            out.push_str(&line(columns.iter().map(|c| c.to_uppercase()).collect()));
            for row in table {
                out.push_str(&line(row));
            }
            if let Some(cursor) = value.get("next_cursor").and_then(Value::as_str) {
                out.push_str(&format!("(more: --cursor {cursor})\n"));
            }
        }
        _ => match value.as_object() {
            Some(object) => {
                for (key, v) in object {
                    out.push_str(&format!("{key}: {}\n", if v.is_object() { v.to_string() } else { cell(Some(v)) }));
                }
            }
            None => out.push_str(&format!("{value}\n")),
        },
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_tables_and_objects() {
        let list = json!({"items": [{"name": "acme", "profile": "customer"}, {"name": "admin", "profile": "workforce"}], "next_cursor": "abc"});
        let table = render(&list, &["name", "profile"]);
        assert_eq!(table, "NAME   PROFILE\nacme   customer\nadmin  workforce\n(more: --cursor abc)\n");
        let one = render(&json!({"id": "1", "tags": ["a", "b"], "x": null}), &["id"]);
        assert_eq!(one, "id: 1\ntags: a,b\nx: -\n");
    }
}
