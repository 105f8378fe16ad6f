-- Portcullis schema 1: tenants, directory, user schema, admin tokens, audit log.
-- Kept in step with ../sqlite/0001_directory.sql (a test compares the two).
-- Instants are microseconds since the Unix epoch (BIGINT); JSON is stored as TEXT.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    profile TEXT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT tenants_name_unique UNIQUE (name)
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL,
    email TEXT,
    email_key TEXT,
    email_verified BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    claims TEXT NOT NULL,
    attributes TEXT NOT NULL,
    sealed BYTEA,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT users_username_unique UNIQUE (tenant_id, username_key),
    CONSTRAINT users_email_unique UNIQUE (tenant_id, email_key)
);
CREATE INDEX users_tenant_id ON users (tenant_id, id);

-- A user's data key, wrapped by the tenant key. Deleting it crypto-shreds the user.
CREATE TABLE user_keys (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    wrapped_key BYTEA NOT NULL
);

CREATE TABLE passwords (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Values of unique custom attributes (sensitive ones as keyed blind indexes).
CREATE TABLE user_unique_values (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    attribute TEXT NOT NULL,
    value TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, attribute, value)
);
CREATE INDEX user_unique_values_user ON user_unique_values (user_id);

CREATE TABLE schema_attributes (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE directory_groups (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    parent_id TEXT REFERENCES directory_groups (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT groups_name_unique UNIQUE (tenant_id, name)
);
CREATE INDEX directory_groups_parent ON directory_groups (parent_id);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT roles_name_unique UNIQUE (tenant_id, name)
);

CREATE TABLE role_composites (
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    child_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, child_id)
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    expires_at BIGINT,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE group_roles (
    group_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    expires_at BIGINT,
    PRIMARY KEY (group_id, role_id)
);
CREATE INDEX group_roles_role ON group_roles (role_id);

-- Admin API tokens, as SHA-256 digests. A tenant's tokens go with the tenant, so a later
-- tenant of the same name never inherits them.
CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    digest BYTEA NOT NULL,
    tenant TEXT REFERENCES tenants (name) ON DELETE CASCADE,
    access TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    CONSTRAINT admin_tokens_digest_unique UNIQUE (digest)
);

-- The audit log: append-only (enforced below) and hash-chained (checked by `audit verify`).
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL,
    at BIGINT NOT NULL,
    tenant TEXT,
    actor TEXT NOT NULL,
    ip TEXT,
    request_id TEXT,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    before_state TEXT,
    after_state TEXT,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL
);
CREATE INDEX audit_events_tenant ON audit_events (tenant, seq);

-- The chain's head: one row, locked by each appending transaction so appends queue.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
