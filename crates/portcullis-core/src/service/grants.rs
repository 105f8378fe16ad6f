//! OAuth grants: the authorization code that starts one, the refresh-token family that
//! continues it, and revocation. Codes and refresh tokens are stored as SHA-256 digests; each
//! is single-use, and a second use revokes the whole grant (RFC 9700 §4.14.2, DESIGN §6).

use portcullis_crypto::secret::{digest, random_id, random_secret};
use portcullis_types::UserId;
use serde_json::json;
use time::Duration;

use super::audit::Change;
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::role::EffectiveAccess;
use crate::model::session::{FlowRecord, GrantDetails, GrantRecord, RefreshTokenRecord, SessionRecord};
use crate::model::tenant::TenantRecord;
use crate::model::user::{User, UserRecord, UserStatus};
use crate::store::StoreTx;

/// How long an authorization code may be redeemed (RFC 9700 §4.2.1 asks for a short time).
pub const CODE_LIFETIME: Duration = Duration::seconds(60);

/// What the client asked for when the flow ends in a code.
#[derive(Debug, Clone)]
pub struct CodeRequest<'a> {
    pub flow: &'a FlowRecord,
    pub session: &'a SessionRecord,
    /// The scope granted, space-separated.
    pub scope: &'a str,
    /// Record `scope` as the user's consent for the client.
    pub remember_consent: bool,
    /// When the grant ends at the latest (the refresh tokens' absolute lifetime).
    pub lifetime: Duration,
}

/// The outcome of redeeming a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// The code was unused and is now spent; a refresh token when asked for one.
    Redeemed { refresh_token: Option<String> },
    /// The code had been used: the grant and everything it issued are now revoked.
    Replayed,
}

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone)]
pub enum Rotation {
    /// The token was spent and replaced by `refresh_token`; `user` is the grant's user as
    /// read with the token, for [`Services::user_for_claims`].
    Rotated { grant: Box<GrantRecord>, refresh_token: String, user: Box<UserRecord> },
    /// Unknown, expired, another client's, or of a revoked grant.
    Invalid,
    /// An already-used token: the whole family is now revoked.
    Replayed,
    /// The narrower scope asked for is not within the grant's (RFC 6749 §6); nothing spent.
    ScopeTooWide,
}

impl Services {
    /// Ends a login flow in an authorization code (RFC 6749 §4.1.2): creates the grant with
    /// the code's digest, records consent when asked, and deletes the flow. Returns the code.
    pub async fn issue_code(&self, tenant: &str, request: CodeRequest<'_>, context: &RequestContext) -> Result<String> {
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let code = self.issue_code_in(&mut tx, &record, request, context).await?;
        tx.commit().await?;
        Ok(code)
    }

    /// [`Services::issue_code`] inside `tx`.
    pub(crate) async fn issue_code_in(
        &self,
        tx: &mut Box<dyn StoreTx>,
        record: &TenantRecord,
        request: CodeRequest<'_>,
        context: &RequestContext,
    ) -> Result<String> {
        let now = self.clock.now();
        let flow = request.flow;
        let user = flow.user_id.ok_or(Error::Forbidden("the flow has no authenticated user"))?;
        let code = random_secret("");
        let grant = GrantRecord {
            id: random_id(),
            tenant_id: flow.tenant_id,
            client_id: flow.request.client_id.clone(),
            user_id: user,
            session_id: Some(request.session.id.clone()),
            scope: request.scope.to_owned(),
            details: GrantDetails {
                auth_time: request.session.auth_time.unix_timestamp(),
                acr: request.session.acr.clone(),
                amr: request.session.amr.clone(),
                nonce: flow.request.nonce.clone(),
                redirect_uri: flow.request.redirect_uri.clone(),
                code_challenge: flow.request.code_challenge.clone(),
                claims: flow.request.claims.clone(),
                resource: flow.request.resource.clone(),
            },
            code_digest: Some(digest(&code).to_vec()),
            code_expires_at: Some(now + CODE_LIFETIME),
            code_used_at: None,
            created_at: now,
            expires_at: now + request.lifetime,
            revoked_at: None,
        };
        if request.remember_consent {
            let mut scope: Vec<String> = tx
                .consent_get(user, &grant.client_id)
                .await?
                .unwrap_or_default()
                .split(' ')
                .map(str::to_owned)
                .collect();
            for token in request.scope.split(' ') {
                if !scope.iter().any(|s| s == token) {
                    scope.push(token.to_owned());
                }
            }
            let scope = scope.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
            tx.consent_put(record.id, user, &grant.client_id, &scope, now).await?;
            let change = Change {
                action: "consent.grant",
                tenant: Some(record.name.as_str()),
                target_type: "client",
                target_id: Some(grant.client_id.clone()),
                before: None,
                after: Some(json!({"scope": scope})),
            };
            self.record(tx, &Principal::user(Some(user), &record.name, context), change).await?;
        }
        tx.grant_insert(&grant).await?;
        tx.flow_delete(record.id, &flow.id).await?;
        Ok(code)
    }

    /// The live grant whose unexpired code is `code`, used or not (a used one is a replay
    /// that [`Services::redeem_code`] punishes).
    pub async fn find_code(&self, tenant: &str, code: &str) -> Result<Option<GrantRecord>> {
        if code.is_empty() || code.len() > 128 {
            return Ok(None);
        }
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let now = self.clock.now();
        let grant = tx.grant_by_code(record.id, &digest(code)).await?;
        Ok(grant.filter(|g| g.code_expires_at.is_some_and(|at| at > now)))
    }

    /// Spends the code of `grant`, with a refresh token of idle lifetime `refresh` when
    /// given. A code already spent revokes the grant — and so every token it issued — and is
    /// audited (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
    pub async fn redeem_code(
        &self,
        tenant: &str,
        grant: &GrantRecord,
        refresh: Option<Duration>,
        context: &RequestContext,
    ) -> Result<Redemption> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        if !tx.grant_use_code(&grant.id, now).await? {
            self.revoke_replayed(&mut tx, &record, grant, "grant.code_replay", context).await?;
            tx.commit().await?;
            return Ok(Redemption::Replayed);
        }
        let refresh_token = match refresh {
            Some(idle) => Some(self.insert_refresh(&mut tx, grant, idle).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(Redemption::Redeemed { refresh_token })
    }

    /// A spent code or refresh token came back: revokes its grant, audited as `action`.
    async fn revoke_replayed(
        &self,
        tx: &mut Box<dyn crate::store::StoreTx>,
        tenant: &TenantRecord,
        grant: &GrantRecord,
        action: &'static str,
        context: &RequestContext,
    ) -> Result<()> {
        tx.grant_revoke(&grant.id, self.clock.now()).await?;
        let change = Change {
            action,
            tenant: Some(tenant.name.as_str()),
            target_type: "grant",
            target_id: Some(grant.id.clone()),
            before: None,
            after: Some(json!({"client_id": grant.client_id})),
        };
        self.record(tx, &Principal::user(None, &tenant.name, context), change).await
    }

    async fn insert_refresh(
        &self,
        tx: &mut Box<dyn crate::store::StoreTx>,
        grant: &GrantRecord,
        idle: Duration,
    ) -> Result<String> {
        let (secret, token) = self.new_refresh(grant, idle, None);
        tx.refresh_insert(&token).await?;
        Ok(secret)
    }

    /// A refresh token of `grant` with its sliding end, replacing `parent` if given.
    fn new_refresh(
        &self,
        grant: &GrantRecord,
        idle: Duration,
        parent: Option<Vec<u8>>,
    ) -> (String, RefreshTokenRecord) {
        let now = self.clock.now();
        let secret = random_secret("");
        let token = RefreshTokenRecord {
            digest: digest(&secret).to_vec(),
            grant_id: grant.id.clone(),
            parent,
            created_at: now,
            expires_at: (now + idle).min(grant.expires_at),
        };
        (secret, token)
    }

    /// A first refresh token for a grant made without a code (the device grant).
    pub async fn issue_refresh_token(&self, tenant: &str, grant: &GrantRecord, idle: Duration) -> Result<String> {
        let mut tx = self.store.write().await?;
        self.cached_tenant(&mut tx, tenant).await?;
        let token = self.insert_refresh(&mut tx, grant, idle).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Exchanges a refresh token of `client_id` for a new one (rotation, RFC 9700 §4.14.2):
    /// the old one is spent; presenting a spent one revokes the whole family. `scope`, when
    /// given, must lie within the grant's, checked before anything is spent.
    pub async fn rotate_refresh_token(
        &self,
        tenant: &str,
        client_id: &str,
        token: &str,
        scope: Option<&[&str]>,
        idle: Duration,
        context: &RequestContext,
    ) -> Result<Rotation> {
        if token.is_empty() || token.len() > 128 {
            return Ok(Rotation::Invalid);
        }
        let now = self.clock.now();
        let wanted = digest(token);
        // The lookup runs on the read pool; the only write is the successor's INSERT below.
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let Some((stored, grant, user)) = tx.refresh_with_grant(&wanted).await? else { return Ok(Rotation::Invalid) };
        drop(tx);
        if grant.tenant_id != record.id || grant.client_id != client_id || !grant.live(now) {
            return Ok(Rotation::Invalid);
        }
        if scope.is_some_and(|asked| !asked.iter().all(|s| grant.has_scope(s))) {
            return Ok(Rotation::ScopeTooWide);
        }
        if stored.expires_at <= now {
            return Ok(Rotation::Invalid);
        }
        // One atomic INSERT spends the token: its successor names it as parent, and a second
        // successor collides (RFC 9700 §4.14.2 reuse detection).
        let (refresh_token, successor) = self.new_refresh(&grant, idle, Some(wanted.to_vec()));
        if !self.store.rotate_refresh(&successor).await? {
            let mut tx = self.store.write().await?;
            self.revoke_replayed(&mut tx, &record, &grant, "grant.refresh_replay", context).await?;
            tx.commit().await?;
            return Ok(Rotation::Replayed);
        }
        Ok(Rotation::Rotated { grant: Box::new(grant), refresh_token, user: Box::new(user) })
    }

    /// Revokes the grant of a refresh token of `client_id` (RFC 7009 §2.1: with it, the access
    /// tokens of the same grant). Returns false for a token unknown or another client's.
    pub async fn revoke_refresh_token(
        &self,
        tenant: &str,
        client_id: &str,
        token: &str,
        context: &RequestContext,
    ) -> Result<bool> {
        if token.is_empty() || token.len() > 128 {
            return Ok(false);
        }
        let mut tx = self.store.read().await?;
        self.cached_tenant(&mut tx, tenant).await?;
        let Some(stored) = tx.refresh_get(&digest(token)).await? else { return Ok(false) };
        drop(tx);
        self.revoke_grant(tenant, client_id, &stored.grant_id, context).await
    }

    /// Revokes a grant of `client_id`, audited. Another client's grant is left alone.
    pub async fn revoke_grant(
        &self,
        tenant: &str,
        client_id: &str,
        id: &str,
        context: &RequestContext,
    ) -> Result<bool> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let Some(grant) = tx.grant_get(record.id, id).await? else { return Ok(false) };
        if grant.client_id != client_id || !tx.grant_revoke(id, now).await? {
            return Ok(false);
        }
        let change = Change {
            action: "grant.revoke",
            tenant: Some(tenant),
            target_type: "grant",
            target_id: Some(id.to_owned()),
            before: None,
            after: Some(json!({"client_id": client_id})),
        };
        self.record(&mut tx, &Principal::user(None, &record.name, context), change).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The grant `id` if its tokens may still be used.
    pub async fn live_grant(&self, tenant: &str, id: &str) -> Result<Option<GrantRecord>> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let now = self.clock.now();
        Ok(tx.grant_get(record.id, id).await?.filter(|g| g.live(now)))
    }

    /// A user and, when `with_access`, their groups and roles, for the claims of tokens and
    /// `userinfo` of `client_id` (its own roles, never another client's); `None` when the user
    /// is gone or may not log in. `read` is the user's row when the caller already has it (the
    /// refresh grant reads it with the token).
    pub async fn user_for_claims(
        &self,
        tenant: &str,
        client_id: &str,
        user: UserId,
        with_access: bool,
        read: Option<UserRecord>,
    ) -> Result<Option<(User, EffectiveAccess)>> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let read = read.filter(|r| r.id == user && r.tenant_id == record.id);
        let opened = match self.load_user(&mut tx, &record, user, true, read).await {
            Ok(opened) => opened.1,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(other) => return Err(other),
        };
        if opened.status != UserStatus::Active {
            return Ok(None);
        }
        let access = if with_access {
            tx.user_effective(user, self.clock.now()).await?.for_client(client_id)
        } else {
            EffectiveAccess { groups: Vec::new(), roles: Vec::new() }
        };
        Ok(Some((opened, access)))
    }
}
