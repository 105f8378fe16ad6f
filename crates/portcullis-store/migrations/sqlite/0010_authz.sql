-- Portcullis schema 10: authorization (issue 5). Each tenant has one relationship model, one
-- Cedar policy document and a revision counter; every write of tuples, model or policies takes
-- the next revision and logs what it changed, so that each node's in-memory copy catches up
-- from the log and a client can ask for an answer at least as fresh as its own write (a
-- consistency token). Kept in step with the other engine's 0010_authz.sql.

CREATE TABLE authz_models (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    -- The Cedar policy document (JSON), empty when the tenant has none.
    policies TEXT NOT NULL DEFAULT '',
    -- Settings (JSON): how many decisions go to the audit log.
    settings TEXT NOT NULL DEFAULT '{}',
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT authz_models_pkey PRIMARY KEY (tenant_id)
);

-- Tuples `object#relation@subject`, in their text form (`type:id`, `type:id#relation`, `type:*`).
CREATE TABLE authz_tuples (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    object TEXT NOT NULL,
    relation TEXT NOT NULL,
    subject TEXT NOT NULL,
    revision BIGINT NOT NULL,
    CONSTRAINT authz_tuples_pkey PRIMARY KEY (tenant_id, object, relation, subject)
);

CREATE INDEX authz_tuples_subject ON authz_tuples (tenant_id, subject);

-- What each revision changed, in order: `write` or `delete` of a tuple, or `model`.
CREATE TABLE authz_changes (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL,
    position INTEGER NOT NULL,
    operation TEXT NOT NULL,
    tuple TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT authz_changes_pkey PRIMARY KEY (tenant_id, revision, position)
);

CREATE INDEX authz_changes_created ON authz_changes (created_at);

-- Client-scoped roles (RBAC): a role may belong to one client of the tenant; its name stays
-- unique in the tenant. The client's deletion deletes its roles (the service does it).
ALTER TABLE roles ADD COLUMN client_id TEXT;
