-- Portcullis schema 9: a tenant's own OAuth scopes, each releasing a set of claims (standard
-- claims or attributes of the user schema). Kept in step with the other engine's 0009_scopes.sql.

CREATE TABLE oauth_scopes (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    claims TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT oauth_scopes_pkey PRIMARY KEY (tenant_id, name)
);
