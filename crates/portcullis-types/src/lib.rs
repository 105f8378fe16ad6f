//! Identifiers and value objects shared by every Portcullis crate.
//!
//! Each type parses its input once; a value that exists is valid ("parse, don't validate").

mod ids;
mod names;
mod redirect;

pub use ids::{AuditId, GroupId, RoleId, TenantId, TokenId, UserId};
pub use names::{AttributeName, NameError, TenantName};
pub use redirect::{RedirectUri, RedirectUriError};
