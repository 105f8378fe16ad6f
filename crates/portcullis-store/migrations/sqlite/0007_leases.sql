-- Portcullis schema 7: leases, so that one node of a cluster runs the background jobs
-- (DESIGN §3, §4: coordination through ordinary tables, no advisory locks).
-- Kept in step with the other engine's 0007_leases.sql.

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX flows_expiry ON flows (expires_at);
CREATE INDEX oauth_grants_expiry ON oauth_grants (expires_at);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
CREATE INDEX sso_sessions_expiry ON sso_sessions (expires_at);
