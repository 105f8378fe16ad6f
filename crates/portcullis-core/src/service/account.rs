//! What a signed-in user does to their own account (issue 4): change the password.

use portcullis_crypto::password;
use serde_json::json;

use super::audit::Change;
use super::claims::login_key;
use super::throttle::LoginKeys;
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::session::SessionRecord;
use crate::model::user::UserStatus;

/// How a password change ended, when the request itself was sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange {
    Changed,
    /// The current password given is not the user's.
    WrongCurrent,
    /// Too many wrong passwords for this account from this source: wait this many seconds.
    Throttled {
        retry_after: i64,
    },
}

impl Services {
    /// The user of `session` changes their password: the current one must match — a wrong one
    /// counts as a failed login, with the same throttling — and the new one must meet the
    /// tenant's policy (`Error::Validation` on `password`). Audited.
    pub async fn change_own_password(
        &self,
        tenant: &str,
        session: &SessionRecord,
        current: String,
        new: String,
        context: &RequestContext,
    ) -> Result<PasswordChange> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let user = tx.user_get(record.id, session.user_id).await?.ok_or(Error::NotFound("user"))?;
        drop(tx);
        if user.status != UserStatus::Active || session.tenant_id != record.id {
            return Err(Error::NotFound("user"));
        }
        let mut keys = LoginKeys::new(&login_key(&user.username), context.ip.as_deref());
        if let Some(retry_after) = self.login_wait(&record, &mut keys).await? {
            return Ok(PasswordChange::Throttled { retry_after });
        }
        // The login check itself: same timing for every outcome, old hash formats upgraded.
        let matches = self.check_password(tenant, &user.username, current).await? == Some(user.id);
        let who = Principal::user(Some(user.id), &record.name, context);
        if !matches {
            let mut tx = self.store.write().await?;
            let throttled = self.login_failed(&mut tx, &record, &keys).await?;
            let change = Change {
                action: "user.password.change_failure",
                tenant: Some(tenant),
                target_type: "user",
                target_id: Some(user.id.to_string()),
                before: None,
                after: Some(json!({"throttled": throttled})),
            };
            self.record(&mut tx, &who, change).await?;
            tx.commit().await?;
            return Ok(PasswordChange::WrongCurrent);
        }
        let words =
            [Some(&user.username), user.email.as_ref(), user.claims.name.as_ref(), user.claims.family_name.as_ref()];
        password::check_password_rules(&new).map_err(|e| Error::invalid("password", e.to_string()))?;
        self.check_new_password(&record, &new, words.into_iter().flatten().cloned().collect()).await?;
        let hash = self.hash_pool.run(move || password::hash_password(&new)).await?.map_err(Error::internal)?;
        let mut tx = self.store.write().await?;
        tx.password_set(user.id, &hash, self.clock.now()).await?;
        let change = Change {
            action: "user.password.change",
            tenant: Some(tenant),
            target_type: "user",
            target_id: Some(user.id.to_string()),
            before: None,
            after: Some(json!({"session": session.id})),
        };
        self.record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok(PasswordChange::Changed)
    }
}
