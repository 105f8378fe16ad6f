-- Portcullis schema 11: passwords (issue 4): each tenant's password policy, and login
-- throttling (DESIGN §5: counters that must be cluster-wide live in the database). Throttling
-- keys are SHA-256 digests of what they count — an account and a source address, a source
-- address, an account — so that nothing typed into a login form is kept. Kept in step with
-- the other engine's 0011_passwords.sql.

CREATE TABLE login_attempts (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_digest BLOB NOT NULL,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    blocked_until BIGINT,
    CONSTRAINT login_attempts_pkey PRIMARY KEY (tenant_id, key_digest)
);

-- The sources an account last logged in from: a throttled account still lets them in.
CREATE TABLE login_known_sources (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_digest BLOB NOT NULL,
    last_success BIGINT NOT NULL,
    CONSTRAINT login_known_sources_pkey PRIMARY KEY (tenant_id, key_digest)
);

-- A tenant's password policy (JSON); absent means the defaults of its profile.
CREATE TABLE password_policies (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    policy TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT password_policies_pkey PRIMARY KEY (tenant_id)
);
