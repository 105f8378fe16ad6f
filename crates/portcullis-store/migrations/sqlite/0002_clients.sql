-- Portcullis schema 2: OAuth 2.0 / OpenID Connect clients.
-- Kept in step with the other engine's 0002_clients.sql (a test compares the two).
-- The metadata is the RFC 7591 JSON document; the secret only as its SHA-256 digest.

CREATE TABLE oauth_clients (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    secret_digest BLOB,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT oauth_clients_pkey PRIMARY KEY (tenant_id, client_id)
);
