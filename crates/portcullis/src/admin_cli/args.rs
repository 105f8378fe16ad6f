//! The command line of `portcullis admin`: resources and their subcommands.

use clap::{Args, Subcommand};

/// Where and as whom to call, and how to print.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Base URL of the server
    #[arg(long, env = "PORTCULLIS_URL", default_value = "http://127.0.0.1:8080")]
    pub(super) url: String,
    /// Admin API token
    #[arg(long, env = "PORTCULLIS_TOKEN", hide_env_values = true)]
    pub(super) token: Option<String>,
    /// Print the API's JSON instead of a table
    #[arg(long, global = true)]
    pub(super) json: bool,
    #[command(subcommand)]
    pub(super) resource: Resource,
}

#[derive(Debug, Subcommand)]
pub(super) enum Resource {
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
    /// Authorization: relationship model, tuples, queries, Cedar policies
    #[command(subcommand)]
    Authz(super::authz::AuthzCmd),
}

#[derive(Debug, Args)]
pub(super) struct Paging {
    #[arg(long)]
    pub(super) limit: Option<u32>,
    #[arg(long)]
    pub(super) cursor: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(super) enum TenantCmd {
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
pub(super) enum UserCmd {
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
    /// The user's live SSO sessions
    Sessions {
        tenant: String,
        id: String,
    },
    /// End the user's sessions (all, or `--session`); clients are told by back-channel logout
    SignOut {
        tenant: String,
        id: String,
        #[arg(long)]
        session: Option<String>,
    },
    /// The user's second factors (authenticator apps, recovery codes)
    Credentials {
        tenant: String,
        id: String,
    },
    /// Remove one second factor
    RemoveCredential {
        tenant: String,
        id: String,
        credential: String,
    },
    /// Remove every second factor (a lost phone); `--require-enrolment` makes the user enrol
    /// a new one at their next login
    ResetMfa {
        tenant: String,
        id: String,
        #[arg(long)]
        require_enrolment: bool,
    },
    /// Bind a client certificate's subject (`CN=…,O=…`) to the user, for sign-in by certificate
    BindCertificate {
        tenant: String,
        id: String,
        subject_dn: String,
    },
    /// Require `enrol_mfa` or `change_password` at the user's next login (`--lift` to remove)
    Require {
        tenant: String,
        id: String,
        requirement: String,
        #[arg(long)]
        lift: bool,
    },
    /// Bulk import from an NDJSON file (`-` for standard input)
    Import {
        tenant: String,
        file: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum GroupCmd {
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
pub(super) enum RoleCmd {
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
pub(super) enum SchemaCmd {
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
pub(super) enum ClientCmd {
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
    /// Initial access tokens for Dynamic Client Registration (RFC 7591); none means off
    RegistrationTokens {
        tenant: String,
    },
    /// Issue an initial access token (printed once): its holder may register clients
    CreateRegistrationToken {
        tenant: String,
        name: String,
        /// How many clients it may register [default: no limit]
        #[arg(long)]
        max_uses: Option<u32>,
        /// RFC 3339 [default: never]
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// Revoke an initial access token
    RevokeRegistrationToken {
        tenant: String,
        id: String,
    },
    /// The tenant's own scopes and the claims they release
    Scopes {
        tenant: String,
    },
    /// Create or replace a scope releasing `--claim`s (standard claims or schema attributes)
    PutScope {
        tenant: String,
        name: String,
        #[arg(long)]
        description: String,
        #[arg(long = "claim")]
        claims: Vec<String>,
    },
    DeleteScope {
        tenant: String,
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum TokenCmd {
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
pub(super) enum AuditCmd {
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
