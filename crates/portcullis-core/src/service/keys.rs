//! Per-tenant signing keys: one active key per algorithm, rotation, the public JWKS, and
//! JWS signing for the token endpoints.

use portcullis_crypto::envelope::Key;
use portcullis_crypto::signing::{self, JwsAlgorithm};
use portcullis_crypto::verify::{self, Verifier, VerifyError};
use portcullis_types::TenantId;
use serde_json::{Map, Value, json};
use time::Duration;

use super::audit::Change;
use super::{Principal, Services};
use crate::error::{Error, Result};
use crate::model::key::{SigningKey, SigningKeyRecord};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::store::StoreTx;

/// The longest any token signed by a tenant key may live (access and ID tokens are capped at
/// 24 hours), plus five minutes of clock skew: how long a retired key stays in the JWKS.
pub const RETIRED_KEY_PUBLISHED_FOR: Duration = Duration::minutes(24 * 60 + 5);

fn key_aad(tenant: TenantId, kid: &str) -> Vec<u8> {
    format!("portcullis/signing-key/{tenant}/{kid}").into_bytes()
}

impl Services {
    /// A new active key for `alg`, stored in `tx`.
    async fn create_signing_key(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        tenant_key: &Key,
        alg: JwsAlgorithm,
    ) -> Result<SigningKeyRecord> {
        let private = self.hash_pool.run(move || signing::generate(alg)).await?.map_err(Error::internal)?;
        let mut public_jwk = signing::public_jwk(alg, "", &private).map_err(Error::internal)?;
        let kid = signing::thumbprint(&public_jwk).map_err(Error::internal)?;
        public_jwk["kid"] = json!(kid);
        let record = SigningKeyRecord {
            tenant_id: tenant.id,
            sealed_private: tenant_key.seal(&key_aad(tenant.id, &kid), &private)?,
            kid,
            alg,
            public_jwk,
            created_at: self.clock.now(),
            retired_at: None,
            expires_at: None,
        };
        tx.signing_key_insert(&record).await?;
        Ok(record)
    }

    /// Makes sure the tenant has an active key for every algorithm (new tenants; tenants from
    /// before keys existed). Two nodes doing this at once conflict on the one-active-key index
    /// and the loser's transaction is dropped: the caller retries the read.
    pub(crate) async fn ensure_signing_keys(&self, tx: &mut Box<dyn StoreTx>, tenant: &TenantRecord) -> Result<usize> {
        let tenant_key = self.tenant_key(tenant)?;
        let mut created = 0;
        for alg in JwsAlgorithm::ALL {
            if tx.signing_key_active(tenant.id, alg.as_str()).await?.is_none() {
                self.create_signing_key(tx, tenant, &tenant_key, alg).await?;
                created += 1;
            }
        }
        Ok(created)
    }

    async fn published_keys(&self, tenant: &str) -> Result<(TenantRecord, Vec<SigningKeyRecord>)> {
        let mut tx = self.store.read().await?;
        let record = tx.tenant_by_name(tenant).await?.ok_or(Error::NotFound("tenant"))?;
        let keys = tx.signing_keys_published(record.id, self.clock.now()).await?;
        drop(tx);
        let active = JwsAlgorithm::ALL.iter().all(|alg| keys.iter().any(|k| k.alg == *alg && k.retired_at.is_none()));
        if active {
            return Ok((record, keys));
        }
        let mut tx = self.store.write().await?;
        match self.ensure_signing_keys(&mut tx, &record).await {
            Ok(_) => tx.commit().await?,
            // Another node created them meanwhile.
            Err(Error::Conflict { .. }) => drop(tx),
            Err(other) => return Err(other),
        }
        let mut tx = self.store.read().await?;
        let keys = tx.signing_keys_published(record.id, self.clock.now()).await?;
        Ok((record, keys))
    }

    /// The tenant's JWK Set: active and retired-but-unexpired public keys (RFC 7517 §5).
    pub async fn jwks(&self, tenant: &str) -> Result<std::sync::Arc<Value>> {
        let now = self.clock.now();
        if let Some(set) = self.caches.jwks(tenant, now) {
            return Ok(set);
        }
        let (_, keys) = self.published_keys(tenant).await?;
        let set = std::sync::Arc::new(json!({"keys": keys.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>()}));
        self.caches.put_jwks(tenant, set.clone(), now);
        Ok(set)
    }

    /// `GET …/keys`: the published keys, without private parts.
    pub async fn list_signing_keys(&self, who: &Principal, tenant: &str) -> Result<Vec<SigningKey>> {
        who.require(Some(tenant), Access::Read)?;
        let (_, keys) = self.published_keys(tenant).await?;
        Ok(keys.iter().map(SigningKey::from).collect())
    }

    /// `POST …/keys:rotate`: a new active key per algorithm; the previous ones stop signing at
    /// once and stay published until every token they signed has expired.
    pub async fn rotate_signing_keys(&self, who: &Principal, tenant: &str) -> Result<Vec<SigningKey>> {
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let tenant_key = self.tenant_key(&record)?;
        let now = self.clock.now();
        let mut retired = Vec::new();
        let mut created = Vec::new();
        for alg in JwsAlgorithm::ALL {
            if let Some(old) = tx.signing_key_active(record.id, alg.as_str()).await? {
                tx.signing_key_retire(record.id, &old.kid, now, now + RETIRED_KEY_PUBLISHED_FOR).await?;
                retired.push(old.kid);
            }
            created.push(self.create_signing_key(&mut tx, &record, &tenant_key, alg).await?);
        }
        let new: Vec<SigningKey> = created.iter().map(SigningKey::from).collect();
        self.record(
            &mut tx,
            who,
            Change {
                action: "keys.rotate",
                tenant: Some(tenant),
                target_type: "signing_keys",
                target_id: None,
                before: Some(json!({"kids": retired})),
                after: Some(json!({"kids": new.iter().map(|k| k.kid.clone()).collect::<Vec<_>>()})),
            },
        )
        .await?;
        tx.commit().await?;
        self.changed("keys.rotate", Some(tenant), None);
        Ok(new)
    }

    /// Signs `payload` as a compact JWS with the tenant's active key for `alg`. The parsed
    /// keys are cached per tenant and evicted on rotation, on this node at once and on others
    /// through the change log (a rotated-out key stays published, so tokens it signs in that
    /// window still verify).
    pub async fn sign_jws(&self, tenant: &str, alg: JwsAlgorithm, typ: &str, payload: &[u8]) -> Result<String> {
        let now = self.clock.now();
        let signers = match self.caches.signers(tenant, now) {
            Some(signers) => signers,
            None => {
                let (record, keys) = self.published_keys(tenant).await?;
                let tenant_key = self.tenant_key(&record)?;
                let mut signers = Vec::new();
                for key in keys.iter().filter(|k| k.retired_at.is_none()) {
                    let private =
                        zeroize::Zeroizing::new(tenant_key.open(&key_aad(record.id, &key.kid), &key.sealed_private)?);
                    signers.push(signing::Signer::from_pkcs8(key.alg, &key.kid, &private).map_err(Error::internal)?);
                }
                let signers = std::sync::Arc::new(signers);
                self.caches.put_signers(tenant, signers.clone(), now);
                signers
            }
        };
        let signer = signers
            .iter()
            .find(|s| s.alg() == alg)
            .ok_or_else(|| Error::internal(format!("tenant {tenant} has no active {alg:?} key")))?;
        signer.compact_jws(typ, payload).map_err(Error::internal)
    }

    async fn load_verifiers(&self, tenant: &str) -> Result<std::sync::Arc<Vec<Verifier>>> {
        let (_, keys) = self.published_keys(tenant).await?;
        let verifiers: Vec<Verifier> = keys.iter().filter_map(|k| Verifier::from_jwk(&k.public_jwk)).collect();
        let verifiers = std::sync::Arc::new(verifiers);
        self.caches.put_verifiers(tenant, verifiers.clone(), self.clock.now());
        Ok(verifiers)
    }

    /// Checks the signature of a compact JWS against the tenant's published keys (strictly:
    /// no `none`, no algorithm confusion, no `crit`). Returns the header and payload, or
    /// `None` when it does not verify. Claims are the caller's to check.
    pub async fn verify_signed(&self, tenant: &str, token: &str) -> Result<Option<verify::Verified>> {
        let now = self.clock.now();
        let cached = self.caches.verifiers(tenant, now);
        let verifiers = match &cached {
            Some(verifiers) => verifiers.clone(),
            None => self.load_verifiers(tenant).await?,
        };
        let verified = match verify::verify_compact(token, &verifiers) {
            // A key made on another node since this node cached: look once more.
            Err(VerifyError::UnknownKey) if cached.is_some() => {
                verify::verify_compact(token, &self.load_verifiers(tenant).await?)
            }
            other => other,
        };
        Ok(verified.ok())
    }

    /// Checks an access token this tenant issued (RFC 9068 §4): a valid signature by a
    /// published key, `typ: at+jwt`, `iss` equal to `issuer`, and not expired. Returns its
    /// claims, or `None` for any token that fails — callers answer "inactive" without saying why.
    pub async fn verify_access_token(
        &self,
        tenant: &str,
        issuer: &str,
        token: &str,
    ) -> Result<Option<Map<String, Value>>> {
        let now = self.clock.now();
        let Some(verified) = self.verify_signed(tenant, token).await? else { return Ok(None) };
        let typ_ok =
            verified.header.get("typ").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"));
        let iss_ok = verified.payload.get("iss").and_then(Value::as_str) == Some(issuer);
        let live = verified.payload.get("exp").and_then(Value::as_i64).is_some_and(|exp| exp > now.unix_timestamp());
        Ok((typ_ok && iss_ok && live).then_some(verified.payload))
    }
}
