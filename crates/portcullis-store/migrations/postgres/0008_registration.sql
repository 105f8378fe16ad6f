-- Portcullis schema 8: Dynamic Client Registration (RFC 7591, RFC 7592). Registration is off
-- until an administrator issues an initial access token; each registered client gets a
-- registration access token for managing itself. Both are kept as SHA-256 digests.
-- Kept in step with the other engine's 0008_registration.sql.

CREATE TABLE registration_tokens (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    digest BYTEA NOT NULL,
    uses_left BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    CONSTRAINT registration_tokens_digest_unique UNIQUE (digest)
);
ALTER TABLE oauth_clients ADD COLUMN registration_digest BYTEA;
