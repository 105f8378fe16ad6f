-- Portcullis schema 5: pushed authorization requests (RFC 9126) and device authorizations
-- (RFC 8628). Kept in step with the other engine's 0005_par_device.sql.

-- A validated authorization request pushed by a client, redeemed once at the authorization
-- endpoint through its `request_uri`.
CREATE TABLE pushed_requests (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    request TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- A device waiting for its user: the device code as a digest, the user code in the clear
-- (short-lived, unique among live ones, guessed only through the throttled page).
CREATE TABLE device_authorizations (
    device_digest BLOB PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    user_code TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    grant_id TEXT,
    poll_interval INTEGER NOT NULL,
    last_polled_at BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT device_authorizations_user_code_unique UNIQUE (tenant_id, user_code)
);
