-- Portcullis schema 6: the `jti` of each client assertion (private_key_jwt, RFC 7523 §3),
-- kept until the assertion expires so that none is accepted twice.
-- Kept in step with the other engine's 0006_client_assertions.sql.

CREATE TABLE client_assertions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT client_assertions_pkey PRIMARY KEY (tenant_id, client_id, jti)
);
