//! Who is calling: an authenticated admin token, or the system itself. Only
//! [`crate::Services::authenticate`] makes a principal from outside, so a service that takes
//! one cannot be reached unauthenticated.

use portcullis_types::{TenantName, TokenId, UserId};

use crate::error::{Error, Result};
use crate::model::token::Access;

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// The browser's device cookie ("remember this device"), if it sent one.
    pub device: Option<String>,
}

/// An authenticated caller of the admin services.
#[derive(Debug, Clone)]
pub struct Principal {
    actor: String,
    token_id: Option<TokenId>,
    tenant: Option<TenantName>,
    access: Access,
    /// False for end users acting on their own behalf: they may use no admin service.
    admin: bool,
    context: RequestContext,
}

impl Principal {
    pub(crate) fn token(id: TokenId, tenant: Option<TenantName>, access: Access, context: RequestContext) -> Self {
        Self { actor: format!("token:{id}"), token_id: Some(id), tenant, access, admin: true, context }
    }

    /// An end user (or a browser not yet known as one) acting in `tenant`, for the audit log:
    /// `actor` is `user:{id}` or `anonymous`. Every admin service refuses it.
    pub(crate) fn end_user(actor: String, tenant: TenantName, context: RequestContext) -> Self {
        Self { actor, token_id: None, tenant: Some(tenant), access: Access::Read, admin: false, context }
    }

    /// An end user of `tenant` (`user:{id}`), or a browser not yet known as one
    /// (`anonymous`), for the audit log; every admin service refuses it.
    pub(crate) fn user(user: Option<UserId>, tenant: &TenantName, context: &RequestContext) -> Self {
        let actor = user.map_or_else(|| "anonymous".to_owned(), |u| format!("user:{u}"));
        Self::end_user(actor, tenant.clone(), context.clone())
    }

    /// Portcullis itself (start-up, background jobs).
    pub(crate) fn system() -> Self {
        Self {
            actor: "system".to_owned(),
            token_id: None,
            tenant: None,
            access: Access::Write,
            admin: true,
            context: RequestContext::default(),
        }
    }

    /// `token:{id}` or `system`, as the audit log names it.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The token behind this principal, if any.
    pub fn token_id(&self) -> Option<TokenId> {
        self.token_id
    }

    /// The tenant the token is limited to; `None` for global tokens.
    pub fn tenant(&self) -> Option<&TenantName> {
        self.tenant.as_ref()
    }

    /// The access level of the token.
    pub fn access(&self) -> Access {
        self.access
    }

    /// Where the request came from.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// Checks that the principal may do `access` on the tenant named `tenant`, or on global
    /// resources when `tenant` is `None`.
    pub fn require(&self, tenant: Option<&str>, access: Access) -> Result<()> {
        if !self.admin {
            return Err(Error::Forbidden("end users may not use the admin services"));
        }
        if let (Some(own), Some(wanted)) = (&self.tenant, tenant)
            && own.as_str() != wanted
        {
            return Err(Error::Forbidden("this token is limited to another tenant"));
        }
        if self.tenant.is_some() && tenant.is_none() {
            return Err(Error::Forbidden("this needs a global token"));
        }
        if self.access < access {
            return Err(Error::Forbidden("this needs a token with write access"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(tenant: Option<&str>, access: Access) -> Principal {
        let tenant = tenant.map(|t| TenantName::parse(t).expect("valid"));
        Principal::token(TokenId::new(), tenant, access, RequestContext::default())
    }

    #[test]
    fn scope_and_access() {
        let global_read = token(None, Access::Read);
        assert!(global_read.require(Some("acme"), Access::Read).is_ok());
        assert!(global_read.require(None, Access::Read).is_ok());
        assert!(global_read.require(Some("acme"), Access::Write).is_err());

        let acme_write = token(Some("acme"), Access::Write);
        assert!(acme_write.require(Some("acme"), Access::Write).is_ok());
        assert!(acme_write.require(Some("other"), Access::Read).is_err());
        assert!(acme_write.require(None, Access::Read).is_err());
        assert!(Principal::system().require(None, Access::Write).is_ok());
        let user =
            Principal::end_user("user:x".into(), TenantName::parse("acme").expect("valid"), RequestContext::default());
        assert!(user.require(Some("acme"), Access::Read).is_err());
    }
}
