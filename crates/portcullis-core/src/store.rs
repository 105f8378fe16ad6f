//! The store traits: what services need from a database, nothing more. `portcullis-store`
//! implements them for SQLite and PostgreSQL with hand-written SQL (STYLE §3).
//!
//! Every writing service call runs in one transaction from [`Store::write`]; nothing is
//! written unless [`StoreTx::commit`] is reached, so a failed request leaves no trace.
//! [`Store::read`] gives a connection in autocommit: each statement reads its own consistent
//! snapshot, as PostgreSQL's default READ COMMITTED does inside a transaction, without the
//! round trips of `BEGIN` and `COMMIT`. Atomic invariants are single methods (e.g. [`AuditRepo::audit_next`]).

use async_trait::async_trait;
use portcullis_types::{GroupId, RoleId, TenantId, TokenId, UserId};
use time::OffsetDateTime;

use crate::cache::ChangeEvent;
use crate::error::Result;
use crate::model::audit::{AuditFilter, AuditRecord};
use crate::model::authz::{AuthzChange, AuthzModelRecord, AuthzOperation, StoredTuple, TupleFilter};
use crate::model::client::{ClientRecord, RegistrationTokenRecord};
use crate::model::credential::{CredentialRecord, Requirement};
use crate::model::group::Group;
use crate::model::key::SigningKeyRecord;
use crate::model::role::{EffectiveAccess, Role, RoleAssignment};
use crate::model::schema::AttributeDefinition;
use crate::model::scope::ScopeDefinition;
use crate::model::session::{DeviceRecord, FlowRecord, GrantRecord, PushedRequest, RefreshTokenRecord, SessionRecord};
use crate::model::tenant::TenantRecord;
use crate::model::token::TokenRecord;
use crate::model::user::{UserFilter, UserRecord};

/// A database holding Portcullis's data.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which engine: `sqlite` or `postgres`.
    fn engine(&self) -> &'static str;
    /// A connection for reading (autocommit: one snapshot per statement).
    async fn read(&self) -> Result<Box<dyn StoreTx>>;
    /// A transaction for writing (serialised on SQLite).
    async fn write(&self) -> Result<Box<dyn StoreTx>>;
    /// A writing connection in autocommit: each statement commits on its own. Only for work
    /// whose one write needs no transaction around it; spares `BEGIN` and `COMMIT`, two round
    /// trips.
    async fn write_once(&self) -> Result<Box<dyn StoreTx>>;
    /// Applies pending migrations; returns how many ran.
    async fn migrate(&self) -> Result<usize> {
        self.migrate_up_to(i64::MAX).await
    }
    /// Inserts the successor of a refresh token as one atomic statement of its own (the
    /// refresh grant's hot path, no transaction around it): false if the parent already has
    /// a successor — the parent was spent, and this is a replay.
    async fn rotate_refresh(&self, successor: &RefreshTokenRecord) -> Result<bool>;
    /// Applies pending migrations up to `version` (upgrade tests start from an old schema).
    async fn migrate_up_to(&self, version: i64) -> Result<usize>;
    /// Whether the database answers and every migration has run.
    async fn ready(&self) -> Result<bool>;
    /// Connections open and idle, for metrics.
    fn pool_status(&self) -> (u32, u32);
    /// Closes the pools.
    async fn close(&self);
}

/// One transaction: every repository on one connection.
#[async_trait]
pub trait StoreTx:
    TenantRepo
    + UserRepo
    + SchemaRepo
    + GroupRepo
    + RoleRepo
    + TokenRepo
    + ClientRepo
    + KeyRepo
    + SessionRepo
    + GrantRepo
    + JobRepo
    + AuditRepo
    + MetaRepo
    + AuthzRepo
    + ThrottleRepo
    + CredentialRepo
    + Send
{
    /// Makes every change of this transaction durable.
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// Tenants.
#[async_trait]
pub trait TenantRepo {
    async fn tenant_insert(&mut self, tenant: &TenantRecord) -> Result<()>;
    async fn tenant_by_name(&mut self, name: &str) -> Result<Option<TenantRecord>>;
    async fn tenant_list(&mut self, after_name: Option<&str>, limit: u32) -> Result<Vec<TenantRecord>>;
    async fn tenant_update(&mut self, tenant: &TenantRecord) -> Result<()>;
    /// Deletes the tenant and everything in it.
    async fn tenant_delete(&mut self, id: TenantId) -> Result<bool>;
}

/// Users, their passwords, data keys and unique attribute values.
#[async_trait]
pub trait UserRepo {
    /// Conflicts name the constraint: `username` or `email`.
    async fn user_insert(&mut self, user: &UserRecord) -> Result<()>;
    /// Inserts many users with one statement per few hundred (bulk import). A conflict
    /// fails the whole call; the caller retries one by one to find the culprit.
    async fn user_insert_many(&mut self, users: &[UserRecord]) -> Result<()>;
    async fn user_get(&mut self, tenant: TenantId, id: UserId) -> Result<Option<UserRecord>>;
    /// By case-folded username or e-mail.
    async fn user_by_login(&mut self, tenant: TenantId, key: &str) -> Result<Option<UserRecord>>;
    /// [`UserRepo::user_by_login`] with the user's password hash, if any, in one statement
    /// (the password step reads both before hashing).
    async fn user_by_login_with_password(
        &mut self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<(UserRecord, Option<String>)>>;
    async fn user_update(&mut self, user: &UserRecord) -> Result<()>;
    /// Deletes the user with their data key, password and memberships.
    async fn user_delete(&mut self, tenant: TenantId, id: UserId) -> Result<bool>;
    async fn user_list(
        &mut self,
        tenant: TenantId,
        filter: &UserFilter,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UserRecord>>;
    async fn user_key_get(&mut self, user: UserId) -> Result<Option<Vec<u8>>>;
    async fn user_key_put(&mut self, user: UserId, wrapped: &[u8]) -> Result<()>;
    /// Replaces the user's values of unique attributes; a value held by another user is a
    /// conflict on `attribute:{name}`.
    async fn unique_values_replace(
        &mut self,
        tenant: TenantId,
        user: UserId,
        values: &[(String, String)],
    ) -> Result<()>;
    /// Sets many passwords at once (bulk import of new users).
    async fn password_insert_many(&mut self, passwords: &[(UserId, String)], at: OffsetDateTime) -> Result<()>;
    async fn password_get(&mut self, user: UserId) -> Result<Option<String>>;
    async fn password_set(&mut self, user: UserId, hash: &str, at: OffsetDateTime) -> Result<()>;
    /// The tenant's password policy (JSON), if it set one.
    async fn password_policy_get(&mut self, tenant: TenantId) -> Result<Option<String>>;
    async fn password_policy_put(&mut self, tenant: TenantId, policy: &str, at: OffsetDateTime) -> Result<()>;
}

/// The user schema.
#[async_trait]
pub trait SchemaRepo {
    async fn schema_get(&mut self, tenant: TenantId) -> Result<Vec<AttributeDefinition>>;
    async fn schema_put(&mut self, tenant: TenantId, attribute: &AttributeDefinition) -> Result<()>;
    /// Removes the attribute and its plain values from every user of the tenant.
    async fn schema_delete(&mut self, tenant: TenantId, name: &str) -> Result<bool>;
}

/// Groups and membership.
#[async_trait]
pub trait GroupRepo {
    /// Conflicts name the constraint `group_name`.
    async fn group_insert(&mut self, group: &Group) -> Result<()>;
    async fn group_get(&mut self, tenant: TenantId, id: GroupId) -> Result<Option<Group>>;
    async fn group_list(&mut self, tenant: TenantId, after_id: Option<&str>, limit: u32) -> Result<Vec<Group>>;
    async fn group_update(&mut self, group: &Group) -> Result<()>;
    /// Deletes the group; its subgroups move up to its parent.
    async fn group_delete(&mut self, tenant: TenantId, id: GroupId) -> Result<bool>;
    /// The group's ancestors, nearest first.
    async fn group_ancestors(&mut self, id: GroupId) -> Result<Vec<GroupId>>;
    /// Returns false if the user already was a member.
    async fn group_member_add(&mut self, group: GroupId, user: UserId) -> Result<bool>;
    async fn group_member_remove(&mut self, group: GroupId, user: UserId) -> Result<bool>;
    async fn group_members(&mut self, group: GroupId, after_id: Option<&str>, limit: u32) -> Result<Vec<UserRecord>>;
}

/// Roles, composites and assignments.
#[async_trait]
pub trait RoleRepo {
    /// Conflicts name the constraint `role_name`.
    async fn role_insert(&mut self, role: &Role) -> Result<()>;
    async fn role_get(&mut self, tenant: TenantId, id: RoleId) -> Result<Option<Role>>;
    async fn role_list(&mut self, tenant: TenantId, after_id: Option<&str>, limit: u32) -> Result<Vec<Role>>;
    /// Updates name, description and the set of composites.
    async fn role_update(&mut self, role: &Role) -> Result<()>;
    async fn role_delete(&mut self, tenant: TenantId, id: RoleId) -> Result<bool>;
    /// Deletes every role of a client (the client is being deleted); returns how many.
    async fn roles_of_client_delete(&mut self, tenant: TenantId, client_id: &str) -> Result<u64>;
    /// Every role reachable from `id` through composites, `id` excluded.
    async fn role_descendants(&mut self, id: RoleId) -> Result<Vec<RoleId>>;
    async fn user_role_assign(&mut self, user: UserId, role: RoleId, expires_at: Option<OffsetDateTime>) -> Result<()>;
    async fn user_role_unassign(&mut self, user: UserId, role: RoleId) -> Result<bool>;
    async fn group_role_assign(
        &mut self,
        group: GroupId,
        role: RoleId,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<()>;
    async fn group_role_unassign(&mut self, group: GroupId, role: RoleId) -> Result<bool>;
    async fn user_roles(&mut self, user: UserId, now: OffsetDateTime) -> Result<Vec<RoleAssignment>>;
    async fn group_roles(&mut self, group: GroupId, now: OffsetDateTime) -> Result<Vec<RoleAssignment>>;
    /// The user's groups (direct and enclosing) and roles (direct, through groups, through
    /// composites; lapsed assignments excluded), in one query.
    async fn user_effective(&mut self, user: UserId, now: OffsetDateTime) -> Result<EffectiveAccess>;
}

/// Admin API tokens.
#[async_trait]
pub trait TokenRepo {
    async fn token_insert(&mut self, token: &TokenRecord) -> Result<()>;
    async fn token_by_digest(&mut self, digest: &[u8]) -> Result<Option<TokenRecord>>;
    async fn token_get(&mut self, id: TokenId) -> Result<Option<TokenRecord>>;
    async fn token_list(
        &mut self,
        tenant: Option<&str>,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<TokenRecord>>;
    async fn token_revoke(&mut self, id: TokenId, at: OffsetDateTime) -> Result<bool>;
}

/// OAuth 2.0 / OpenID Connect clients.
#[async_trait]
pub trait ClientRepo {
    /// Conflicts name the constraint `client_id`.
    async fn client_insert(&mut self, client: &ClientRecord) -> Result<()>;
    async fn client_get(&mut self, tenant: TenantId, client_id: &str) -> Result<Option<ClientRecord>>;
    async fn client_list(&mut self, tenant: TenantId, after: Option<&str>, limit: u32) -> Result<Vec<ClientRecord>>;
    /// Updates the metadata and the secret digest.
    async fn client_update(&mut self, client: &ClientRecord) -> Result<()>;
    async fn client_delete(&mut self, tenant: TenantId, client_id: &str) -> Result<bool>;
    async fn registration_token_insert(&mut self, token: &RegistrationTokenRecord) -> Result<()>;
    async fn registration_token_by_digest(&mut self, digest: &[u8]) -> Result<Option<RegistrationTokenRecord>>;
    async fn registration_token_list(&mut self, tenant: TenantId) -> Result<Vec<RegistrationTokenRecord>>;
    async fn registration_token_revoke(&mut self, tenant: TenantId, id: &str, at: OffsetDateTime) -> Result<bool>;
    /// Spends one use of an initial access token, atomically: false if none is left.
    async fn registration_token_use(&mut self, id: &str) -> Result<bool>;
    /// Creates or replaces a scope of the tenant.
    async fn scope_put(&mut self, tenant: TenantId, scope: &ScopeDefinition) -> Result<()>;
    async fn scope_list(&mut self, tenant: TenantId) -> Result<Vec<ScopeDefinition>>;
    async fn scope_delete(&mut self, tenant: TenantId, name: &str) -> Result<bool>;
    /// Records the `jti` of a client assertion; false if it was already recorded (a replay).
    async fn client_assertion_record(
        &mut self,
        tenant: TenantId,
        client_id: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool>;
}

/// Per-tenant signing keys.
#[async_trait]
pub trait KeyRepo {
    /// Conflicts (`signing_key`) when the algorithm already has an active key.
    async fn signing_key_insert(&mut self, key: &SigningKeyRecord) -> Result<()>;
    /// Keys not yet expired at `now`, newest first.
    async fn signing_keys_published(&mut self, tenant: TenantId, now: OffsetDateTime) -> Result<Vec<SigningKeyRecord>>;
    /// The active key of an algorithm.
    async fn signing_key_active(&mut self, tenant: TenantId, alg: &str) -> Result<Option<SigningKeyRecord>>;
    /// Stops a key signing; it stays published until `expires_at`.
    async fn signing_key_retire(
        &mut self,
        tenant: TenantId,
        kid: &str,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<bool>;
}

/// Browser SSO sessions, login flows and remembered consents.
#[async_trait]
pub trait SessionRepo {
    async fn session_insert(&mut self, session: &SessionRecord) -> Result<()>;
    async fn session_by_digest(&mut self, digest: &[u8]) -> Result<Option<SessionRecord>>;
    async fn session_get(&mut self, tenant: TenantId, id: &str) -> Result<Option<SessionRecord>>;
    /// The user's sessions, newest first (live or not).
    async fn sessions_of_user(&mut self, tenant: TenantId, user: UserId) -> Result<Vec<SessionRecord>>;
    /// Ends a live session; false if it was not live.
    async fn session_revoke(&mut self, tenant: TenantId, id: &str, at: OffsetDateTime) -> Result<bool>;
    /// Records a further authentication in a live session (step-up): its methods, class and
    /// time.
    async fn session_reauthenticated(&mut self, session: &SessionRecord) -> Result<()>;
    async fn flow_insert(&mut self, flow: &FlowRecord) -> Result<()>;
    async fn flow_get(&mut self, tenant: TenantId, id: &str) -> Result<Option<FlowRecord>>;
    /// Records progress: the user, the session, the failure count and the state.
    async fn flow_update(&mut self, flow: &FlowRecord) -> Result<()>;
    /// The flow, held for this transaction (one statement: a row lock on PostgreSQL, the
    /// single writer on SQLite). Of two concurrent steps on one flow, the second waits and
    /// then reads what the first left, so a one-time code is spent once, also under read
    /// committed.
    async fn flow_claim(&mut self, tenant: TenantId, id: &str) -> Result<Option<FlowRecord>>;
    async fn flow_delete(&mut self, tenant: TenantId, id: &str) -> Result<bool>;
    /// The scope a user has granted a client, space-separated.
    async fn consent_get(&mut self, user: UserId, client_id: &str) -> Result<Option<String>>;
    async fn consent_put(
        &mut self,
        tenant: TenantId,
        user: UserId,
        client_id: &str,
        scope: &str,
        at: OffsetDateTime,
    ) -> Result<()>;
}

/// OAuth grants: authorization codes and refresh-token families.
#[async_trait]
pub trait GrantRepo {
    async fn grant_insert(&mut self, grant: &GrantRecord) -> Result<()>;
    async fn grant_get(&mut self, tenant: TenantId, id: &str) -> Result<Option<GrantRecord>>;
    async fn grant_by_code(&mut self, tenant: TenantId, code_digest: &[u8]) -> Result<Option<GrantRecord>>;
    /// Marks the grant's code used, atomically: false if it already was (a replay).
    async fn grant_use_code(&mut self, id: &str, at: OffsetDateTime) -> Result<bool>;
    /// Revokes a live grant; false if it already was revoked.
    async fn grant_revoke(&mut self, id: &str, at: OffsetDateTime) -> Result<bool>;
    /// The live grants made in a session.
    async fn grants_of_session(&mut self, tenant: TenantId, session: &str) -> Result<Vec<GrantRecord>>;
    async fn refresh_insert(&mut self, token: &RefreshTokenRecord) -> Result<()>;
    async fn refresh_get(&mut self, digest: &[u8]) -> Result<Option<RefreshTokenRecord>>;
    /// A refresh token with its grant and the grant's user, in one query (the refresh grant's
    /// hot path: each query is a round trip to a connection's thread on SQLite).
    async fn refresh_with_grant(
        &mut self,
        digest: &[u8],
    ) -> Result<Option<(RefreshTokenRecord, GrantRecord, UserRecord)>>;
    async fn pushed_insert(&mut self, request: &PushedRequest) -> Result<()>;
    /// Removes and returns a pushed request: each is used once (RFC 9126 §4).
    async fn pushed_take(&mut self, tenant: TenantId, id: &str) -> Result<Option<PushedRequest>>;
    /// Inserts a device authorization; a live one with the same user code is a conflict
    /// (`user_code`); expired ones with it are removed first.
    async fn device_insert(&mut self, device: &DeviceRecord, now: OffsetDateTime) -> Result<()>;
    async fn device_by_digest(&mut self, digest: &[u8]) -> Result<Option<DeviceRecord>>;
    async fn device_by_user_code(&mut self, tenant: TenantId, user_code: &str) -> Result<Option<DeviceRecord>>;
    /// Stores status, user, grant, interval and last poll.
    async fn device_update(&mut self, device: &DeviceRecord) -> Result<()>;
    /// Moves an approved authorization to consumed, atomically: false if it was not approved.
    async fn device_consume(&mut self, digest: &[u8]) -> Result<bool>;
}

/// Cluster leases and housekeeping.
#[async_trait]
pub trait JobRepo {
    /// Takes or renews the lease `name` for `holder` until `until`: true if `holder` now holds
    /// it (it was free, expired at `now`, or already `holder`'s).
    async fn lease_acquire(
        &mut self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool>;
    /// Deletes what has expired by `now` (flows, pushed requests, device codes, assertion
    /// ids, refresh tokens, lapsed role assignments) and grants and sessions that ended or
    /// were revoked before `revoked_before`, at most `limit` rows of each table. Returns how
    /// many rows went, and whether a table lost `limit` (so that more may be left).
    async fn purge_expired(
        &mut self,
        now: OffsetDateTime,
        revoked_before: OffsetDateTime,
        limit: u64,
    ) -> Result<(u64, bool)>;
}

/// The append-only, hash-chained audit log.
#[async_trait]
pub trait AuditRepo {
    /// Reserves the next position of the chain and returns it with the previous hash. Holds
    /// the chain's head until the transaction ends, so concurrent writers queue here.
    async fn audit_next(&mut self) -> Result<(i64, Vec<u8>)>;
    /// The last position of the chain and its hash (`0` and empty when the log is empty).
    async fn audit_head(&mut self) -> Result<(i64, Vec<u8>)>;
    /// The changes after `after_seq`, oldest first: the change log every node tails.
    async fn audit_changes(&mut self, after_seq: i64, limit: u32) -> Result<Vec<ChangeEvent>>;
    /// Appends the event at the reserved position and moves the head to its hash.
    async fn audit_append(&mut self, event: &AuditRecord) -> Result<()>;
    /// Events in order of `seq`, newest first when `descending`.
    async fn audit_list(
        &mut self,
        filter: &AuditFilter,
        after_seq: Option<i64>,
        descending: bool,
        limit: u32,
    ) -> Result<Vec<AuditRecord>>;
}

/// Small facts about the installation (e.g. whether bootstrap has run).
#[async_trait]
pub trait MetaRepo {
    async fn meta_get(&mut self, key: &str) -> Result<Option<String>>;
    async fn meta_put(&mut self, key: &str, value: &str) -> Result<()>;
}

/// Relationship-based authorization: each tenant's model, tuples and change log.
#[async_trait]
pub trait AuthzRepo {
    async fn authz_model_get(&mut self, tenant: TenantId) -> Result<Option<AuthzModelRecord>>;
    /// The tenants that have a model, policies or settings (those worth loading at start).
    async fn authz_tenants(&mut self) -> Result<Vec<TenantId>>;
    /// Stores the model at the tenant's next revision (the first model is revision 1) and
    /// returns that revision.
    async fn authz_model_put(&mut self, tenant: TenantId, model: &str, at: OffsetDateTime) -> Result<i64>;
    /// Stores the Cedar policy document at the tenant's next revision (with an empty model
    /// when the tenant has none yet) and returns that revision.
    async fn authz_policies_put(&mut self, tenant: TenantId, policies: &str, at: OffsetDateTime) -> Result<i64>;
    /// Stores the settings (JSON) at the tenant's next revision, like the policies.
    async fn authz_settings_put(&mut self, tenant: TenantId, settings: &str, at: OffsetDateTime) -> Result<i64>;
    /// Takes the tenant's next revision for a write of tuples, holding the tenant's row until
    /// the transaction ends (writers of one tenant queue here, so revisions commit in order);
    /// `None` when the tenant has no model yet.
    async fn authz_revision_next(&mut self, tenant: TenantId) -> Result<Option<i64>>;
    /// Inserts a tuple; false if it was there already.
    async fn authz_tuple_insert(&mut self, tenant: TenantId, tuple: &StoredTuple, revision: i64) -> Result<bool>;
    /// Deletes a tuple; false if it was not there.
    async fn authz_tuple_delete(&mut self, tenant: TenantId, tuple: &StoredTuple) -> Result<bool>;
    async fn authz_tuple_exists(&mut self, tenant: TenantId, tuple: &StoredTuple) -> Result<bool>;
    /// Logs what `revision` changed, in order.
    async fn authz_changes_append(
        &mut self,
        tenant: TenantId,
        revision: i64,
        changes: &[(AuthzOperation, String)],
        at: OffsetDateTime,
    ) -> Result<()>;
    /// Tuples matching `filter` in (object, relation, subject) order, after `after`.
    async fn authz_tuples(
        &mut self,
        tenant: TenantId,
        filter: &TupleFilter,
        after: Option<&StoredTuple>,
        limit: u32,
    ) -> Result<Vec<StoredTuple>>;
    /// The log after `after_revision`, oldest first, at most `limit` entries.
    async fn authz_changes_after(
        &mut self,
        tenant: TenantId,
        after_revision: i64,
        limit: u32,
    ) -> Result<Vec<AuthzChange>>;
}

/// Password-login throttling counters (keys are digests).
#[async_trait]
pub trait ThrottleRepo {
    /// Counters and blocks of `keys`: (key, failures, window start, blocked until).
    async fn attempts_get(&mut self, tenant: TenantId, keys: &[Vec<u8>]) -> Result<Vec<AttemptRecord>>;
    /// Counts one failure of `key` atomically — starting a new window when the current one
    /// began before `window_after` — and returns the failures in the window.
    async fn attempt_fail(
        &mut self,
        tenant: TenantId,
        key: &[u8],
        now: OffsetDateTime,
        window_after: OffsetDateTime,
    ) -> Result<i64>;
    async fn attempt_block(&mut self, tenant: TenantId, key: &[u8], until: OffsetDateTime) -> Result<()>;
    async fn attempt_clear(&mut self, tenant: TenantId, key: &[u8]) -> Result<()>;
    async fn known_source_put(&mut self, tenant: TenantId, key: &[u8], at: OffsetDateTime) -> Result<()>;
    async fn known_source_exists(&mut self, tenant: TenantId, key: &[u8]) -> Result<bool>;
}

/// One throttling counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub key: Vec<u8>,
    pub failures: i64,
    pub window_start: OffsetDateTime,
    pub blocked_until: Option<OffsetDateTime>,
}

/// Second factors, the tenant's authentication policy, and what users must do at next login.
#[async_trait]
pub trait CredentialRepo {
    async fn credential_insert(&mut self, credential: &CredentialRecord) -> Result<()>;
    async fn credentials_of_user(&mut self, tenant: TenantId, user: UserId) -> Result<Vec<CredentialRecord>>;
    /// The credential with this WebAuthn credential id, in any tenant.
    async fn credential_by_lookup(&mut self, lookup: &[u8]) -> Result<Option<CredentialRecord>>;
    /// Records a use of a credential, replacing its public data when given (a passkey's counter).
    async fn credential_used(&mut self, id: &str, data: Option<&str>, at: OffsetDateTime) -> Result<()>;
    /// Deletes one credential of the user; false if there was none.
    async fn credential_delete(&mut self, tenant: TenantId, user: UserId, id: &str) -> Result<bool>;
    /// Deletes every credential of the user (their passwords are not credentials here).
    async fn credentials_delete_all(&mut self, tenant: TenantId, user: UserId) -> Result<u64>;
    /// Records that TOTP step `step` was accepted — only if it is later than the last one
    /// (atomic, so a code cannot be used twice even on two nodes at once).
    async fn credential_advance(&mut self, id: &str, step: i64, at: OffsetDateTime) -> Result<bool>;
    async fn recovery_codes_insert(&mut self, credential: &str, digests: &[Vec<u8>]) -> Result<()>;
    /// Spends a recovery code: true if it existed and was unused (atomic).
    async fn recovery_code_spend(&mut self, credential: &str, digest: &[u8], at: OffsetDateTime) -> Result<bool>;
    async fn recovery_codes_remaining(&mut self, credential: &str) -> Result<u32>;
    async fn auth_policy_get(&mut self, tenant: TenantId) -> Result<Option<String>>;
    async fn auth_policy_put(&mut self, tenant: TenantId, policy: &str, at: OffsetDateTime) -> Result<()>;
    /// Remembers the browser whose device cookie has `digest` for `user` until `expires_at`.
    async fn device_remember(
        &mut self,
        tenant: TenantId,
        user: UserId,
        digest: &[u8],
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<()>;
    /// Whether that browser is remembered for `user` at `now`.
    async fn device_remembered(&mut self, user: UserId, digest: &[u8], now: OffsetDateTime) -> Result<bool>;
    /// Forgets every browser remembered for `user`.
    async fn devices_forget(&mut self, user: UserId) -> Result<u64>;
    /// A tenant's mail template for `purpose` in `language`: (subject, body).
    async fn email_template_get(
        &mut self,
        tenant: TenantId,
        purpose: &str,
        language: &str,
    ) -> Result<Option<(String, String)>>;
    async fn email_template_put(
        &mut self,
        tenant: TenantId,
        purpose: &str,
        language: &str,
        subject: &str,
        body: &str,
        at: OffsetDateTime,
    ) -> Result<()>;
    async fn email_template_delete(&mut self, tenant: TenantId, purpose: &str, language: &str) -> Result<bool>;
    async fn requirements_of_user(&mut self, user: UserId) -> Result<Vec<Requirement>>;
    async fn requirement_put(&mut self, user: UserId, requirement: Requirement, at: OffsetDateTime) -> Result<()>;
    async fn requirement_delete(&mut self, user: UserId, requirement: Requirement) -> Result<bool>;
}
