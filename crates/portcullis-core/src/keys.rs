//! The key hierarchy of DESIGN §4: the master key wraps each tenant's key; a tenant key wraps
//! each user's data key; a user's data key seals that user's sensitive attributes. Destroying
//! a user's wrapped data key makes their sealed data unreadable everywhere, backups included.

use portcullis_crypto::envelope::Key;
use portcullis_types::{TenantId, UserId};

use crate::error::Result;

/// Holds the master key and derives everything below it.
#[derive(Debug, Clone)]
pub struct KeyRing {
    master: Key,
}

impl KeyRing {
    /// A key ring around the master key.
    pub fn new(master: Key) -> Self {
        Self { master }
    }

    /// A fingerprint of the master key (an HMAC of a constant under it), stored at first
    /// start so that starting with another key is refused instead of corrupting data.
    pub fn fingerprint(&self) -> String {
        let mac = portcullis_crypto::secret::blind_index(self.master.bytes(), "portcullis/master-key-check", "v1");
        mac.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn tenant_aad(tenant: TenantId) -> Vec<u8> {
        format!("portcullis/tenant-key/{tenant}").into_bytes()
    }

    fn user_aad(user: UserId) -> Vec<u8> {
        format!("portcullis/user-key/{user}").into_bytes()
    }

    /// The associated data binding a user's sealed attributes to that user.
    pub fn user_data_aad(user: UserId) -> Vec<u8> {
        format!("portcullis/user-data/{user}").into_bytes()
    }

    /// A new tenant key, and its wrapped form for storage.
    pub fn new_tenant_key(&self, tenant: TenantId) -> Result<(Key, Vec<u8>)> {
        let key = Key::generate();
        let wrapped = self.master.wrap(&Self::tenant_aad(tenant), &key)?;
        Ok((key, wrapped))
    }

    /// Unwraps a tenant's key.
    pub fn tenant_key(&self, tenant: TenantId, wrapped: &[u8]) -> Result<Key> {
        Ok(self.master.unwrap_key(&Self::tenant_aad(tenant), wrapped)?)
    }

    /// A new data key for a user, and its form wrapped by the tenant key.
    pub fn new_user_key(tenant_key: &Key, user: UserId) -> Result<(Key, Vec<u8>)> {
        let key = Key::generate();
        let wrapped = tenant_key.wrap(&Self::user_aad(user), &key)?;
        Ok((key, wrapped))
    }

    /// Unwraps a user's data key.
    pub fn user_key(tenant_key: &Key, user: UserId, wrapped: &[u8]) -> Result<Key> {
        Ok(tenant_key.unwrap_key(&Self::user_aad(user), wrapped)?)
    }
}
