-- Portcullis schema 3: per-tenant signing keys.
-- Kept in step with the other engine's 0003_signing_keys.sql (a test compares the two).
-- Private keys are PKCS#8 sealed under the tenant key; public keys are JWKs.

CREATE TABLE signing_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kid TEXT NOT NULL,
    alg TEXT NOT NULL,
    sealed_private BLOB NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    expires_at BIGINT,
    CONSTRAINT signing_keys_pkey PRIMARY KEY (tenant_id, kid)
);
-- One active key per algorithm and tenant, even when two nodes create keys at once.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (tenant_id, alg) WHERE retired_at IS NULL;
