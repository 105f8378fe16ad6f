-- Portcullis schema 11: password-login throttling (issue 4, DESIGN §5: counters that must be
-- cluster-wide live in the database). Keys are SHA-256 digests of what they count — an
-- account and a source address, a source address, an account — so that nothing typed into a
-- login form is kept. Kept in step with the other engine's 0011_login_throttle.sql.

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
