-- Portcullis schema 12: second factors and the flow engine (issue 4). Kept in step with the
-- other engine's 0012_credentials.sql.

-- Where a flow stands beyond who it has authenticated (JSON): the user a first factor
-- identified, the methods passed so far, a TOTP secret being enrolled (sealed).
ALTER TABLE flows ADD COLUMN state TEXT NOT NULL DEFAULT '{}';

-- What a user proves besides a password: a TOTP seed (sealed with the tenant key, DESIGN §4),
-- a set of recovery codes (the codes themselves below, as digests), a passkey (its public key
-- and signature counter in `data`; `lookup` is its WebAuthn credential id, unique everywhere:
-- one authenticator's credential cannot be registered to two accounts). `counter` is the last
-- TOTP step accepted: a code is never accepted twice (RFC 6238 §5.2).
CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    secret BYTEA,
    lookup BYTEA,
    data TEXT,
    counter BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    CONSTRAINT credentials_lookup_unique UNIQUE (lookup)
);
CREATE INDEX credentials_user ON credentials (user_id);

-- Single-use recovery codes, as SHA-256 digests; spending one is one conditional UPDATE.
CREATE TABLE recovery_codes (
    credential_id TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    digest BYTEA NOT NULL,
    used_at BIGINT,
    CONSTRAINT recovery_codes_pkey PRIMARY KEY (credential_id, digest)
);

-- A tenant's authentication policy (JSON); absent means the defaults of its profile.
CREATE TABLE auth_policies (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    policy TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT auth_policies_pkey PRIMARY KEY (tenant_id)
);

-- What an administrator requires of a user at their next login (enrol a second factor,
-- change their password); removed when done.
CREATE TABLE user_requirements (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requirement TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT user_requirements_pkey PRIMARY KEY (user_id, requirement)
);

-- Browsers a user let skip the second factor the tenant's policy asks for ("remember this
-- device"): the digest of the browser's device cookie, per user, until it expires.
CREATE TABLE remembered_devices (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT remembered_devices_pkey PRIMARY KEY (user_id, digest)
);

-- A tenant's own texts for the mail it sends (per purpose and language); absent means the
-- built-in text.
CREATE TABLE email_templates (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT email_templates_pkey PRIMARY KEY (tenant_id, purpose, language)
);
