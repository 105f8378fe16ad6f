-- Portcullis schema 4: browser sessions, login flows, consents and OAuth grants.
-- Kept in step with the other engine's 0004_sessions.sql (a test compares the two).
-- Every secret (session cookie, browser binding, code, refresh token) is kept only as its
-- SHA-256 digest (DESIGN §4).

-- A server-side SSO session (DESIGN §2), revocable; `id` is the OIDC `sid`.
CREATE TABLE sso_sessions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_digest BLOB NOT NULL,
    auth_time BIGINT NOT NULL,
    amr TEXT NOT NULL,
    acr TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    CONSTRAINT sso_sessions_digest_unique UNIQUE (secret_digest)
);
CREATE INDEX sso_sessions_user ON sso_sessions (user_id);

-- One journey of one browser (DESIGN §2): what it asked for, who it has proved to be so far.
CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    browser_digest BLOB NOT NULL,
    request TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT REFERENCES sso_sessions (id) ON DELETE CASCADE,
    failures INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The scopes a user has granted a client, remembered for the next login.
CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    CONSTRAINT consents_pkey PRIMARY KEY (user_id, client_id)
);

-- An authorization of a client by a user: born from one authorization code, continued by
-- its family of refresh tokens; revoking it ends them all (RFC 9700 §4.14.2, §2.1.1).
CREATE TABLE oauth_grants (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT,
    scope TEXT NOT NULL,
    details TEXT NOT NULL,
    code_digest BLOB,
    code_expires_at BIGINT,
    code_used_at BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    CONSTRAINT oauth_grants_code_unique UNIQUE (code_digest)
);
CREATE INDEX oauth_grants_session ON oauth_grants (session_id);

-- A token is spent when its successor exists: rotation is one INSERT, and presenting a spent
-- token again collides on `parent` (reuse detection without a read-modify-write).
CREATE TABLE refresh_tokens (
    digest BLOB PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    parent BLOB,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT refresh_tokens_parent_unique UNIQUE (parent)
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
