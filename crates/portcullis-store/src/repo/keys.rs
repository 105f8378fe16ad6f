//! Per-tenant signing keys.

macro_rules! key_repo {
    ($Tx:ident, $sql:ident) => {
        fn key_from_row(row: &$sql::Row) -> Result<portcullis_core::model::key::SigningKeyRecord, portcullis_core::Error> {
            use $sql::RowTrait as _;
            let alg: String = row.try_get("alg").map_err(map_err)?;
            Ok(portcullis_core::model::key::SigningKeyRecord {
                tenant_id: $crate::convert::id(&row.try_get::<String, _>("tenant_id").map_err(map_err)?)?,
                kid: row.try_get("kid").map_err(map_err)?,
                alg: portcullis_crypto::signing::JwsAlgorithm::parse(&alg)
                    .ok_or_else(|| portcullis_core::Error::internal(format!("stored alg {alg}")))?,
                sealed_private: row.try_get("sealed_private").map_err(map_err)?,
                public_jwk: $crate::convert::json(&row.try_get::<String, _>("public_jwk").map_err(map_err)?)?,
                created_at: $crate::convert::instant(row.try_get("created_at").map_err(map_err)?),
                retired_at: $crate::convert::opt_instant(row.try_get("retired_at").map_err(map_err)?),
                expires_at: $crate::convert::opt_instant(row.try_get("expires_at").map_err(map_err)?),
            })
        }

        #[async_trait::async_trait]
        impl portcullis_core::store::KeyRepo for $Tx {
            async fn signing_key_insert(&mut self, k: &portcullis_core::model::key::SigningKeyRecord) -> Result<(), portcullis_core::Error> {
                $sql::query("INSERT INTO signing_keys (tenant_id, kid, alg, sealed_private, public_jwk, created_at, retired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(k.tenant_id.to_string()).bind(&k.kid).bind(k.alg.as_str()).bind(&k.sealed_private)
                    .bind($crate::convert::to_json(&k.public_jwk)?).bind($crate::convert::micros(k.created_at))
                    .bind(k.retired_at.map($crate::convert::micros)).bind(k.expires_at.map($crate::convert::micros))
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(())
            }

            async fn signing_keys_published(&mut self, tenant: portcullis_types::TenantId, now: time::OffsetDateTime) -> Result<Vec<portcullis_core::model::key::SigningKeyRecord>, portcullis_core::Error> {
                let rows = $sql::query("SELECT * FROM signing_keys WHERE tenant_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC, kid")
                    .bind(tenant.to_string()).bind($crate::convert::micros(now))
                    .fetch_all(&mut *self.0).await.map_err(map_err)?;
                rows.iter().map(key_from_row).collect()
            }

            async fn signing_key_active(&mut self, tenant: portcullis_types::TenantId, alg: &str) -> Result<Option<portcullis_core::model::key::SigningKeyRecord>, portcullis_core::Error> {
                let row = $sql::query("SELECT * FROM signing_keys WHERE tenant_id = $1 AND alg = $2 AND retired_at IS NULL")
                    .bind(tenant.to_string()).bind(alg)
                    .fetch_optional(&mut *self.0).await.map_err(map_err)?;
                row.as_ref().map(key_from_row).transpose()
            }

            async fn signing_key_retire(&mut self, tenant: portcullis_types::TenantId, kid: &str, at: time::OffsetDateTime, expires_at: time::OffsetDateTime) -> Result<bool, portcullis_core::Error> {
                let done = $sql::query("UPDATE signing_keys SET retired_at = $1, expires_at = $2 WHERE tenant_id = $3 AND kid = $4 AND retired_at IS NULL")
                    .bind($crate::convert::micros(at)).bind($crate::convert::micros(expires_at))
                    .bind(tenant.to_string()).bind(kid)
                    .execute(&mut *self.0).await.map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}
